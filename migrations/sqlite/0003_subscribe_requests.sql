-- Web subscribe requests awaiting confirmation (double opt-in): one row per
-- subscriber with an open request, replaced by a newer request and deleted
-- when confirmed. The request's time and IP become the consent on record
-- when the person confirms, so a known address (say, unsubscribed) keeps
-- its status until then. Times are Unix seconds.

CREATE TABLE subscribe_requests (
    subscriber_id INTEGER PRIMARY KEY REFERENCES subscribers (id),
    requested_at  INTEGER NOT NULL,
    ip            TEXT,
    name          TEXT
);
