//! The confirmation queue: double opt-in emails waiting for `serve`'s
//! worker, one row per subscriber (see `0020_confirmation_queue.sql`).
//! Rows are added with the subscribe request ([`Store::request_subscription`]),
//! claimed in small batches with a lease, and finished by outcome.
//!
//! Portable SQL except where noted: on PostgreSQL the claim's subquery
//! needs `FOR UPDATE SKIP LOCKED`, so that two `serve` processes never
//! claim one row; SQLite serializes writers (`BEGIN IMMEDIATE`) instead.
use std::time::Duration;

use anyhow::Context;
use sqlx::Row;
use time::OffsetDateTime;

use super::sql::Sql;
use super::{Store, status_from};
use crate::domain::{EmailAddress, Status, SubscriberId};

/// A row the worker claimed: it is leased until finished or the lease ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedConfirmation {
    pub id: SubscriberId,
    /// Attempts so far, this one included.
    pub attempts: u32,
    /// Where to send it; `None` when there is nothing left to confirm (they
    /// confirmed through an earlier email, or their status changed).
    pub to: Option<EmailAddress>,
}

/// How an attempt ended, for [`Store::finish_confirmations`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmationOutcome {
    /// Sent, or nothing left to confirm: the row goes.
    Done,
    /// Deferred: try again at `at`; `error` says why.
    Retry { at: OffsetDateTime, error: String },
    /// Never to be sent (5xx, or out of attempts): kept with `error` until
    /// the person asks again.
    GiveUp { error: String },
    /// Not tried (stopping, or the relay is down): back in the queue at
    /// `at`, with the claim's attempt given back.
    Postpone { at: OffsetDateTime },
}

/// A row as `confirmation_queue` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedConfirmation {
    pub id: SubscriberId,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// Given up: never sent unless the person asks again.
    pub failed: bool,
}

/// Unix milliseconds, the queue's time unit.
fn millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

impl Store {
    /// Claims up to `limit` due confirmations at `now`: each counts an
    /// attempt and is leased for `lease` (longer than any delivery takes),
    /// so a process that dies mid-delivery leaves it to be retried then.
    pub async fn claim_confirmations(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: u32,
    ) -> anyhow::Result<Vec<ClaimedConfirmation>> {
        let until = now + lease;
        let mut tx = self.begin_write().await?;
        let claimed = sqlx::query(
            "UPDATE confirmation_queue SET next_attempt_at = $1, attempts = attempts + 1 \
             WHERE subscriber_id IN (SELECT subscriber_id FROM confirmation_queue \
             WHERE failed_at IS NULL AND next_attempt_at <= $2 \
             ORDER BY next_attempt_at, subscriber_id LIMIT $3) \
             RETURNING subscriber_id, attempts",
        )
        .bind(millis(until))
        .bind(millis(now))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .context("cannot claim confirmations to send")?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(
            "SELECT s.id, s.email, s.status, \
             EXISTS (SELECT 1 FROM subscribe_requests r WHERE r.subscriber_id = s.id) AS open \
             FROM subscribers s WHERE s.id IN (",
        );
        for (i, row) in claimed.iter().enumerate() {
            let id: i64 = row.try_get("subscriber_id")?;
            sql.push(if i == 0 { "" } else { ", " }).param(id);
        }
        sql.push(")");
        let mut targets = std::collections::HashMap::new();
        for row in sql
            .build()?
            .fetch_all(&mut *tx)
            .await
            .context("cannot read the addresses of claimed confirmations")?
        {
            let status = status_from(row.try_get("status")?)?;
            let open: bool = row.try_get("open")?;
            let email: String = row.try_get("email")?;
            let wanted = open && matches!(status, Status::Pending | Status::Unsubscribed);
            let to = wanted.then(|| EmailAddress::parse(&email).ok()).flatten();
            targets.insert(row.try_get::<i64, _>("id")?, to);
        }
        tx.commit()
            .await
            .context("cannot commit a confirmation claim")?;
        claimed
            .iter()
            .map(|row| {
                let id: i64 = row.try_get("subscriber_id")?;
                Ok(ClaimedConfirmation {
                    id: SubscriberId::new(id),
                    attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
                    to: targets.get(&id).cloned().flatten(),
                })
            })
            .collect()
    }

    /// Records how each claimed confirmation's attempt ended, in one
    /// transaction.
    pub async fn finish_confirmations(
        &self,
        outcomes: &[(SubscriberId, ConfirmationOutcome)],
        now: OffsetDateTime,
    ) -> anyhow::Result<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for (id, outcome) in outcomes {
            let query = match outcome {
                ConfirmationOutcome::Done => {
                    sqlx::query("DELETE FROM confirmation_queue WHERE subscriber_id = $1")
                        .bind(id.get())
                }
                ConfirmationOutcome::Retry { at, error } => sqlx::query(
                    "UPDATE confirmation_queue SET next_attempt_at = $1, last_error = $2 \
                     WHERE subscriber_id = $3",
                )
                .bind(millis(*at))
                .bind(error.clone())
                .bind(id.get()),
                ConfirmationOutcome::GiveUp { error } => sqlx::query(
                    "UPDATE confirmation_queue SET failed_at = $1, last_error = $2 \
                     WHERE subscriber_id = $3",
                )
                .bind(millis(now))
                .bind(error.clone())
                .bind(id.get()),
                ConfirmationOutcome::Postpone { at } => sqlx::query(
                    "UPDATE confirmation_queue SET next_attempt_at = $1, \
                     attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END \
                     WHERE subscriber_id = $2",
                )
                .bind(millis(*at))
                .bind(id.get()),
            };
            query
                .execute(&mut *tx)
                .await
                .with_context(|| format!("cannot record the confirmation of subscriber {id}"))?;
        }
        tx.commit()
            .await
            .context("cannot commit confirmation outcomes")?;
        Ok(())
    }

    /// When the next waiting confirmation falls due (claimed ones included,
    /// at their lease's end), if any waits.
    pub async fn next_confirmation_due(&self) -> anyhow::Result<Option<OffsetDateTime>> {
        let at: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM confirmation_queue WHERE failed_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await
        .context("cannot read the confirmation queue")?;
        Ok(at.and_then(|ms| {
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
        }))
    }

    /// Whether `queue_cap` confirmations (or more) wait to be sent.
    pub async fn confirmation_queue_full(&self, queue_cap: u32) -> anyhow::Result<bool> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .context("cannot reach the store")?;
        Ok(waiting(&mut conn).await? >= u64::from(queue_cap))
    }

    /// Every row of the queue, oldest first: waiting and given up.
    pub async fn confirmation_queue(&self) -> anyhow::Result<Vec<QueuedConfirmation>> {
        let rows = sqlx::query(
            "SELECT subscriber_id, attempts, last_error, failed_at FROM confirmation_queue \
             ORDER BY created_at, subscriber_id",
        )
        .fetch_all(&self.pool)
        .await
        .context("cannot read the confirmation queue")?;
        rows.iter()
            .map(|r| {
                Ok(QueuedConfirmation {
                    id: SubscriberId::new(r.try_get("subscriber_id")?),
                    attempts: u32::try_from(r.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
                    last_error: r.try_get("last_error")?,
                    failed: r.try_get::<Option<i64>, _>("failed_at")?.is_some(),
                })
            })
            .collect()
    }
}

/// How many confirmations wait to be sent (given-up rows not counted).
pub(super) async fn waiting(conn: &mut sqlx::SqliteConnection) -> anyhow::Result<u64> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM confirmation_queue WHERE failed_at IS NULL")
            .fetch_one(conn)
            .await
            .context("cannot count the confirmation queue")?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Queues a confirmation for `id` at `now`; one already waiting is left
/// alone, one given up is started afresh.
pub(super) async fn enqueue(
    conn: &mut sqlx::SqliteConnection,
    id: SubscriberId,
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO confirmation_queue (subscriber_id, created_at, attempts, next_attempt_at) \
         VALUES ($1, $2, 0, $2) ON CONFLICT (subscriber_id) DO UPDATE SET \
         created_at = excluded.created_at, attempts = 0, \
         next_attempt_at = excluded.next_attempt_at, last_error = NULL, failed_at = NULL \
         WHERE confirmation_queue.failed_at IS NOT NULL",
    )
    .bind(id.get())
    .bind(millis(now))
    .execute(conn)
    .await
    .with_context(|| format!("cannot queue the confirmation of subscriber {id}"))?;
    Ok(())
}
