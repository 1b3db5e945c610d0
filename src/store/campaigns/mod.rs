//! Campaigns and their delivery ledger in the store: one row per
//! (campaign, subscriber), snapshotted from the subscribed addresses when
//! the campaign is created. The states and rows are `domain::ledger`'s;
//! this module implements [`Ledger`] for [`Store`].
use anyhow::Context;
use sqlx::AssertSqlSafe;

use super::{Cols, Pool, Store, Tx};
use crate::domain::{
    Campaign, CampaignCounts, CampaignId, Claimed, ContentChange, IssueNumber, Lease, LeaseOwner,
    LeaseRow, Ledger, LedgerResult, Record, Senders, now_ms,
};

mod content;
mod lease;
mod ledger;
mod postgres;
mod report;

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

    async fn record(&self, lease: &Lease, records: &[Record], now: i64) -> LedgerResult<()> {
        ledger::record(self, lease, records, now).await
    }

    async fn next_due(&self, campaign: CampaignId) -> LedgerResult<Option<i64>> {
        Ok(report::next_due(self, campaign).await?)
    }

    async fn campaign_counts(&self, campaign: CampaignId) -> LedgerResult<CampaignCounts> {
        Ok(report::campaign_counts(self, campaign).await?)
    }

    async fn find_campaign(&self, issue: IssueNumber) -> LedgerResult<Option<Campaign>> {
        Ok(find_campaign(self, issue).await?)
    }

    async fn content_changes(&self, campaign: CampaignId) -> LedgerResult<Vec<ContentChange>> {
        Ok(content::content_changes(self, campaign).await?)
    }

    async fn runs(&self, campaign: CampaignId) -> LedgerResult<Vec<LeaseRow>> {
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
     possible_duplicates, runs, content_hash FROM campaigns";

impl Store {
    /// The campaign for `issue`, creating it (and snapshotting every
    /// subscribed address into its ledger, in one statement) if missing.
    /// `content_hash` identifies what it sends. Returns the campaign and
    /// whether it was created now.
    pub async fn open_campaign(
        &self,
        issue: IssueNumber,
        subject: &str,
        content_hash: &str,
    ) -> anyhow::Result<(Campaign, bool)> {
        if let Some(c) = find_campaign(self, issue).await? {
            return Ok((c, false));
        }
        let mut tx = self.begin_write().await?;
        let created: Option<i64> = on_tx!(&mut tx, t => sqlx::query_scalar(
            "INSERT INTO campaigns (issue_number, subject, created_at, content_hash) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (issue_number) DO NOTHING RETURNING id",
        )
        .bind(i64::from(issue.get()))
        .bind(subject)
        .bind(super::seconds(crate::domain::now()))
        .bind(content_hash)
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
        let c = find_campaign(self, issue)
            .await?
            .context("the new campaign vanished")?;
        // Another run may have created it between our look and our insert.
        Ok((c, created.is_some()))
    }

    /// The most recently created campaign, if any.
    pub async fn latest_campaign(&self) -> anyhow::Result<Option<Campaign>> {
        let sql = format!("{CAMPAIGN_COLUMNS} ORDER BY id DESC LIMIT 1");
        on_pool!(self, p => {
            let row = sqlx::query(AssertSqlSafe(sql))
                .fetch_optional(p)
                .await
                .context("cannot look up the latest campaign")?;
            row.as_ref().map(campaign_from_row).transpose()
        })
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

/// The campaign for `issue`, if any.
async fn find_campaign(store: &Store, issue: IssueNumber) -> anyhow::Result<Option<Campaign>> {
    let sql = format!("{CAMPAIGN_COLUMNS} WHERE issue_number = $1");
    on_pool!(store, p => {
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(i64::from(issue.get()))
            .fetch_optional(p)
            .await
            .with_context(|| format!("cannot look up the campaign for issue {issue}"))?;
        row.as_ref().map(campaign_from_row).transpose()
    })
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
    on_tx!(&mut tx, t => sqlx::query("UPDATE campaigns SET runs = runs + 1 WHERE id = $1")
        .bind(campaign.get())
        .execute(&mut **t)
        .await.map(|r| r.rows_affected()))
    .context("cannot record the run")?;
    tx.commit().await.context("cannot commit the run start")?;
    Ok(n)
}

/// Sends rows left `sending` by dead runs back to `pending` and adds them
/// to the campaign's possible duplicates. SQLite (one sender): every
/// `sending` row, since the caller holds the campaign. PostgreSQL: rows
/// whose run is no longer registered; the rows of live runs stay theirs.
async fn requeue(tx: &mut Tx, campaign: CampaignId) -> anyhow::Result<u64> {
    let now = now_ms();
    let n = match &mut *tx {
        Tx::Sqlite(t) => sqlx::query(
            "UPDATE deliveries SET state = 'pending', updated_at = $2 \
             WHERE campaign_id = $1 AND state = 'sending'",
        )
        .bind(campaign.get())
        .bind(now)
        .execute(&mut **t)
        .await
        .map(|r| r.rows_affected()),
        Tx::Postgres(t) => sqlx::query(
            "UPDATE deliveries d SET state = 'pending', updated_at = $2 \
             WHERE d.campaign_id = $1 AND d.state = 'sending' AND NOT EXISTS \
             (SELECT 1 FROM send_runs r WHERE r.id = d.claimed_by)",
        )
        .bind(campaign.get())
        .bind(now)
        .execute(&mut **t)
        .await
        .map(|r| r.rows_affected()),
    }
    .context("cannot re-queue the rows of an interrupted run")?;
    if n > 0 {
        on_tx!(tx, t => sqlx::query(
            "UPDATE campaigns SET possible_duplicates = possible_duplicates + $2 WHERE id = $1",
        )
        .bind(campaign.get())
        .bind(i64::try_from(n).unwrap_or(i64::MAX))
        .execute(&mut **t)
        .await.map(|r| r.rows_affected()))
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
    })
}
