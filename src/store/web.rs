//! The web service's writes, by subscriber id (tokens name ids, never
//! addresses): subscribe requests and their confirmation (double opt-in),
//! unsubscribes in batches, and undoing an unsubscribe.
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use anyhow::Context;
use sqlx::AssertSqlSafe;
use time::OffsetDateTime;

use super::sql::Sql;
use super::subscribers::id_and_status;
use super::{Cols, Store, Transition, Tx, confirmations, history, ip_text, seconds, status_from};
use crate::domain::{EmailAddress, Source, Status, StatusChange, SubscriberId};

/// The most unsubscribes [`Store::unsubscribe_batch`] takes at once (bound
/// parameters stay far below SQLite's limit).
pub const UNSUBSCRIBE_BATCH: usize = 500;

/// What [`Store::request_subscription`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeRequest {
    /// Mail this subscriber a confirmation link (a new, pending or
    /// unsubscribed address; its status stays until they confirm).
    Confirm(SubscriberId),
    /// Already subscribed; nothing to confirm.
    AlreadySubscribed(SubscriberId),
    /// Bounced or complained: a web form does not mail them; an operator
    /// can re-add them with `mailroom subscribers add`.
    Suppressed(SubscriberId),
    /// The address was erased on request: nothing is recorded or mailed,
    /// and the visitor sees what anyone sees, so the page reveals nothing.
    Erased,
    /// The confirmation queue holds its cap: nothing was recorded, whatever
    /// the address (so the answer reveals nothing about it).
    QueueFull,
}

/// What [`Store::confirm_subscription`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// Now subscribed; the consent holds the request's and this time and IP.
    Confirmed,
    /// Was already subscribed (a second click); nothing written.
    AlreadySubscribed,
    /// No open request (confirmed and unsubscribed since, say); nothing written.
    NoRequest,
    /// No such subscriber.
    NotFound,
}

impl Store {
    /// Records a web request to subscribe `email`; a new address becomes
    /// `pending`, and a confirmation is queued in the same transaction
    /// (see [`Store::claim_confirmations`]) unless `queue_cap` are waiting.
    pub async fn request_subscription(
        &self,
        email: &EmailAddress,
        name: Option<&str>,
        ip: Option<IpAddr>,
        at: OffsetDateTime,
        queue_cap: u32,
    ) -> anyhow::Result<SubscribeRequest> {
        let mut tx = self.begin_write().await?;
        if confirmations::waiting(&mut tx).await? >= u64::from(queue_cap) {
            return Ok(SubscribeRequest::QueueFull);
        }
        if self.is_erased(&mut tx, email).await? {
            return Ok(SubscribeRequest::Erased);
        }
        let (id, status) = match id_and_status(&mut tx, email).await? {
            Some(known) => known,
            None => (
                insert_pending(&mut tx, email, ip, at).await?,
                Status::Pending,
            ),
        };
        let outcome = match status {
            Status::Subscribed => SubscribeRequest::AlreadySubscribed(id),
            Status::Bounced | Status::Complained => SubscribeRequest::Suppressed(id),
            Status::Pending | Status::Unsubscribed => {
                on_tx!(&mut tx, t => sqlx::query(
                    "INSERT INTO subscribe_requests (subscriber_id, requested_at, ip, name) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (subscriber_id) DO UPDATE SET \
                     requested_at = excluded.requested_at, ip = excluded.ip, name = excluded.name",
                )
                .bind(id.get())
                .bind(seconds(at))
                .bind(ip_text(ip))
                .bind(name)
                .execute(&mut **t)
                .await.map(|r| r.rows_affected()))
                .with_context(|| format!("cannot record the subscribe request of {id}"))?;
                confirmations::enqueue(&mut tx, id, at).await?;
                SubscribeRequest::Confirm(id)
            }
        };
        tx.commit()
            .await
            .context("cannot commit a subscribe request")?;
        Ok(outcome)
    }

    /// Confirms subscriber `id`'s open request from `ip` at `at`: they
    /// become subscribed, and the consent on record keeps the request's
    /// time and IP and the confirmation's.
    pub async fn confirm_subscription(
        &self,
        id: SubscriberId,
        ip: Option<IpAddr>,
        at: OffsetDateTime,
    ) -> anyhow::Result<Confirmation> {
        let mut tx = self.begin_write().await?;
        let Some(status) = status_in(&mut tx, id).await? else {
            return Ok(Confirmation::NotFound);
        };
        if status == Status::Subscribed {
            return Ok(Confirmation::AlreadySubscribed);
        }
        let updated = on_tx!(&mut tx, t => sqlx::query(
            "UPDATE subscribers SET status = $1, updated_at = $2, \
             name = COALESCE((SELECT name FROM subscribe_requests WHERE subscriber_id = $3), name), \
             consent_source = 'web', \
             consent_at = (SELECT requested_at FROM subscribe_requests WHERE subscriber_id = $3), \
             consent_ip = (SELECT ip FROM subscribe_requests WHERE subscriber_id = $3), \
             confirmed_at = $2, confirm_ip = $4 \
             WHERE id = $3 AND EXISTS (SELECT 1 FROM subscribe_requests WHERE subscriber_id = $3)",
        )
        .bind(Status::Subscribed.as_str())
        .bind(seconds(at))
        .bind(id.get())
        .bind(ip_text(ip))
        .execute(&mut **t)
        .await
        .map(|r| r.rows_affected()))
        .with_context(|| format!("cannot confirm subscriber {id}"))?;
        if updated == 0 {
            return Ok(Confirmation::NoRequest);
        }
        let change = StatusChange {
            status: Status::Subscribed,
            at,
            source: Source::Web,
            ip,
            reason: Some("confirmed".into()),
        };
        history::append(&mut tx, &[(id, &change)]).await?;
        on_tx!(&mut tx, t => sqlx::query("DELETE FROM subscribe_requests WHERE subscriber_id = $1")
            .bind(id.get())
            .execute(&mut **t)
            .await.map(|r| r.rows_affected()))
        .with_context(|| format!("cannot close the subscribe request of {id}"))?;
        on_tx!(&mut tx, t => sqlx::query("DELETE FROM confirmation_queue WHERE subscriber_id = $1")
            .bind(id.get())
            .execute(&mut **t)
            .await.map(|r| r.rows_affected()))
        .with_context(|| format!("cannot drop the queued confirmation of {id}"))?;
        tx.commit().await.context("cannot commit a confirmation")?;
        Ok(Confirmation::Confirmed)
    }

    /// Unsubscribes every subscriber in `changes` (each change's status
    /// should be `unsubscribed`) in one transaction; the result is parallel
    /// to `changes`. Subscribed and pending rows change; any other status
    /// (already unsubscribed, bounced, complained) is left alone, so a
    /// repeat is harmless. Takes at most [`UNSUBSCRIBE_BATCH`] changes.
    pub async fn unsubscribe_batch(
        &self,
        changes: &[(SubscriberId, StatusChange)],
    ) -> anyhow::Result<Vec<Transition>> {
        anyhow::ensure!(
            changes.len() <= UNSUBSCRIBE_BATCH,
            "an unsubscribe batch holds at most {UNSUBSCRIBE_BATCH}"
        );
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_write().await?;
        let statuses = statuses_in(&mut tx, changes.iter().map(|(id, _)| *id)).await?;
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(changes.len());
        let mut apply = Vec::new();
        for (id, change) in changes {
            let t = match statuses.get(id) {
                None => Transition::NotFound,
                Some(&from @ (Status::Subscribed | Status::Pending)) if seen.insert(*id) => {
                    apply.push((*id, change));
                    Transition::Changed { id: *id, from }
                }
                Some(_) => Transition::Unchanged(*id),
            };
            out.push(t);
        }
        if !apply.is_empty() {
            let ids: Vec<i64> = apply.iter().map(|(id, _)| id.get()).collect();
            unsubscribe_ids(&mut tx, &ids).await?;
            history::append(&mut tx, &apply).await?;
        }
        tx.commit().await.context("cannot commit unsubscribes")?;
        Ok(out)
    }

    /// Undoes an unsubscribe: an unsubscribed subscriber becomes subscribed
    /// again with their consent on record unchanged; the history says why.
    pub async fn undo_unsubscribe(
        &self,
        id: SubscriberId,
        change: &StatusChange,
    ) -> anyhow::Result<Transition> {
        let mut tx = self.begin_write().await?;
        let Some(from) = status_in(&mut tx, id).await? else {
            return Ok(Transition::NotFound);
        };
        if from != Status::Unsubscribed {
            return Ok(Transition::Unchanged(id));
        }
        on_tx!(&mut tx, t => sqlx::query("UPDATE subscribers SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(Status::Subscribed.as_str())
            .bind(seconds(change.at))
            .bind(id.get())
            .execute(&mut **t)
            .await.map(|r| r.rows_affected()))
            .with_context(|| format!("cannot resubscribe subscriber {id}"))?;
        history::append(&mut tx, &[(id, change)]).await?;
        tx.commit().await.context("cannot commit an undo")?;
        Ok(Transition::Changed { id, from })
    }

    /// Subscriber `id`'s status, if they exist.
    pub async fn status_of(&self, id: SubscriberId) -> anyhow::Result<Option<Status>> {
        let word: Option<String> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT status FROM subscribers WHERE id = $1",
        )
        .bind(id.get())
        .fetch_optional(p)
        .await)
        .with_context(|| format!("cannot read the status of subscriber {id}"))?;
        word.map(status_from).transpose()
    }
}

async fn status_in(tx: &mut Tx, id: SubscriberId) -> anyhow::Result<Option<Status>> {
    let sql = format!(
        "SELECT status FROM subscribers WHERE id = $1{}",
        tx.for_update()
    );
    let word: Option<String> = on_tx!(tx, t => sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(id.get())
        .fetch_optional(&mut **t)
        .await)
    .with_context(|| format!("cannot read the status of subscriber {id}"))?;
    word.map(status_from).transpose()
}

async fn statuses_in(
    tx: &mut Tx,
    ids: impl Iterator<Item = SubscriberId>,
) -> anyhow::Result<HashMap<SubscriberId, Status>> {
    let rows: Vec<(i64, String)> = match tx {
        Tx::Sqlite(t) => {
            let mut sql = Sql::new("SELECT id, status FROM subscribers WHERE id IN (");
            for (i, id) in ids.enumerate() {
                sql.push(if i == 0 { "" } else { ", " }).param(id.get());
            }
            sql.push(")");
            let rows = sql.build()?.fetch_all(&mut **t).await;
            pairs(rows)?
        }
        Tx::Postgres(t) => {
            let ids: Vec<i64> = ids.map(SubscriberId::get).collect();
            let rows = sqlx::query(
                "SELECT id, status FROM subscribers WHERE id = ANY($1) ORDER BY id FOR UPDATE",
            )
            .bind(ids)
            .fetch_all(&mut **t)
            .await;
            pairs(rows)?
        }
    };
    let mut out = HashMap::new();
    for (id, status) in rows {
        out.insert(SubscriberId::new(id), status_from(status)?);
    }
    Ok(out)
}

fn pairs<R: Cols>(rows: Result<Vec<R>, sqlx::Error>) -> anyhow::Result<Vec<(i64, String)>> {
    rows.context("cannot read statuses")?
        .iter()
        .map(|r| Ok((r.int("id")?, r.text("status")?)))
        .collect()
}

/// Marks `ids` unsubscribed in one statement.
async fn unsubscribe_ids(tx: &mut Tx, ids: &[i64]) -> anyhow::Result<()> {
    let now = seconds(crate::domain::now());
    let done = match tx {
        Tx::Sqlite(t) => {
            let mut sql = Sql::new("UPDATE subscribers SET status = ");
            sql.status(Status::Unsubscribed).push(", updated_at = ");
            sql.int(now).push(" WHERE id IN (");
            for (i, id) in ids.iter().enumerate() {
                sql.push(if i == 0 { "" } else { ", " }).param(*id);
            }
            sql.push(")");
            sql.build()?
                .execute(&mut **t)
                .await
                .map(|r| r.rows_affected())
        }
        Tx::Postgres(t) => {
            sqlx::query("UPDATE subscribers SET status = $1, updated_at = $2 WHERE id = ANY($3)")
                .bind(Status::Unsubscribed.as_str())
                .bind(now)
                .bind(ids)
                .execute(&mut **t)
                .await
                .map(|r| r.rows_affected())
        }
    };
    done.context("cannot unsubscribe")?;
    Ok(())
}

async fn insert_pending(
    tx: &mut Tx,
    email: &EmailAddress,
    ip: Option<IpAddr>,
    at: OffsetDateTime,
) -> anyhow::Result<SubscriberId> {
    let id: i64 = on_tx!(&mut *tx, t => sqlx::query_scalar(
        "INSERT INTO subscribers (email, email_key, status, created_at, updated_at, \
         consent_source, consent_at, consent_ip) \
         VALUES ($1, $2, $3, $4, $4, 'web', $4, $5) RETURNING id",
    )
    .bind(email.as_str())
    .bind(email.key())
    .bind(Status::Pending.as_str())
    .bind(seconds(at))
    .bind(ip_text(ip))
    .fetch_one(&mut **t)
    .await)
    .context("cannot add a pending subscriber")?;
    let id = SubscriberId::new(id);
    let change = StatusChange {
        status: Status::Pending,
        at,
        source: Source::Web,
        ip,
        reason: None,
    };
    history::append(tx, &[(id, &change)]).await?;
    Ok(id)
}
