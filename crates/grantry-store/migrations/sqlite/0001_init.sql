-- Grantry schema, version 1 (SQLite). Times are microseconds since the Unix epoch; nested values
-- (principals, targets, anchors, attributes) are JSON text in the shapes of grantry-core's serde.

CREATE TABLE orgs (
    id            TEXT PRIMARY KEY,
    slug          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    created_at_us INTEGER NOT NULL,
    policy        TEXT NOT NULL
);

CREATE TABLE users (
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    id            TEXT NOT NULL,
    email         TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at_us INTEGER NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, email)
);

CREATE TABLE credentials (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    principal     TEXT NOT NULL,
    secret_hash   TEXT NOT NULL UNIQUE,
    created_at_us INTEGER NOT NULL,
    expires_at_us INTEGER,
    revoked_at_us INTEGER
);

CREATE TABLE resources (
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    kind          TEXT NOT NULL,
    id            TEXT NOT NULL,
    parent        TEXT,
    scope         TEXT NOT NULL,
    attributes    TEXT NOT NULL,
    created_at_us INTEGER NOT NULL,
    PRIMARY KEY (org_id, kind, id)
);

CREATE TABLE grants (
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    id              TEXT NOT NULL,
    principal       TEXT NOT NULL,
    target          TEXT NOT NULL,
    anchor          TEXT NOT NULL,
    starts_at_us    INTEGER NOT NULL,
    expires_at_us   INTEGER,
    justification   TEXT,
    tags            TEXT NOT NULL,
    creator         TEXT NOT NULL,
    source          TEXT NOT NULL,
    created_at_us   INTEGER NOT NULL,
    revoked_at_us   INTEGER,
    revoked_by      TEXT,
    expiry_recorded INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX grants_by_principal ON grants (org_id, principal);
CREATE INDEX grants_unrecorded_expiry ON grants (expires_at_us) WHERE expiry_recorded = 0 AND expires_at_us IS NOT NULL;

CREATE TABLE audit_events (
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    seq           INTEGER NOT NULL,
    at_us         INTEGER NOT NULL,
    actor         TEXT NOT NULL,
    event_type    TEXT NOT NULL,
    target_type   TEXT NOT NULL,
    target_id     TEXT NOT NULL,
    principal     TEXT,
    before_state  TEXT,
    after_state   TEXT,
    justification TEXT,
    request_id    TEXT,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL,
    PRIMARY KEY (org_id, seq)
);
CREATE INDEX audit_by_type ON audit_events (org_id, event_type, at_us);

CREATE TABLE change_log (
    revision INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id   TEXT NOT NULL,
    at_us    INTEGER NOT NULL,
    changes  TEXT NOT NULL
);
