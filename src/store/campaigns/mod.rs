//! Campaigns and their delivery ledger in the store: one row per
//! (campaign, subscriber), snapshotted from the subscribed addresses when
//! the campaign is created. The states and rows are `domain::ledger`'s;
//! this module implements [`Ledger`] for [`Store`].
use anyhow::Context;
use sqlx::Row;

use super::Store;
use crate::domain::{
    Campaign, CampaignCounts, CampaignId, CampaignTransport, Claimed, ContentChange, DeferredGroup,
    IssueNumber, Lease, LeaseOwner, LeaseRow, Ledger, LedgerResult, Record, RunNote, now_ms,
};

mod bounces;
mod content;
mod lease;
mod ledger;
mod registry;
mod report;
mod runs;

pub use bounces::Unbounced;
pub use registry::CampaignSummary;

impl Ledger for Store {
    async fn start_run(&self, lease: &Lease) -> LedgerResult<u64> {
        start_run(self, lease).await
    }

    async fn claim(&self, lease: &Lease, limit: u32, now: i64) -> LedgerResult<Vec<Claimed>> {
        ledger::claim(self, lease, limit, now).await
    }

    async fn record(&self, lease: &Lease, records: &[Record], now: i64) -> LedgerResult<()> {
        ledger::record(self, lease, records, now).await
    }

    async fn hand_over(&self, lease: &Lease, deliveries: &[i64], now: i64) -> LedgerResult<()> {
        ledger::hand_over(self, lease, deliveries, now).await
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

    async fn lease(&self, campaign: CampaignId) -> LedgerResult<Option<LeaseRow>> {
        Ok(lease::lease(self, campaign).await?)
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
        Ok(lease::release_lease(self, lease).await?)
    }
}

const CAMPAIGN_COLUMNS: &str = "SELECT id, issue_number, subject, created_at, \
     possible_duplicates, runs, content_hash, transport, last_run_at, reset_at FROM campaigns";

impl Store {
    /// The live campaign for `issue` through `transport`, creating it (and
    /// snapshotting every subscribed address into its ledger, in one
    /// statement) if missing. `content_hash` identifies what it sends.
    /// Returns the campaign and whether it was created now.
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
        let created = sqlx::query(
            "INSERT INTO campaigns (issue_number, subject, created_at, content_hash, transport) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (issue_number, transport) WHERE reset_at IS NULL DO NOTHING RETURNING id",
        )
        .bind(i64::from(issue.get()))
        .bind(subject)
        .bind(super::seconds(crate::domain::now()))
        .bind(content_hash)
        .bind(transport.as_str())
        .fetch_optional(&mut *tx)
        .await
        .with_context(|| format!("cannot create the campaign for issue {issue}"))?;
        if let Some(row) = created {
            let id: i64 = row.try_get("id")?;
            sqlx::query(
                "INSERT INTO deliveries (campaign_id, subscriber_id, state, updated_at) \
                 SELECT $1, id, 'pending', $2 FROM subscribers WHERE status = 'subscribed' \
                 ORDER BY id",
            )
            .bind(id)
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .with_context(|| format!("cannot snapshot the recipients of issue {issue}"))?;
        }
        tx.commit()
            .await
            .context("cannot commit the new campaign")?;
        let c = self
            .find_campaign(issue, transport)
            .await?
            .context("the new campaign vanished")?;
        Ok((c, true))
    }

    /// Re-queues failed rows whose subscriber is still subscribed, with
    /// their attempts reset. Returns how many.
    pub async fn retry_failed(&self, campaign: CampaignId) -> anyhow::Result<u64> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = NULL, \
             updated_at = $2 WHERE campaign_id = $1 AND state = 'failed' AND subscriber_id IN \
             (SELECT id FROM subscribers WHERE status = 'subscribed')",
        )
        .bind(campaign.get())
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .context("cannot re-queue failed rows")?
        .rows_affected();
        tx.commit().await.context("cannot commit the retry")?;
        Ok(n)
    }
}

/// Starts a run: rows left `sending` by a dead run go back to `pending`;
/// those whose message was being handed to the relay are added to the
/// campaign's possible duplicates. Returns how many.
///
/// Only the run holding the campaign's `lease` may do this (else
/// [`LedgerError::LeaseLost`](crate::domain::LedgerError)): re-queueing
/// another live run's rows would mail their recipients twice.
async fn start_run(store: &Store, lease: &Lease) -> LedgerResult<u64> {
    let campaign = lease.campaign;
    let mut tx = store.begin_write().await?;
    lease::ensure_held(&mut tx, lease).await?;
    // Only rows whose message was being handed over may have arrived; the
    // others were claimed but never reached the relay.
    let n = sqlx::query(
        "UPDATE deliveries SET state = 'pending', updated_at = $2 \
         WHERE campaign_id = $1 AND state = 'sending' AND handed_at IS NOT NULL",
    )
    .bind(campaign.get())
    .bind(now_ms())
    .execute(&mut *tx)
    .await
    .context("cannot re-queue the rows of an interrupted run")?
    .rows_affected();
    sqlx::query(
        "UPDATE deliveries SET state = 'pending', handed_at = NULL, updated_at = $2, \
         attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END \
         WHERE campaign_id = $1 AND state = 'sending'",
    )
    .bind(campaign.get())
    .bind(now_ms())
    .execute(&mut *tx)
    .await
    .context("cannot re-queue the rows of an interrupted run")?;
    sqlx::query(
        "UPDATE deliveries SET handed_at = NULL WHERE campaign_id = $1 AND state = 'pending' \
         AND handed_at IS NOT NULL",
    )
    .bind(campaign.get())
    .execute(&mut *tx)
    .await
    .context("cannot re-queue the rows of an interrupted run")?;
    sqlx::query(
        "UPDATE campaigns SET possible_duplicates = possible_duplicates + $2, \
         runs = runs + 1, last_run_at = $3 WHERE id = $1",
    )
    .bind(campaign.get())
    .bind(i64::try_from(n).unwrap_or(i64::MAX))
    .bind(super::seconds(crate::domain::now()))
    .execute(&mut *tx)
    .await
    .context("cannot record the run")?;
    tx.commit().await.context("cannot commit the run start")?;
    Ok(n)
}

fn campaign_from_row(row: &sqlx::sqlite::SqliteRow) -> anyhow::Result<Campaign> {
    let number: i64 = row.try_get("issue_number")?;
    let issue = u32::try_from(number)
        .ok()
        .and_then(IssueNumber::new)
        .with_context(|| format!("the store holds an invalid issue number `{number}`"))?;
    let count = |name: &str| -> anyhow::Result<u64> {
        Ok(u64::try_from(row.try_get::<i64, _>(name)?).unwrap_or(0))
    };
    Ok(Campaign {
        id: CampaignId::new(row.try_get("id")?),
        issue,
        subject: row.try_get("subject")?,
        created_at: super::time_from(row.try_get("created_at")?)?,
        possible_duplicates: count("possible_duplicates")?,
        runs: count("runs")?,
        content_hash: row.try_get("content_hash")?,
        transport: row.try_get::<String, _>("transport")?.parse()?,
        last_run_at: row
            .try_get::<Option<i64>, _>("last_run_at")?
            .map(super::time_from)
            .transpose()?,
        reset_at: row
            .try_get::<Option<i64>, _>("reset_at")?
            .map(super::time_from)
            .transpose()?,
    })
}
