-- `mailroom campaigns pause` stamps a campaign (unix seconds, as `reset_at`): its runs,
-- on any machine, stop at their next heartbeat as after Ctrl-C, and `send`
-- refuses to start one until `mailroom campaigns resume` clears it. NULL:
-- not paused.
ALTER TABLE campaigns ADD COLUMN paused_at BIGINT;
