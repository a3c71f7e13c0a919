-- Version 5 (PostgreSQL): each organization's signed audit checkpoint — the head of its chain (the
-- last event's sequence and hash) signed with the installation's audit key, rewritten with every
-- append — isolated by organization like every organization-scoped table. Opening the store at
-- this version also re-hashes the existing chains with the key.

CREATE TABLE audit_checkpoints (
    org_id    TEXT NOT NULL PRIMARY KEY REFERENCES orgs(id),
    seq       BIGINT NOT NULL,
    head_hash TEXT NOT NULL,
    at_us     BIGINT NOT NULL,
    key_id    TEXT NOT NULL,
    signature TEXT NOT NULL
);

ALTER TABLE audit_checkpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_checkpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY grantry_org_isolation ON audit_checkpoints
    USING (org_id = current_setting('grantry.org', true) OR current_setting('grantry.scope', true) = 'all')
    WITH CHECK (org_id = current_setting('grantry.org', true) OR current_setting('grantry.scope', true) = 'all');
