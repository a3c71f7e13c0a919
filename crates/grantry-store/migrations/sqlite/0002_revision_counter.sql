-- Version 2 (SQLite): revisions come from one counter row that every write transaction updates
-- first, so writers commit in revision order on every backend (the change-log follower relies on it).

CREATE TABLE revision_counter (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO revision_counter (id, value) SELECT 1, COALESCE(MAX(revision), 0) FROM change_log;
