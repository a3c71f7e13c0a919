-- Version 7 (PostgreSQL): groups of users (seed 003) and their members, isolated by organization
-- like every organization-scoped table. A group's grants are rows of `grants` whose principal is
-- `group:ID`; deleting a group or a user takes its memberships along.

CREATE TABLE groups (
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    id            TEXT NOT NULL,
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL,
    description   TEXT NOT NULL,
    parent_id     TEXT,
    status        TEXT NOT NULL,
    external_id   TEXT,
    created_by    TEXT NOT NULL,
    created_at_us BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, name_key),
    FOREIGN KEY (org_id, parent_id) REFERENCES groups(org_id, id)
);

CREATE TABLE group_members (
    org_id        TEXT NOT NULL,
    group_id      TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    role          TEXT NOT NULL,
    added_at_us   BIGINT NOT NULL,
    expires_at_us BIGINT,
    PRIMARY KEY (org_id, group_id, user_id),
    FOREIGN KEY (org_id, group_id) REFERENCES groups(org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES users(org_id, id) ON DELETE CASCADE
);

CREATE INDEX group_members_by_user ON group_members (org_id, user_id);

ALTER TABLE groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE groups FORCE ROW LEVEL SECURITY;
CREATE POLICY grantry_org_isolation ON groups
    USING (org_id = current_setting('grantry.org', true) OR current_setting('grantry.scope', true) = 'all')
    WITH CHECK (org_id = current_setting('grantry.org', true) OR current_setting('grantry.scope', true) = 'all');

ALTER TABLE group_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE group_members FORCE ROW LEVEL SECURITY;
CREATE POLICY grantry_org_isolation ON group_members
    USING (org_id = current_setting('grantry.org', true) OR current_setting('grantry.scope', true) = 'all')
    WITH CHECK (org_id = current_setting('grantry.org', true) OR current_setting('grantry.scope', true) = 'all');
