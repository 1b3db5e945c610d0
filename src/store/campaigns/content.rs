//! What a campaign sends: the content hash stored on the campaign, and the
//! changes accepted mid-campaign (`mailroom send --accept-changes`).
use anyhow::Context;

use super::lease;
use crate::domain::{CampaignId, ContentChange, Lease};
use crate::store::{Cols, Store};

impl Store {
    /// Makes `hash` (with `subject`) the campaign's content from now on,
    /// recording the change from `old` (if any) with the recipients sent
    /// so far. Only the lease holder may do this.
    pub async fn change_content(
        &self,
        lease: &Lease,
        old: Option<&str>,
        hash: &str,
        subject: &str,
    ) -> anyhow::Result<()> {
        let campaign = lease.campaign.get();
        let mut tx = self.begin_write().await?;
        lease::ensure_held(&mut tx, lease).await?;
        if let Some(old) = old {
            on_tx!(&mut tx, t => sqlx::query(
                "INSERT INTO campaign_changes (campaign_id, changed_at, old_hash, new_hash, \
                 sent_before) SELECT $1, $2, $3, $4, COUNT(*) FROM deliveries \
                 WHERE campaign_id = $1 AND state = 'sent'",
            )
            .bind(campaign)
            .bind(crate::store::seconds(crate::domain::now()))
            .bind(old)
            .bind(hash)
            .execute(&mut **t)
            .await.map(|r| r.rows_affected()))
            .context("cannot record the change of the issue")?;
        }
        on_tx!(&mut tx, t => sqlx::query("UPDATE campaigns SET content_hash = $2, subject = $3 WHERE id = $1")
            .bind(campaign)
            .bind(hash)
            .bind(subject)
            .execute(&mut **t)
            .await.map(|r| r.rows_affected()))
            .context("cannot store the campaign's content hash")?;
        tx.commit()
            .await
            .context("cannot commit the campaign's content")?;
        Ok(())
    }
}

/// The changes accepted during the campaign, oldest first.
pub(super) async fn content_changes(
    store: &Store,
    campaign: CampaignId,
) -> anyhow::Result<Vec<ContentChange>> {
    on_pool!(store, p => {
        let rows = sqlx::query(
            "SELECT changed_at, old_hash, new_hash, sent_before FROM campaign_changes \
             WHERE campaign_id = $1 ORDER BY id",
        )
        .bind(campaign.get())
        .fetch_all(p)
        .await
        .context("cannot read the campaign's changes")?;
        rows.iter()
            .map(|r| {
                Ok(ContentChange {
                    changed_at: r.int("changed_at")?,
                    old_hash: r.text("old_hash")?,
                    new_hash: r.text("new_hash")?,
                    sent_before: r.count("sent_before")?,
                })
            })
            .collect()
    })
}
