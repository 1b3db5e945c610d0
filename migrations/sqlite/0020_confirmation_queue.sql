-- Confirmation emails (double opt-in) waiting to be sent by `serve`: one
-- row per subscriber with a confirmation to send, written in the same
-- transaction as their subscribe request, so a request the form accepted
-- is never lost to a relay outage or a restart. A repeat request while a
-- row waits leaves it alone (one email carries a fresh link anyway).
--
-- The worker claims due rows by moving `next_attempt_at` past the longest
-- delivery (a lease) and counting the attempt; a sent row is deleted; a
-- deferred one (4xx, relay unreachable) gets the next time by exponential
-- backoff and the reply in `last_error`; a 5xx or too many attempts sets
-- `failed_at`, which keeps the row (and why) until the person asks again.
-- Times are unix milliseconds (backoffs in tests are below a second).

CREATE TABLE confirmation_queue (
    subscriber_id   INTEGER PRIMARY KEY REFERENCES subscribers (id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    failed_at       INTEGER
);

CREATE INDEX confirmation_queue_due ON confirmation_queue (failed_at, next_attempt_at);
