-- Version 3 (PostgreSQL): the scope tree below the organization — workspaces, projects,
-- environments — isolated by organization like every organization-scoped table.

CREATE TABLE scope_nodes (
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    id            TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('workspace', 'project', 'environment')),
    slug          TEXT NOT NULL,
    parent        TEXT NOT NULL,
    is_production BIGINT NOT NULL DEFAULT 0,
    created_at_us BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, parent, slug)
);

ALTER TABLE scope_nodes ENABLE ROW LEVEL SECURITY;
ALTER TABLE scope_nodes FORCE ROW LEVEL SECURITY;
CREATE POLICY grantry_org_isolation ON scope_nodes
    USING (org_id = current_setting('grantry.org', true) OR current_setting('grantry.scope', true) = 'all')
    WITH CHECK (org_id = current_setting('grantry.org', true) OR current_setting('grantry.scope', true) = 'all');
