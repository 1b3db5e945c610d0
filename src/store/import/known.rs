//! Rows for addresses the store already knows: look them up, mark them
//! touched by this import (a second touch is a duplicate row), and apply
//! the row, never lifting a suppression.
use std::collections::{HashMap, HashSet};

use anyhow::Context;
use sqlx::Row;

use super::ImportSession;
use crate::domain::{Status, SubscriberId};
use crate::import::{ImportRecord, Origin, RejectedRow};
use crate::store::sql::Sql;
use crate::store::{history, status_from};

/// What the store holds for a known address.
pub(super) struct Known {
    pub id: SubscriberId,
    pub name: Option<String>,
    pub status: Status,
}

impl ImportSession {
    /// What the store holds for these addresses, by address.
    pub(super) async fn known(
        &mut self,
        rows: &[&ImportRecord],
    ) -> anyhow::Result<HashMap<String, Known>> {
        let mut sql = Sql::new("SELECT id, email, name, status FROM subscribers WHERE email IN (");
        for (i, r) in rows.iter().enumerate() {
            sql.push(if i == 0 { "" } else { ", " })
                .param(r.email.as_str());
        }
        sql.push(")");
        let mut known = HashMap::with_capacity(rows.len());
        for row in sql.build()?.fetch_all(&mut *self.tx).await? {
            let k = Known {
                id: SubscriberId::new(row.try_get("id")?),
                name: row.try_get("name")?,
                status: status_from(row.try_get("status")?)?,
            };
            known.insert(row.try_get("email")?, k);
        }
        Ok(known)
    }

    /// Marks known subscribers as touched by this import; returns the ids
    /// touched for the first time.
    pub(super) async fn touch(
        &mut self,
        old: &[(&ImportRecord, &Known)],
    ) -> anyhow::Result<HashSet<i64>> {
        if old.is_empty() {
            return Ok(HashSet::new());
        }
        let mut sql = Sql::new("INSERT INTO import_touched (id, file, line) VALUES ");
        for (i, (r, k)) in old.iter().enumerate() {
            let file = self.file_index(&r.origin.file);
            sql.push(if i == 0 { "(" } else { ", (" });
            sql.param(k.id.get()).push(", ").param(file).push(", ");
            sql.param(r.origin.line as i64).push(")");
        }
        sql.push(" ON CONFLICT (id) DO NOTHING RETURNING id");
        let rows = sql.build()?.fetch_all(&mut *self.tx).await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    pub(super) async fn reject_touched_again(
        &mut self,
        known: &HashMap<String, Known>,
        again: &[&ImportRecord],
        rejected: &mut Vec<RejectedRow>,
    ) -> anyhow::Result<()> {
        for r in again {
            let id = known[r.email.as_str()].id.get();
            let (file, line): (i64, i64) =
                sqlx::query_as("SELECT file, line FROM import_touched WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *self.tx)
                    .await?;
            let file = self.files.get(file as usize).cloned().unwrap_or_default();
            let earlier = if file == r.origin.file {
                format!("line {line}")
            } else {
                Origin {
                    file,
                    line: line as u64,
                }
                .to_string()
            };
            rejected.push(duplicate(r, earlier));
        }
        Ok(())
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
        .execute(&mut *self.tx)
        .await
        .with_context(|| format!("{}: cannot update `{}`", r.origin, r.email))?;
        if new_status {
            history::append(&mut self.tx, &[(known.id, change)]).await?;
        }
        self.summary.updated += 1;
        Ok(())
    }
}

/// A duplicate-row rejection of `r`, which repeats `earlier`.
pub(super) fn duplicate(r: &ImportRecord, earlier: String) -> RejectedRow {
    RejectedRow {
        origin: r.origin.clone(),
        reason: format!("duplicate of {earlier} (`{}`)", r.email),
    }
}
