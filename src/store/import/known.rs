//! Rows for addresses the store already knows: look them up, mark them
//! touched by this import (a second touch is a duplicate row), and apply
//! the row, never lifting a suppression.
use std::collections::{HashMap, HashSet};

use anyhow::Context;

use super::ImportSession;
use crate::domain::{Status, SubscriberId};
use crate::import::{ImportRecord, Origin, RejectedRow};
use crate::store::sql::Sql;
use crate::store::{Cols, Tx, history, status_from};

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
        let found: Vec<KnownRow> = match &mut self.tx {
            Tx::Sqlite(t) => {
                let mut sql =
                    Sql::new("SELECT id, email, name, status FROM subscribers WHERE email IN (");
                for (i, r) in rows.iter().enumerate() {
                    sql.push(if i == 0 { "" } else { ", " })
                        .param(r.email.as_str());
                }
                sql.push(")");
                known_rows(&sql.build()?.fetch_all(&mut **t).await?)?
            }
            Tx::Postgres(t) => {
                let emails: Vec<&str> = rows.iter().map(|r| r.email.as_str()).collect();
                let found = sqlx::query(
                    "SELECT id, email, name, status FROM subscribers WHERE email = ANY($1)",
                )
                .bind(emails)
                .fetch_all(&mut **t)
                .await?;
                known_rows(&found)?
            }
        };
        let mut known = HashMap::with_capacity(found.len());
        for (email, id, name, status) in found {
            let k = Known {
                id: SubscriberId::new(id),
                name,
                status: status_from(status)?,
            };
            known.insert(email, k);
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
        let touched: Vec<(i64, i64, i64)> = old
            .iter()
            .map(|(r, k)| {
                (
                    k.id.get(),
                    self.file_index(&r.origin.file),
                    r.origin.line as i64,
                )
            })
            .collect();
        let ids: Vec<i64> = match &mut self.tx {
            Tx::Sqlite(t) => {
                let mut sql = Sql::new("INSERT INTO import_touched (id, file, line) VALUES ");
                for (i, (id, file, line)) in touched.iter().enumerate() {
                    sql.push(if i == 0 { "(" } else { ", (" });
                    sql.param(*id).push(", ").param(*file).push(", ");
                    sql.param(*line).push(")");
                }
                sql.push(" ON CONFLICT (id) DO NOTHING RETURNING id");
                let rows = sql.build()?.fetch_all(&mut **t).await?;
                rows.iter()
                    .map(|r| r.int("id"))
                    .collect::<anyhow::Result<_>>()?
            }
            Tx::Postgres(t) => {
                let rows = sqlx::query(
                    "INSERT INTO import_touched (id, file, line) SELECT * FROM \
                     UNNEST($1::BIGINT[], $2::BIGINT[], $3::BIGINT[]) \
                     ON CONFLICT (id) DO NOTHING RETURNING id",
                )
                .bind(touched.iter().map(|t| t.0).collect::<Vec<_>>())
                .bind(touched.iter().map(|t| t.1).collect::<Vec<_>>())
                .bind(touched.iter().map(|t| t.2).collect::<Vec<_>>())
                .fetch_all(&mut **t)
                .await?;
                rows.iter()
                    .map(|r| r.int("id"))
                    .collect::<anyhow::Result<_>>()?
            }
        };
        Ok(ids.into_iter().collect())
    }

    pub(super) async fn reject_touched_again(
        &mut self,
        known: &HashMap<String, Known>,
        again: &[&ImportRecord],
        rejected: &mut Vec<RejectedRow>,
    ) -> anyhow::Result<()> {
        for r in again {
            let id = known[r.email.as_str()].id.get();
            let (file, line): (i64, i64) = on_tx!(&mut self.tx, t => sqlx::query_as(
                "SELECT file, line FROM import_touched WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&mut **t)
            .await)?;
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
        on_tx!(&mut self.tx, t => sqlx::query(
            "UPDATE subscribers SET status = $1, name = COALESCE($2, name), updated_at = $3 \
             WHERE id = $4",
        )
        .bind(status.as_str())
        .bind(r.name.as_deref())
        .bind(self.now)
        .bind(known.id.get())
        .execute(&mut **t)
        .await
        .map(|r| r.rows_affected()))
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

/// (email, id, name, status) as a lookup returns them.
type KnownRow = (String, i64, Option<String>, String);

/// Each row a lookup returned.
fn known_rows(rows: &[impl Cols]) -> anyhow::Result<Vec<KnownRow>> {
    rows.iter()
        .map(|r| {
            Ok((
                r.text("email")?,
                r.int("id")?,
                r.opt_text("name")?,
                r.text("status")?,
            ))
        })
        .collect()
}
