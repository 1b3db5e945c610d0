//! Finding, listing and resetting campaigns. An issue has at most one live
//! campaign per transport (the real one through SMTP, rehearsals through
//! the outbox or `discard`); a reset campaign keeps its ledger as history.
use anyhow::Context;
use sqlx::AssertSqlSafe;

use super::{CAMPAIGN_COLUMNS, campaign_from_row};
use crate::domain::{Campaign, CampaignCounts, CampaignId, CampaignTransport, IssueNumber};
use crate::store::{Cols, Store, seconds};

/// One campaign with its ledger's counts, for `mailroom campaigns`.
#[derive(Debug, Clone)]
pub struct CampaignSummary {
    pub campaign: Campaign,
    pub counts: CampaignCounts,
}

/// The campaign `id`, if it exists.
pub(super) async fn campaign(store: &Store, id: CampaignId) -> anyhow::Result<Option<Campaign>> {
    let sql = format!("{CAMPAIGN_COLUMNS} WHERE id = $1");
    on_pool!(store, p => {
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.get())
            .fetch_optional(p)
            .await
            .with_context(|| format!("cannot look up campaign {}", id.get()))?;
        row.as_ref().map(campaign_from_row).transpose()
    })
}

impl Store {
    /// The live campaign for `issue` through `transport`, if any.
    pub async fn find_campaign(
        &self,
        issue: IssueNumber,
        transport: CampaignTransport,
    ) -> anyhow::Result<Option<Campaign>> {
        let sql = format!(
            "{CAMPAIGN_COLUMNS} WHERE issue_number = $1 AND transport = $2 AND reset_at IS NULL"
        );
        on_pool!(self, p => {
            let row = sqlx::query(AssertSqlSafe(sql))
                .bind(i64::from(issue.get()))
                .bind(transport.as_str())
                .fetch_optional(p)
                .await
                .with_context(|| format!("cannot look up the campaign for issue {issue}"))?;
            row.as_ref().map(campaign_from_row).transpose()
        })
    }

    /// The live campaigns of `issue`, the real one (SMTP) first.
    pub async fn live_campaigns(&self, issue: IssueNumber) -> anyhow::Result<Vec<Campaign>> {
        let sql = format!(
            "{CAMPAIGN_COLUMNS} WHERE issue_number = $1 AND reset_at IS NULL \
             ORDER BY CASE transport WHEN 'smtp' THEN 0 ELSE 1 END, id"
        );
        on_pool!(self, p => {
            let rows = sqlx::query(AssertSqlSafe(sql))
                .bind(i64::from(issue.get()))
                .fetch_all(p)
                .await
                .with_context(|| format!("cannot look up the campaigns of issue {issue}"))?;
            rows.iter().map(campaign_from_row).collect()
        })
    }

    /// The live campaign that ran most recently (or was created last).
    pub async fn latest_campaign(&self) -> anyhow::Result<Option<Campaign>> {
        let sql = format!(
            "{CAMPAIGN_COLUMNS} WHERE reset_at IS NULL \
             ORDER BY COALESCE(last_run_at, created_at) DESC, id DESC LIMIT 1"
        );
        on_pool!(self, p => {
            let row = sqlx::query(AssertSqlSafe(sql))
                .fetch_optional(p)
                .await
                .context("cannot look up the latest campaign")?;
            row.as_ref().map(campaign_from_row).transpose()
        })
    }

    /// Every campaign (live and reset), newest issue first, with counts.
    pub async fn campaign_summaries(&self) -> anyhow::Result<Vec<CampaignSummary>> {
        let sql = format!("{CAMPAIGN_COLUMNS} ORDER BY issue_number DESC, id DESC");
        let campaigns: Vec<Campaign> = on_pool!(self, p => {
            let rows = sqlx::query(AssertSqlSafe(sql))
                .fetch_all(p)
                .await
                .context("cannot list the campaigns")?;
            rows.iter().map(campaign_from_row).collect::<anyhow::Result<_>>()?
        });
        let mut out = Vec::with_capacity(campaigns.len());
        for campaign in campaigns {
            let counts = super::report::campaign_counts(self, campaign.id).await?;
            out.push(CampaignSummary { campaign, counts });
        }
        Ok(out)
    }

    /// The highest issue number among live real (SMTP) campaigns that are
    /// complete: every row sent, failed or skipped.
    pub async fn newest_completed_issue(&self) -> anyhow::Result<Option<IssueNumber>> {
        let n: Option<i64> = on_pool!(self, p => {
            let row = sqlx::query(
                "SELECT MAX(c.issue_number) AS n FROM campaigns c \
                 WHERE c.transport = 'smtp' AND c.reset_at IS NULL \
                 AND EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = c.id) \
                 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = c.id \
                     AND d.state IN ('pending', 'sending', 'deferred'))",
            )
            .fetch_one(p)
            .await
            .context("cannot look up the newest completed campaign")?;
            row.opt_int("n")?
        });
        Ok(n.and_then(|n| u32::try_from(n).ok())
            .and_then(IssueNumber::new))
    }

    /// Retires the live campaign `id`: its ledger stays, as history, and
    /// the next send of its issue through its transport starts afresh.
    /// Leases left by dead runs go with it. Returns false when it was
    /// not live.
    pub async fn reset_campaign(&self, id: CampaignId) -> anyhow::Result<bool> {
        let mut tx = self.begin_write().await?;
        let n = on_tx!(&mut tx, t => sqlx::query(
            "UPDATE campaigns SET reset_at = $2 WHERE id = $1 AND reset_at IS NULL",
        )
        .bind(id.get())
        .bind(seconds(crate::domain::now()))
        .execute(&mut **t)
        .await
        .map(|r| r.rows_affected()))
        .context("cannot reset the campaign")?;
        let drop = format!("DELETE FROM {} WHERE campaign_id = $1", self.lease_table());
        on_tx!(&mut tx, t => sqlx::query(AssertSqlSafe(drop))
            .bind(id.get())
            .execute(&mut **t)
            .await
            .map(|r| r.rows_affected()))
        .context("cannot drop the reset campaign's leases")?;
        tx.commit().await.context("cannot commit the reset")?;
        Ok(n > 0)
    }

    /// Pauses (`true`) or resumes (`false`) the live campaign `id`. Returns
    /// false when that changed nothing: it was not live, or already so.
    pub async fn pause_campaign(&self, id: CampaignId, pause: bool) -> anyhow::Result<bool> {
        // Pausing stamps an unpaused campaign; resuming (NULL) clears a
        // paused one.
        let at = pause.then(|| seconds(crate::domain::now()));
        let mut tx = self.begin_write().await?;
        let n = on_tx!(&mut tx, t => sqlx::query(
            "UPDATE campaigns SET paused_at = $2 WHERE id = $1 AND reset_at IS NULL \
             AND (paused_at IS NULL) <> ($2 IS NULL)",
        )
        .bind(id.get())
        .bind(at)
        .execute(&mut **t)
        .await
        .map(|r| r.rows_affected()))
        .context("cannot pause or resume the campaign")?;
        tx.commit().await.context("cannot commit the pause")?;
        Ok(n > 0)
    }
}
