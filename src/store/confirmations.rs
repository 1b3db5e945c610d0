//! The confirmation queue: double opt-in emails waiting for `serve`'s
//! worker, one row per subscriber (see `0020_confirmation_queue.sql`).
//! Rows are added with the subscribe request ([`Store::request_subscription`]),
//! claimed in small batches with a lease, and finished by outcome.
//!
//! Portable SQL except where noted: on PostgreSQL the claim's subquery
//! takes `FOR UPDATE SKIP LOCKED` (and the outer `WHERE` checks the row
//! again), so that two `serve` processes never claim one row; SQLite
//! serializes writers (`BEGIN IMMEDIATE`) instead.
use std::time::Duration;

use anyhow::Context;
use sqlx::AssertSqlSafe;
use time::OffsetDateTime;

use super::sql::Sql;
use super::{Cols, Store, Tx, status_from};
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

/// The queue's size by state, for `/metrics` and `serve`'s notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueDepth {
    /// Waiting to be sent (claimed ones included).
    pub waiting: u64,
    /// Given up: kept until the person asks again.
    pub given_up: u64,
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
        let lock = match tx {
            Tx::Sqlite(_) => "",
            Tx::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        };
        let claim = format!(
            "UPDATE confirmation_queue SET next_attempt_at = $1, attempts = attempts + 1 \
             WHERE subscriber_id IN (SELECT subscriber_id FROM confirmation_queue \
             WHERE failed_at IS NULL AND next_attempt_at <= $2 \
             ORDER BY next_attempt_at, subscriber_id LIMIT $3{lock}) \
             AND failed_at IS NULL AND next_attempt_at <= $2 \
             RETURNING subscriber_id, attempts"
        );
        let claimed: Vec<(i64, i64)> = on_tx!(&mut tx, t => {
            let rows = sqlx::query(AssertSqlSafe(claim))
                .bind(millis(until))
                .bind(millis(now))
                .bind(i64::from(limit))
                .fetch_all(&mut **t)
                .await
                .context("cannot claim confirmations to send")?;
            rows.iter()
                .map(|r| Ok((r.int("subscriber_id")?, r.int("attempts")?)))
                .collect::<anyhow::Result<_>>()?
        });
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = claimed.iter().map(|(id, _)| *id).collect();
        let targets = targets(&mut tx, &ids).await?;
        tx.commit()
            .await
            .context("cannot commit a confirmation claim")?;
        Ok(claimed
            .into_iter()
            .map(|(id, attempts)| ClaimedConfirmation {
                id: SubscriberId::new(id),
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                to: targets.get(&id).cloned().flatten(),
            })
            .collect())
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
            on_tx!(&mut tx, t => {
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
                .execute(&mut **t)
                .await
                .with_context(|| format!("cannot record the confirmation of subscriber {id}"))?;
            });
        }
        tx.commit()
            .await
            .context("cannot commit confirmation outcomes")?;
        Ok(())
    }

    /// When the next waiting confirmation falls due (claimed ones included,
    /// at their lease's end), if any waits.
    pub async fn next_confirmation_due(&self) -> anyhow::Result<Option<OffsetDateTime>> {
        let sql = "SELECT MIN(next_attempt_at) FROM confirmation_queue WHERE failed_at IS NULL";
        let at: Option<i64> = on_pool!(self, p => sqlx::query_scalar(sql).fetch_one(p).await)
            .context("cannot read the confirmation queue")?;
        Ok(at.and_then(|ms| {
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
        }))
    }

    /// Whether `queue_cap` confirmations (or more) wait to be sent.
    pub async fn confirmation_queue_full(&self, queue_cap: u32) -> anyhow::Result<bool> {
        let n: i64 = on_pool!(self, p => sqlx::query_scalar(WAITING).fetch_one(p).await)
            .context("cannot count the confirmation queue")?;
        Ok(u64::try_from(n).unwrap_or(0) >= u64::from(queue_cap))
    }

    /// How many confirmations wait and how many were given up: two counts,
    /// not the rows (`/metrics` asks on every scrape).
    pub async fn confirmation_queue_depth(&self) -> anyhow::Result<QueueDepth> {
        let sql = "SELECT COUNT(*) - COUNT(failed_at), COUNT(failed_at) FROM confirmation_queue";
        let (waiting, given_up): (i64, i64) =
            on_pool!(self, p => sqlx::query_as(sql).fetch_one(p).await)
                .context("cannot count the confirmation queue")?;
        Ok(QueueDepth {
            waiting: u64::try_from(waiting).unwrap_or(0),
            given_up: u64::try_from(given_up).unwrap_or(0),
        })
    }

    /// Every row of the queue, oldest first: waiting and given up.
    pub async fn confirmation_queue(&self) -> anyhow::Result<Vec<QueuedConfirmation>> {
        let sql = "SELECT subscriber_id, attempts, last_error, failed_at FROM confirmation_queue \
             ORDER BY created_at, subscriber_id";
        on_pool!(self, p => {
            let rows = sqlx::query(sql)
                .fetch_all(p)
                .await
                .context("cannot read the confirmation queue")?;
            rows.iter()
                .map(|r| {
                    Ok(QueuedConfirmation {
                        id: SubscriberId::new(r.int("subscriber_id")?),
                        attempts: u32::try_from(r.int("attempts")?).unwrap_or(u32::MAX),
                        last_error: r.opt_text("last_error")?,
                        failed: r.opt_int("failed_at")?.is_some(),
                    })
                })
                .collect()
        })
    }
}

/// Counts the confirmations waiting to be sent (given-up rows not counted).
const WAITING: &str = "SELECT COUNT(*) FROM confirmation_queue WHERE failed_at IS NULL";

/// How many confirmations wait to be sent (given-up rows not counted).
pub(super) async fn waiting(tx: &mut Tx) -> anyhow::Result<u64> {
    let n: i64 = on_tx!(tx, t => sqlx::query_scalar(WAITING).fetch_one(&mut **t).await)
        .context("cannot count the confirmation queue")?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Where each claimed confirmation goes, by subscriber id: their address
/// while a request is open and they are pending or unsubscribed, else
/// `None` (nothing left to confirm).
async fn targets(
    tx: &mut Tx,
    ids: &[i64],
) -> anyhow::Result<std::collections::HashMap<i64, Option<EmailAddress>>> {
    const COLUMNS: &str = "SELECT s.id, s.email, s.status, \
         CAST(CASE WHEN EXISTS (SELECT 1 FROM subscribe_requests r \
         WHERE r.subscriber_id = s.id) THEN 1 ELSE 0 END AS BIGINT) AS open \
         FROM subscribers s WHERE s.id ";
    let context = "cannot read the addresses of claimed confirmations";
    let rows: Vec<(i64, String, String, bool)> = match tx {
        Tx::Sqlite(t) => {
            let mut sql = Sql::new(COLUMNS);
            sql.push("IN (");
            for (i, id) in ids.iter().enumerate() {
                sql.push(if i == 0 { "" } else { ", " }).param(*id);
            }
            sql.push(")");
            let rows = sql.build()?.fetch_all(&mut **t).await.context(context)?;
            rows.iter().map(target_row).collect::<anyhow::Result<_>>()?
        }
        Tx::Postgres(t) => {
            let rows = sqlx::query(AssertSqlSafe(format!("{COLUMNS}= ANY($1)")))
                .bind(ids)
                .fetch_all(&mut **t)
                .await
                .context(context)?;
            rows.iter().map(target_row).collect::<anyhow::Result<_>>()?
        }
    };
    let mut targets = std::collections::HashMap::new();
    for (id, email, status, open) in rows {
        let wanted = open && matches!(status_from(status)?, Status::Pending | Status::Unsubscribed);
        let to = wanted.then(|| EmailAddress::parse(&email).ok()).flatten();
        targets.insert(id, to);
    }
    Ok(targets)
}

fn target_row(r: &impl Cols) -> anyhow::Result<(i64, String, String, bool)> {
    Ok((
        r.int("id")?,
        r.text("email")?,
        r.text("status")?,
        r.int("open")? != 0,
    ))
}

/// Queues a confirmation for `id` at `now`; one already waiting is left
/// alone, one given up is started afresh.
pub(super) async fn enqueue(
    tx: &mut Tx,
    id: SubscriberId,
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    on_tx!(tx, t => sqlx::query(
        "INSERT INTO confirmation_queue (subscriber_id, created_at, attempts, next_attempt_at) \
         VALUES ($1, $2, 0, $2) ON CONFLICT (subscriber_id) DO UPDATE SET \
         created_at = excluded.created_at, attempts = 0, \
         next_attempt_at = excluded.next_attempt_at, last_error = NULL, failed_at = NULL \
         WHERE confirmation_queue.failed_at IS NOT NULL",
    )
    .bind(id.get())
    .bind(millis(now))
    .execute(&mut **t)
    .await
    .map(|r| r.rows_affected()))
    .with_context(|| format!("cannot queue the confirmation of subscriber {id}"))?;
    Ok(())
}
