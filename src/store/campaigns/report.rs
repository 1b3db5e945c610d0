//! Reading a campaign's ledger for `status` and for the sender's loop:
//! counts per state, failures grouped by reply, timing, the next due row.
use anyhow::Context;
use sqlx::Row;

use crate::domain::{CampaignCounts, CampaignId, DeliveryState, FailedRow, FailureGroup, Timing};
use crate::store::Store;

impl Store {
    /// Failed and deferred rows grouped by state and last reply, failed
    /// first, then the largest group first.
    pub async fn failure_groups(&self, campaign: CampaignId) -> anyhow::Result<Vec<FailureGroup>> {
        let rows = sqlx::query(
            "SELECT state, COALESCE(last_reply, '') AS reply, COUNT(*) AS n FROM deliveries \
             WHERE campaign_id = $1 AND state IN ('failed', 'deferred') \
             GROUP BY state, reply ORDER BY state DESC, n DESC, reply",
        )
        .bind(campaign.get())
        .fetch_all(&self.pool)
        .await
        .context("cannot group the failures")?;
        rows.iter()
            .map(|r| {
                Ok(FailureGroup {
                    state: r.try_get("state")?,
                    reply: r.try_get("reply")?,
                    count: u64::try_from(r.try_get::<i64, _>("n")?).unwrap_or(0),
                })
            })
            .collect()
    }

    /// Up to `limit` failed recipients with delivery ids after `after`.
    pub async fn failed_rows(
        &self,
        campaign: CampaignId,
        after: i64,
        limit: u32,
    ) -> anyhow::Result<Vec<(i64, FailedRow)>> {
        let rows = sqlx::query(
            "SELECT d.id, s.email, d.attempts, COALESCE(d.last_reply, '') AS reply \
             FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id \
             WHERE d.campaign_id = $1 AND d.state = 'failed' AND d.id > $2 ORDER BY d.id LIMIT $3",
        )
        .bind(campaign.get())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .context("cannot list the failures")?;
        rows.iter()
            .map(|r| {
                let attempts: i64 = r.try_get("attempts")?;
                Ok((
                    r.try_get("id")?,
                    FailedRow {
                        email: r.try_get("email")?,
                        attempts: u32::try_from(attempts).unwrap_or(0),
                        reply: r.try_get("reply")?,
                    },
                ))
            })
            .collect()
    }

    /// The first claim and the last recorded outcome.
    pub async fn campaign_timing(&self, campaign: CampaignId) -> anyhow::Result<Timing> {
        let row = sqlx::query(
            "SELECT MIN(claimed_at) AS first, MAX(CASE WHEN state IN ('sent', 'failed') \
             THEN updated_at END) AS last FROM deliveries WHERE campaign_id = $1",
        )
        .bind(campaign.get())
        .fetch_one(&self.pool)
        .await
        .context("cannot read the campaign's timing")?;
        Ok(Timing {
            first_claim: row.try_get("first")?,
            last_update: row.try_get("last")?,
        })
    }
}

/// Rows per state.
pub(super) async fn campaign_counts(
    store: &Store,
    campaign: CampaignId,
) -> anyhow::Result<CampaignCounts> {
    let rows = sqlx::query(
        "SELECT state, COUNT(*) AS n FROM deliveries WHERE campaign_id = $1 GROUP BY state",
    )
    .bind(campaign.get())
    .fetch_all(&store.pool)
    .await
    .context("cannot count the ledger")?;
    let mut counts = CampaignCounts::default();
    for row in rows {
        let state: DeliveryState = row.try_get::<String, _>("state")?.parse()?;
        *counts.slot(state) = u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0);
    }
    Ok(counts)
}

/// When the earliest deferred row is due (unix ms), if any.
pub(super) async fn next_due(store: &Store, campaign: CampaignId) -> anyhow::Result<Option<i64>> {
    let due = sqlx::query_scalar(
        "SELECT MIN(next_attempt_at) FROM deliveries \
         WHERE campaign_id = $1 AND state = 'deferred'",
    )
    .bind(campaign.get())
    .fetch_one(&store.pool)
    .await
    .context("cannot find the next deferred row")?;
    Ok(due)
}
