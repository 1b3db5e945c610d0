-- One sender per campaign: the run working on a campaign holds its lease,
-- renews it by heartbeat, and deletes it when it ends. A second run refuses
-- while the lease is live; it takes the lease over once it has expired, or
-- at once when the owner ran on the same host and its process is gone.
--
-- `token` is unique per run (host, pid, process start and a random part);
-- every change is a compare-and-set on it, so two runs racing to take a
-- lease over cannot both win. Times are unix milliseconds.

CREATE TABLE campaign_leases (
    campaign_id   INTEGER PRIMARY KEY REFERENCES campaigns (id),
    token         TEXT    NOT NULL,
    host          TEXT    NOT NULL,
    pid           INTEGER NOT NULL,
    -- The owner's start time (clock ticks after boot, from /proc/PID/stat),
    -- which tells a reused pid apart; 0 when unknown.
    process_start INTEGER NOT NULL,
    acquired_at   INTEGER NOT NULL,
    renewed_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
