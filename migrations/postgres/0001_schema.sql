-- The PostgreSQL schema: the same tables as migrations/sqlite/0001–0050
-- (0040 included: campaign transports and resets, deferred bounces, hand-over
-- marks),
-- with BIGINT times and counts (millisecond times overflow INTEGER) and
-- identity keys, plus `send_runs` for several senders per campaign.
--
-- The two bulk tables, `subscriber_history` and `deliveries`, carry no
-- foreign keys: their rows are only ever written by mailroom in the same
-- transaction as (or after) the rows they name, subscribers and campaigns are
-- never deleted, and the per-row checks cost more than the inserts
-- themselves (5.3 s of 8.4 s for a 200,000-recipient campaign snapshot).
--
-- Times in subscriber tables are unix seconds; ledger and run times are
-- unix milliseconds. Status and state words carry no CHECK constraint, as
-- in SQLite, so a new word needs no table rewrite.

CREATE TABLE subscribers (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The address as `domain::EmailAddress` normalizes it (domain lowercased).
    email          TEXT   NOT NULL UNIQUE,
    name           TEXT,
    status         TEXT   NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    consent_source TEXT   NOT NULL,
    consent_at     BIGINT NOT NULL,
    consent_ip     TEXT,
    confirmed_at   BIGINT,
    confirm_ip     TEXT
);

CREATE INDEX subscribers_by_status ON subscribers (status, id);

-- One row per status change, never updated or deleted.
CREATE TABLE subscriber_history (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscriber_id BIGINT NOT NULL,
    status        TEXT   NOT NULL,
    at            BIGINT NOT NULL,
    source        TEXT   NOT NULL,
    ip            TEXT,
    reason        TEXT
);

CREATE INDEX subscriber_history_by_subscriber ON subscriber_history (subscriber_id, id);

-- Web subscribe requests awaiting confirmation (double opt-in).
CREATE TABLE subscribe_requests (
    subscriber_id BIGINT PRIMARY KEY REFERENCES subscribers (id),
    requested_at  BIGINT NOT NULL,
    ip            TEXT,
    name          TEXT
);

-- Campaigns (one per issue number) and their delivery ledger.
CREATE TABLE campaigns (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    issue_number        BIGINT NOT NULL,
    subject             TEXT   NOT NULL,
    created_at          BIGINT NOT NULL,
    -- Rows a dead run left `sending` after handing them to the relay (and
    -- replies lost after the final `.`), sent again: an upper bound on
    -- duplicates.
    possible_duplicates BIGINT NOT NULL DEFAULT 0,
    runs                BIGINT NOT NULL DEFAULT 0,
    content_hash        TEXT,
    -- `smtp` (the real send), `outbox` or `discard` (rehearsals).
    transport           TEXT   NOT NULL,
    -- Unix seconds: when the last run started.
    last_run_at         BIGINT,
    -- Unix seconds: when `mailroom campaigns reset` retired it; NULL while live.
    reset_at            BIGINT
);

-- At most one live campaign per (issue, transport).
CREATE UNIQUE INDEX campaigns_live ON campaigns (issue_number, transport)
    WHERE reset_at IS NULL;

CREATE TABLE deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id     BIGINT NOT NULL,
    subscriber_id   BIGINT NOT NULL,
    state           TEXT   NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    claimed_at      BIGINT,
    -- The run (`send_runs.id`) that claimed the row last. A `sending` row's
    -- lease is its run's: once that run's registration is gone (it ended,
    -- or was found dead after `[send] lease_secs` without a heartbeat), the
    -- row is re-queued and counted as a possible duplicate.
    claimed_by      BIGINT,
    last_reply      TEXT,
    updated_at      BIGINT NOT NULL,
    -- A hard bounce awaiting the bounce breaker (`pending`), or applied to
    -- the subscriber (`applied`); NULL otherwise.
    bounce          TEXT,
    -- Unix ms: set, durably, just before the message is handed to the relay
    -- (before the final `.`), cleared with its outcome. A `sending` row with
    -- it set may have reached its recipient.
    handed_at       BIGINT,
    UNIQUE (campaign_id, subscriber_id)
);

CREATE INDEX deliveries_by_state ON deliveries (campaign_id, state, id);
CREATE INDEX deliveries_bounces ON deliveries (campaign_id, bounce, id)
    WHERE bounce IS NOT NULL;

CREATE TABLE campaign_changes (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    changed_at  BIGINT NOT NULL,
    old_hash    TEXT   NOT NULL,
    new_hash    TEXT   NOT NULL,
    sent_before BIGINT NOT NULL
);

CREATE INDEX campaign_changes_by_campaign ON campaign_changes (campaign_id, id);

-- Every `mailroom send` run working on a campaign, on any machine: it
-- registers here, renews `expires_at` by heartbeat, and deletes its row when
-- it ends. Claims and outcomes are fenced by the row (a run whose row is
-- gone must stop). `token` is unique per run; `handed` counts the outcomes
-- (sent or failed) it has recorded, for its rate in `status`.
CREATE TABLE send_runs (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id   BIGINT NOT NULL REFERENCES campaigns (id),
    token         TEXT   NOT NULL UNIQUE,
    host          TEXT   NOT NULL,
    pid           BIGINT NOT NULL,
    process_start BIGINT NOT NULL,
    acquired_at   BIGINT NOT NULL,
    renewed_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    handed        BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX send_runs_by_campaign ON send_runs (campaign_id, id);
