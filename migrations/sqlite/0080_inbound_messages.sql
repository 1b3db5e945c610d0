-- Messages `mailroom inbound` has handled (bounces, complaints, and the
-- rest), one row per message, keyed by the SHA-256 of its bytes. The row
-- is written in the same transaction as the message's effect, so a rerun
-- (or a run after a crash) applies each message exactly once: a message
-- whose row exists is not applied again.
--
-- `kind` is what it was: `hard_bounce`, `soft_bounce`,
-- `soft_bounce_limit` (the soft bounce that made a hard one), `complaint`
-- (changes), `ignored` (auto-replies, challenges, bounces of test sends),
-- `unsubscribe`, or `kept` (not understood, or about nobody we know: the
-- message stays where it was). `campaign_id` and `subscriber_id` are set
-- when the message named them; `status` and `detail` are the DSN's status
-- and diagnostic (or the feedback type, or why it was kept). Times are
-- unix seconds.

CREATE TABLE inbound_messages (
    id            INTEGER PRIMARY KEY,
    digest        TEXT    NOT NULL UNIQUE,
    kind          TEXT    NOT NULL,
    campaign_id   INTEGER REFERENCES campaigns (id),
    subscriber_id INTEGER,
    status        TEXT,
    detail        TEXT,
    received_at   INTEGER NOT NULL
);

-- Soft bounces of one subscriber within a window; counts per campaign.
CREATE INDEX inbound_messages_by_subscriber ON inbound_messages (subscriber_id, kind, received_at);
CREATE INDEX inbound_messages_by_campaign ON inbound_messages (campaign_id, kind);

-- The ledger row shows the late bounce: the DSN's status and diagnostic.
ALTER TABLE deliveries ADD COLUMN dsn_status TEXT;
ALTER TABLE deliveries ADD COLUMN dsn_diagnostic TEXT;
