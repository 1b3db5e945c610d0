//! What a campaign sends: the content hash stored on the campaign, and the
//! changes accepted mid-campaign (`mailroom send --accept-changes`).
use anyhow::Context;
use sqlx::Row;

use super::lease;
use crate::domain::{CampaignId, ContentChange, Lease};
use crate::store::Store;

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
            sqlx::query(
                "INSERT INTO campaign_changes (campaign_id, changed_at, old_hash, new_hash, \
                 sent_before) SELECT $1, $2, $3, $4, COUNT(*) FROM deliveries \
                 WHERE campaign_id = $1 AND state = 'sent'",
            )
            .bind(campaign)
            .bind(crate::store::seconds(crate::domain::now()))
            .bind(old)
            .bind(hash)
            .execute(&mut *tx)
            .await
            .context("cannot record the change of the issue")?;
        }
        sqlx::query("UPDATE campaigns SET content_hash = $2, subject = $3 WHERE id = $1")
            .bind(campaign)
            .bind(hash)
            .bind(subject)
            .execute(&mut *tx)
            .await
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
    let rows = sqlx::query(
        "SELECT changed_at, old_hash, new_hash, sent_before FROM campaign_changes \
         WHERE campaign_id = $1 ORDER BY id",
    )
    .bind(campaign.get())
    .fetch_all(&store.pool)
    .await
    .context("cannot read the campaign's changes")?;
    rows.iter()
        .map(|r| {
            Ok(ContentChange {
                changed_at: r.try_get("changed_at")?,
                old_hash: r.try_get("old_hash")?,
                new_hash: r.try_get("new_hash")?,
                sent_before: u64::try_from(r.try_get::<i64, _>("sent_before")?).unwrap_or(0),
            })
        })
        .collect()
}
