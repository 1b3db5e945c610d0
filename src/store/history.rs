//! The append-only status history: one row per change, never updated.
use anyhow::Context;
use sqlx::{Row, SqliteConnection};

use super::sql::Sql;
use super::{Store, ip_from, ip_text, seconds, status_from, time_from};
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
            at: time_from(row.try_get("at")?)?,
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
    let mut sql = Sql::new(
        "INSERT INTO subscriber_history (subscriber_id, status, at, source, ip, reason) VALUES ",
    );
    for (i, (id, c)) in changes.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.param(id.get()).push(", ");
        sql.status(c.status).push(", ");
        sql.param(seconds(c.at)).push(", ");
        sql.param(c.source.to_string()).push(", ");
        sql.param(ip_text(c.ip)).push(", ");
        sql.param(c.reason.as_deref()).push(")");
    }
    sql.build()?
        .execute(conn)
        .await
        .context("cannot append to the subscriber history")?;
    Ok(())
}
