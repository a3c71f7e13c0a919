-- Version 9 (SQLite): an API key may be delegated — a user handing their own access to an agent.
-- The key then never allows what that user may not do at the moment of the check.

ALTER TABLE api_keys ADD COLUMN delegated_by TEXT;
