//! Imports: one transaction over many batches, so an import happens
//! completely or not at all. Each batch costs a handful of multi-row
//! statements (sqlx-sqlite sends every statement through a worker thread,
//! so per-row statements would be the bottleneck).
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use anyhow::Context;
use sqlx::{QueryBuilder, Row, Transaction};

use super::{Db, Store, history, ip_text, status_from};
use crate::domain::{Status, SubscriberId};
use crate::import::{ImportRecord, Origin, RejectedRow, Row as ImportRow};

/// Rows per batch: 11 bound values a row stays far below SQLite's 32766
/// and PostgreSQL's 65535 parameter limits.
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
    tx: Transaction<'static, Db>,
    files: Vec<Arc<str>>,
    summary: ImportSummary,
}

struct Existing {
    id: SubscriberId,
    name: Option<String>,
    status: Status,
}

impl Store {
    /// Starts an import; other writers wait until it commits or rolls back.
    pub async fn begin_import(&self) -> anyhow::Result<ImportSession> {
        let mut tx = self.begin_write().await?;
        // Addresses seen by this import, to reject duplicates without
        // holding them in memory. Rolled back or dropped with the import.
        sqlx::query("DROP TABLE IF EXISTS temp.import_seen")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "CREATE TEMP TABLE import_seen \
             (email TEXT PRIMARY KEY, file INTEGER NOT NULL, line INTEGER NOT NULL)",
        )
        .execute(&mut *tx)
        .await
        .context("cannot prepare the import")?;
        Ok(ImportSession {
            tx,
            files: Vec::new(),
            summary: ImportSummary::default(),
        })
    }
}

impl ImportSession {
    /// Applies parsed rows (at most [`IMPORT_BATCH`] at a time is best) and
    /// returns the rejected ones: bad rows and duplicates of earlier rows.
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
            let fresh = self.claim(chunk, &mut rejected).await?;
            self.store(&fresh).await?;
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
        sqlx::query("DROP TABLE temp.import_seen")
            .execute(&mut *self.tx)
            .await?;
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

    fn file_index(&mut self, file: &Arc<str>) -> i64 {
        let i = match self.files.iter().rposition(|f| f == file) {
            Some(i) => i,
            None => {
                self.files.push(file.clone());
                self.files.len() - 1
            }
        };
        i as i64
    }

    /// Records the chunk's addresses as seen; returns the rows seen for the
    /// first time and pushes the others onto `rejected` as duplicates.
    async fn claim<'r>(
        &mut self,
        chunk: &'r [ImportRecord],
        rejected: &mut Vec<RejectedRow>,
    ) -> anyhow::Result<Vec<&'r ImportRecord>> {
        let files: Vec<i64> = chunk
            .iter()
            .map(|r| self.file_index(&r.origin.file))
            .collect();
        let mut q = QueryBuilder::<Db>::new("INSERT INTO import_seen (email, file, line) ");
        q.push_values(chunk.iter().zip(&files), |mut b, (r, file)| {
            b.push_bind(r.email.as_str())
                .push_bind(*file)
                .push_bind(r.origin.line as i64);
        });
        q.push(" ON CONFLICT (email) DO NOTHING RETURNING email");
        let inserted = q.build().fetch_all(&mut *self.tx).await?;
        let mut new: HashSet<String> = inserted
            .iter()
            .map(|row| row.try_get("email"))
            .collect::<Result<_, _>>()?;
        let (fresh, dups): (Vec<_>, Vec<_>) =
            chunk.iter().partition(|r| new.remove(r.email.as_str()));
        if !dups.is_empty() {
            self.reject_duplicates(&dups, rejected).await?;
        }
        Ok(fresh)
    }

    async fn reject_duplicates(
        &mut self,
        dups: &[&ImportRecord],
        rejected: &mut Vec<RejectedRow>,
    ) -> anyhow::Result<()> {
        let mut q =
            QueryBuilder::<Db>::new("SELECT email, file, line FROM import_seen WHERE email IN (");
        let mut list = q.separated(", ");
        for r in dups {
            list.push_bind(r.email.as_str());
        }
        q.push(")");
        let mut first: HashMap<String, (i64, i64)> = HashMap::new();
        for row in q.build().fetch_all(&mut *self.tx).await? {
            first.insert(
                row.try_get("email")?,
                (row.try_get("file")?, row.try_get("line")?),
            );
        }
        for r in dups {
            let (file, line) = first.get(r.email.as_str()).copied().unwrap_or_default();
            let file = self.files.get(file as usize).cloned().unwrap_or_default();
            let reason = if file == r.origin.file {
                format!("duplicate of line {line} (`{}`)", r.email)
            } else {
                format!(
                    "duplicate of {} (`{}`)",
                    Origin {
                        file,
                        line: line as u64
                    },
                    r.email
                )
            };
            rejected.push(RejectedRow {
                origin: r.origin.clone(),
                reason,
            });
        }
        Ok(())
    }

    /// Inserts new addresses and updates known ones.
    async fn store(&mut self, fresh: &[&ImportRecord]) -> anyhow::Result<()> {
        if fresh.is_empty() {
            return Ok(());
        }
        let existing = self.existing(fresh).await?;
        let mut new = Vec::new();
        for &r in fresh {
            match existing.get(r.email.as_str()) {
                None => new.push(r),
                Some(known) => self.update(known, r).await?,
            }
        }
        self.insert(&new).await
    }

    async fn existing(
        &mut self,
        fresh: &[&ImportRecord],
    ) -> anyhow::Result<HashMap<String, Existing>> {
        let mut q = QueryBuilder::<Db>::new(
            "SELECT id, email, name, status FROM subscribers WHERE email IN (",
        );
        let mut list = q.separated(", ");
        for r in fresh {
            list.push_bind(r.email.as_str());
        }
        q.push(")");
        let rows = q.build().fetch_all(&mut *self.tx).await?;
        let mut map = HashMap::with_capacity(rows.len());
        for row in rows {
            let known = Existing {
                id: SubscriberId::new(row.try_get("id")?),
                name: row.try_get("name")?,
                status: status_from(row.try_get("status")?)?,
            };
            map.insert(row.try_get("email")?, known);
        }
        Ok(map)
    }

    /// Applies a row to a known address. A suppression is never lifted.
    async fn update(&mut self, known: &Existing, r: &ImportRecord) -> anyhow::Result<()> {
        let change = r.last_change();
        let new_status = !known.status.is_suppression() && known.status != change.status;
        let new_name = r.name.is_some() && r.name != known.name;
        if known.status.is_suppression() && change.status == Status::Subscribed {
            self.summary.suppressed += 1;
            return Ok(());
        }
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
        .bind(crate::domain::now())
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

    async fn insert(&mut self, new: &[&ImportRecord]) -> anyhow::Result<()> {
        if new.is_empty() {
            return Ok(());
        }
        let now = crate::domain::now();
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO subscribers (email, name, status, created_at, updated_at, \
             consent_source, consent_at, consent_ip, confirmed_at, confirm_ip) ",
        );
        q.push_values(new, |mut b, r| {
            b.push_bind(r.email.as_str())
                .push_bind(r.name.as_deref())
                .push_bind(r.status().as_str())
                .push_bind(now)
                .push_bind(now)
                .push_bind(r.consent.source.to_string())
                .push_bind(r.consent.at)
                .push_bind(ip_text(r.consent.ip))
                .push_bind(r.consent.confirmed_at)
                .push_bind(ip_text(r.consent.confirm_ip));
        });
        q.push(" RETURNING id, email");
        let mut ids = HashMap::with_capacity(new.len());
        for row in q.build().fetch_all(&mut *self.tx).await? {
            ids.insert(
                row.try_get::<String, _>("email")?,
                SubscriberId::new(row.try_get("id")?),
            );
        }
        let changes: Vec<_> = new
            .iter()
            .flat_map(|r| {
                let id = ids[r.email.as_str()];
                r.history.iter().map(move |c| (id, c))
            })
            .collect();
        history::append(&mut self.tx, &changes).await?;
        self.summary.added += new.len() as u64;
        Ok(())
    }
}
