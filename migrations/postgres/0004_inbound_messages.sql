-- Messages `mailroom inbound` has handled, keyed by the SHA-256 of their
-- bytes and written in the same transaction as their effect, so each is
-- applied exactly once (see migrations/sqlite/0080_inbound_messages.sql for
-- the columns); and the late bounce's status and diagnostic on the ledger row.

CREATE TABLE inbound_messages (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    digest        TEXT      NOT NULL UNIQUE,
    kind          TEXT      NOT NULL,
    campaign_id   BIGINT    REFERENCES campaigns (id),
    subscriber_id BIGINT,
    status        TEXT,
    detail        TEXT,
    received_at   BIGINT    NOT NULL
);

CREATE INDEX inbound_messages_by_subscriber ON inbound_messages (subscriber_id, kind, received_at);
CREATE INDEX inbound_messages_by_campaign ON inbound_messages (campaign_id, kind);

ALTER TABLE deliveries ADD COLUMN dsn_status TEXT;
ALTER TABLE deliveries ADD COLUMN dsn_diagnostic TEXT;
