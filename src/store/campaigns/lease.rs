//! Leases in the store: on SQLite one row per campaign being sent
//! (`campaign_leases`, the run that holds it); on PostgreSQL one row per run
//! (`send_runs`), any number per campaign. Every change is a compare-and-set
//! on the run's token, so two runs racing cannot both win. Whether a lease
//! may be taken over is decided by `send::lease`.
use anyhow::Context;
use sqlx::AssertSqlSafe;

use crate::domain::{CampaignId, Lease, LeaseOwner, LeaseRow, LedgerError, LedgerResult};
use crate::store::{Cols, Pool, Store, Tx};

impl Store {
    /// The table of leases.
    pub(super) fn lease_table(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "campaign_leases",
            Pool::Postgres(_) => "send_runs",
        }
    }
}

/// Every lease on `campaign`, oldest first.
pub(super) async fn runs(store: &Store, campaign: CampaignId) -> anyhow::Result<Vec<LeaseRow>> {
    let sql = format!(
        "SELECT token, host, pid, process_start, acquired_at, renewed_at, expires_at, handed \
         FROM {} WHERE campaign_id = $1 ORDER BY acquired_at, token",
        store.lease_table()
    );
    on_pool!(store, p => {
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(campaign.get())
            .fetch_all(p)
            .await
            .context("cannot read the campaign's leases")?;
        rows.iter().map(lease_from_row).collect()
    })
}

fn lease_from_row(r: &impl Cols) -> anyhow::Result<LeaseRow> {
    Ok(LeaseRow {
        token: r.text("token")?,
        owner: LeaseOwner {
            host: r.text("host")?,
            pid: u32::try_from(r.int("pid")?).unwrap_or(0),
            process_start: r.count("process_start")?,
        },
        acquired_at: r.int("acquired_at")?,
        renewed_at: r.int("renewed_at")?,
        expires_at: r.int("expires_at")?,
        handed: r.count("handed")?,
    })
}

/// Takes the lease for `owner` under `lease.token` (see
/// `Ledger::take_lease`). Returns whether this run now holds it.
pub(super) async fn take_lease(
    store: &Store,
    lease: &Lease,
    owner: &LeaseOwner,
    previous: Option<&str>,
    now: i64,
) -> anyhow::Result<bool> {
    let table = store.lease_table();
    let mut tx = store.begin_write().await?;
    let exclusive = matches!(tx, Tx::Sqlite(_));
    let insert = format!(
        "INSERT INTO {table} (campaign_id, token, host, pid, process_start, acquired_at, \
         renewed_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $7)"
    );
    let sql = match previous {
        None if exclusive => format!("{insert} ON CONFLICT (campaign_id) DO NOTHING"),
        Some(_) if exclusive => format!(
            "UPDATE {table} SET token = $2, host = $3, pid = $4, process_start = $5, \
             acquired_at = $6, renewed_at = $6, expires_at = $7, handed = 0 \
             WHERE campaign_id = $1 AND token = $8"
        ),
        _ => insert,
    };
    if let (Some(previous), false) = (previous, exclusive) {
        drop_in(&mut tx, table, lease.campaign, previous).await?;
    }
    let exclusive_previous = previous.filter(|_| exclusive);
    let taken = on_tx!(&mut tx, t => {
        let mut q = sqlx::query(AssertSqlSafe(sql))
            .bind(lease.campaign.get())
            .bind(&lease.token)
            .bind(&owner.host)
            .bind(i64::from(owner.pid))
            .bind(i64::try_from(owner.process_start).unwrap_or(0))
            .bind(now)
            .bind(now + lease.ttl_ms);
        if let Some(previous) = exclusive_previous {
            q = q.bind(previous);
        }
        q.execute(&mut **t).await.map(|r| r.rows_affected())
    })
    .context("cannot take the campaign's lease")?;
    tx.commit().await.context("cannot commit the lease")?;
    Ok(taken == 1)
}

/// Extends `lease` by its time to live from `now`. Returns false when
/// another run has taken it over (or dropped it).
pub(super) async fn renew_lease(store: &Store, lease: &Lease, now: i64) -> anyhow::Result<bool> {
    let sql = format!(
        "UPDATE {} SET renewed_at = $3, expires_at = $4 WHERE campaign_id = $1 AND token = $2",
        store.lease_table()
    );
    let n = on_pool!(store, p => sqlx::query(AssertSqlSafe(sql))
        .bind(lease.campaign.get())
        .bind(&lease.token)
        .bind(now)
        .bind(now + lease.ttl_ms)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
    .context("cannot renew the campaign's lease")?;
    Ok(n == 1)
}

/// Removes the lease with `token` on `campaign`, if it is there.
pub(super) async fn drop_run(
    store: &Store,
    campaign: CampaignId,
    token: &str,
) -> anyhow::Result<bool> {
    let mut tx = store.begin_write().await?;
    let dropped = drop_in(&mut tx, store.lease_table(), campaign, token).await?;
    tx.commit().await.context("cannot commit the lease")?;
    Ok(dropped)
}

async fn drop_in(
    tx: &mut Tx,
    table: &str,
    campaign: CampaignId,
    token: &str,
) -> anyhow::Result<bool> {
    let sql = format!("DELETE FROM {table} WHERE campaign_id = $1 AND token = $2");
    let n = on_tx!(tx, t => sqlx::query(AssertSqlSafe(sql))
        .bind(campaign.get())
        .bind(token)
        .execute(&mut **t)
        .await
        .map(|r| r.rows_affected()))
    .context("cannot release the campaign's lease")?;
    Ok(n > 0)
}

/// Fails with [`LedgerError::LeaseLost`] unless `lease` is still held; run
/// inside the write transaction of every re-queue, claim and record, so a
/// run that lost its lease never touches the ledger again. On PostgreSQL
/// the run's row stays share-locked until the transaction ends, so a run
/// dropping this one as dead waits for it. Returns the run's id
/// (PostgreSQL; 0 on SQLite, where the campaign names the one run).
pub(super) async fn ensure_held(tx: &mut Tx, lease: &Lease) -> LedgerResult<i64> {
    let held: Option<i64> = match tx {
        Tx::Sqlite(t) => return ensure_held_sqlite(t, lease).await,
        Tx::Postgres(t) => {
            sqlx::query_scalar(
                "SELECT id FROM send_runs WHERE campaign_id = $1 AND token = $2 FOR SHARE",
            )
            .bind(lease.campaign.get())
            .bind(&lease.token)
            .fetch_optional(&mut **t)
            .await
        }
    }
    .context("cannot check the campaign's lease")?;
    held.ok_or(LedgerError::LeaseLost)
}

/// [`ensure_held`] on a SQLite connection in a write transaction.
pub(super) async fn ensure_held_sqlite(
    conn: &mut sqlx::SqliteConnection,
    lease: &Lease,
) -> LedgerResult<i64> {
    let held: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(0 AS BIGINT) FROM campaign_leases WHERE campaign_id = $1 AND token = $2",
    )
    .bind(lease.campaign.get())
    .bind(&lease.token)
    .fetch_optional(conn)
    .await
    .context("cannot check the campaign's lease")?;
    held.ok_or(LedgerError::LeaseLost)
}
