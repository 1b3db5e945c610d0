//! The issue changed mid-campaign: compare the hash of this run's render
//! with the campaign's, and refuse (or, with `--accept-changes`, switch the
//! rest of the campaign to the new version and record the change).
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::domain::{Campaign, Lease, Ledger};
use crate::model::Rendered;
use crate::output::{note, plural};
use crate::store::Store;

/// This run's render differs from what the campaign has been sending.
#[derive(Debug, thiserror::Error)]
#[error(
    "`{file}` changed since the campaign for issue {issue} started: {sent} of {} already \
     got the earlier version; rerun with `--accept-changes` to send the other {rest} the new \
     version, or restore the earlier text",
    plural(*.total, "recipient")
)]
pub struct ContentChanged {
    pub file: String,
    pub issue: u32,
    pub sent: u64,
    pub total: u64,
    pub rest: u64,
}

/// The hash of the message before personalization: subject, text part and
/// HTML part, each length-prefixed so that no two renders collide by
/// moving text from one part to another. Hex SHA-256.
pub fn content_hash(r: &Rendered) -> String {
    let mut h = Sha256::new();
    for part in [&r.subject, &r.text, &r.html] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
}

/// Checks this run's render (`hash`) against `campaign`'s, under `lease`.
/// The same content, or a campaign without a stored hash (created by an
/// older mailroom, which adopts this one), passes. A change fails with
/// [`ContentChanged`] unless `accept`, which records it.
pub async fn reconcile(
    store: &Store,
    lease: &Lease,
    campaign: &Campaign,
    rendered: &Rendered,
    accept: bool,
    file: &Path,
) -> anyhow::Result<()> {
    let hash = content_hash(rendered);
    let old = campaign.content_hash.as_deref();
    if old == Some(hash.as_str()) {
        return Ok(());
    }
    if old.is_some() {
        let counts = store.campaign_counts(campaign.id).await?;
        let rest = counts.pending + counts.sending + counts.deferred;
        if !accept {
            return Err(ContentChanged {
                file: file.display().to_string(),
                issue: campaign.issue.get(),
                sent: counts.sent,
                total: counts.total(),
                rest,
            }
            .into());
        }
        note!(
            "send: `{}` changed after {} got the earlier version; the other {rest} get this \
             one (`mailroom status` records the change)",
            file.display(),
            plural(counts.sent, "recipient")
        );
    }
    store
        .change_content(lease, old, &hash, &rendered.subject)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(subject: &str, text: &str, html: &str) -> Rendered {
        Rendered {
            subject: subject.into(),
            text: text.into(),
            html: html.into(),
            links: 0,
            link_urls: Vec::new(),
            web_url: String::new(),
        }
    }

    #[test]
    fn any_change_of_subject_or_either_part_changes_the_hash() {
        let base = content_hash(&rendered("s", "text", "<p>html</p>"));
        assert_eq!(base.len(), 64);
        assert_eq!(base, content_hash(&rendered("s", "text", "<p>html</p>")));
        assert_ne!(base, content_hash(&rendered("S", "text", "<p>html</p>")));
        assert_ne!(base, content_hash(&rendered("s", "text.", "<p>html</p>")));
        assert_ne!(base, content_hash(&rendered("s", "text", "<p>html!</p>")));
        assert_ne!(
            content_hash(&rendered("s", "ab", "c")),
            content_hash(&rendered("s", "a", "bc")),
            "moving text between parts is a change"
        );
    }
}
