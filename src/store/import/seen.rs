//! Each address's first row in this import, kept in temporary tables: a
//! later row for the address is a duplicate (the same status) or a
//! conflict between two files (another status).
use std::collections::{HashMap, HashSet};

use anyhow::Context;
use sqlx::Row;

use super::ImportSession;
use super::known::Known;
use crate::domain::{Status, SubscriberId};
use crate::import::{Conflict, ImportRecord, Notice, Origin, RejectedRow};
use crate::store::sql::Sql;
use crate::store::status_from;

/// The earlier row of this import for an address.
pub(super) struct Earlier {
    origin: Origin,
    status: Status,
}

impl Earlier {
    pub fn of(r: &ImportRecord) -> Self {
        Self {
            origin: r.origin.clone(),
            status: r.status(),
        }
    }
}

/// A row's key in a table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Id(i64),
    Email(String),
}

/// Which table: by subscriber id, or (a dry run's new addresses) by address.
#[derive(Clone, Copy)]
enum Table {
    Ids,
    New,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Ids => "import_seen",
            Table::New => "import_new",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Table::Ids => "id",
            Table::New => "email",
        }
    }
}

impl ImportSession {
    /// What to tell about `r`, whose address an earlier row of this import
    /// named. A conflict is counted here; a rejection by the caller.
    pub(super) fn repeat(&mut self, r: &ImportRecord, earlier: Earlier) -> Notice {
        let status = r.status();
        if status == earlier.status {
            let what = if earlier.origin.file == r.origin.file {
                format!("line {}", earlier.origin.line)
            } else {
                earlier.origin.to_string()
            };
            return Notice::Rejected(RejectedRow {
                origin: r.origin.clone(),
                reason: format!("duplicate of {what} (`{}`)", r.email),
            });
        }
        if status == Status::Subscribed && earlier.status.is_suppression() {
            self.summary.suppressed += 1;
        } else {
            self.summary.unchanged += 1;
        }
        Notice::Conflict(Conflict {
            origin: r.origin.clone(),
            email: r.email.clone(),
            status,
            earlier: earlier.origin,
            kept: earlier.status,
        })
    }

    /// Records the first row of each address. Returns the known rows that
    /// are their address's first; adds notices for the others. A dry run's
    /// new addresses (which have no id) are counted as added here.
    pub(super) async fn mark_seen<'r>(
        &mut self,
        new: Vec<(&'r ImportRecord, Option<SubscriberId>)>,
        known: Vec<(&'r ImportRecord, Known)>,
        notices: &mut Vec<Notice>,
    ) -> anyhow::Result<Vec<(&'r ImportRecord, Known)>> {
        // Rows this batch just added to the store cannot have been seen.
        let added: Vec<(&ImportRecord, Key)> = new
            .iter()
            .filter_map(|(r, id)| id.map(|id| (*r, Key::Id(id.get()))))
            .collect();
        if !added.is_empty() {
            let sql = self.insert_sql(Table::Ids, &added);
            sql.build()?
                .execute(&mut self.conn)
                .await
                .context("cannot note the import's rows")?;
        }
        let by_id: Vec<(&ImportRecord, Key)> = known
            .iter()
            .map(|(r, k)| (*r, Key::Id(k.id.get())))
            .collect();
        let firsts = self.first_rows(Table::Ids, &by_id, notices).await?;
        let no_id: Vec<(&ImportRecord, Key)> = new
            .iter()
            .filter(|(_, id)| id.is_none())
            .map(|(r, _)| (*r, Key::Email(r.email.key().to_owned())))
            .collect();
        if !no_id.is_empty() {
            let firsts = self.first_rows(Table::New, &no_id, notices).await?;
            self.summary.added += firsts.len() as u64;
        }
        Ok(known
            .into_iter()
            .filter(|(_, k)| firsts.contains(&Key::Id(k.id.get())))
            .collect())
    }

    /// Inserts `rows` (record, key) into `table`; returns the keys that were
    /// not there yet, and adds a notice for each row whose key was.
    async fn first_rows(
        &mut self,
        table: Table,
        rows: &[(&ImportRecord, Key)],
        notices: &mut Vec<Notice>,
    ) -> anyhow::Result<HashSet<Key>> {
        if rows.is_empty() {
            return Ok(HashSet::new());
        }
        let key = table.key();
        let mut sql = self.insert_sql(table, rows);
        sql.push(&format!(" ON CONFLICT ({key}) DO NOTHING RETURNING {key}"));
        let inserted = sql
            .build()?
            .fetch_all(&mut self.conn)
            .await
            .context("cannot note the import's rows")?;
        let firsts: HashSet<Key> = inserted
            .iter()
            .map(|row| key_of(table, row))
            .collect::<Result<_, _>>()?;
        let repeats: Vec<_> = rows.iter().filter(|(_, k)| !firsts.contains(k)).collect();
        if !repeats.is_empty() {
            let mut earlier = self.earlier(table, &repeats).await?;
            for (r, k) in repeats {
                let e = earlier
                    .remove(k)
                    .with_context(|| format!("{}: lost track of `{}`", r.origin, r.email))?;
                notices.push(self.repeat(r, e));
            }
        }
        Ok(firsts)
    }

    /// `INSERT INTO table … VALUES …` for `rows`.
    fn insert_sql(&mut self, table: Table, rows: &[(&ImportRecord, Key)]) -> Sql {
        let (name, key) = (table.name(), table.key());
        let mut sql = Sql::new(&format!(
            "INSERT INTO {name} ({key}, file, line, status) VALUES "
        ));
        for (i, (r, k)) in rows.iter().enumerate() {
            let file = self.file_index(&r.origin.file);
            sql.push(if i == 0 { "(" } else { ", (" });
            push_key(&mut sql, k).push(", ");
            sql.int(file)
                .push(", ")
                .param(r.origin.line as i64)
                .push(", ");
            sql.status(r.status()).push(")");
        }
        sql
    }

    /// The earlier rows for these keys, by key.
    async fn earlier(
        &mut self,
        table: Table,
        rows: &[&(&ImportRecord, Key)],
    ) -> anyhow::Result<HashMap<Key, Earlier>> {
        let (name, key) = (table.name(), table.key());
        let mut sql = Sql::new(&format!(
            "SELECT {key}, file, line, status FROM {name} WHERE {key} IN ("
        ));
        for (i, (_, k)) in rows.iter().enumerate() {
            sql.push(if i == 0 { "" } else { ", " });
            push_key(&mut sql, k);
        }
        sql.push(")");
        let mut out = HashMap::with_capacity(rows.len());
        for row in sql.build()?.fetch_all(&mut self.conn).await? {
            let file: i64 = row.try_get("file")?;
            let line: i64 = row.try_get("line")?;
            let origin = Origin {
                file: self.files.get(file as usize).cloned().unwrap_or_default(),
                line: line as u64,
            };
            let status = status_from(row.try_get("status")?)?;
            out.insert(key_of(table, &row)?, Earlier { origin, status });
        }
        Ok(out)
    }
}

fn push_key<'s>(sql: &'s mut Sql, key: &Key) -> &'s mut Sql {
    match key {
        Key::Id(id) => sql.param(*id),
        Key::Email(email) => sql.param(email.as_str()),
    }
}

fn key_of(table: Table, row: &sqlx::sqlite::SqliteRow) -> anyhow::Result<Key> {
    Ok(match table {
        Table::Ids => Key::Id(row.try_get("id")?),
        Table::New => Key::Email(row.try_get("email")?),
    })
}
