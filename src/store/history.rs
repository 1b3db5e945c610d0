//! The append-only status history: one row per change, never updated.
use anyhow::Context;
use sqlx::{QueryBuilder, Row, SqliteConnection};

use super::{Db, Store, ip_from, ip_text, status_from};
use crate::domain::{StatusChange, SubscriberId};

impl Store {
    /// A subscriber's history, oldest first.
    pub async fn history(&self, id: SubscriberId) -> anyhow::Result<Vec<StatusChange>> {
        let rows = sqlx::query(
            "SELECT subscriber_id, status, at, source, ip, reason FROM subscriber_history \
             WHERE subscriber_id = $1 ORDER BY id",
        )
        .bind(id.get())
        .fetch_all(&self.pool)
        .await
        .with_context(|| format!("cannot read the history of subscriber {id}"))?;
        rows.iter()
            .map(|r| change_from_row(r).map(|(_, c)| c))
            .collect()
    }

    /// The histories of subscribers `first..=last` (by id), oldest first
    /// within each subscriber; for paging through everyone.
    pub async fn histories_between(
        &self,
        first: SubscriberId,
        last: SubscriberId,
    ) -> anyhow::Result<Vec<(SubscriberId, StatusChange)>> {
        let rows = sqlx::query(
            "SELECT subscriber_id, status, at, source, ip, reason FROM subscriber_history \
             WHERE subscriber_id BETWEEN $1 AND $2 ORDER BY subscriber_id, id",
        )
        .bind(first.get())
        .bind(last.get())
        .fetch_all(&self.pool)
        .await
        .context("cannot read subscriber histories")?;
        rows.iter().map(change_from_row).collect()
    }
}

fn change_from_row(row: &sqlx::sqlite::SqliteRow) -> anyhow::Result<(SubscriberId, StatusChange)> {
    Ok((
        SubscriberId::new(row.try_get("subscriber_id")?),
        StatusChange {
            status: status_from(row.try_get("status")?)?,
            at: row.try_get("at")?,
            source: row.try_get::<String, _>("source")?.parse()?,
            ip: ip_from(row.try_get("ip")?),
            reason: row.try_get("reason")?,
        },
    ))
}

/// Appends changes (for one or many subscribers) in one statement.
pub(super) async fn append(
    conn: &mut SqliteConnection,
    changes: &[(SubscriberId, &StatusChange)],
) -> anyhow::Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut q = QueryBuilder::<Db>::new(
        "INSERT INTO subscriber_history (subscriber_id, status, at, source, ip, reason) ",
    );
    q.push_values(changes, |mut b, (id, c)| {
        b.push_bind(id.get())
            .push_bind(c.status.as_str())
            .push_bind(c.at)
            .push_bind(c.source.to_string())
            .push_bind(ip_text(c.ip))
            .push_bind(c.reason.as_deref());
    });
    q.build()
        .execute(conn)
        .await
        .context("cannot append to the subscriber history")?;
    Ok(())
}
