-- Grantry schema, version 1 (PostgreSQL). The same tables as SQLite's versions 1 and 2: times are
-- microseconds since the Unix epoch; nested values are JSON text in grantry-core's serde shapes.

CREATE TABLE orgs (
    id            TEXT PRIMARY KEY,
    slug          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    created_at_us BIGINT NOT NULL,
    policy        TEXT NOT NULL
);

CREATE TABLE users (
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    id            TEXT NOT NULL,
    email         TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at_us BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, email)
);

CREATE TABLE credentials (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    principal     TEXT NOT NULL,
    secret_hash   TEXT NOT NULL UNIQUE,
    created_at_us BIGINT NOT NULL,
    expires_at_us BIGINT,
    revoked_at_us BIGINT
);

CREATE TABLE resources (
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    kind          TEXT NOT NULL,
    id            TEXT NOT NULL,
    parent        TEXT,
    scope         TEXT NOT NULL,
    attributes    TEXT NOT NULL,
    created_at_us BIGINT NOT NULL,
    PRIMARY KEY (org_id, kind, id)
);

CREATE TABLE grants (
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    id              TEXT NOT NULL,
    principal       TEXT NOT NULL,
    target          TEXT NOT NULL,
    anchor          TEXT NOT NULL,
    starts_at_us    BIGINT NOT NULL,
    expires_at_us   BIGINT,
    justification   TEXT,
    tags            TEXT NOT NULL,
    creator         TEXT NOT NULL,
    source          TEXT NOT NULL,
    created_at_us   BIGINT NOT NULL,
    revoked_at_us   BIGINT,
    revoked_by      TEXT,
    expiry_recorded BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX grants_by_principal ON grants (org_id, principal);
CREATE INDEX grants_unrecorded_expiry ON grants (expires_at_us) WHERE expiry_recorded = 0 AND expires_at_us IS NOT NULL;

CREATE TABLE audit_events (
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    seq           BIGINT NOT NULL,
    at_us         BIGINT NOT NULL,
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
    revision BIGINT PRIMARY KEY,
    org_id   TEXT NOT NULL,
    at_us    BIGINT NOT NULL,
    changes  TEXT NOT NULL
);

CREATE TABLE revision_counter (
    id    BIGINT PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO revision_counter (id, value) VALUES (1, 0);
