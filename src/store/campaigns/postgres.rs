//! The ledger's hot path on PostgreSQL: a claim is one statement in its own
//! implicit transaction (one round trip), a batch of outcomes one statement
//! in a short transaction that pins its plan; each is fenced by the run's
//! lease inside the statement. With several senders a
//! claim takes disjoint rows: `FOR UPDATE SKIP LOCKED` on the candidates,
//! and the outer `WHERE` re-checks their state.
use std::collections::HashMap;

use anyhow::Context;
use sqlx::PgPool;

use super::ledger::{ClaimedRow, claimed_row};
use crate::domain::{Lease, LedgerError, LedgerResult, Record};
use crate::store::Cols;

/// Claimed rows with each subscriber's (address, status), by subscriber.
pub(super) type Claim = (Vec<ClaimedRow>, HashMap<i64, (String, String)>);

/// Claims up to `limit` due rows for the run holding `lease`.
///
/// The run's `send_runs` row is share-locked by the statement, so a run
/// dropping this one as dead waits for it, and a dropped run claims
/// nothing. `state BETWEEN x AND x … ORDER BY state, id` rather than
/// `state = x … ORDER BY id`: with an equality the planner may walk the
/// primary key and filter, which goes quadratic as sent rows pile up below
/// the pending ones; the range keeps it on the (campaign_id, state, id)
/// index, where the pending rows are contiguous.
///
/// The candidates are passed on by their physical address (`ctid`), which
/// their lock keeps still until the update in the same statement: the
/// update reads each row straight from its page (a TID scan) instead of
/// looking every id up in the primary key again. 1,024 rows of a
/// 200,000-row campaign: 22–24 ms a claim against 34 ms (medians of 40,
/// psql). A row updated by someone else between the statement's snapshot
/// and its lock has moved; the update does not see it there and leaves it
/// alone, unclaimed, and the outer `WHERE` still re-checks the state of
/// the rest.
///
/// The claim does not wait for the disk (`synchronous_commit = off` for
/// its transaction, the counterpart of SQLite's `synchronous = NORMAL`): a
/// crash of mailroom loses nothing, and a crash of the database server may
/// forget the claims of its last fraction of a second, whose rows are then
/// sent again. Outcomes are committed synchronously.
pub(super) async fn claim(
    pool: &PgPool,
    lease: &Lease,
    limit: u32,
    now: i64,
) -> LedgerResult<Claim> {
    let rows = sqlx::query(
        "WITH me AS (SELECT id FROM send_runs WHERE campaign_id = $1 AND token = $4 FOR SHARE), \
         lazy AS (SELECT set_config('synchronous_commit', 'off', true)) \
         UPDATE deliveries d SET state = 'sending', attempts = d.attempts + 1, \
         claimed_at = $3, updated_at = $3, claimed_by = me.id FROM subscribers s, me, lazy \
         WHERE d.ctid = ANY(ARRAY(\
         SELECT ctid FROM (SELECT ctid FROM deliveries WHERE campaign_id = $1 \
         AND state BETWEEN 'deferred' AND 'deferred' AND next_attempt_at <= $3 \
         ORDER BY state, id LIMIT $2 FOR UPDATE SKIP LOCKED) AS due \
         UNION ALL \
         SELECT ctid FROM (SELECT ctid FROM deliveries WHERE campaign_id = $1 \
         AND state BETWEEN 'pending' AND 'pending' ORDER BY state, id LIMIT $2 \
         FOR UPDATE SKIP LOCKED) AS fresh \
         LIMIT $2)) \
         AND (d.state = 'pending' OR (d.state = 'deferred' AND d.next_attempt_at <= $3)) \
         AND s.id = d.subscriber_id \
         RETURNING d.id, d.subscriber_id, d.attempts, s.email, s.status",
    )
    .bind(lease.campaign.get())
    .bind(i64::from(limit))
    .bind(now)
    .bind(&lease.token)
    .fetch_all(pool)
    .await
    .context("cannot claim recipients from the ledger")?;
    if rows.is_empty() {
        ensure_held(pool, lease).await?;
    }
    let mut claimed = Vec::with_capacity(rows.len());
    let mut by_id = HashMap::with_capacity(rows.len());
    for r in &rows {
        let row = claimed_row(r)?;
        by_id.insert(row.1, (r.text("email")?, r.text("status")?));
        claimed.push(row);
    }
    Ok((claimed, by_id))
}

/// Writes outcomes, marks the `handed` rows as being handed to the relay,
/// adds the settled outcomes to the run's count and the possible
/// duplicates to the campaign's, in one statement (one WAL flush per desk
/// batch); only rows the run still has `sending` change, and nothing does
/// once the run has lost its lease. Synchronous: an outcome is durable
/// before the worker's next hand-over.
///
/// It must stay synchronous (unlike the claim, whose loss only re-sends
/// rows never handed over). With `synchronous_commit = off` a crash of the
/// database server or its machine could forget the last fraction of a
/// second of commits after the workers were told they were durable: a
/// hand-over mark lost after its message went out turns that message into
/// a silent duplicate (re-queued as never handed over, so not counted),
/// and lost outcomes re-send whole batches, far more than the messages in
/// flight that the crash promise allows.
///
/// The plan must not depend on the statistics, so the statement runs in a
/// transaction without nested loops or sequential scans (`SET LOCAL`): the
/// rows are found through the primary key (`d.id = ANY($1)`) and hashed
/// against the arrays, whatever the planner expects. It expects little:
/// a campaign's rows are new (not yet analysed), and few are `sending` at
/// any moment, so `id = ANY(1,024 ids) AND state = 'sending'` came out as
/// 1 to 5 rows, and it either scanned the whole campaign per batch and
/// hashed (54 ms a batch at 200,000 rows, growing with the campaign), or
/// looped over the arrays once per row (Rows Removed by Join Filter:
/// 1,047,552; 400–600 ms a batch). Three more round trips per batch of up
/// to 1,024 outcomes (`BEGIN`, the settings, `COMMIT`) cost far less.
pub(super) async fn commit(
    pool: &PgPool,
    lease: &Lease,
    records: &[Record],
    handed: &[i64],
    now: i64,
) -> LedgerResult<()> {
    let super::ledger::Tally {
        settled,
        unconfirmed,
    } = super::ledger::Tally::of(records);
    let ids: Vec<i64> = records.iter().map(|r| r.delivery).collect();
    let states: Vec<&str> = records.iter().map(|r| r.state.as_str()).collect();
    let replies: Vec<Option<&str>> = records.iter().map(|r| r.reply.as_deref()).collect();
    let next: Vec<Option<i64>> = records.iter().map(|r| r.next_attempt_at).collect();
    let refunds: Vec<i64> = records
        .iter()
        .map(|r| i64::from(r.refund_attempt))
        .collect();
    let bounces: Vec<Option<&str>> = records
        .iter()
        .map(|r| r.bounce.map(|_| "pending"))
        .collect();
    // `marked` skips rows `done` writes: one statement must not update a
    // row twice (the desk never sends both for one row; this makes sure).
    let context = "cannot record delivery outcomes in the ledger";
    let mut tx = pool.begin().await.context(context)?;
    sqlx::raw_sql("SET LOCAL enable_nestloop = off; SET LOCAL enable_seqscan = off")
        .execute(&mut *tx)
        .await
        .context(context)?;
    let run: Option<i64> = sqlx::query_scalar(
        "WITH me AS (UPDATE send_runs SET handed = handed + $9 \
         WHERE campaign_id = $8 AND token = $10 RETURNING id), \
         done AS (UPDATE deliveries d SET state = o.state, \
         last_reply = COALESCE(o.reply, d.last_reply), next_attempt_at = o.next_at, \
         attempts = d.attempts - o.refund, bounce = o.bounce, handed_at = NULL, \
         updated_at = $7 \
         FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::BIGINT[], $5::BIGINT[], \
         $6::TEXT[]) AS o(id, state, reply, next_at, refund, bounce), me \
         WHERE d.id = ANY($1::BIGINT[]) AND d.id = o.id AND d.state = 'sending' \
         AND d.claimed_by = me.id RETURNING 1), \
         marked AS (UPDATE deliveries d SET handed_at = $7 FROM me \
         WHERE d.id = ANY($12::BIGINT[]) AND NOT d.id = ANY($1::BIGINT[]) \
         AND d.state = 'sending' AND d.claimed_by = me.id RETURNING 1), \
         dup AS (UPDATE campaigns SET possible_duplicates = possible_duplicates + $11 \
         WHERE id = $8 AND $11 > 0 AND EXISTS (SELECT 1 FROM me) RETURNING 1) \
         SELECT id FROM me",
    )
    .bind(&ids)
    .bind(states)
    .bind(replies)
    .bind(next)
    .bind(refunds)
    .bind(bounces)
    .bind(now)
    .bind(lease.campaign.get())
    .bind(settled)
    .bind(&lease.token)
    .bind(unconfirmed)
    .bind(handed)
    .fetch_optional(&mut *tx)
    .await
    .context(context)?;
    tx.commit().await.context(context)?;
    run.map(|_| ()).ok_or(LedgerError::LeaseLost)
}

/// Fails with [`LedgerError::LeaseLost`] unless the run still holds `lease`.
async fn ensure_held(pool: &PgPool, lease: &Lease) -> LedgerResult<()> {
    let held: Option<i64> =
        sqlx::query_scalar("SELECT id FROM send_runs WHERE campaign_id = $1 AND token = $2")
            .bind(lease.campaign.get())
            .bind(&lease.token)
            .fetch_optional(pool)
            .await
            .context("cannot check the campaign's lease")?;
    held.map(|_| ()).ok_or(LedgerError::LeaseLost)
}
