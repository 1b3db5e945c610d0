//! Hard bounces in the ledger, applied late: a `5.1.1`-style reply leaves
//! its row `failed` with `bounce = 'pending'`, and the subscriber is marked
//! `bounced` only once the run's bounce breaker has judged the window
//! around it (`apply`). A burst the breaker blames on the relay goes back
//! to the queue (`release`) and its subscribers stay subscribed. `unbounce`
//! restores the subscribers a campaign bounced.
use anyhow::Context;
use sqlx::QueryBuilder;

use super::lease;
use crate::domain::{
    IssueNumber, Lease, LedgerResult, Source, Status, StatusChange, SubscriberId, now_ms,
};
use crate::store::{Cols, Store, Tx, history, seconds};

/// Row ids per statement.
const CHUNK: usize = 500;

/// Marks the subscribers of the bounce-pending rows `deliveries` (all of
/// the campaign's when `None`) `bounced`, with the issue and the reply in
/// their history. Returns how many subscribers changed.
pub(super) async fn apply(
    store: &Store,
    lease: &Lease,
    deliveries: Option<&[i64]>,
) -> LedgerResult<u64> {
    let mut tx = store.begin_write().await?;
    lease::ensure_held(&mut tx, lease).await?;
    let changed = apply_in(&mut tx, lease, deliveries).await?;
    tx.commit().await.context("cannot commit the bounces")?;
    Ok(changed)
}

async fn apply_in(tx: &mut Tx, lease: &Lease, deliveries: Option<&[i64]>) -> anyhow::Result<u64> {
    let issue: i64 = on_tx!(&mut *tx, t => sqlx::query_scalar(
        "SELECT issue_number FROM campaigns WHERE id = $1",
    )
    .bind(lease.campaign.get())
    .fetch_one(&mut **t)
    .await)
    .context("cannot read the campaign")?;
    let rows = pending(tx, lease, deliveries).await?;
    let now = seconds(crate::domain::now());
    let mut changed = 0;
    for (delivery, sub, reply) in rows {
        let sub = SubscriberId::new(sub);
        on_tx!(&mut *tx, t => sqlx::query("UPDATE deliveries SET bounce = 'applied' WHERE id = $1")
            .bind(delivery)
            .execute(&mut **t)
            .await
            .map(|r| r.rows_affected()))
        .context("cannot mark a bounce applied")?;
        let n = on_tx!(&mut *tx, t => sqlx::query(
            "UPDATE subscribers SET status = 'bounced', updated_at = $2 \
             WHERE id = $1 AND status = 'subscribed'",
        )
        .bind(sub.get())
        .bind(now)
        .execute(&mut **t)
        .await
        .map(|r| r.rows_affected()))
        .with_context(|| format!("cannot mark subscriber {sub} bounced"))?;
        if n > 0 {
            let mut change = StatusChange::now(Status::Bounced, Source::Sender);
            change.reason = Some(format!("issue {issue}: {}", reply.unwrap_or_default()));
            history::append(&mut *tx, &[(sub, &change)]).await?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// (delivery, subscriber, last reply) of the campaign's bounce-pending rows
/// among `deliveries` (all of them when `None`).
async fn pending(
    tx: &mut Tx,
    lease: &Lease,
    deliveries: Option<&[i64]>,
) -> anyhow::Result<Vec<(i64, i64, Option<String>)>> {
    let campaign = lease.campaign.get();
    let rows = match (&mut *tx, deliveries) {
        (Tx::Postgres(t), ids) => {
            let rows = sqlx::query(
                "SELECT id, subscriber_id, last_reply FROM deliveries \
                 WHERE campaign_id = $1 AND bounce = 'pending' \
                 AND ($2::BIGINT[] IS NULL OR id = ANY($2)) ORDER BY id",
            )
            .bind(campaign)
            .bind(ids)
            .fetch_all(&mut **t)
            .await
            .context("cannot read the pending bounces")?;
            triples(&rows)?
        }
        (Tx::Sqlite(t), None) => {
            let rows = sqlx::query(
                "SELECT id, subscriber_id, last_reply FROM deliveries \
                 WHERE campaign_id = $1 AND bounce = 'pending' ORDER BY id",
            )
            .bind(campaign)
            .fetch_all(&mut **t)
            .await
            .context("cannot read the pending bounces")?;
            triples(&rows)?
        }
        (Tx::Sqlite(t), Some(ids)) => {
            let mut all = Vec::new();
            for chunk in ids.chunks(CHUNK) {
                let mut q = QueryBuilder::<sqlx::Sqlite>::new(
                    "SELECT id, subscriber_id, last_reply FROM deliveries WHERE bounce = \
                     'pending' AND campaign_id = ",
                );
                q.push_bind(campaign).push(" AND id IN ");
                q.push_tuples(chunk, |mut b, id| {
                    b.push_bind(*id);
                });
                let rows = q
                    .build()
                    .fetch_all(&mut **t)
                    .await
                    .context("cannot read the pending bounces")?;
                all.extend(triples(&rows)?);
            }
            all
        }
    };
    Ok(rows)
}

fn triples(rows: &[impl Cols]) -> anyhow::Result<Vec<(i64, i64, Option<String>)>> {
    rows.iter()
        .map(|r| {
            Ok((
                r.int("id")?,
                r.int("subscriber_id")?,
                r.opt_text("last_reply")?,
            ))
        })
        .collect()
}

/// Puts every bounce-pending row of the campaign back in the queue:
/// `deferred` and due now, the attempt given back, the reply kept.
pub(super) async fn release(store: &Store, lease: &Lease) -> LedgerResult<u64> {
    let mut tx = store.begin_write().await?;
    lease::ensure_held(&mut tx, lease).await?;
    let now = now_ms();
    let n = on_tx!(&mut tx, t => sqlx::query(
        "UPDATE deliveries SET state = 'deferred', bounce = NULL, next_attempt_at = $2, \
         attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, updated_at = $2 \
         WHERE campaign_id = $1 AND bounce = 'pending'",
    )
    .bind(lease.campaign.get())
    .bind(now)
    .execute(&mut **t)
    .await
    .map(|r| r.rows_affected()))
    .context("cannot put the bounce burst back in the queue")?;
    tx.commit().await.context("cannot commit the release")?;
    Ok(n)
}

/// What `unbounce` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unbounced {
    /// Subscribers set back to `subscribed`.
    pub restored: u64,
    /// Subscribers the campaign bounced who have changed since (e.g.
    /// unsubscribed): left as they are.
    pub left: u64,
}

impl Store {
    /// Sets the subscribers that the campaigns of `issue` (live or reset)
    /// marked `bounced` back to `subscribed`, with a history entry saying
    /// so. Subscribers whose status changed since are left alone.
    pub async fn unbounce_campaign(&self, issue: IssueNumber) -> anyhow::Result<Unbounced> {
        let mut tx = self.begin_write().await?;
        let rows: Vec<(i64, String)> = on_tx!(&mut tx, t => {
            let rows = sqlx::query(
                "SELECT DISTINCT s.id, s.status FROM deliveries d \
                 JOIN campaigns c ON c.id = d.campaign_id \
                 JOIN subscribers s ON s.id = d.subscriber_id \
                 WHERE c.issue_number = $1 AND d.bounce = 'applied' ORDER BY s.id",
            )
            .bind(i64::from(issue.get()))
            .fetch_all(&mut **t)
            .await
            .with_context(|| format!("cannot find the subscribers issue {issue} bounced"))?;
            rows.iter()
                .map(|r| Ok((r.int("id")?, r.text("status")?)))
                .collect::<anyhow::Result<_>>()?
        });
        let mut done = Unbounced::default();
        let mut change = StatusChange::now(Status::Subscribed, Source::Cli);
        change.reason = Some(format!(
            "unbounced: the bounce came from the campaign of issue {issue}"
        ));
        let mut restored = Vec::new();
        for (id, status) in rows {
            let id = SubscriberId::new(id);
            if status != Status::Bounced.as_str() {
                done.left += 1;
                continue;
            }
            on_tx!(&mut tx, t => sqlx::query(
                "UPDATE subscribers SET status = 'subscribed', updated_at = $2 WHERE id = $1",
            )
            .bind(id.get())
            .bind(seconds(change.at))
            .execute(&mut **t)
            .await
            .map(|r| r.rows_affected()))
            .with_context(|| format!("cannot restore subscriber {id}"))?;
            restored.push(id);
        }
        for chunk in restored.chunks(CHUNK) {
            let changes: Vec<_> = chunk.iter().map(|id| (*id, &change)).collect();
            history::append(&mut tx, &changes).await?;
        }
        done.restored = restored.len() as u64;
        tx.commit().await.context("cannot commit the unbounce")?;
        Ok(done)
    }

    /// Whether any campaign (live or reset) exists for `issue`.
    pub async fn has_campaign(&self, issue: IssueNumber) -> anyhow::Result<bool> {
        let n: i64 = on_pool!(self, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM campaigns WHERE issue_number = $1",
        )
        .bind(i64::from(issue.get()))
        .fetch_one(p)
        .await)
        .with_context(|| format!("cannot look up the campaigns of issue {issue}"))?;
        Ok(n > 0)
    }
}
