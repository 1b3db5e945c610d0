//! Campaign leases in the store: one row per campaign being sent, naming
//! the run that holds it. Every change is a compare-and-set on the holder's
//! token, in portable SQL, so two runs racing for a lease cannot both win.
//! Whether a lease may be taken over is decided by `send::lease`.
use anyhow::Context;
use sqlx::Row;

use crate::domain::{CampaignId, Lease, LeaseOwner, LeaseRow, LedgerError, LedgerResult};
use crate::store::Store;

/// The campaign's lease, if a run holds (or held and died with) one.
pub(super) async fn lease(store: &Store, campaign: CampaignId) -> anyhow::Result<Option<LeaseRow>> {
    let row = sqlx::query(
        "SELECT token, host, pid, process_start, acquired_at, renewed_at, expires_at \
             FROM campaign_leases WHERE campaign_id = $1",
    )
    .bind(campaign.get())
    .fetch_optional(&store.pool)
    .await
    .context("cannot read the campaign's lease")?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(LeaseRow {
        token: r.try_get("token")?,
        owner: LeaseOwner {
            host: r.try_get("host")?,
            pid: u32::try_from(r.try_get::<i64, _>("pid")?).unwrap_or(0),
            process_start: u64::try_from(r.try_get::<i64, _>("process_start")?).unwrap_or(0),
        },
        acquired_at: r.try_get("acquired_at")?,
        renewed_at: r.try_get("renewed_at")?,
        expires_at: r.try_get("expires_at")?,
    }))
}

/// Takes the lease for `owner` under `lease.token`: when `previous` is
/// `None` only if nobody holds it, else only if `previous` still does.
/// Returns whether this run now holds it.
pub(super) async fn take_lease(
    store: &Store,
    lease: &Lease,
    owner: &LeaseOwner,
    previous: Option<&str>,
    now: i64,
) -> anyhow::Result<bool> {
    let mut tx = store.begin_write().await?;
    let sql = match previous {
        None => {
            "INSERT INTO campaign_leases (campaign_id, token, host, pid, process_start, \
                 acquired_at, renewed_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $7) \
                 ON CONFLICT (campaign_id) DO NOTHING"
        }
        Some(_) => {
            "UPDATE campaign_leases SET token = $2, host = $3, pid = $4, process_start = $5, \
                 acquired_at = $6, renewed_at = $6, expires_at = $7 \
                 WHERE campaign_id = $1 AND token = $8"
        }
    };
    let mut q = sqlx::query(sql)
        .bind(lease.campaign.get())
        .bind(&lease.token)
        .bind(&owner.host)
        .bind(i64::from(owner.pid))
        .bind(i64::try_from(owner.process_start).unwrap_or(0))
        .bind(now)
        .bind(now + lease.ttl_ms);
    if let Some(previous) = previous {
        q = q.bind(previous);
    }
    let taken = q
        .execute(&mut *tx)
        .await
        .context("cannot take the campaign's lease")?
        .rows_affected();
    tx.commit().await.context("cannot commit the lease")?;
    Ok(taken == 1)
}

/// Extends `lease` by its time to live from `now`. Returns false when
/// another run has taken it over.
pub(super) async fn renew_lease(store: &Store, lease: &Lease, now: i64) -> anyhow::Result<bool> {
    let n = sqlx::query(
        "UPDATE campaign_leases SET renewed_at = $3, expires_at = $4 \
             WHERE campaign_id = $1 AND token = $2",
    )
    .bind(lease.campaign.get())
    .bind(&lease.token)
    .bind(now)
    .bind(now + lease.ttl_ms)
    .execute(&store.pool)
    .await
    .context("cannot renew the campaign's lease")?
    .rows_affected();
    Ok(n == 1)
}

/// Gives `lease` up (if this run still holds it).
pub(super) async fn release_lease(store: &Store, lease: &Lease) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM campaign_leases WHERE campaign_id = $1 AND token = $2")
        .bind(lease.campaign.get())
        .bind(&lease.token)
        .execute(&store.pool)
        .await
        .context("cannot release the campaign's lease")?;
    Ok(())
}

/// Fails with [`LedgerError::LeaseLost`] unless `lease` is still held: run inside the
/// write transaction of every re-queue and claim, so a run that lost its
/// lease never touches the ledger again.
pub(super) async fn ensure_held(
    tx: &mut sqlx::SqliteConnection,
    lease: &Lease,
) -> LedgerResult<()> {
    let held: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM campaign_leases WHERE campaign_id = $1 AND token = $2")
            .bind(lease.campaign.get())
            .bind(&lease.token)
            .fetch_optional(&mut *tx)
            .await
            .context("cannot check the campaign's lease")?;
    match held {
        Some(_) => Ok(()),
        None => Err(LedgerError::LeaseLost),
    }
}
