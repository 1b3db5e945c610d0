//! Subscribers one at a time: add, change status, find, list, count.
use anyhow::Context;
use sqlx::AssertSqlSafe;

use super::{
    Cols, SUBSCRIBER_COLUMNS, Store, Tx, history, ip_text, seconds, status_from,
    subscriber_from_row,
};
use crate::domain::{Consent, EmailAddress, Status, StatusChange, Subscriber, SubscriberId};

/// What [`Store::add_subscriber`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddOutcome {
    /// A new subscriber.
    Added(SubscriberId),
    /// Already subscribed; nothing changed but the name, if one was given.
    AlreadySubscribed(SubscriberId),
    /// A known address opted in again; the new consent replaced the old,
    /// which stays in the history.
    Resubscribed { id: SubscriberId, was: Status },
    /// The address was erased on request (`subscribers erase`); nothing
    /// was written.
    Erased,
}

/// What [`Store::set_status`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The status changed from `from`; the change is in the history.
    Changed { id: SubscriberId, from: Status },
    /// The subscriber already had that status; nothing was written.
    Unchanged(SubscriberId),
    /// No subscriber has that address.
    NotFound,
}

impl Store {
    /// Subscribes `email` with `consent` (an explicit opt-in: it lifts a
    /// suppression, and the history records it).
    pub async fn add_subscriber(
        &self,
        email: &EmailAddress,
        name: Option<&str>,
        consent: Consent,
    ) -> anyhow::Result<AddOutcome> {
        let mut tx = self.begin_write().await?;
        let existing = id_and_status(&mut tx, email).await?;
        let change = StatusChange {
            status: Status::Subscribed,
            at: consent.at,
            source: consent.source.clone(),
            ip: consent.ip,
            reason: None,
        };
        let outcome = match existing {
            None if self.is_erased(&mut tx, email).await? => AddOutcome::Erased,
            None => {
                let id = insert(&mut tx, email, name, &consent).await?;
                history::append(&mut tx, &[(id, &change)]).await?;
                AddOutcome::Added(id)
            }
            Some((id, was)) => {
                if was == Status::Subscribed {
                    rename(&mut tx, id, name).await?;
                    AddOutcome::AlreadySubscribed(id)
                } else {
                    resubscribe(&mut tx, id, name, &consent).await?;
                    history::append(&mut tx, &[(id, &change)]).await?;
                    AddOutcome::Resubscribed { id, was }
                }
            }
        };
        tx.commit()
            .await
            .context("cannot commit the new subscriber")?;
        Ok(outcome)
    }

    /// Moves `email` to `change.status` and records the change, unless it
    /// already has that status.
    pub async fn set_status(
        &self,
        email: &EmailAddress,
        change: &StatusChange,
    ) -> anyhow::Result<Transition> {
        let mut tx = self.begin_write().await?;
        let Some((id, from)) = id_and_status(&mut tx, email).await? else {
            return Ok(Transition::NotFound);
        };
        if from == change.status {
            return Ok(Transition::Unchanged(id));
        }
        on_tx!(&mut tx, t => sqlx::query("UPDATE subscribers SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(change.status.as_str())
            .bind(seconds(crate::domain::now()))
            .bind(id.get())
            .execute(&mut **t)
            .await.map(|r| r.rows_affected()))
            .with_context(|| format!("cannot change the status of `{email}`"))?;
        history::append(&mut tx, &[(id, change)]).await?;
        tx.commit()
            .await
            .context("cannot commit the status change")?;
        Ok(Transition::Changed { id, from })
    }

    /// The subscriber with this address, if any.
    pub async fn find(&self, email: &EmailAddress) -> anyhow::Result<Option<Subscriber>> {
        let sql = format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE email_key = $1");
        on_pool!(self, p => {
            let row = sqlx::query(AssertSqlSafe(sql))
                .bind(email.key())
                .fetch_optional(p)
                .await
                .with_context(|| format!("cannot look up `{email}`"))?;
            row.as_ref().map(subscriber_from_row).transpose()
        })
    }

    /// Up to `limit` subscribers with ids after `after`, by id, optionally
    /// only those with `status`. Page with the last id returned.
    pub async fn list(
        &self,
        status: Option<Status>,
        after: Option<SubscriberId>,
        limit: u32,
    ) -> anyhow::Result<Vec<Subscriber>> {
        let sql = format!(
            "SELECT {SUBSCRIBER_COLUMNS} FROM subscribers \
             WHERE id > $1 AND ($2 IS NULL OR status = $2) ORDER BY id LIMIT $3"
        );
        on_pool!(self, p => {
            let rows = sqlx::query(AssertSqlSafe(sql))
                .bind(after.map_or(0, SubscriberId::get))
                .bind(status.map(Status::as_str))
                .bind(i64::from(limit))
                .fetch_all(p)
                .await
                .context("cannot list subscribers")?;
            rows.iter().map(subscriber_from_row).collect()
        })
    }

    /// How many subscribers have each status (every status, zeros included).
    pub async fn counts(&self) -> anyhow::Result<Vec<(Status, u64)>> {
        let found: Vec<(String, u64)> = on_pool!(self, p => {
            let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM subscribers GROUP BY status")
                .fetch_all(p)
                .await
                .context("cannot count subscribers")?;
            rows.iter()
                .map(|r| Ok((r.text("status")?, r.count("n")?)))
                .collect::<anyhow::Result<_>>()?
        });
        let mut counts: Vec<(Status, u64)> = Status::ALL.iter().map(|&s| (s, 0)).collect();
        for (word, n) in found {
            let status = status_from(word)?;
            if let Some(slot) = counts.iter_mut().find(|(s, _)| *s == status) {
                slot.1 = n;
            }
        }
        Ok(counts)
    }
}

/// The id and status of `email`, if it is known.
pub(super) async fn id_and_status(
    tx: &mut Tx,
    email: &EmailAddress,
) -> anyhow::Result<Option<(SubscriberId, Status)>> {
    let sql = format!(
        "SELECT id, status FROM subscribers WHERE email_key = $1{}",
        tx.for_update()
    );
    let row = on_tx!(tx, t => {
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(email.key())
            .fetch_optional(&mut **t)
            .await
            .with_context(|| format!("cannot look up `{email}`"))?;
        row.map(|r| -> anyhow::Result<_> { Ok((r.int("id")?, r.text("status")?)) })
            .transpose()?
    });
    row.map(|(id, status)| Ok((SubscriberId::new(id), status_from(status)?)))
        .transpose()
}

async fn insert(
    tx: &mut Tx,
    email: &EmailAddress,
    name: Option<&str>,
    consent: &Consent,
) -> anyhow::Result<SubscriberId> {
    let now = crate::domain::now();
    let id: i64 = on_tx!(tx, t => sqlx::query_scalar(
        "INSERT INTO subscribers (email, email_key, name, status, created_at, updated_at, \
         consent_source, consent_at, consent_ip, confirmed_at, confirm_ip) \
         VALUES ($1, $10, $2, $3, $4, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(email.as_str())
    .bind(name)
    .bind(Status::Subscribed.as_str())
    .bind(seconds(now))
    .bind(consent.source.to_string())
    .bind(seconds(consent.at))
    .bind(ip_text(consent.ip))
    .bind(consent.confirmed_at.map(seconds))
    .bind(ip_text(consent.confirm_ip))
    .bind(email.key())
    .fetch_one(&mut **t)
    .await)
    .with_context(|| format!("cannot add `{email}`"))?;
    Ok(SubscriberId::new(id))
}

async fn resubscribe(
    tx: &mut Tx,
    id: SubscriberId,
    name: Option<&str>,
    consent: &Consent,
) -> anyhow::Result<()> {
    on_tx!(tx, t => sqlx::query(
        "UPDATE subscribers SET status = $1, name = COALESCE($2, name), updated_at = $3, \
         consent_source = $4, consent_at = $5, consent_ip = $6, confirmed_at = $7, \
         confirm_ip = $8 WHERE id = $9",
    )
    .bind(Status::Subscribed.as_str())
    .bind(name)
    .bind(seconds(crate::domain::now()))
    .bind(consent.source.to_string())
    .bind(seconds(consent.at))
    .bind(ip_text(consent.ip))
    .bind(consent.confirmed_at.map(seconds))
    .bind(ip_text(consent.confirm_ip))
    .bind(id.get())
    .execute(&mut **t)
    .await.map(|r| r.rows_affected()))
    .with_context(|| format!("cannot resubscribe subscriber {id}"))?;
    Ok(())
}

async fn rename(tx: &mut Tx, id: SubscriberId, name: Option<&str>) -> anyhow::Result<()> {
    let Some(name) = name else { return Ok(()) };
    on_tx!(tx, t => sqlx::query(
        "UPDATE subscribers SET name = $1, updated_at = $2 \
         WHERE id = $3 AND (name IS NULL OR name <> $1)",
    )
    .bind(name)
    .bind(seconds(crate::domain::now()))
    .bind(id.get())
    .execute(&mut **t)
    .await.map(|r| r.rows_affected()))
    .with_context(|| format!("cannot rename subscriber {id}"))?;
    Ok(())
}
