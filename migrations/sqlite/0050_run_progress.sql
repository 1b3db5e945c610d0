-- How many outcomes (sent or failed) the run holding a campaign's lease has
-- recorded, counted in the same transaction as the outcomes: `status`
-- shows each live run with its rate.
ALTER TABLE campaign_leases ADD COLUMN handed INTEGER NOT NULL DEFAULT 0;
