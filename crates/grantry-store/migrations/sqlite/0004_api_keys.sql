-- Version 4 (SQLite): API keys of projects. A key's secret is a row of `credentials` and each of
-- its scopes a row of `grants`; this table holds the key itself.

CREATE TABLE api_keys (
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    id            TEXT NOT NULL,
    name          TEXT NOT NULL,
    project_id    TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at_us INTEGER NOT NULL,
    revoked_at_us INTEGER,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, project_id) REFERENCES scope_nodes(org_id, id)
);
