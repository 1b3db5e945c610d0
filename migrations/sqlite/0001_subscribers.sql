-- Subscribers and their append-only status history.
--
-- Times are whole seconds since the Unix epoch (UTC): portable, compact,
-- and cheap to bind in bulk imports. `status` holds the word from `domain::Status`; there is
-- deliberately no CHECK constraint, so that adding a status (`pending` for
-- double opt-in) needs no table rebuild in SQLite.

CREATE TABLE subscribers (
    id             INTEGER PRIMARY KEY,
    -- The address as `domain::EmailAddress` normalizes it (domain lowercased).
    email          TEXT    NOT NULL UNIQUE,
    name           TEXT,
    status         TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    -- The consent on record: the latest opt-in.
    consent_source TEXT    NOT NULL,
    consent_at     INTEGER NOT NULL,
    consent_ip     TEXT,
    confirmed_at   INTEGER,
    confirm_ip     TEXT
);

CREATE INDEX subscribers_by_status ON subscribers (status, id);

-- One row per status change, never updated or deleted.
CREATE TABLE subscriber_history (
    id             INTEGER PRIMARY KEY,
    subscriber_id  INTEGER NOT NULL REFERENCES subscribers (id),
    status         TEXT    NOT NULL,
    at             INTEGER NOT NULL,
    source         TEXT    NOT NULL,
    ip             TEXT,
    reason         TEXT
);

CREATE INDEX subscriber_history_by_subscriber ON subscriber_history (subscriber_id, id);
