-- Version 2 (PostgreSQL): tenant isolation in the database itself. Every organization-scoped table
-- has row-level security, forced so that it binds the table's owner too (the role the server
-- connects as). A row is visible, and may be written, only when the transaction has set
-- `grantry.org` to its organization — or, for the system's own cross-organization reads (loading
-- the index, following the change log, recording expiries), `grantry.scope` to `all`.
-- A query that forgets its organization filter, or runs without the setting, sees no rows.

ALTER TABLE orgs ENABLE ROW LEVEL SECURITY;
ALTER TABLE orgs FORCE ROW LEVEL SECURITY;
CREATE POLICY grantry_org_isolation ON orgs
    USING (id = current_setting('grantry.org', true) OR current_setting('grantry.scope', true) = 'all')
    WITH CHECK (id = current_setting('grantry.org', true) OR current_setting('grantry.scope', true) = 'all');

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'credentials', 'resources', 'grants', 'audit_events', 'change_log'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY grantry_org_isolation ON %I
                USING (org_id = current_setting(''grantry.org'', true) OR current_setting(''grantry.scope'', true) = ''all'')
                WITH CHECK (org_id = current_setting(''grantry.org'', true) OR current_setting(''grantry.scope'', true) = ''all'')',
            t);
    END LOOP;
END
$$;
