-- The confirmation queue of `serve` (see migrations/sqlite/0020): double
-- opt-in emails waiting to be sent, one row per subscriber, written with
-- the subscribe request. Several `serve` processes may share it: the
-- worker claims due rows with `FOR UPDATE SKIP LOCKED`. Times are unix
-- milliseconds.

CREATE TABLE confirmation_queue (
    subscriber_id   BIGINT PRIMARY KEY REFERENCES subscribers (id) ON DELETE CASCADE,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    failed_at       BIGINT
);

CREATE INDEX confirmation_queue_due ON confirmation_queue (failed_at, next_attempt_at);
