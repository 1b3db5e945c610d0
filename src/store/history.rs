//! The append-only status history: one row per change, never updated.
use anyhow::Context;

use super::sql::Sql;
use super::{Cols, Exec, Store, ip_from, ip_text, seconds, status_from, time_from};
use crate::domain::{StatusChange, SubscriberId};

impl Store {
    /// A subscriber's history, oldest first.
    pub async fn history(&self, id: SubscriberId) -> anyhow::Result<Vec<StatusChange>> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT subscriber_id, status, at, source, ip, reason FROM subscriber_history \
                 WHERE subscriber_id = $1 ORDER BY id",
            )
            .bind(id.get())
            .fetch_all(p)
            .await
            .with_context(|| format!("cannot read the history of subscriber {id}"))?;
            rows.iter()
                .map(|r| change_from_row(r).map(|(_, c)| c))
                .collect()
        })
    }

    /// The histories of subscribers `first..=last` (by id), oldest first
    /// within each subscriber; for paging through everyone.
    pub async fn histories_between(
        &self,
        first: SubscriberId,
        last: SubscriberId,
    ) -> anyhow::Result<Vec<(SubscriberId, StatusChange)>> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT subscriber_id, status, at, source, ip, reason FROM subscriber_history \
                 WHERE subscriber_id BETWEEN $1 AND $2 ORDER BY subscriber_id, id",
            )
            .bind(first.get())
            .bind(last.get())
            .fetch_all(p)
            .await
            .context("cannot read subscriber histories")?;
            rows.iter().map(change_from_row).collect()
        })
    }
}

fn change_from_row(row: &impl Cols) -> anyhow::Result<(SubscriberId, StatusChange)> {
    Ok((
        SubscriberId::new(row.int("subscriber_id")?),
        StatusChange {
            status: status_from(row.text("status")?)?,
            at: time_from(row.int("at")?)?,
            source: row.text("source")?.parse()?,
            ip: ip_from(row.opt_text("ip")?),
            reason: row.opt_text("reason")?,
        },
    ))
}

/// Appends changes (for one or many subscribers) in one statement: a
/// multi-row `VALUES` on SQLite, arrays through `UNNEST` on PostgreSQL
/// (one statement text whatever the count, so it is prepared once).
pub(super) async fn append<'a>(
    tx: impl Into<Exec<'a>>,
    changes: &[(SubscriberId, &StatusChange)],
) -> anyhow::Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let done = match tx.into() {
        Exec::Sqlite(t) => {
            let mut sql = Sql::new(
                "INSERT INTO subscriber_history (subscriber_id, status, at, source, ip, reason) \
                 VALUES ",
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
                .execute(&mut *t)
                .await
                .map(|r| r.rows_affected())
        }
        Exec::Postgres(t) => {
            let ids: Vec<i64> = changes.iter().map(|(id, _)| id.get()).collect();
            let statuses: Vec<&str> = changes.iter().map(|(_, c)| c.status.as_str()).collect();
            let ats: Vec<i64> = changes.iter().map(|(_, c)| seconds(c.at)).collect();
            let sources: Vec<String> = changes.iter().map(|(_, c)| c.source.to_string()).collect();
            let ips: Vec<Option<String>> = changes.iter().map(|(_, c)| ip_text(c.ip)).collect();
            let reasons: Vec<Option<&str>> =
                changes.iter().map(|(_, c)| c.reason.as_deref()).collect();
            sqlx::query(
                "INSERT INTO subscriber_history (subscriber_id, status, at, source, ip, reason) \
                 SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::BIGINT[], $4::TEXT[], \
                 $5::TEXT[], $6::TEXT[])",
            )
            .bind(ids)
            .bind(statuses)
            .bind(ats)
            .bind(sources)
            .bind(ips)
            .bind(reasons)
            .execute(&mut *t)
            .await
            .map(|r| r.rows_affected())
        }
    };
    done.context("cannot append to the subscriber history")?;
    Ok(())
}
