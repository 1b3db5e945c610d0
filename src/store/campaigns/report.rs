//! Reading a campaign's ledger for `status` and for the sender's loop:
//! counts per state, failures grouped by reply, timing, the next due row.
use anyhow::Context;

use crate::domain::{CampaignCounts, CampaignId, DeliveryState, FailedRow, FailureGroup, Timing};
use crate::store::{Cols, Store};

impl Store {
    /// Failed and deferred rows grouped by state and last reply, failed
    /// first, then the largest group first.
    pub async fn failure_groups(&self, campaign: CampaignId) -> anyhow::Result<Vec<FailureGroup>> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT state, COALESCE(last_reply, '') AS reply, COUNT(*) AS n FROM deliveries \
                 WHERE campaign_id = $1 AND state IN ('failed', 'deferred') \
                 GROUP BY state, reply ORDER BY state DESC, n DESC, reply",
            )
            .bind(campaign.get())
            .fetch_all(p)
            .await
            .context("cannot group the failures")?;
            rows.iter()
                .map(|r| {
                    Ok(FailureGroup {
                        state: r.text("state")?,
                        reply: r.text("reply")?,
                        count: r.count("n")?,
                    })
                })
                .collect()
        })
    }

    /// Up to `limit` failed recipients with delivery ids after `after`.
    pub async fn failed_rows(
        &self,
        campaign: CampaignId,
        after: i64,
        limit: u32,
    ) -> anyhow::Result<Vec<(i64, FailedRow)>> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT d.id, s.email, d.attempts, COALESCE(d.last_reply, '') AS reply \
                 FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id \
                 WHERE d.campaign_id = $1 AND d.state = 'failed' AND d.id > $2 \
                 ORDER BY d.id LIMIT $3",
            )
            .bind(campaign.get())
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await
            .context("cannot list the failures")?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.int("id")?,
                        FailedRow {
                            email: r.text("email")?,
                            attempts: u32::try_from(r.int("attempts")?).unwrap_or(0),
                            reply: r.text("reply")?,
                        },
                    ))
                })
                .collect()
        })
    }

    /// The first claim and the last recorded outcome.
    pub async fn campaign_timing(&self, campaign: CampaignId) -> anyhow::Result<Timing> {
        on_pool!(self, p => {
            let row = sqlx::query(
                "SELECT MIN(claimed_at) AS first, MAX(CASE WHEN state IN ('sent', 'failed') \
                 THEN updated_at END) AS last FROM deliveries WHERE campaign_id = $1",
            )
            .bind(campaign.get())
            .fetch_one(p)
            .await
            .context("cannot read the campaign's timing")?;
            Ok(Timing {
                first_claim: row.opt_int("first")?,
                last_update: row.opt_int("last")?,
            })
        })
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
