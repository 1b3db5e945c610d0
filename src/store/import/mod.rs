//! Imports: one transaction over many batches, so an import happens
//! completely or not at all. A batch costs a handful of multi-row
//! statements (sqlx-sqlite sends every statement through a worker thread,
//! so per-row statements would be the bottleneck): insert the new
//! addresses, look up the rest, update the few that change.
//!
//! Duplicates are found without holding the file's addresses in memory: an
//! address added by this import has an id above the largest id before it;
//! a known address touched by this import is in the temporary table
//! `import_touched`.
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use anyhow::Context;

use super::sql::Sql;
use super::{Cols, Store, Tx, history, ip_text, seconds};
use crate::domain::SubscriberId;

mod known;

use crate::import::{ImportRecord, RejectedRow, Row as ImportRow};
use known::{Known, duplicate};

/// Rows per batch: at most 8 bound values a row stays far below SQLite's
/// 32766 and PostgreSQL's 65535 parameter limits.
pub const IMPORT_BATCH: usize = 500;

/// What an import did, row by row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Addresses new to the store (with the status their file gives them).
    pub added: u64,
    /// Known addresses whose status or name changed.
    pub updated: u64,
    /// Known addresses the row would not change.
    pub unchanged: u64,
    /// Rows that would subscribe a suppressed address; left suppressed.
    pub suppressed: u64,
    /// Bad rows, skipped.
    pub rejected: u64,
}

/// An import in progress: apply batches, then commit or roll back.
pub struct ImportSession {
    pub(super) tx: Tx,
    /// The largest subscriber id before this import began.
    pub(super) last_old_id: i64,
    /// When this import began: every row it writes carries this time.
    pub(super) now: i64,
    /// Whether the last batch was mostly new addresses.
    mostly_new: bool,
    pub(super) files: Vec<Arc<str>>,
    pub(super) summary: ImportSummary,
}

impl Store {
    /// Starts an import; other writers wait until it commits or rolls back.
    pub async fn begin_import(&self) -> anyhow::Result<ImportSession> {
        let mut tx = self.begin_write().await?;
        match &mut tx {
            Tx::Sqlite(t) => {
                sqlx::query("DROP TABLE IF EXISTS temp.import_touched")
                    .execute(&mut **t)
                    .await?;
                sqlx::query(
                    "CREATE TEMP TABLE import_touched \
                     (id INTEGER PRIMARY KEY, file INTEGER NOT NULL, line INTEGER NOT NULL)",
                )
                .execute(&mut **t)
                .await
                .context("cannot prepare the import")?;
            }
            Tx::Postgres(t) => {
                sqlx::query(
                    "CREATE TEMP TABLE import_touched \
                     (id BIGINT PRIMARY KEY, file BIGINT NOT NULL, line BIGINT NOT NULL) \
                     ON COMMIT DROP",
                )
                .execute(&mut **t)
                .await
                .context("cannot prepare the import")?;
            }
        }
        let last_old_id: i64 = on_tx!(&mut tx, t => sqlx::query_scalar(
            "SELECT COALESCE(MAX(id), CAST(0 AS BIGINT)) FROM subscribers",
        )
        .fetch_one(&mut **t)
        .await)?;
        Ok(ImportSession {
            tx,
            last_old_id,
            now: seconds(crate::domain::now()),
            mostly_new: true,
            files: Vec::new(),
            summary: ImportSummary::default(),
        })
    }
}

impl ImportSession {
    /// Applies parsed rows (best [`IMPORT_BATCH`] at a time) and returns the
    /// rejected ones, by line: bad rows and duplicates of earlier rows.
    pub async fn apply(&mut self, rows: Vec<ImportRow>) -> anyhow::Result<Vec<RejectedRow>> {
        let mut rejected = Vec::new();
        let mut records = Vec::with_capacity(rows.len());
        for row in rows {
            match row {
                ImportRow::Accepted(r) => records.push(r),
                ImportRow::Rejected(r) => rejected.push(r),
            }
        }
        for chunk in records.chunks(IMPORT_BATCH) {
            self.apply_chunk(chunk, &mut rejected).await?;
        }
        self.summary.rejected += rejected.len() as u64;
        rejected.sort_by_key(|r| r.origin.line);
        Ok(rejected)
    }

    /// The summary so far.
    pub fn summary(&self) -> ImportSummary {
        self.summary
    }

    /// Makes the import permanent.
    pub async fn commit(mut self) -> anyhow::Result<ImportSummary> {
        if let Tx::Sqlite(t) = &mut self.tx {
            sqlx::query("DROP TABLE temp.import_touched")
                .execute(&mut **t)
                .await?;
        }
        self.tx.commit().await.context("cannot commit the import")?;
        Ok(self.summary)
    }

    /// Undoes the import (a dry run ends here).
    pub async fn rollback(self) -> anyhow::Result<ImportSummary> {
        self.tx
            .rollback()
            .await
            .context("cannot roll back the import")?;
        Ok(self.summary)
    }

    async fn apply_chunk(
        &mut self,
        chunk: &[ImportRecord],
        rejected: &mut Vec<RejectedRow>,
    ) -> anyhow::Result<()> {
        let mut first_line: HashMap<&str, u64> = HashMap::with_capacity(chunk.len());
        let mut unique = Vec::with_capacity(chunk.len());
        for r in chunk {
            match first_line.get(r.email.as_str()) {
                Some(&line) => rejected.push(duplicate(r, format!("line {line}"))),
                None => {
                    first_line.insert(r.email.as_str(), r.origin.line);
                    unique.push(r);
                }
            }
        }
        let (rest, known) = self.split_new(unique).await?;
        let mut old = Vec::with_capacity(rest.len());
        for r in rest {
            let k = known.get(r.email.as_str()).with_context(|| {
                format!("{}: `{}` vanished during the import", r.origin, r.email)
            })?;
            if k.id.get() > self.last_old_id {
                rejected.push(duplicate(r, "an earlier row".to_owned()));
            } else {
                old.push((r, k));
            }
        }
        let first_touch = self.touch(&old).await?;
        let mut again = Vec::new();
        for (r, k) in old {
            if first_touch.contains(&k.id.get()) {
                self.update(k, r).await?;
            } else {
                again.push(r);
            }
        }
        self.reject_touched_again(&known, &again, rejected).await
    }

    /// Inserts the addresses the store does not have. Returns the others
    /// with what the store knows of them. While most rows are new, the
    /// insert goes first and only the conflicts are looked up; while most
    /// are known (a re-import), the lookup goes first.
    async fn split_new<'r>(
        &mut self,
        unique: Vec<&'r ImportRecord>,
    ) -> anyhow::Result<(Vec<&'r ImportRecord>, HashMap<String, Known>)> {
        let (rest, known) = if self.mostly_new {
            let added = self.insert_new(&unique).await?;
            let rest: Vec<_> = unique
                .into_iter()
                .filter(|r| !added.contains(r.email.as_str()))
                .collect();
            let known = if rest.is_empty() {
                HashMap::new()
            } else {
                self.known(&rest).await?
            };
            self.mostly_new = rest.len() * 2 <= added.len();
            (rest, known)
        } else {
            let known = self.known(&unique).await?;
            let (rest, new): (Vec<_>, Vec<_>) = unique
                .into_iter()
                .partition(|r| known.contains_key(r.email.as_str()));
            let added = self.insert_new(&new).await?;
            anyhow::ensure!(
                added.len() == new.len(),
                "the store changed during the import"
            );
            self.mostly_new = rest.len() * 2 <= added.len();
            (rest, known)
        };
        Ok((rest, known))
    }

    /// Inserts the addresses the store does not have; returns them.
    async fn insert_new(&mut self, rows: &[&ImportRecord]) -> anyhow::Result<HashSet<String>> {
        if rows.is_empty() {
            return Ok(HashSet::new());
        }
        let now = self.now;
        let added: Vec<(String, i64)> = match &mut self.tx {
            Tx::Sqlite(t) => {
                let mut sql = Sql::new(
                    "INSERT INTO subscribers (email, name, status, created_at, updated_at, \
                     consent_source, consent_at, consent_ip, confirmed_at, confirm_ip) VALUES ",
                );
                for (i, r) in rows.iter().enumerate() {
                    let c = &r.consent;
                    sql.push(if i == 0 { "(" } else { ", (" });
                    sql.param(r.email.as_str()).push(", ");
                    sql.param(r.name.as_deref()).push(", ");
                    sql.status(r.status()).push(", ");
                    sql.int(now).push(", ").int(now).push(", ");
                    sql.param(c.source.to_string()).push(", ");
                    sql.param(seconds(c.at)).push(", ");
                    sql.param(ip_text(c.ip)).push(", ");
                    sql.param(c.confirmed_at.map(seconds)).push(", ");
                    sql.param(ip_text(c.confirm_ip)).push(")");
                }
                sql.push(" ON CONFLICT (email) DO NOTHING RETURNING id, email");
                let rows = sql.build()?.fetch_all(&mut **t).await?;
                email_ids(&rows)?
            }
            Tx::Postgres(t) => {
                let rows = sqlx::query(
                    "INSERT INTO subscribers (email, name, status, created_at, updated_at, \
                     consent_source, consent_at, consent_ip, confirmed_at, confirm_ip) \
                     SELECT e, n, st, $9, $9, src, at, ip, cat, cip FROM UNNEST($1::TEXT[], \
                     $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::BIGINT[], $6::TEXT[], \
                     $7::BIGINT[], $8::TEXT[]) AS u(e, n, st, src, at, ip, cat, cip) \
                     ON CONFLICT (email) DO NOTHING RETURNING id, email",
                )
                .bind(rows.iter().map(|r| r.email.as_str()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.name.as_deref()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.status().as_str()).collect::<Vec<_>>())
                .bind(
                    rows.iter()
                        .map(|r| r.consent.source.to_string())
                        .collect::<Vec<_>>(),
                )
                .bind(
                    rows.iter()
                        .map(|r| seconds(r.consent.at))
                        .collect::<Vec<_>>(),
                )
                .bind(
                    rows.iter()
                        .map(|r| ip_text(r.consent.ip))
                        .collect::<Vec<_>>(),
                )
                .bind(
                    rows.iter()
                        .map(|r| r.consent.confirmed_at.map(seconds))
                        .collect::<Vec<_>>(),
                )
                .bind(
                    rows.iter()
                        .map(|r| ip_text(r.consent.confirm_ip))
                        .collect::<Vec<_>>(),
                )
                .bind(now)
                .fetch_all(&mut **t)
                .await?;
                email_ids(&rows)?
            }
        };
        let ids: HashMap<String, SubscriberId> = added
            .into_iter()
            .map(|(email, id)| (email, SubscriberId::new(id)))
            .collect();
        let changes: Vec<_> = rows
            .iter()
            .filter_map(|r| ids.get(r.email.as_str()).map(|&id| (id, r)))
            .flat_map(|(id, r)| r.history.iter().map(move |c| (id, c)))
            .collect();
        for part in changes.chunks(IMPORT_BATCH) {
            history::append(&mut self.tx, part).await?;
        }
        self.summary.added += ids.len() as u64;
        Ok(ids.into_keys().collect())
    }

    pub(super) fn file_index(&mut self, file: &Arc<str>) -> i64 {
        let i = match self.files.iter().rposition(|f| f == file) {
            Some(i) => i,
            None => {
                self.files.push(file.clone());
                self.files.len() - 1
            }
        };
        i as i64
    }
}

/// (email, id) of each row returned by an insert.
fn email_ids(rows: &[impl Cols]) -> anyhow::Result<Vec<(String, i64)>> {
    rows.iter()
        .map(|r| Ok((r.text("email")?, r.int("id")?)))
        .collect()
}
