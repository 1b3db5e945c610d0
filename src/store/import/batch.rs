//! One batch of an import: a handful of multi-row statements (sqlx-sqlite
//! sends every statement through a worker thread, so per-row statements
//! would be the bottleneck). Insert the new addresses, look up the rest,
//! mark each address's first row, update the few known ones that change.
//! On PostgreSQL, batches go to the import's workers (`workers`), except
//! in a dry run, which binds arrays.
use std::collections::HashMap;

use anyhow::Context;

use super::ImportSession;
use super::known::Known;
use super::seen::Earlier;
use crate::domain::SubscriberId;
use crate::import::{ImportRecord, Notice};
use crate::store::history;
use crate::store::sql::Sql;
use crate::store::{Cols, Conn, ip_text, seconds};

/// Rows new to the store (with their ids, unless a dry run), and rows for
/// known subscribers.
type Split<'r> = (
    Vec<(&'r ImportRecord, Option<SubscriberId>)>,
    Vec<(&'r ImportRecord, Known)>,
);

impl ImportSession {
    pub(super) async fn apply_batch(
        &mut self,
        batch: &[ImportRecord],
        notices: &mut Vec<Notice>,
    ) -> anyhow::Result<()> {
        let mut first: HashMap<&str, &ImportRecord> = HashMap::with_capacity(batch.len());
        let mut unique = Vec::with_capacity(batch.len());
        for r in batch {
            match first.get(r.email.key()) {
                Some(earlier) => {
                    let earlier = Earlier::of(earlier);
                    notices.push(self.repeat(r, earlier));
                }
                None => {
                    first.insert(r.email.key(), r);
                    unique.push(r);
                }
            }
        }
        let unique = self.drop_erased(unique).await?;
        let (new, known) = self.split(unique).await?;
        let fresh = self.mark_seen(new, known, notices).await?;
        for (r, k) in fresh {
            self.update(&k, r).await?;
        }
        Ok(())
    }

    /// Leaves out the rows for addresses erased on request, counted as
    /// suppressed: an import never brings an erased person back.
    async fn drop_erased<'r>(
        &mut self,
        rows: Vec<&'r ImportRecord>,
    ) -> anyhow::Result<Vec<&'r ImportRecord>> {
        let erased = self.erased_among(&rows).await?;
        Ok(rows
            .into_iter()
            .zip(erased)
            .filter_map(|(r, erased)| (!erased).then_some(r))
            .collect())
    }

    /// [`Self::drop_erased`] for rows the caller owns.
    pub(super) async fn drop_erased_owned(
        &mut self,
        rows: Vec<ImportRecord>,
    ) -> anyhow::Result<Vec<ImportRecord>> {
        let erased = self.erased_among(&rows.iter().collect::<Vec<_>>()).await?;
        Ok(rows
            .into_iter()
            .zip(erased)
            .filter_map(|(r, erased)| (!erased).then_some(r))
            .collect())
    }

    /// Which of `rows` name an address erased on request; each is counted
    /// as suppressed.
    async fn erased_among(&mut self, rows: &[&ImportRecord]) -> anyhow::Result<Vec<bool>> {
        let Some(keys) = &self.erased else {
            return Ok(vec![false; rows.len()]);
        };
        let hashes: Vec<Vec<String>> = rows.iter().map(|r| keys.hashes(&r.email)).collect();
        let all: Vec<&str> = hashes.iter().flatten().map(String::as_str).collect();
        let stored: std::collections::HashSet<String> =
            crate::store::erasure::stored_hashes(&mut self.conn, &all)
                .await?
                .into_iter()
                .collect();
        let erased: Vec<bool> = hashes
            .iter()
            .map(|h| h.iter().any(|h| stored.contains(h)))
            .collect();
        self.summary.suppressed += erased.iter().filter(|&&e| e).count() as u64;
        Ok(erased)
    }

    /// Splits rows into addresses new to the store and known ones. Outside
    /// a dry run the new ones are inserted here: while most rows are new,
    /// the insert goes first and only the conflicts are looked up; while
    /// most are known (a re-import), the lookup goes first.
    async fn split<'r>(&mut self, unique: Vec<&'r ImportRecord>) -> anyhow::Result<Split<'r>> {
        let (mut known, ids) = if self.dry_run {
            (self.known(&unique).await?, HashMap::new())
        } else if self.mostly_new {
            let ids = self.insert_new(&unique).await?;
            let rest: Vec<_> = unique
                .iter()
                .copied()
                .filter(|r| !ids.contains_key(r.email.key()))
                .collect();
            let known = if rest.is_empty() {
                HashMap::new()
            } else {
                self.known(&rest).await?
            };
            if let Some(r) = rest.iter().find(|r| !known.contains_key(r.email.key())) {
                anyhow::bail!("{}: `{}` vanished during the import", r.origin, r.email);
            }
            (known, ids)
        } else {
            let known = self.known(&unique).await?;
            let new: Vec<_> = unique
                .iter()
                .copied()
                .filter(|r| !known.contains_key(r.email.key()))
                .collect();
            let ids = self.insert_new(&new).await?;
            anyhow::ensure!(
                ids.len() == new.len(),
                "the store changed during the import"
            );
            (known, ids)
        };
        if !self.dry_run {
            self.mostly_new = known.len() * 2 <= ids.len();
        }
        let mut new = Vec::new();
        let mut old = Vec::with_capacity(known.len());
        for r in unique {
            match known.remove(r.email.key()) {
                Some(k) => old.push((r, k)),
                None => new.push((r, ids.get(r.email.key()).copied())),
            }
        }
        Ok((new, old))
    }

    /// Inserts the addresses the store does not have, with their history;
    /// returns their ids by address (SQLite).
    async fn insert_new(
        &mut self,
        rows: &[&ImportRecord],
    ) -> anyhow::Result<HashMap<String, SubscriberId>> {
        if rows.is_empty() {
            return Ok(HashMap::new());
        }
        let now = self.now;
        let context = "cannot add the new addresses";
        // A PostgreSQL import inserts through `COPY` on its workers
        // (`copy`), and its dry runs insert nothing.
        let Conn::Sqlite(c) = &mut self.conn else {
            unreachable!("PostgreSQL imports insert through COPY")
        };
        let returned = insert_sql(rows, now)?
            .fetch_all(&mut *c)
            .await
            .context(context)?;
        let inserted = email_ids(&returned)?;
        let ids: HashMap<String, SubscriberId> = inserted
            .into_iter()
            .map(|(email, id)| (email, SubscriberId::new(id)))
            .collect();
        let changes: Vec<_> = rows
            .iter()
            .filter_map(|r| ids.get(r.email.key()).map(|&id| (id, r)))
            .flat_map(|(id, r)| r.history.iter().map(move |c| (id, c)))
            .collect();
        for part in changes.chunks(super::IMPORT_BATCH) {
            history::append(&mut self.conn, part).await?;
        }
        self.summary.added += ids.len() as u64;
        Ok(ids)
    }
}

/// The insert of new addresses on SQLite: one multi-row `VALUES`.
fn insert_sql(
    rows: &[&ImportRecord],
    now: i64,
) -> anyhow::Result<sqlx::query::Query<'static, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>> {
    let mut sql = Sql::new(
        "INSERT INTO subscribers (email, email_key, name, status, created_at, updated_at, \
         consent_source, consent_at, consent_ip, confirmed_at, confirm_ip) VALUES ",
    );
    for (i, r) in rows.iter().enumerate() {
        let c = &r.consent;
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.param(r.email.as_str()).push(", ");
        sql.param(r.email.key()).push(", ");
        sql.param(r.name.as_deref()).push(", ");
        sql.status(r.status()).push(", ");
        sql.int(now).push(", ").int(now).push(", ");
        sql.param(c.source.to_string()).push(", ");
        sql.param(seconds(c.at)).push(", ");
        sql.param(ip_text(c.ip)).push(", ");
        sql.param(c.confirmed_at.map(seconds)).push(", ");
        sql.param(ip_text(c.confirm_ip)).push(")");
    }
    sql.push(" ON CONFLICT (email_key) DO NOTHING RETURNING id, email_key");
    sql.build()
}

/// (identity key, id) of each row returned by an insert.
fn email_ids(rows: &[impl Cols]) -> anyhow::Result<Vec<(String, i64)>> {
    rows.iter()
        .map(|r| Ok((r.text("email_key")?, r.int("id")?)))
        .collect()
}
