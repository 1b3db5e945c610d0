//! Settles subscribers' identities (migration `0070_subscriber_identity`):
//! fills `email_key` for rows stored before addresses had one, and merges
//! the subscribers that turn out to be one person (`Reader@example.com`
//! and `reader@example.com`, or a Unicode domain and its punycode).
//!
//! The key needs IDNA, which SQL cannot compute, so this runs in Rust when
//! a store is opened, once: afterwards every row has its key. It runs in
//! one write transaction (on PostgreSQL under an advisory lock, so two
//! senders starting together never merge at once), so a second process
//! opening the store at the same time waits and then finds nothing to do.
use std::collections::{BTreeMap, HashMap};

use anyhow::Context;

use super::row::Cols;
use super::sql::Sql;
use super::{Store, Tx, history, status_from};
use crate::domain::{EmailAddress, Source, Status, StatusChange, SubscriberId};

/// Subscribers merged into one because their addresses are one identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merge {
    /// The address kept (the oldest subscriber's spelling).
    pub kept: String,
    /// The other spellings, whose subscribers were folded into it.
    pub merged: Vec<String>,
    /// The status of the merged subscriber: a suppression if any of them
    /// had one (the latest), else subscribed if any was, else pending.
    pub status: Status,
}

/// The advisory lock key PostgreSQL senders take while settling identities
/// ("mailroom identity" in ASCII, truncated).
const IDENTITY_LOCK: i64 = 0x6d61_696c_6964_656e;

/// One subscriber row of a group being merged.
struct Member {
    id: i64,
    email: String,
    name: Option<String>,
    status: Status,
    updated_at: i64,
    consent_at: i64,
}

/// The identity key of a stored address; an address that no longer
/// parses (stored by an older version) is keyed by its lowercase text.
fn key_of(email: &str) -> String {
    EmailAddress::parse(email)
        .map(|e| e.key().to_owned())
        .unwrap_or_else(|_| email.to_lowercase())
}

impl Store {
    /// Fills missing identity keys and merges duplicates; returns the
    /// merges (empty when there was nothing to settle).
    pub(super) async fn settle_identities(&self) -> anyhow::Result<Vec<Merge>> {
        let unsettled: Option<i64> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT id FROM subscribers WHERE email_key IS NULL LIMIT 1",
        )
        .fetch_optional(p)
        .await)
        .context("cannot read the subscribers' identities")?;
        if unsettled.is_none() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_write().await?;
        if let Tx::Postgres(t) = &mut tx {
            // Senders on other machines may open the store at the same
            // time: one merges, the others wait, then find every key set.
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(IDENTITY_LOCK)
                .execute(&mut **t)
                .await
                .context("cannot lock the subscribers' identities")?;
        }
        let rows: Vec<(i64, String, Option<String>)> = on_tx!(&mut tx, t => {
            let rows = sqlx::query("SELECT id, email, email_key FROM subscribers ORDER BY id")
                .fetch_all(&mut **t)
                .await
                .context("cannot read the subscribers' addresses")?;
            rows.iter()
                .map(|r| Ok((r.int("id")?, r.text("email")?, r.opt_text("email_key")?)))
                .collect::<anyhow::Result<_>>()?
        });
        // Every key with its subscribers (oldest first), and the rows to key.
        let mut groups: HashMap<String, Vec<i64>> = HashMap::with_capacity(rows.len());
        let mut to_key = Vec::new();
        for (id, email, key) in rows {
            let key = match key {
                Some(key) => key,
                None => {
                    let key = key_of(&email);
                    to_key.push((id, key.clone()));
                    key
                }
            };
            groups.entry(key).or_default().push(id);
        }
        if to_key.is_empty() {
            // Another process settled them while this one waited.
            tx.commit()
                .await
                .context("cannot commit the subscribers' identities")?;
            return Ok(Vec::new());
        }
        let duplicates: BTreeMap<i64, Vec<i64>> = groups
            .into_values()
            .filter(|ids| ids.len() > 1)
            .map(|ids| (ids[0], ids))
            .collect();
        let mut merges = Vec::with_capacity(duplicates.len());
        for ids in duplicates.values() {
            merges.push(merge(&mut tx, ids).await?);
        }
        set_keys(&mut tx, &to_key).await?;
        tx.commit()
            .await
            .context("cannot commit the subscribers' identities")?;
        Ok(merges)
    }
}

/// Folds subscribers `ids` (oldest first) into the first.
async fn merge(tx: &mut Tx, ids: &[i64]) -> anyhow::Result<Merge> {
    let mut members = Vec::with_capacity(ids.len());
    for &id in ids {
        let member = on_tx!(&mut *tx, t => {
            let row = sqlx::query(
                "SELECT id, email, name, status, updated_at, consent_at FROM subscribers \
                 WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&mut **t)
            .await
            .with_context(|| format!("cannot read subscriber {id}"))?;
            Member {
                id,
                email: row.text("email")?,
                name: row.opt_text("name")?,
                status: status_from(row.text("status")?)?,
                updated_at: row.int("updated_at")?,
                consent_at: row.int("consent_at")?,
            }
        });
        members.push(member);
    }
    let (kept, others) = members.split_first().context("an empty merge")?;
    let status = merged_status(&members);
    let name = members.iter().find_map(|m| m.name.clone());
    let consent_from = members
        .iter()
        .max_by_key(|m| (m.consent_at, -m.id))
        .map_or(kept.id, |m| m.id);
    for other in others {
        fold(tx, kept.id, other.id).await?;
    }
    on_tx!(&mut *tx, t => sqlx::query(
        "UPDATE subscribers SET status = $1, name = $2, updated_at = $3, \
         consent_source = c.consent_source, consent_at = c.consent_at, \
         consent_ip = c.consent_ip, confirmed_at = c.confirmed_at, confirm_ip = c.confirm_ip \
         FROM (SELECT * FROM subscribers WHERE id = $4) AS c WHERE subscribers.id = $5",
    )
    .bind(status.as_str())
    .bind(name.clone())
    .bind(super::seconds(crate::domain::now()))
    .bind(consent_from)
    .bind(kept.id)
    .execute(&mut **t)
    .await
    .map(|_| ()))
    .with_context(|| format!("cannot merge into `{}`", kept.email))?;
    for other in others {
        on_tx!(&mut *tx, t => sqlx::query("DELETE FROM subscribers WHERE id = $1")
            .bind(other.id)
            .execute(&mut **t)
            .await
            .map(|_| ()))
        .with_context(|| format!("cannot merge `{}`", other.email))?;
    }
    let merged: Vec<String> = others.iter().map(|m| m.email.clone()).collect();
    let spellings = merged
        .iter()
        .map(|e| format!("`{e}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let change = StatusChange {
        reason: Some(format!(
            "merged with {spellings}: the same address spelled differently"
        )),
        ..StatusChange::now(status, Source::Cli)
    };
    history::append(&mut *tx, &[(SubscriberId::new(kept.id), &change)]).await?;
    Ok(Merge {
        kept: kept.email.clone(),
        merged,
        status,
    })
}

/// The status of merged subscribers: a suppression wins (the latest), so a
/// merge never mails someone who asked to stop; then subscribed, then
/// pending.
fn merged_status(members: &[Member]) -> Status {
    if let Some(m) = members
        .iter()
        .filter(|m| m.status.is_suppression())
        .max_by_key(|m| m.updated_at)
    {
        return m.status;
    }
    if members.iter().any(|m| m.status == Status::Subscribed) {
        Status::Subscribed
    } else {
        Status::Pending
    }
}

/// Moves everything of subscriber `from` to `into`: the history, the
/// deliveries (where both had one for a campaign, the `sent` one is kept,
/// else `into`'s, so a resumed campaign mails the person at most once),
/// an open subscribe request and a queued confirmation (`into`'s first).
async fn fold(tx: &mut Tx, into: i64, from: i64) -> anyhow::Result<()> {
    for statement in [
        "UPDATE subscriber_history SET subscriber_id = $1 WHERE subscriber_id = $2",
        "DELETE FROM deliveries WHERE subscriber_id = $1 AND state <> 'sent' AND campaign_id IN \
         (SELECT campaign_id FROM deliveries WHERE subscriber_id = $2 AND state = 'sent')",
        "DELETE FROM deliveries WHERE subscriber_id = $2 AND campaign_id IN \
         (SELECT campaign_id FROM deliveries WHERE subscriber_id = $1)",
        "UPDATE deliveries SET subscriber_id = $1 WHERE subscriber_id = $2",
        "DELETE FROM subscribe_requests WHERE subscriber_id = $2 AND EXISTS \
         (SELECT 1 FROM subscribe_requests WHERE subscriber_id = $1)",
        "UPDATE subscribe_requests SET subscriber_id = $1 WHERE subscriber_id = $2",
        "DELETE FROM confirmation_queue WHERE subscriber_id = $2 AND EXISTS \
         (SELECT 1 FROM confirmation_queue WHERE subscriber_id = $1)",
        "UPDATE confirmation_queue SET subscriber_id = $1 WHERE subscriber_id = $2",
    ] {
        on_tx!(&mut *tx, t => sqlx::query(statement)
            .bind(into)
            .bind(from)
            .execute(&mut **t)
            .await
            .map(|_| ()))
        .with_context(|| format!("cannot merge subscriber {from} into {into}"))?;
    }
    Ok(())
}

/// Writes the keys of the rows that had none (merged-away rows are gone,
/// so their keys match nothing): on SQLite through a temporary table filled
/// 500 rows at a time, on PostgreSQL as arrays through `UNNEST`.
async fn set_keys(tx: &mut Tx, keys: &[(i64, String)]) -> anyhow::Result<()> {
    let conn = match tx {
        Tx::Sqlite(t) => &mut **t,
        Tx::Postgres(t) => {
            let ids: Vec<i64> = keys.iter().map(|(id, _)| *id).collect();
            let texts: Vec<&str> = keys.iter().map(|(_, k)| k.as_str()).collect();
            sqlx::query(
                "UPDATE subscribers SET email_key = k.key \
                 FROM UNNEST($1::BIGINT[], $2::TEXT[]) AS k (id, key) \
                 WHERE k.id = subscribers.id AND subscribers.email_key IS NULL",
            )
            .bind(ids)
            .bind(texts)
            .execute(&mut **t)
            .await
            .context("cannot write the identity keys")?;
            return Ok(());
        }
    };
    sqlx::query(
        "CREATE TEMP TABLE IF NOT EXISTS identity_keys (id INTEGER PRIMARY KEY, key TEXT NOT NULL)",
    )
    .execute(&mut *conn)
    .await
    .context("cannot prepare the identity keys")?;
    for part in keys.chunks(500) {
        let mut sql = Sql::new("INSERT INTO identity_keys (id, key) VALUES ");
        for (i, (id, key)) in part.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            sql.param(*id).push(", ").param(key.as_str()).push(")");
        }
        sql.build()?
            .execute(&mut *conn)
            .await
            .context("cannot note the identity keys")?;
    }
    for statement in [
        "UPDATE subscribers SET email_key = k.key FROM identity_keys AS k \
         WHERE k.id = subscribers.id AND subscribers.email_key IS NULL",
        "DROP TABLE identity_keys",
    ] {
        sqlx::query(statement)
            .execute(&mut *conn)
            .await
            .context("cannot write the identity keys")?;
    }
    Ok(())
}
