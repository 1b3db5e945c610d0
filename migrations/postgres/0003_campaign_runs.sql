-- Each campaign's run history (see migrations/sqlite/0060): one row per
-- `mailroom send` run, on any machine, written when it starts, every few
-- seconds while it runs, and when it ends. `send_runs` holds the live runs'
-- leases (deleted when a run ends); this table keeps every run for
-- `status`. `token` is the run's lease token. Times are unix milliseconds.
CREATE TABLE campaign_runs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    token       TEXT   NOT NULL UNIQUE,
    host        TEXT   NOT NULL,
    pid         BIGINT NOT NULL,
    issue_file  TEXT,
    started_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    ended_at    BIGINT,
    outcome     TEXT,
    sent        BIGINT NOT NULL DEFAULT 0,
    failed      BIGINT NOT NULL DEFAULT 0,
    skipped     BIGINT NOT NULL DEFAULT 0,
    deferrals   BIGINT NOT NULL DEFAULT 0,
    waited_ms   BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX campaign_runs_by_campaign ON campaign_runs (campaign_id, started_at);
