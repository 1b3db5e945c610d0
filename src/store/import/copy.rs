//! PostgreSQL's import batch, on one of the import's worker connections
//! (see `workers`): look up which of the batch's addresses the store
//! knows, take ids for the others from the table's sequence, and `COPY`
//! them and their history straight into `subscribers` and
//! `subscriber_history`; then apply the known rows one by one, as on
//! SQLite (`known`). A batch is one transaction.
//!
//! Why: the earlier shape (`COPY` into temporary tables, then one
//! statement inserting from there with `ON CONFLICT`, marking each row in
//! `import_seen` and returning the known ones) cost one backend 16 s of CPU
//! for 1,000,000 Mailchimp rows, where a bare `COPY` of the same rows into
//! `subscribers` with its indexes costs 5.8 s and their history 2.4 s
//! (measured alone with `psql`, load 3.7). The duplicates within the
//! import are now found in memory before a batch leaves (`firsts`), and the
//! rows are written once, by `COPY`, with no staging table: two backends
//! spent 10.8 s of CPU between them, and the import took half the time.
//!
//! A writer outside the import (a subscribe through `serve`) may add one
//! of the batch's addresses between the look-up and the `COPY`: the `COPY`
//! then fails on the unique key, the batch's transaction rolls back (the
//! ids it took are left unused), and the batch is tried again, looked up
//! first.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use sqlx::{AssertSqlSafe, PgConnection, Row};

use super::ImportSummary;
use super::binary::Encoded;
use super::known::{Apply, known};
use crate::import::ImportRecord;
use crate::store::Conn;

/// Rows per `COPY` batch on PostgreSQL: large enough that the per-batch
/// statements cost little, small enough that a batch in flight (the
/// reader keeps a few) stays a few MB.
pub const COPY_BATCH: usize = 10_000;

/// What each connection of a PostgreSQL import runs first: no JIT, and no
/// wait for the disk at each batch's commit.
pub(super) const SETUP: [&str; 2] = [
    // Row estimates for arrays and joins of a batch can put a plan over
    // `jit_above_cost`: compiling each batch's plan once took 229 s of a
    // 1,000,000-row import, the work itself 71 s.
    "SET jit = off",
    // A batch's commit does not wait for its WAL to reach the disk: a
    // crash of the database server may forget the last batches' commits
    // (never part of one: each batch is a transaction), and running the
    // import again completes it, as after a killed import. `finish` waits
    // for everything once, at the end (`FLUSH`), so a finished import is
    // durable before it says so.
    "SET synchronous_commit = off",
];

/// Makes every commit of the import durable: a transaction with an id
/// commits synchronously, which flushes the WAL up to its commit record,
/// and with it every earlier commit of the import (the workers' included:
/// they have all committed when this runs).
pub(super) const FLUSH: &str =
    "SET synchronous_commit = on; BEGIN; SELECT pg_current_xact_id(); COMMIT";

/// Tries of one batch while writers outside the import keep adding its
/// addresses under it.
const TRIES: usize = 5;

/// One worker's connection, and the import's time.
pub(super) struct Copier {
    pub conn: Conn,
    pub now: i64,
    /// Whether the last batch held no known address: then the next one is
    /// copied without a look-up first (see [`Copier::attempt`]).
    pub all_new: bool,
}

/// Why an attempt at a batch failed.
enum Failed {
    /// A `COPY` met an address added since the look-up: try again.
    KeyTaken,
    Other(anyhow::Error),
}

impl From<anyhow::Error> for Failed {
    fn from(e: anyhow::Error) -> Self {
        Failed::Other(e)
    }
}

impl Copier {
    /// Applies `rows` (each its address's first in the import, none
    /// erased) in one transaction; returns what it did once committed.
    pub async fn apply(&mut self, rows: Vec<ImportRecord>) -> anyhow::Result<ImportSummary> {
        let rows = Arc::new(rows);
        let mut tries = 0;
        loop {
            tries += 1;
            let mut summary = ImportSummary::default();
            let failed = match self.attempt(&rows, &mut summary).await {
                Ok(()) => match self.exec("COMMIT").await {
                    Ok(()) => return Ok(summary),
                    Err(e) => Failed::Other(e),
                },
                Err(failed) => failed,
            };
            // Outside a transaction (a look-up failed) this only warns.
            let _ = self.exec("ROLLBACK").await;
            match failed {
                Failed::KeyTaken if tries < TRIES => self.all_new = false,
                Failed::KeyTaken => anyhow::bail!(
                    "cannot add the new addresses: other writers kept adding them during the import"
                ),
                Failed::Other(e) => return Err(e),
            }
        }
    }

    /// One try at a batch, in a transaction the caller ends.
    ///
    /// While batches hold only new addresses (a list imported into a store
    /// that does not have it yet), the look-up finds nothing and cost a
    /// tenth of the server's time (3.1 s of 23 s for 1,000,000 rows): such
    /// a batch is copied first, and looked up only when the unique key
    /// says some of it was there.
    async fn attempt(
        &mut self,
        rows: &Arc<Vec<ImportRecord>>,
        summary: &mut ImportSummary,
    ) -> Result<(), Failed> {
        let (mut known, new) = if self.all_new {
            (HashMap::new(), (0..rows.len()).collect())
        } else {
            let all: Vec<&ImportRecord> = rows.iter().collect();
            let known = known(&mut self.conn, &all).await?;
            let new: Vec<usize> = (0..rows.len())
                .filter(|&i| !known.contains_key(rows[i].email.key()))
                .collect();
            (known, new)
        };
        self.all_new = known.is_empty();
        summary.added += new.len() as u64;
        self.copy_new(rows, new).await?;
        let mut apply = Apply {
            conn: &mut self.conn,
            now: self.now,
            dry_run: false,
            summary,
        };
        for r in rows.iter() {
            if let Some(k) = known.remove(r.email.key()) {
                apply.update(&k, r).await?;
            }
        }
        Ok(())
    }

    /// Begins the transaction and adds `rows[i]` for each `i` in `new`
    /// (none of them in the store when it was looked up), with their
    /// history: ids from the sequence, in file order, while the rows are
    /// encoded on the blocking pool, then two `COPY`s.
    async fn copy_new(
        &mut self,
        rows: &Arc<Vec<ImportRecord>>,
        new: Vec<usize>,
    ) -> Result<(), Failed> {
        let context = "cannot add the new addresses";
        let Conn::Postgres(c) = &mut self.conn else {
            return Err(anyhow::anyhow!("a COPY batch needs PostgreSQL").into());
        };
        let n = new.len();
        if n == 0 {
            sqlx::query("BEGIN")
                .execute(&mut *c)
                .await
                .context(context)?;
            return Ok(());
        }
        let (rows, now) = (rows.clone(), self.now);
        let encoding = tokio::task::spawn_blocking(move || Encoded::new(&rows, &new, now));
        // `BEGIN` and the ids in one round trip (a simple query; `n` is a
        // number). The sequence behind `subscribers.id` (an identity
        // column) is named as a literal, so it is resolved once, not once
        // a row.
        let sql =
            format!("BEGIN; SELECT nextval('subscribers_id_seq') FROM generate_series(1, {n})");
        let (ids, encoded) = tokio::join!(
            sqlx::raw_sql(AssertSqlSafe(sql)).fetch_all(&mut *c),
            encoding
        );
        let mut ids: Vec<i64> = ids
            .and_then(|rows| rows.iter().map(|r| r.try_get::<i64, _>(0)).collect())
            .map_err(|e| anyhow::Error::new(e).context(context))?;
        ids.sort_unstable();
        let mut encoded = encoded.context("the import's encoding task failed")?;
        if ids.len() != encoded.rows() {
            return Err(anyhow::anyhow!(
                "{context}: the sequence gave {} ids for {n} rows",
                ids.len()
            )
            .into());
        }
        encoded.patch(&ids);
        copy_in(c, COPY_SUBSCRIBERS, encoded.records)
            .await
            .map_err(copy_failed)?;
        copy_in(c, COPY_HISTORY, encoded.changes)
            .await
            .map_err(copy_failed)?;
        Ok(())
    }

    async fn exec(&mut self, statement: &'static str) -> anyhow::Result<()> {
        on_exec!(&mut self.conn, c => sqlx::query(statement).execute(&mut *c).await.map(|_| ()))
            .context("cannot write the import's batch")
    }
}

const COPY_SUBSCRIBERS: &str = "COPY subscribers (id, email, email_key, name, status, \
     created_at, updated_at, consent_source, consent_at, consent_ip, confirmed_at, confirm_ip) \
     FROM STDIN (FORMAT binary)";

const COPY_HISTORY: &str = "COPY subscriber_history (subscriber_id, status, at, source, ip, \
     reason) FROM STDIN (FORMAT binary)";

/// A failed `COPY`: [`Failed::KeyTaken`] when it met an address added
/// since the look-up.
fn copy_failed(e: sqlx::Error) -> Failed {
    let taken = e.as_database_error().is_some_and(|d| {
        d.code().as_deref() == Some("23505") && d.constraint() == Some("subscribers_by_key")
    });
    if taken {
        Failed::KeyTaken
    } else {
        Failed::Other(anyhow::Error::new(e).context("cannot add the new addresses"))
    }
}

/// Runs a `COPY … FROM STDIN` with `data` as its input.
async fn copy_in(c: &mut PgConnection, statement: &str, data: Vec<u8>) -> sqlx::Result<u64> {
    let mut copy = c.copy_in_raw(statement).await?;
    if let Err(e) = copy.send(data).await {
        let _ = copy.abort(e.to_string()).await;
        return Err(e);
    }
    copy.finish().await
}
