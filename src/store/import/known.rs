//! Rows for addresses the store already knows: look them up, and apply
//! the row, never lifting a suppression.
use std::collections::HashMap;

use anyhow::Context;
use sqlx::Row;

use super::ImportSession;
use crate::domain::{Status, SubscriberId};
use crate::import::ImportRecord;
use crate::store::sql::Sql;
use crate::store::{history, status_from};

/// What the store holds for a known address.
pub(super) struct Known {
    pub id: SubscriberId,
    pub name: Option<String>,
    pub status: Status,
}

impl ImportSession {
    /// What the store holds for these addresses, by identity key.
    pub(super) async fn known(
        &mut self,
        rows: &[&ImportRecord],
    ) -> anyhow::Result<HashMap<String, Known>> {
        let mut sql =
            Sql::new("SELECT id, email_key, name, status FROM subscribers WHERE email_key IN (");
        for (i, r) in rows.iter().enumerate() {
            sql.push(if i == 0 { "" } else { ", " })
                .param(r.email.key());
        }
        sql.push(")");
        let mut known = HashMap::with_capacity(rows.len());
        for row in sql.build()?.fetch_all(&mut self.conn).await? {
            let k = Known {
                id: SubscriberId::new(row.try_get("id")?),
                name: row.try_get("name")?,
                status: status_from(row.try_get("status")?)?,
            };
            known.insert(row.try_get("email_key")?, k);
        }
        Ok(known)
    }

    /// Applies a row to a known address. A suppression is never lifted.
    pub(super) async fn update(&mut self, known: &Known, r: &ImportRecord) -> anyhow::Result<()> {
        let change = r.last_change();
        if known.status.is_suppression() && change.status == Status::Subscribed {
            self.summary.suppressed += 1;
            return Ok(());
        }
        let new_status = !known.status.is_suppression() && known.status != change.status;
        let new_name = r.name.is_some() && r.name != known.name;
        if !new_status && !new_name {
            self.summary.unchanged += 1;
            return Ok(());
        }
        self.summary.updated += 1;
        if self.dry_run {
            return Ok(());
        }
        let status = if new_status {
            change.status
        } else {
            known.status
        };
        sqlx::query(
            "UPDATE subscribers SET status = $1, name = COALESCE($2, name), updated_at = $3 \
             WHERE id = $4",
        )
        .bind(status.as_str())
        .bind(r.name.as_deref())
        .bind(self.now)
        .bind(known.id.get())
        .execute(&mut self.conn)
        .await
        .with_context(|| format!("{}: cannot update `{}`", r.origin, r.email))?;
        if new_status {
            history::append(&mut self.conn, &[(known.id, change)]).await?;
        }
        Ok(())
    }
}
