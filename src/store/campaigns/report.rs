//! Reading a campaign's ledger for `status`, `send`'s summary and the
//! sender's loop: counts per state, pages of failed and deferred rows (for
//! grouping) and of recipients (for listing), failures by whether a retry
//! can reach them, deferred rows by attempt, the next due row. Each query
//! is one portable statement (`$n` placeholders, standard SQL, the same on
//! both backends); pages are keyed by the ledger row's id, so nothing is
//! loaded whole.
use anyhow::Context;
use sqlx::AssertSqlSafe;

use crate::domain::{
    CampaignCounts, CampaignId, DeferredGroup, DeliveryState, FailedSplit, RecipientRow,
};
use crate::store::{Cols, Store};

/// A failed or deferred row for grouping: (ledger id, state, email, reply).
pub type FailureRow = (i64, String, String, String);

impl Store {
    /// Up to `limit` failed or deferred rows with ledger ids after `after`.
    pub async fn failure_page(
        &self,
        campaign: CampaignId,
        after: i64,
        limit: u32,
    ) -> anyhow::Result<Vec<FailureRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT d.id, d.state, s.email, COALESCE(d.last_reply, '') AS reply \
                 FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id \
                 WHERE d.campaign_id = $1 AND d.state IN ('failed', 'deferred') AND d.id > $2 \
                 ORDER BY d.id LIMIT $3",
            )
            .bind(campaign.get())
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await
            .context("cannot read the failures")?;
            rows.iter()
                .map(|r| Ok((r.int("id")?, r.text("state")?, r.text("email")?, r.text("reply")?)))
                .collect()
        })
    }

    /// Up to `limit` recipients (in `state`, if given) with ledger ids
    /// after `after`, in ledger order.
    pub async fn recipients_page(
        &self,
        campaign: CampaignId,
        state: Option<DeliveryState>,
        after: i64,
        limit: u32,
    ) -> anyhow::Result<Vec<(i64, RecipientRow)>> {
        let filter = if state.is_some() {
            " AND d.state = $4"
        } else {
            ""
        };
        let sql = format!(
            "SELECT d.id, s.email, d.state, d.attempts, d.updated_at, \
             COALESCE(d.last_reply, '') AS reply, \
             d.dsn_status || COALESCE(' ' || d.dsn_diagnostic, '') AS late_bounce \
             FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id \
             WHERE d.campaign_id = $1 AND d.id > $2{filter} ORDER BY d.id LIMIT $3"
        );
        on_pool!(self, p => {
            let mut q = sqlx::query(AssertSqlSafe(sql))
                .bind(campaign.get())
                .bind(after)
                .bind(i64::from(limit));
            if let Some(s) = state {
                q = q.bind(s.as_str());
            }
            let rows = q.fetch_all(p).await.context("cannot list the recipients")?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.int("id")?,
                        RecipientRow {
                            email: r.text("email")?,
                            state: r.text("state")?.parse()?,
                            attempts: u32::try_from(r.int("attempts")?).unwrap_or(0),
                            updated_unix_ms: r.int("updated_at")?,
                            reply: r.text("reply")?,
                            late_bounce: r.opt_text("late_bounce")?,
                        },
                    ))
                })
                .collect()
        })
    }

    /// The failed rows, by whether `send --retry-failed` would try them
    /// again: only those whose subscriber is still subscribed.
    pub async fn failed_split(&self, campaign: CampaignId) -> anyhow::Result<FailedSplit> {
        let found: Vec<(String, u64)> = on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT s.status, COUNT(*) AS n FROM deliveries d \
                 JOIN subscribers s ON s.id = d.subscriber_id \
                 WHERE d.campaign_id = $1 AND d.state = 'failed' GROUP BY s.status",
            )
            .bind(campaign.get())
            .fetch_all(p)
            .await
            .context("cannot count the failures")?;
            rows.iter()
                .map(|r| Ok((r.text("status")?, r.count("n")?)))
                .collect::<anyhow::Result<_>>()?
        });
        let mut split = FailedSplit::default();
        for (status, n) in found {
            match status.as_str() {
                "subscribed" => split.retryable += n,
                "bounced" => split.bounced += n,
                _ => split.suppressed += n,
            }
        }
        Ok(split)
    }

    /// Makes every deferred row of the campaign due at `now`. Returns how
    /// many.
    pub async fn retry_deferred_now(&self, campaign: CampaignId, now: i64) -> anyhow::Result<u64> {
        let mut tx = self.begin_write().await?;
        let n = on_tx!(&mut tx, t => sqlx::query(
            "UPDATE deliveries SET next_attempt_at = $2 \
             WHERE campaign_id = $1 AND state = 'deferred'",
        )
        .bind(campaign.get())
        .bind(now)
        .execute(&mut **t)
        .await
        .map(|r| r.rows_affected()))
        .context("cannot make the deferred recipients due")?;
        tx.commit().await.context("cannot commit the retry")?;
        Ok(n)
    }
}

/// Rows per state.
pub(super) async fn campaign_counts(
    store: &Store,
    campaign: CampaignId,
) -> anyhow::Result<CampaignCounts> {
    let found: Vec<(String, u64)> = on_pool!(store, p => {
        let rows = sqlx::query(
            "SELECT state, COUNT(*) AS n FROM deliveries WHERE campaign_id = $1 GROUP BY state",
        )
        .bind(campaign.get())
        .fetch_all(p)
        .await
        .context("cannot count the ledger")?;
        rows.iter()
            .map(|r| Ok((r.text("state")?, r.count("n")?)))
            .collect::<anyhow::Result<_>>()?
    });
    let mut counts = CampaignCounts::default();
    for (state, n) in found {
        let state: DeliveryState = state.parse()?;
        *counts.slot(state) = n;
    }
    Ok(counts)
}

/// When the earliest deferred row is due (unix ms), if any.
pub(super) async fn next_due(store: &Store, campaign: CampaignId) -> anyhow::Result<Option<i64>> {
    let due: Option<i64> = on_pool!(store, p => sqlx::query_scalar(
        "SELECT MIN(next_attempt_at) FROM deliveries \
         WHERE campaign_id = $1 AND state = 'deferred'",
    )
    .bind(campaign.get())
    .fetch_one(p)
    .await)
    .context("cannot find the next deferred row")?;
    Ok(due)
}

/// The deferred rows grouped by attempts, with when each group falls due.
pub(super) async fn deferred(
    store: &Store,
    campaign: CampaignId,
) -> anyhow::Result<Vec<DeferredGroup>> {
    on_pool!(store, p => {
        let rows = sqlx::query(
            "SELECT attempts, COUNT(*) AS n, MIN(next_attempt_at) AS first_due, \
             MAX(next_attempt_at) AS last_due FROM deliveries \
             WHERE campaign_id = $1 AND state = 'deferred' GROUP BY attempts ORDER BY attempts",
        )
        .bind(campaign.get())
        .fetch_all(p)
        .await
        .context("cannot read the deferred recipients")?;
        rows.iter()
            .map(|r| {
                Ok(DeferredGroup {
                    attempts: u32::try_from(r.int("attempts")?).unwrap_or(0),
                    count: r.count("n")?,
                    first_due: r.opt_int("first_due")?.unwrap_or(0),
                    last_due: r.opt_int("last_due")?.unwrap_or(0),
                })
            })
            .collect()
    })
}
