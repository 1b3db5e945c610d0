//! Campaigns and their delivery ledger in the store: one row per
//! (campaign, subscriber), snapshotted from the subscribed addresses when
//! the campaign is created. The states and rows are `domain::ledger`'s;
//! this module implements [`Ledger`] for [`Store`].
use anyhow::Context;

use super::{Cols, Pool, Store, Tx};
use crate::domain::{
    Campaign, CampaignCounts, CampaignId, CampaignTransport, Claimed, ContentChange, DeferredGroup,
    IssueNumber, Lease, LeaseOwner, LeaseRow, Ledger, LedgerResult, Record, RunNote, Senders,
    now_ms,
};

mod bounces;
mod content;
mod lease;
mod ledger;
mod postgres;
mod registry;
mod report;
mod runs;

pub use bounces::Unbounced;
pub use registry::CampaignSummary;

impl Ledger for Store {
    fn senders(&self) -> Senders {
        match self.pool {
            Pool::Sqlite(_) => Senders::One,
            Pool::Postgres(_) => Senders::Many,
        }
    }

    async fn start_run(&self, lease: &Lease) -> LedgerResult<u64> {
        start_run(self, lease).await
    }

    async fn requeue_orphans(&self, campaign: CampaignId) -> LedgerResult<u64> {
        let mut tx = self.begin_write().await?;
        let n = requeue(&mut tx, campaign).await?;
        tx.commit().await.context("cannot commit the re-queue")?;
        Ok(n)
    }

    async fn claim(&self, lease: &Lease, limit: u32, now: i64) -> LedgerResult<Vec<Claimed>> {
        ledger::claim(self, lease, limit, now).await
    }

    async fn commit(
        &self,
        lease: &Lease,
        records: &[Record],
        handed: &[i64],
        now: i64,
    ) -> LedgerResult<()> {
        ledger::commit(self, lease, records, handed, now).await
    }

    async fn next_due(&self, campaign: CampaignId) -> LedgerResult<Option<i64>> {
        Ok(report::next_due(self, campaign).await?)
    }

    async fn deferred(&self, campaign: CampaignId) -> LedgerResult<Vec<DeferredGroup>> {
        Ok(report::deferred(self, campaign).await?)
    }

    async fn note_run(&self, note: &RunNote) -> LedgerResult<()> {
        Ok(runs::note_run(self, note).await?)
    }

    async fn campaign_counts(&self, campaign: CampaignId) -> LedgerResult<CampaignCounts> {
        Ok(report::campaign_counts(self, campaign).await?)
    }

    async fn campaign(&self, id: CampaignId) -> LedgerResult<Option<Campaign>> {
        Ok(registry::campaign(self, id).await?)
    }

    async fn apply_bounces(&self, lease: &Lease, deliveries: &[i64]) -> LedgerResult<u64> {
        bounces::apply(self, lease, Some(deliveries)).await
    }

    async fn apply_all_bounces(&self, lease: &Lease) -> LedgerResult<u64> {
        bounces::apply(self, lease, None).await
    }

    async fn release_bounces(&self, lease: &Lease) -> LedgerResult<u64> {
        bounces::release(self, lease).await
    }

    async fn content_changes(&self, campaign: CampaignId) -> LedgerResult<Vec<ContentChange>> {
        Ok(content::content_changes(self, campaign).await?)
    }

    async fn live_runs(&self, campaign: CampaignId) -> LedgerResult<Vec<LeaseRow>> {
        Ok(lease::runs(self, campaign).await?)
    }

    async fn take_lease(
        &self,
        lease: &Lease,
        owner: &LeaseOwner,
        previous: Option<&str>,
        now: i64,
    ) -> LedgerResult<bool> {
        Ok(lease::take_lease(self, lease, owner, previous, now).await?)
    }

    async fn renew_lease(&self, lease: &Lease, now: i64) -> LedgerResult<bool> {
        Ok(lease::renew_lease(self, lease, now).await?)
    }

    async fn release_lease(&self, lease: &Lease) -> LedgerResult<()> {
        lease::drop_run(self, lease.campaign, &lease.token).await?;
        Ok(())
    }

    async fn drop_run(&self, campaign: CampaignId, token: &str) -> LedgerResult<bool> {
        Ok(lease::drop_run(self, campaign, token).await?)
    }
}

const CAMPAIGN_COLUMNS: &str = "SELECT id, issue_number, subject, created_at, \
     possible_duplicates, runs, content_hash, transport, last_run_at, reset_at, paused_at \
     FROM campaigns";

impl Store {
    /// The live campaign for `issue` through `transport`, creating it (and
    /// snapshotting every subscribed address into its ledger, in one
    /// statement) if missing. `content_hash` identifies what it sends.
    /// Returns the campaign and whether it was created now (by this call:
    /// several senders starting at once create it once).
    pub async fn open_campaign(
        &self,
        issue: IssueNumber,
        transport: CampaignTransport,
        subject: &str,
        content_hash: &str,
    ) -> anyhow::Result<(Campaign, bool)> {
        if let Some(c) = self.find_campaign(issue, transport).await? {
            return Ok((c, false));
        }
        let mut tx = self.begin_write().await?;
        let created: Option<i64> = on_tx!(&mut tx, t => sqlx::query_scalar(
            "INSERT INTO campaigns (issue_number, subject, created_at, content_hash, transport) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (issue_number, transport) WHERE reset_at IS NULL DO NOTHING RETURNING id",
        )
        .bind(i64::from(issue.get()))
        .bind(subject)
        .bind(super::seconds(crate::domain::now()))
        .bind(content_hash)
        .bind(transport.as_str())
        .fetch_optional(&mut **t)
        .await)
        .with_context(|| format!("cannot create the campaign for issue {issue}"))?;
        if let Some(id) = created {
            on_tx!(&mut tx, t => sqlx::query(
                "INSERT INTO deliveries (campaign_id, subscriber_id, state, updated_at) \
                 SELECT $1, id, 'pending', $2 FROM subscribers WHERE status = 'subscribed' \
                 ORDER BY id",
            )
            .bind(id)
            .bind(now_ms())
            .execute(&mut **t)
            .await.map(|r| r.rows_affected()))
            .with_context(|| format!("cannot snapshot the recipients of issue {issue}"))?;
        }
        tx.commit()
            .await
            .context("cannot commit the new campaign")?;
        let c = self
            .find_campaign(issue, transport)
            .await?
            .context("the new campaign vanished")?;
        // Another run may have created it between our look and our insert.
        Ok((c, created.is_some()))
    }

    /// Re-queues failed rows whose subscriber is still subscribed, with
    /// their attempts reset. Returns how many.
    pub async fn retry_failed(&self, campaign: CampaignId) -> anyhow::Result<u64> {
        let mut tx = self.begin_write().await?;
        let n = on_tx!(&mut tx, t => sqlx::query(
            "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = NULL, \
             updated_at = $2 WHERE campaign_id = $1 AND state = 'failed' AND subscriber_id IN \
             (SELECT id FROM subscribers WHERE status = 'subscribed')",
        )
        .bind(campaign.get())
        .bind(now_ms())
        .execute(&mut **t)
        .await
        .map(|r| r.rows_affected()))
        .context("cannot re-queue failed rows")?;
        tx.commit().await.context("cannot commit the retry")?;
        Ok(n)
    }
}

/// Starts a run: re-queues the rows of dead runs (see `Ledger::start_run`)
/// and counts the run. Only a run holding a lease on the campaign may do
/// this (else `LedgerError::LeaseLost`): with one sender, every `sending`
/// row is a dead run's; with several, only rows whose run is gone are.
async fn start_run(store: &Store, lease: &Lease) -> LedgerResult<u64> {
    let campaign = lease.campaign;
    let mut tx = store.begin_write().await?;
    lease::ensure_held(&mut tx, lease).await?;
    let n = requeue(&mut tx, campaign).await?;
    on_tx!(&mut tx, t => sqlx::query(
        "UPDATE campaigns SET runs = runs + 1, last_run_at = $2 WHERE id = $1",
    )
        .bind(campaign.get())
        .bind(super::seconds(crate::domain::now()))
        .execute(&mut **t)
        .await.map(|r| r.rows_affected()))
    .context("cannot record the run")?;
    tx.commit().await.context("cannot commit the run start")?;
    Ok(n)
}

/// Sends rows left `sending` by dead runs back to `pending`. Those whose
/// message was being handed to the relay (`handed_at`) may have arrived:
/// they are added to the campaign's possible duplicates and keep their
/// attempt; the others never reached the relay and get it back. SQLite (one
/// sender): every `sending` row, since the caller holds the campaign.
/// PostgreSQL: rows whose run is no longer registered; live runs keep theirs.
/// Returns the possible duplicates.
async fn requeue(tx: &mut Tx, campaign: CampaignId) -> anyhow::Result<u64> {
    let now = now_ms();
    let n: u64 = match &mut *tx {
        Tx::Sqlite(t) => {
            let handed = sqlx::query(
                "UPDATE deliveries SET state = 'pending', handed_at = NULL, updated_at = $2 \
                 WHERE campaign_id = $1 AND state = 'sending' AND handed_at IS NOT NULL",
            )
            .bind(campaign.get())
            .bind(now)
            .execute(&mut **t)
            .await
            .context("cannot re-queue the rows of an interrupted run")?
            .rows_affected();
            sqlx::query(
                "UPDATE deliveries SET state = 'pending', handed_at = NULL, updated_at = $2, \
                 attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END \
                 WHERE campaign_id = $1 AND state = 'sending'",
            )
            .bind(campaign.get())
            .bind(now)
            .execute(&mut **t)
            .await
            .context("cannot re-queue the rows of an interrupted run")?;
            handed
        }
        Tx::Postgres(t) => {
            let handed: i64 = sqlx::query_scalar(
                "WITH o AS (SELECT id, handed_at IS NOT NULL AS handed FROM deliveries d \
                 WHERE campaign_id = $1 AND state BETWEEN 'sending' AND 'sending' \
                 AND NOT EXISTS (SELECT 1 FROM send_runs r WHERE r.id = d.claimed_by) \
                 FOR UPDATE), \
                 u AS (UPDATE deliveries d SET state = 'pending', handed_at = NULL, \
                 updated_at = $2, attempts = CASE WHEN o.handed THEN d.attempts \
                 ELSE GREATEST(d.attempts - 1, 0) END \
                 FROM o WHERE d.id = o.id AND d.state = 'sending' RETURNING o.handed) \
                 SELECT COUNT(*) FILTER (WHERE handed) FROM u",
            )
            .bind(campaign.get())
            .bind(now)
            .fetch_one(&mut **t)
            .await
            .context("cannot re-queue the rows of an interrupted run")?;
            u64::try_from(handed).unwrap_or(0)
        }
    };
    if n > 0 {
        on_tx!(tx, t => sqlx::query(
            "UPDATE campaigns SET possible_duplicates = possible_duplicates + $2 WHERE id = $1",
        )
        .bind(campaign.get())
        .bind(i64::try_from(n).unwrap_or(i64::MAX))
        .execute(&mut **t)
        .await
        .map(|r| r.rows_affected()))
        .context("cannot count the possible duplicates")?;
    }
    Ok(n)
}

fn campaign_from_row(row: &impl Cols) -> anyhow::Result<Campaign> {
    let number = row.int("issue_number")?;
    let issue = u32::try_from(number)
        .ok()
        .and_then(IssueNumber::new)
        .with_context(|| format!("the store holds an invalid issue number `{number}`"))?;
    Ok(Campaign {
        id: CampaignId::new(row.int("id")?),
        issue,
        subject: row.text("subject")?,
        created_at: super::time_from(row.int("created_at")?)?,
        possible_duplicates: row.count("possible_duplicates")?,
        runs: row.count("runs")?,
        content_hash: row.opt_text("content_hash")?,
        transport: row.text("transport")?.parse()?,
        last_run_at: row
            .opt_int("last_run_at")?
            .map(super::time_from)
            .transpose()?,
        reset_at: row.opt_int("reset_at")?.map(super::time_from).transpose()?,
        paused_at: row
            .opt_int("paused_at")?
            .map(super::time_from)
            .transpose()?,
    })
}
