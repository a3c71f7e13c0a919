-- Version 3 (SQLite): the scope tree below the organization — workspaces, projects, environments.
-- `parent` is the parent's reference as JSON (grantry-core's ScopeRef); slugs are unique within it.

CREATE TABLE scope_nodes (
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    id            TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('workspace', 'project', 'environment')),
    slug          TEXT NOT NULL,
    parent        TEXT NOT NULL,
    is_production INTEGER NOT NULL DEFAULT 0,
    created_at_us INTEGER NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, parent, slug)
);
