//! Each address's first row in this import, kept in temporary tables: a
//! later row for the address is a duplicate (the same status) or a
//! conflict between two files (another status).
use std::collections::{HashMap, HashSet};

use anyhow::Context;
use sqlx::AssertSqlSafe;

use super::ImportSession;
use super::known::Known;
use crate::domain::{Status, SubscriberId};
use crate::import::{Conflict, ImportRecord, Notice, Origin, RejectedRow};
use crate::store::sql::Sql;
use crate::store::{Cols, Conn, status_from};

/// The earlier row of this import for an address.
pub(super) struct Earlier {
    origin: Origin,
    status: Status,
}

impl Earlier {
    pub fn new(origin: Origin, status: Status) -> Self {
        Self { origin, status }
    }

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
            self.insert(Table::Ids, &added, false).await?;
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
        let firsts: HashSet<Key> = self.insert(table, rows, true).await?.into_iter().collect();
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

    /// Inserts `rows` (record, key) into `table`. With `first_only`, a key
    /// already there is left alone, and the keys inserted are returned.
    async fn insert(
        &mut self,
        table: Table,
        rows: &[(&ImportRecord, Key)],
        first_only: bool,
    ) -> anyhow::Result<Vec<Key>> {
        let (name, key) = (table.name(), table.key());
        let tail = if first_only {
            format!(" ON CONFLICT ({key}) DO NOTHING RETURNING {key}")
        } else {
            String::new()
        };
        let files: Vec<i64> = rows
            .iter()
            .map(|(r, _)| self.file_index(&r.origin.file))
            .collect();
        let context = "cannot note the import's rows";
        match &mut self.conn {
            Conn::Sqlite(c) => {
                let mut sql = Sql::new(&format!(
                    "INSERT INTO {name} ({key}, file, line, status) VALUES "
                ));
                for (i, ((r, k), file)) in rows.iter().zip(&files).enumerate() {
                    sql.push(if i == 0 { "(" } else { ", (" });
                    push_key(&mut sql, k).push(", ");
                    sql.int(*file)
                        .push(", ")
                        .param(r.origin.line as i64)
                        .push(", ");
                    sql.status(r.status()).push(")");
                }
                sql.push(&tail);
                let rows = sql.build()?.fetch_all(&mut *c).await.context(context)?;
                rows.iter().map(|row| key_of(table, row)).collect()
            }
            Conn::Postgres(c) => {
                let kind = match table {
                    Table::Ids => "BIGINT",
                    Table::New => "TEXT",
                };
                let sql = format!(
                    "INSERT INTO {name} ({key}, file, line, status) SELECT * FROM \
                     UNNEST($1::{kind}[], $2::BIGINT[], $3::BIGINT[], $4::TEXT[]){tail}"
                );
                let query = sqlx::query(AssertSqlSafe(sql));
                let query = match table {
                    Table::Ids => query.bind(rows.iter().map(|(_, k)| k.id()).collect::<Vec<_>>()),
                    Table::New => {
                        query.bind(rows.iter().map(|(_, k)| k.email()).collect::<Vec<_>>())
                    }
                };
                let rows = query
                    .bind(files)
                    .bind(
                        rows.iter()
                            .map(|(r, _)| r.origin.line as i64)
                            .collect::<Vec<_>>(),
                    )
                    .bind(
                        rows.iter()
                            .map(|(r, _)| r.status().as_str())
                            .collect::<Vec<_>>(),
                    )
                    .fetch_all(&mut *c)
                    .await
                    .context(context)?;
                rows.iter().map(|row| key_of(table, row)).collect()
            }
        }
    }

    /// The earlier rows for these keys, by key.
    async fn earlier(
        &mut self,
        table: Table,
        rows: &[&(&ImportRecord, Key)],
    ) -> anyhow::Result<HashMap<Key, Earlier>> {
        let (name, key) = (table.name(), table.key());
        let select = format!("SELECT {key}, file, line, status FROM {name} WHERE {key} ");
        let context = "cannot read the import's earlier rows";
        let found: Vec<(Key, i64, i64, String)> = match &mut self.conn {
            Conn::Sqlite(c) => {
                let mut sql = Sql::new(&select);
                sql.push("IN (");
                for (i, (_, k)) in rows.iter().enumerate() {
                    sql.push(if i == 0 { "" } else { ", " });
                    push_key(&mut sql, k);
                }
                sql.push(")");
                let found = sql.build()?.fetch_all(&mut *c).await.context(context)?;
                earlier_rows(table, &found)?
            }
            Conn::Postgres(c) => {
                let query = sqlx::query(AssertSqlSafe(format!("{select}= ANY($1)")));
                let query = match table {
                    Table::Ids => query.bind(rows.iter().map(|(_, k)| k.id()).collect::<Vec<_>>()),
                    Table::New => {
                        query.bind(rows.iter().map(|(_, k)| k.email()).collect::<Vec<_>>())
                    }
                };
                let found = query.fetch_all(&mut *c).await.context(context)?;
                earlier_rows(table, &found)?
            }
        };
        let mut out = HashMap::with_capacity(found.len());
        for (k, file, line, status) in found {
            let origin = Origin {
                file: self.files.get(file as usize).cloned().unwrap_or_default(),
                line: line as u64,
            };
            let status = status_from(status)?;
            out.insert(k, Earlier { origin, status });
        }
        Ok(out)
    }
}

impl Key {
    /// The id of a [`Table::Ids`] key (0 for an address: never asked).
    fn id(&self) -> i64 {
        match self {
            Key::Id(id) => *id,
            Key::Email(_) => 0,
        }
    }

    /// The address of a [`Table::New`] key ("" for an id: never asked).
    fn email(&self) -> &str {
        match self {
            Key::Id(_) => "",
            Key::Email(email) => email,
        }
    }
}

fn push_key<'s>(sql: &'s mut Sql, key: &Key) -> &'s mut Sql {
    match key {
        Key::Id(id) => sql.param(*id),
        Key::Email(email) => sql.param(email.as_str()),
    }
}

fn key_of(table: Table, row: &impl Cols) -> anyhow::Result<Key> {
    Ok(match table {
        Table::Ids => Key::Id(row.int("id")?),
        Table::New => Key::Email(row.text("email")?),
    })
}

/// (key, file, line, status) of each earlier row found.
fn earlier_rows(table: Table, rows: &[impl Cols]) -> anyhow::Result<Vec<(Key, i64, i64, String)>> {
    rows.iter()
        .map(|r| {
            Ok((
                key_of(table, r)?,
                r.int("file")?,
                r.int("line")?,
                r.text("status")?,
            ))
        })
        .collect()
}
