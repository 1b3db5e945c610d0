//! Claiming due ledger rows and recording their outcomes, in batches: each
//! call is one short write transaction of a few multi-row statements
//! (per-row commits would cap SQLite at a few hundred messages a second).
//!
//! On PostgreSQL several runs claim at once (see `postgres`): rows are
//! stamped with the run (`claimed_by`), and outcomes are written only to
//! rows the run still has `sending`.
use std::collections::HashMap;

use anyhow::Context;
use sqlx::{Connection, QueryBuilder};

use super::lease;
use super::postgres;
use crate::domain::{
    Claimed, DeliveryState, EmailAddress, Lease, LedgerError, LedgerResult, Record, Status,
    SubscriberId,
};
use crate::store::{Cols, Pool, Store};

/// Rows per recording statement on SQLite: 6 bound values a row, far below
/// its parameter limit. (PostgreSQL binds arrays, whatever the count.)
const RECORD_CHUNK: usize = 1000;

/// One claimed row as read back: (delivery, subscriber, attempts).
pub(super) type ClaimedRow = (i64, i64, u32);

/// Claims up to `limit` rows that are due at `now` (pending, or deferred
/// with `next_attempt_at <= now`), lowest id first: marks them `sending`,
/// counts the attempt, and returns them with their addresses. Only a run
/// holding a lease on the campaign may claim (else `LedgerError::LeaseLost`).
pub(super) async fn claim(
    store: &Store,
    lease: &Lease,
    limit: u32,
    now: i64,
) -> LedgerResult<Vec<Claimed>> {
    let (mut claimed, mut by_id) = match &store.pool {
        Pool::Postgres(p) => postgres::claim(p, lease, limit, now).await?,
        Pool::Sqlite(_) => claim_sqlite(store, lease, limit, now).await?,
    };
    claimed.sort_unstable();
    claimed
        .into_iter()
        .map(|(delivery, sub, attempts)| {
            let (email, status) = by_id
                .remove(&sub)
                .with_context(|| format!("ledger row {delivery} names no subscriber"))?;
            let email = EmailAddress::parse(&email)
                .with_context(|| format!("the store holds an invalid address `{email}`"))?;
            let mailable = status.parse::<Status>().is_ok_and(Status::is_mailable);
            Ok(Claimed {
                delivery,
                subscriber: SubscriberId::new(sub),
                email,
                mailable,
                attempts,
            })
        })
        .collect()
}

/// The claim on SQLite, whose one writer makes a plain
/// `UPDATE … WHERE id IN (SELECT … LIMIT n)` safe.
async fn claim_sqlite(
    store: &Store,
    lease: &Lease,
    limit: u32,
    now: i64,
) -> LedgerResult<postgres::Claim> {
    let campaign = lease.campaign.get();
    let limit = i64::from(limit);
    let mut conn = store
        .sqlite_writer()
        .await
        .context("cannot reach the database to claim recipients")?;
    let mut t = conn
        .begin_with("BEGIN IMMEDIATE")
        .await
        .context("cannot start a write transaction (is another process holding the database?)")?;
    lease::ensure_held_sqlite(&mut t, lease).await?;
    // Due deferred rows, then pending ones, each branch walking the
    // (campaign_id, state, id) index; a single `state = … OR …`
    // filter would scan and sort the whole campaign on every claim.
    let rows = sqlx::query(
        "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, \
         claimed_at = $3, updated_at = $3 WHERE id IN (\
         SELECT id FROM (SELECT id FROM deliveries WHERE campaign_id = $1 \
         AND state = 'deferred' AND next_attempt_at <= $3 ORDER BY id LIMIT $2) AS due \
         UNION ALL \
         SELECT id FROM (SELECT id FROM deliveries WHERE campaign_id = $1 \
         AND state = 'pending' ORDER BY id LIMIT $2) AS fresh \
         LIMIT $2) RETURNING id, subscriber_id, attempts",
    )
    .bind(campaign)
    .bind(limit)
    .bind(now)
    .fetch_all(&mut *t)
    .await
    .context("cannot claim recipients from the ledger")?;
    let claimed = rows
        .iter()
        .map(claimed_row)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let by_id = addresses(&mut t, &claimed).await?;
    t.commit().await.context("cannot commit the claim")?;
    Ok((claimed, by_id))
}

pub(super) fn claimed_row(r: &impl Cols) -> anyhow::Result<ClaimedRow> {
    let attempts = r.int("attempts")?;
    Ok((
        r.int("id")?,
        r.int("subscriber_id")?,
        u32::try_from(attempts).unwrap_or(u32::MAX),
    ))
}

/// What a batch of outcomes adds to the run's and the campaign's counts
/// (the same on both backends).
pub(super) struct Tally {
    /// Sent or failed: handed to the relay and answered.
    pub settled: i64,
    /// Possible duplicates (a lost reply after the final `.`).
    pub unconfirmed: i64,
}

impl Tally {
    pub(super) fn of(records: &[Record]) -> Self {
        let count = |f: fn(&Record) -> bool| {
            i64::try_from(records.iter().filter(|r| f(r)).count()).unwrap_or(i64::MAX)
        };
        Self {
            settled: count(|r| matches!(r.state, DeliveryState::Sent | DeliveryState::Failed)),
            unconfirmed: count(|r| r.possible_duplicate),
        }
    }
}

/// Writes outcomes of claimed rows and marks the `handed` ones as being
/// handed to the relay, in one transaction (hard bounces are marked
/// bounce-pending, see `bounces`; possible duplicates are counted) — only
/// while `lease` is held (else `LedgerError::LeaseLost`): once the run has
/// lost it, the rows are another run's. One transaction per desk batch,
/// not one per kind of change: each transaction is a round trip through
/// sqlx's SQLite worker thread per statement plus the commit, and with
/// separate ones the desk spent most of a discard send's time handing
/// work between threads (perf: 236,000 context switches for 50,000
/// messages).
pub(super) async fn commit(
    store: &Store,
    lease: &Lease,
    records: &[Record],
    handed: &[i64],
    now: i64,
) -> LedgerResult<()> {
    if records.is_empty() && handed.is_empty() {
        return Ok(());
    }
    if let Pool::Postgres(p) = &store.pool {
        return postgres::commit(p, lease, records, handed, now).await;
    }
    let Tally {
        settled,
        unconfirmed,
    } = Tally::of(records);
    // The whole transaction is one multi-statement script (sqlx runs each
    // statement in turn, binding `?`s in order): one hand-off to SQLite's
    // worker thread per batch instead of one per statement, which is most
    // of what a batch costs (perf on a 10,000-message SMTP send: 3 hand-offs
    // per batch left 4.5 futex calls per message). Every change is fenced
    // by the lease, and the lease's row comes back only if the run still
    // holds it.
    let (campaign, token) = (lease.campaign.get(), lease.token.as_str());
    let fence = |q: &mut QueryBuilder<sqlx::Sqlite>| {
        q.push(" AND EXISTS (SELECT 1 FROM campaign_leases WHERE campaign_id = ");
        q.push_bind(campaign);
        q.push(" AND token = ");
        q.push_bind(token);
        q.push(")");
    };
    let mut q = QueryBuilder::<sqlx::Sqlite>::new(
        "BEGIN IMMEDIATE; UPDATE campaign_leases SET handed = handed + ",
    );
    q.push_bind(settled);
    q.push(" WHERE campaign_id = ");
    q.push_bind(campaign);
    q.push(" AND token = ");
    q.push_bind(token);
    q.push(" RETURNING 1");
    for chunk in records.chunks(RECORD_CHUNK) {
        q.push("; WITH o(id, state, reply, next_at, refund, bounce) AS (");
        q.push_values(chunk, |mut b, r| {
            b.push_bind(r.delivery)
                .push_bind(r.state.as_str())
                .push_bind(r.reply.as_deref())
                .push_bind(r.next_attempt_at)
                .push_bind(i64::from(r.refund_attempt))
                .push_bind(r.bounce.map(|_| "pending"));
        });
        q.push(
            ") UPDATE deliveries SET state = o.state, \
             last_reply = COALESCE(o.reply, deliveries.last_reply), \
             next_attempt_at = o.next_at, attempts = deliveries.attempts - o.refund, \
             bounce = o.bounce, handed_at = NULL, updated_at = ",
        );
        q.push_bind(now);
        q.push(" FROM o WHERE deliveries.id = o.id AND deliveries.state = 'sending'");
        fence(&mut q);
    }
    for chunk in handed.chunks(RECORD_CHUNK) {
        q.push("; UPDATE deliveries SET handed_at = ");
        q.push_bind(now);
        q.push(" WHERE state = 'sending' AND id IN ");
        q.push_tuples(chunk, |mut b, id| {
            b.push_bind(*id);
        });
        fence(&mut q);
    }
    if unconfirmed > 0 {
        q.push("; UPDATE campaigns SET possible_duplicates = possible_duplicates + ");
        q.push_bind(unconfirmed);
        q.push(" WHERE id = ");
        q.push_bind(campaign);
        fence(&mut q);
    }
    q.push("; COMMIT");
    let mut conn = store
        .sqlite_writer()
        .await
        .context("cannot reach the database to record delivery outcomes")?;
    let held = match q.build().fetch_all(&mut *conn).await {
        Ok(rows) => rows,
        Err(e) => {
            // A statement after BEGIN failed: end the transaction here
            // (if BEGIN itself failed there is none, and this is a no-op).
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            return Err(anyhow::Error::new(e)
                .context("cannot record delivery outcomes in the ledger")
                .into());
        }
    };
    if held.is_empty() {
        return Err(LedgerError::LeaseLost);
    }
    Ok(())
}

/// The address and status of each claimed row's subscriber, by id (SQLite;
/// the PostgreSQL claim joins them in).
async fn addresses(
    tx: &mut sqlx::SqliteConnection,
    claimed: &[ClaimedRow],
) -> anyhow::Result<HashMap<i64, (String, String)>> {
    if claimed.is_empty() {
        return Ok(HashMap::new());
    }
    let mut q =
        QueryBuilder::<sqlx::Sqlite>::new("SELECT id, email, status FROM subscribers WHERE id IN ");
    q.push_tuples(claimed, |mut b, (_, sub, _)| {
        b.push_bind(*sub);
    });
    let rows = q
        .build()
        .fetch_all(&mut *tx)
        .await
        .context("cannot read the claimed recipients")?;
    let mut by_id = HashMap::with_capacity(rows.len());
    for r in &rows {
        by_id.insert(r.int("id")?, (r.text("email")?, r.text("status")?));
    }
    Ok(by_id)
}
