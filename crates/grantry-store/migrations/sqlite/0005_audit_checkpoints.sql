-- Version 5 (SQLite): each organization's signed audit checkpoint — the head of its chain (the
-- last event's sequence and hash) signed with the installation's audit key, rewritten with every
-- append. Opening the store at this version also re-hashes the existing chains with the key.

CREATE TABLE audit_checkpoints (
    org_id    TEXT NOT NULL PRIMARY KEY REFERENCES orgs(id),
    seq       INTEGER NOT NULL,
    head_hash TEXT NOT NULL,
    at_us     INTEGER NOT NULL,
    key_id    TEXT NOT NULL,
    signature TEXT NOT NULL
);
