-- Version 6: the decision index holds live grants only (not revoked, expiry not recorded), and
-- loads just those at start; this index lets that read skip every grant that has ended.
CREATE INDEX grants_live ON grants (created_at_us, id) WHERE revoked_at_us IS NULL AND expiry_recorded = 0;
