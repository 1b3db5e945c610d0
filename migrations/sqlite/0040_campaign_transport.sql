-- no-transaction
-- Campaigns remember their transport, and a campaign can be reset.
--
-- A send to the outbox (or the `discard` transport) is a rehearsal: it has
-- its own campaign, so the first SMTP send of the same issue starts the real
-- one. At most one live campaign per (issue, transport); `mailroom campaigns
-- reset` marks a campaign `reset_at` instead of deleting it, so its ledger
-- stays in the history and a new campaign can start.
--
-- SQLite cannot drop the old UNIQUE (issue_number) in place, so the table is
-- rebuilt (SQLite's documented 12-step way: foreign keys off around our own
-- transaction; the ids are kept, so every reference still holds). Existing
-- campaigns get the transport their ledger shows: outbox and discard replies
-- are mailroom's own.
--
-- `deliveries.bounce` defers marking a hard-bounced subscriber `bounced`
-- until the run's bounce breaker has judged the window around it:
-- `pending` (failed with a bad-mailbox reply, subscriber untouched),
-- `applied` (the subscriber was marked bounced), NULL otherwise.
--
-- `deliveries.handed_at` (unix ms) is set, durably, just before a claimed
-- row's message is handed to the relay (before the final `.`), and cleared
-- with its outcome. After a crash, only `sending` rows with it set may have
-- reached their recipient: those are the possible duplicates.
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE campaigns_new (
    id                  INTEGER PRIMARY KEY,
    issue_number        INTEGER NOT NULL,
    subject             TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    possible_duplicates INTEGER NOT NULL DEFAULT 0,
    runs                INTEGER NOT NULL DEFAULT 0,
    content_hash        TEXT,
    -- `smtp` (the real send), `outbox` or `discard` (rehearsals).
    transport           TEXT    NOT NULL,
    -- Unix seconds: when the last run started.
    last_run_at         INTEGER,
    -- Unix seconds: when `mailroom campaigns reset` retired it; NULL while live.
    reset_at            INTEGER
);

INSERT INTO campaigns_new (id, issue_number, subject, created_at, possible_duplicates,
                           runs, content_hash, transport)
SELECT c.id, c.issue_number, c.subject, c.created_at, c.possible_duplicates, c.runs,
       c.content_hash,
       CASE
           WHEN EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = c.id
                        AND d.last_reply LIKE '250 written to %') THEN 'outbox'
           WHEN EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = c.id
                        AND d.last_reply LIKE '250 discarded %') THEN 'discard'
           ELSE 'smtp'
       END
FROM campaigns c;

DROP TABLE campaigns;
ALTER TABLE campaigns_new RENAME TO campaigns;

CREATE UNIQUE INDEX campaigns_live ON campaigns (issue_number, transport)
    WHERE reset_at IS NULL;

ALTER TABLE deliveries ADD COLUMN bounce TEXT;
ALTER TABLE deliveries ADD COLUMN handed_at INTEGER;
CREATE INDEX deliveries_bounces ON deliveries (campaign_id, bounce, id)
    WHERE bounce IS NOT NULL;

COMMIT;
PRAGMA foreign_keys = ON;
