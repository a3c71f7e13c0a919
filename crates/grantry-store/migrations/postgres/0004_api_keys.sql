-- Version 4 (PostgreSQL): API keys of projects, isolated by organization like every
-- organization-scoped table. A key's secret is a row of `credentials` and each of its scopes a
-- row of `grants`; this table holds the key itself.

CREATE TABLE api_keys (
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    id            TEXT NOT NULL,
    name          TEXT NOT NULL,
    project_id    TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at_us BIGINT NOT NULL,
    revoked_at_us BIGINT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, project_id) REFERENCES scope_nodes(org_id, id)
);

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY grantry_org_isolation ON api_keys
    USING (org_id = current_setting('grantry.org', true) OR current_setting('grantry.scope', true) = 'all')
    WITH CHECK (org_id = current_setting('grantry.org', true) OR current_setting('grantry.scope', true) = 'all');
