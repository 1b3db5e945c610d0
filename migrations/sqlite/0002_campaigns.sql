-- Campaigns (one per issue number) and their delivery ledger: one row per
-- (campaign, subscriber), snapshotted when the campaign is created.
--
-- Ledger times are unix milliseconds (INTEGER), compared numerically when
-- picking due rows; `created_at` is unix seconds like the subscriber tables.
-- `state` is one of pending, sending, sent, deferred, failed, skipped; no
-- CHECK constraint, for the same reason as `subscribers.status`.

CREATE TABLE campaigns (
    id                  INTEGER PRIMARY KEY,
    issue_number        INTEGER NOT NULL UNIQUE,
    subject             TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    -- Rows a run found still `sending` (claimed by a run that died before
    -- recording their outcome). They are sent again, so each one may have
    -- reached its recipient twice: an upper bound on duplicates.
    possible_duplicates INTEGER NOT NULL DEFAULT 0,
    runs                INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    campaign_id     INTEGER NOT NULL REFERENCES campaigns (id),
    subscriber_id   INTEGER NOT NULL REFERENCES subscribers (id),
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- When a deferred row is due again.
    next_attempt_at INTEGER,
    -- When the row was last claimed (a later multi-sender version turns this
    -- into a lease).
    claimed_at      INTEGER,
    -- The last SMTP reply (a sent row keeps the relay's queue id here).
    last_reply      TEXT,
    updated_at      INTEGER NOT NULL,
    UNIQUE (campaign_id, subscriber_id)
);

CREATE INDEX deliveries_by_state ON deliveries (campaign_id, state, id);
