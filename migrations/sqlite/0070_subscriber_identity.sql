-- Subscribers are keyed by their address's identity: the local part
-- lowercased and the domain IDNA-normalised to lowercase ASCII (see
-- `domain::EmailAddress::key`). `email` keeps the spelling given, for
-- display and sending.
--
-- The key needs IDNA (UTS 46), which SQL cannot compute, so this adds the
-- column empty; when a store is opened, `store::identity` fills it and
-- merges the subscribers whose addresses turn out to be the same person,
-- keeping the history of both. A NULL key means "not settled yet"; a
-- unique index allows any number of NULLs.
ALTER TABLE subscribers ADD COLUMN email_key TEXT;
CREATE UNIQUE INDEX subscribers_by_key ON subscribers (email_key);

-- Addresses erased on request (`mailroom subscribers erase`): a keyed hash
-- of the identity, never the address, so that nothing re-adds the person.
CREATE TABLE erased_addresses (
    hash      TEXT    PRIMARY KEY,
    erased_at INTEGER NOT NULL
) WITHOUT ROWID;
