//! Campaigns and their delivery ledger: one row per (campaign, subscriber),
//! snapshotted from the subscribed addresses when the campaign is created.
//!
//! A row moves `pending` → `sending` (claimed) → `sent` | `deferred` |
//! `failed` | `skipped`; `deferred` rows become claimable again at
//! `next_attempt_at`. Rows stay `sending` until their outcome is committed,
//! so after a crash the rows still `sending` are exactly the ones whose
//! outcome is unknown: [`Store::start_run`] re-queues them and counts them
//! as possible duplicates.
use std::fmt;
use std::str::FromStr;

use anyhow::Context;
use sqlx::Row;
use time::OffsetDateTime;

use super::Store;
use crate::domain::{EmailAddress, IssueNumber, SubscriberId};

mod content;
mod lease;
mod ledger;
mod report;

pub use content::ContentChange;
pub use lease::{Lease, LeaseLost, LeaseOwner, LeaseRow};
pub use report::{CampaignCounts, FailedRow, FailureGroup, Timing};

/// A campaign's id in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CampaignId(i64);

impl CampaignId {
    /// The raw id, for binding in queries.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// One issue's delivery to the audience snapshotted when it was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: CampaignId,
    pub issue: IssueNumber,
    pub subject: String,
    pub created_at: OffsetDateTime,
    /// Rows found `sending` at the start of a run, summed over runs.
    pub possible_duplicates: u64,
    /// How many runs have worked on it.
    pub runs: u64,
    /// The hash of what it sends (see `send::content_hash`); `None` for a
    /// campaign created before mailroom stored it.
    pub content_hash: Option<String>,
}

/// Where a ledger row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    Pending,
    Sending,
    Sent,
    Deferred,
    Failed,
    /// The address was suppressed after the snapshot; not mailed.
    Skipped,
}

impl DeliveryState {
    /// Every state, in display order.
    pub const ALL: [DeliveryState; 6] = [
        DeliveryState::Pending,
        DeliveryState::Sending,
        DeliveryState::Sent,
        DeliveryState::Deferred,
        DeliveryState::Failed,
        DeliveryState::Skipped,
    ];

    /// The word stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sending => "sending",
            DeliveryState::Sent => "sent",
            DeliveryState::Deferred => "deferred",
            DeliveryState::Failed => "failed",
            DeliveryState::Skipped => "skipped",
        }
    }
}

impl FromStr for DeliveryState {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeliveryState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .with_context(|| format!("the ledger holds an unknown state `{s}`; upgrade mailroom"))
    }
}

impl fmt::Display for DeliveryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A claimed ledger row: who to mail now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The ledger row.
    pub delivery: i64,
    pub subscriber: SubscriberId,
    pub email: EmailAddress,
    /// False when the address was suppressed after the snapshot.
    pub mailable: bool,
    /// Attempts including this one.
    pub attempts: u32,
}

/// The outcome of a claimed row, ready to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub delivery: i64,
    /// `Sent`, `Deferred`, `Failed`, `Skipped`, or `Pending` (handed back
    /// untried, e.g. on Ctrl-C).
    pub state: DeliveryState,
    pub reply: Option<String>,
    /// For `Deferred`: when it is due again (unix ms).
    pub next_attempt_at: Option<i64>,
    /// The row was not actually tried (no connection): give the attempt back.
    pub refund_attempt: bool,
    /// A hard bounce: mark this subscriber `bounced`, with `reply` as reason.
    pub bounce: Option<SubscriberId>,
}

/// The current time in unix milliseconds (ledger times).
pub fn now_ms() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
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
        if let Some(c) = self.find_campaign(issue).await? {
            return Ok((c, false));
        }
        let mut tx = self.begin_write().await?;
        let created = sqlx::query(
            "INSERT INTO campaigns (issue_number, subject, created_at, content_hash) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (issue_number) DO NOTHING RETURNING id",
        )
        .bind(i64::from(issue.get()))
        .bind(subject)
        .bind(super::seconds(crate::domain::now()))
        .bind(content_hash)
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
            .find_campaign(issue)
            .await?
            .context("the new campaign vanished")?;
        Ok((c, true))
    }

    /// The campaign for `issue`, if any.
    pub async fn find_campaign(&self, issue: IssueNumber) -> anyhow::Result<Option<Campaign>> {
        let sql = format!("{CAMPAIGN_COLUMNS} WHERE issue_number = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64::from(issue.get()))
            .fetch_optional(&self.pool)
            .await
            .with_context(|| format!("cannot look up the campaign for issue {issue}"))?;
        row.as_ref().map(campaign_from_row).transpose()
    }

    /// The most recently created campaign, if any.
    pub async fn latest_campaign(&self) -> anyhow::Result<Option<Campaign>> {
        let sql = format!("{CAMPAIGN_COLUMNS} ORDER BY id DESC LIMIT 1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_optional(&self.pool)
            .await
            .context("cannot look up the latest campaign")?;
        row.as_ref().map(campaign_from_row).transpose()
    }

    /// Starts a run: rows left `sending` by a dead run go back to `pending`
    /// and are added to the campaign's possible duplicates. Returns how many.
    ///
    /// Only the run holding the campaign's `lease` may do this (else
    /// [`LeaseLost`]): re-queueing another live run's rows would mail
    /// their recipients twice.
    pub async fn start_run(&self, lease: &Lease) -> anyhow::Result<u64> {
        let campaign = lease.campaign;
        let mut tx = self.begin_write().await?;
        lease::ensure_held(&mut tx, lease).await?;
        let n = sqlx::query(
            "UPDATE deliveries SET state = 'pending', updated_at = $2 \
             WHERE campaign_id = $1 AND state = 'sending'",
        )
        .bind(campaign.get())
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .context("cannot re-queue the rows of an interrupted run")?
        .rows_affected();
        sqlx::query(
            "UPDATE campaigns SET possible_duplicates = possible_duplicates + $2, \
             runs = runs + 1 WHERE id = $1",
        )
        .bind(campaign.get())
        .bind(i64::try_from(n).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await
        .context("cannot record the run")?;
        tx.commit().await.context("cannot commit the run start")?;
        Ok(n)
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
        id: CampaignId(row.try_get("id")?),
        issue,
        subject: row.try_get("subject")?,
        created_at: super::time_from(row.try_get("created_at")?)?,
        possible_duplicates: count("possible_duplicates")?,
        runs: count("runs")?,
        content_hash: row.try_get("content_hash")?,
    })
}
