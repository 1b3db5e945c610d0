-- What a campaign sends: a hash of the rendered message before
-- personalization (subject, text part, HTML part), stored when the campaign
-- is created. A later run whose render differs refuses unless told to
-- accept the change; each accepted change is kept, with how many
-- recipients had already been sent the earlier version. NULL for campaigns
-- created before this migration (the next run adopts its own render).

ALTER TABLE campaigns ADD COLUMN content_hash TEXT;

CREATE TABLE campaign_changes (
    id          INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    -- Unix seconds.
    changed_at  INTEGER NOT NULL,
    old_hash    TEXT    NOT NULL,
    new_hash    TEXT    NOT NULL,
    -- Recipients sent the earlier version when the change was accepted.
    sent_before INTEGER NOT NULL
);

CREATE INDEX campaign_changes_by_campaign ON campaign_changes (campaign_id, id);
