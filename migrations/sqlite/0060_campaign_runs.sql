-- Each campaign's run history: one row per `mailroom send` run, written when
-- it starts, every few seconds while it runs, and when it ends. `status`
-- reads it for the first and last run, the live run's progress, the file
-- that resumes the campaign, and the campaign's elapsed time and rate (sums
-- over runs, with the same definitions as `send`'s summary).
--
-- `token` is the run's lease token (unique per run). Times are unix
-- milliseconds. `ended_at` and `outcome` stay NULL while the run runs, and
-- for a run that died. `outcome` is complete, waiting, interrupted,
-- relay_unavailable, lease_lost or relay_refused. `waited_ms` is the time
-- the run sat idle waiting for deferred recipients to fall due, which the
-- rate leaves out. `deferrals` counts attempts answered "try later".
CREATE TABLE campaign_runs (
    id          INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    token       TEXT    NOT NULL UNIQUE,
    host        TEXT    NOT NULL,
    pid         INTEGER NOT NULL,
    issue_file  TEXT,
    started_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    outcome     TEXT,
    sent        INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    skipped     INTEGER NOT NULL DEFAULT 0,
    deferrals   INTEGER NOT NULL DEFAULT 0,
    waited_ms   INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX campaign_runs_by_campaign ON campaign_runs (campaign_id, started_at);
