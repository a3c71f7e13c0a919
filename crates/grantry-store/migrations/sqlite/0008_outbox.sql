-- Version 8 (SQLite): the outbox. A webhook notification is a row written in the same transaction
-- as the change it tells of (so a rollback never sends one and a crash never loses one), then
-- delivered at least once by a background task: leased, sent, and marked delivered, or tried again
-- later with backoff until it is given up.

CREATE TABLE outbox (
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    id              TEXT NOT NULL,
    webhook_id      TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at_us   INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_us INTEGER NOT NULL,
    leased_until_us INTEGER,
    delivered_at_us INTEGER,
    given_up        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    PRIMARY KEY (org_id, id)
);

CREATE INDEX outbox_due ON outbox (next_attempt_us) WHERE delivered_at_us IS NULL AND given_up = 0;
CREATE INDEX outbox_by_webhook ON outbox (org_id, webhook_id, created_at_us);
