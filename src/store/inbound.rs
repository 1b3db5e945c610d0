//! Applying what `mailroom inbound` received: late bounces, complaints and
//! mailto unsubscribes change subscribers and the campaign's ledger row;
//! every message, whatever it was, is recorded in `inbound_messages` by its
//! digest in the same transaction, so it is applied exactly once across
//! reruns and crashes.
use std::collections::HashMap;

use anyhow::Context;

use super::{Cols, Store, Tx, history, seconds};
use crate::domain::{IssueNumber, Source, Status, StatusChange, SubscriberId, now};
use crate::inbound::{Effect, Verdict, Who};

/// When soft bounces add up to a hard one (`[bounces] soft_bounce_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoftBounceRule {
    /// Soft bounces (0: never a hard bounce).
    pub limit: u32,
    /// Within this many days.
    pub days: u32,
}

/// One received message: its SHA-256 (hex) and what it means.
#[derive(Debug, Clone)]
pub struct Received {
    pub digest: String,
    pub verdict: Verdict,
}

/// What applying one message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Recorded by an earlier run as `kind` (`hard_bounce`, `kept`, …):
    /// nothing applied again.
    AlreadyDone { kind: String },
    /// A permanent bounce (or the soft bounce that reached the limit,
    /// `soft` of them): `changed` when the subscriber became `bounced` now.
    HardBounce {
        subscriber: SubscriberId,
        issue: IssueNumber,
        changed: bool,
        soft: Option<u64>,
    },
    /// A soft bounce, the `count`th within the window.
    SoftBounce {
        subscriber: SubscriberId,
        issue: IssueNumber,
        count: u64,
    },
    /// A complaint: `changed` when the subscriber became `complained` now.
    Complaint {
        subscriber: SubscriberId,
        issue: IssueNumber,
        changed: bool,
    },
    /// A mailto unsubscribe: `changed` when it unsubscribed them now.
    Unsubscribe {
        subscriber: SubscriberId,
        changed: bool,
    },
    /// Understood, nothing to change.
    Ignored(String),
    /// Not applied: the message stays where it was, for a person.
    Kept(String),
}

impl Applied {
    /// Whether the message stays where it was (not marked read).
    pub fn is_kept(&self) -> bool {
        match self {
            Applied::Kept(_) => true,
            Applied::AlreadyDone { kind } => kind == "kept",
            _ => false,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Applied::HardBounce { soft: Some(_), .. } => "soft_bounce_limit",
            Applied::HardBounce { .. } => "hard_bounce",
            Applied::SoftBounce { .. } => "soft_bounce",
            Applied::Complaint { .. } => "complaint",
            Applied::Unsubscribe { .. } => "unsubscribe",
            Applied::Ignored(_) => "ignored",
            Applied::Kept(_) | Applied::AlreadyDone { .. } => "kept",
        }
    }
}

/// The row an effect lands on.
struct Target {
    subscriber: SubscriberId,
    issue: IssueNumber,
    campaign: i64,
    delivery: i64,
}

impl Store {
    /// Applies `batch` in one transaction, in order; messages recorded
    /// before are skipped. The result is parallel to `batch`.
    pub async fn apply_inbound(
        &self,
        batch: &[Received],
        rule: SoftBounceRule,
    ) -> anyhow::Result<Vec<Applied>> {
        let mut tx = self.begin_write().await?;
        let mut out = Vec::with_capacity(batch.len());
        let mut in_batch: HashMap<&str, usize> = HashMap::new();
        for r in batch {
            if let Some(&i) = in_batch.get(r.digest.as_str()) {
                let kind: &Applied = &out[i];
                out.push(Applied::AlreadyDone {
                    kind: kind.kind().to_owned(),
                });
                continue;
            }
            let seen: Option<String> = on_tx!(&mut tx, t => sqlx::query_scalar(
                "SELECT kind FROM inbound_messages WHERE digest = $1",
            )
            .bind(&r.digest)
            .fetch_optional(&mut **t)
            .await)
            .context("cannot look up a received message")?;
            if let Some(kind) = seen {
                out.push(Applied::AlreadyDone { kind });
                continue;
            }
            let (applied, row) = apply_one(&mut tx, &r.verdict, rule).await?;
            record(&mut tx, &r.digest, &applied, row.as_ref()).await?;
            in_batch.insert(&r.digest, out.len());
            out.push(applied);
        }
        tx.commit()
            .await
            .context("cannot commit the received messages")?;
        Ok(out)
    }
}

/// What the message's row records besides its kind.
struct Noted {
    campaign: Option<i64>,
    subscriber: Option<i64>,
    status: Option<String>,
    detail: Option<String>,
}

async fn apply_one(
    tx: &mut Tx,
    verdict: &Verdict,
    rule: SoftBounceRule,
) -> anyhow::Result<(Applied, Option<Noted>)> {
    let effects = match verdict {
        Verdict::Apply(effects) => effects,
        Verdict::Ignore(why) => return Ok((Applied::Ignored(why.clone()), None)),
        Verdict::Keep(why) => return Ok((Applied::Kept(why.clone()), None)),
        Verdict::Unsubscribe(id) => {
            let mut change = StatusChange::now(Status::Unsubscribed, Source::Mailto);
            change.reason = Some("mailto".into());
            let changed =
                set_status(tx, *id, &[Status::Subscribed, Status::Pending], &change).await?;
            let row = Noted {
                campaign: None,
                subscriber: Some(id.get()),
                status: None,
                detail: None,
            };
            return Ok(match changed {
                None => (
                    Applied::Kept("the unsubscribe token names no subscriber in this store".into()),
                    None,
                ),
                Some(changed) => (
                    Applied::Unsubscribe {
                        subscriber: *id,
                        changed,
                    },
                    Some(row),
                ),
            });
        }
    };
    // A message names one subscriber, or several by address (a DSN for
    // many recipients): the first one found is reported.
    let mut first = None;
    for effect in effects {
        let who = match effect {
            Effect::Bounce { who, .. } | Effect::Complaint { who, .. } => who,
        };
        let Some(target) = find(tx, who).await? else {
            continue;
        };
        let done = match effect {
            Effect::Bounce {
                hard,
                status,
                diagnostic,
                ..
            } => bounce(tx, &target, *hard, status, diagnostic, rule).await?,
            Effect::Complaint { feedback_type, .. } => {
                complaint(tx, &target, feedback_type).await?
            }
        };
        first.get_or_insert(done);
    }
    Ok(first.map_or_else(
        || {
            let why = "a bounce or complaint about no subscriber or campaign in this store";
            (Applied::Kept(why.into()), None)
        },
        |(a, r)| (a, Some(r)),
    ))
}

/// The ledger row of `who`: their delivery in the latest campaign of the
/// issue that has one (the real send over a rehearsal: the latest wins).
async fn find(tx: &mut Tx, who: &Who) -> anyhow::Result<Option<Target>> {
    let (issue, sql, bind): (IssueNumber, &str, String) = match who {
        Who::Subscriber(issue, id) => (*issue, "s.id = $2", id.get().to_string()),
        Who::Address(issue, email) => (*issue, "s.email_key = $2", email.key().to_owned()),
    };
    let query = format!(
        "SELECT s.id AS sid, c.id AS cid, d.id AS did FROM deliveries d \
         JOIN campaigns c ON c.id = d.campaign_id JOIN subscribers s ON s.id = d.subscriber_id \
         WHERE c.issue_number = $1 AND {sql} \
         ORDER BY (c.transport = 'smtp') DESC, c.id DESC LIMIT 1"
    );
    let found: Option<(i64, i64, i64)> = on_tx!(&mut *tx, t => {
        let q = sqlx::query(sqlx::AssertSqlSafe(query)).bind(i64::from(issue.get()));
        let q = match who {
            Who::Subscriber(_, id) => q.bind(id.get()),
            Who::Address(..) => q.bind(bind),
        };
        match q.fetch_optional(&mut **t).await {
            Ok(Some(r)) => Ok(Some((r.int("sid")?, r.int("cid")?, r.int("did")?))),
            Ok(None) => Ok(None),
            Err(e) => Err(anyhow::Error::from(e)),
        }
    })
    .context("cannot find the ledger row of a bounce")?;
    Ok(found.map(|(sid, cid, did)| Target {
        subscriber: SubscriberId::new(sid),
        issue,
        campaign: cid,
        delivery: did,
    }))
}

async fn bounce(
    tx: &mut Tx,
    t: &Target,
    hard: bool,
    status: &Option<String>,
    diagnostic: &Option<String>,
    rule: SoftBounceRule,
) -> anyhow::Result<(Applied, Noted)> {
    on_tx!(&mut *tx, c => sqlx::query(
        "UPDATE deliveries SET dsn_status = $2, dsn_diagnostic = $3 WHERE id = $1",
    )
    .bind(t.delivery)
    .bind(status.as_deref())
    .bind(diagnostic.as_deref())
    .execute(&mut **c)
    .await
    .map(|_| ()))
    .context("cannot note the bounce in the ledger")?;
    let row = Noted {
        campaign: Some(t.campaign),
        subscriber: Some(t.subscriber.get()),
        status: status.clone(),
        detail: diagnostic.clone(),
    };
    let code = status.as_deref().unwrap_or("no status");
    let said = diagnostic.as_deref().unwrap_or("no diagnostic");
    let mut soft = None;
    if !hard {
        let since = seconds(now()) - i64::from(rule.days) * 86_400;
        let before: i64 = on_tx!(&mut *tx, c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM inbound_messages \
             WHERE subscriber_id = $1 AND kind IN ('soft_bounce', 'soft_bounce_limit') \
             AND received_at >= $2",
        )
        .bind(t.subscriber.get())
        .bind(since)
        .fetch_one(&mut **c)
        .await)
        .context("cannot count soft bounces")?;
        let count = before as u64 + 1;
        if rule.limit == 0 || count < u64::from(rule.limit) {
            let applied = Applied::SoftBounce {
                subscriber: t.subscriber,
                issue: t.issue,
                count,
            };
            return Ok((applied, row));
        }
        soft = Some(count);
    }
    let mut change = StatusChange::now(Status::Bounced, Source::Bounce(t.issue));
    change.reason = Some(match soft {
        Some(n) => format!(
            "{n} soft bounces within {} days; the last: {code} {said}",
            rule.days
        ),
        None => format!("{code} {said}"),
    });
    let changed = set_status(tx, t.subscriber, &[Status::Subscribed], &change)
        .await?
        .unwrap_or(false);
    let applied = Applied::HardBounce {
        subscriber: t.subscriber,
        issue: t.issue,
        changed,
        soft,
    };
    Ok((applied, row))
}

async fn complaint(
    tx: &mut Tx,
    t: &Target,
    feedback_type: &str,
) -> anyhow::Result<(Applied, Noted)> {
    let mut change = StatusChange::now(Status::Complained, Source::Complaint(t.issue));
    change.reason = Some(format!("feedback report `{feedback_type}`"));
    let from = [
        Status::Subscribed,
        Status::Pending,
        Status::Unsubscribed,
        Status::Bounced,
    ];
    let changed = set_status(tx, t.subscriber, &from, &change)
        .await?
        .unwrap_or(false);
    let applied = Applied::Complaint {
        subscriber: t.subscriber,
        issue: t.issue,
        changed,
    };
    let row = Noted {
        campaign: Some(t.campaign),
        subscriber: Some(t.subscriber.get()),
        status: None,
        detail: Some(feedback_type.to_owned()),
    };
    Ok((applied, row))
}

/// Sets `id` to `change.status` when its status is one of `from`, with
/// the history entry. `None`: no such subscriber; `Some(changed)`.
async fn set_status(
    tx: &mut Tx,
    id: SubscriberId,
    from: &[Status],
    change: &StatusChange,
) -> anyhow::Result<Option<bool>> {
    let current: Option<String> = on_tx!(&mut *tx, c => sqlx::query_scalar(
        "SELECT status FROM subscribers WHERE id = $1",
    )
    .bind(id.get())
    .fetch_optional(&mut **c)
    .await)
    .with_context(|| format!("cannot read subscriber {id}"))?;
    let Some(current) = current else {
        return Ok(None);
    };
    if !from.iter().any(|s| s.as_str() == current) {
        return Ok(Some(false));
    }
    on_tx!(&mut *tx, c => sqlx::query(
        "UPDATE subscribers SET status = $2, updated_at = $3 WHERE id = $1",
    )
    .bind(id.get())
    .bind(change.status.as_str())
    .bind(seconds(change.at))
    .execute(&mut **c)
    .await
    .map(|_| ()))
    .with_context(|| format!("cannot change subscriber {id}"))?;
    history::append(&mut *tx, &[(id, change)]).await?;
    Ok(Some(true))
}

async fn record(
    tx: &mut Tx,
    digest: &str,
    applied: &Applied,
    row: Option<&Noted>,
) -> anyhow::Result<()> {
    let detail = match applied {
        Applied::Kept(why) | Applied::Ignored(why) => Some(why.clone()),
        _ => row.and_then(|r| r.detail.clone()),
    };
    on_tx!(&mut *tx, c => sqlx::query(
        "INSERT INTO inbound_messages \
         (digest, kind, campaign_id, subscriber_id, status, detail, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(digest)
    .bind(applied.kind())
    .bind(row.and_then(|r| r.campaign))
    .bind(row.and_then(|r| r.subscriber))
    .bind(row.and_then(|r| r.status.clone()))
    .bind(detail.clone())
    .bind(seconds(now()))
    .execute(&mut **c)
    .await
    .map(|_| ()))
    .context("cannot record a received message")?;
    Ok(())
}

/// Late bounces and complaints of one campaign, for `status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BounceCounts {
    /// Subscribers who bounced for good: at send time or by a later DSN.
    pub hard_bounces: u64,
    /// Soft-bounce reports received (the one that reached the limit too).
    pub soft_bounces: u64,
    /// Subscribers who complained.
    pub complaints: u64,
}

impl Store {
    /// The hard bounces, soft bounces and complaints of campaign `id`.
    pub async fn bounce_counts(&self, campaign: i64) -> anyhow::Result<BounceCounts> {
        let counts = on_pool!(self, p => {
            let row = sqlx::query(
            "SELECT \
             (SELECT COUNT(*) FROM deliveries WHERE campaign_id = $1 \
              AND (bounce IS NOT NULL OR subscriber_id IN (SELECT subscriber_id \
              FROM inbound_messages WHERE campaign_id = $1 \
              AND kind IN ('hard_bounce', 'soft_bounce_limit')))) AS hard, \
             (SELECT COUNT(*) FROM inbound_messages WHERE campaign_id = $1 \
              AND kind IN ('soft_bounce', 'soft_bounce_limit')) AS soft, \
             (SELECT COUNT(DISTINCT subscriber_id) FROM inbound_messages WHERE campaign_id = $1 \
              AND kind = 'complaint') AS complaints",
        )
        .bind(campaign)
        .fetch_one(p)
        .await
        .context("cannot count the campaign's bounces and complaints")?;
            BounceCounts {
                hard_bounces: row.count("hard")?,
                soft_bounces: row.count("soft")?,
                complaints: row.count("complaints")?,
            }
        });
        Ok(counts)
    }
}
