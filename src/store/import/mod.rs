//! Imports, committed in short chunks so that nobody waits long for them.
//!
//! SQLite has one writer at a time. An import in one transaction made every
//! one-click unsubscribe wait for its end (9.2 s for a million rows), and an
//! import longer than [`super::BUSY_TIMEOUT`] would have turned them into
//! errors. So an import is a series of chunks: each is one write
//! transaction that holds the lock for about [`CHUNK_HOLD`], then commits
//! and pauses before the next. The web service's writers try for the lock
//! every 2 ms (`Store::open_durable`), so they get it in every pause, short
//! as it is ([`CHUNK_GAP`]), and wait at most about one chunk. Other
//! writers (a `send` recording outcomes, the CLI) sleep up to 100 ms in
//! SQLite's busy handler between tries, so every [`LONG_GAP_EVERY`]th
//! pause is longer than that ([`LONG_GAP`]): they wait at most that many
//! chunks (about 2 s), never for the whole import.
//!
//! A chunk commits whole rows (a subscriber with its history), so a killed
//! import leaves the store consistent, part-way. Running the same import
//! again completes it: rows already applied are `unchanged`. A layout error
//! is found before the first chunk (see `Input::check_layouts`).
//!
//! A dry run writes nothing to the store and never takes its write lock:
//! it reads in short transactions and keeps its bookkeeping in temporary
//! tables, so it counts what the real import would.
//!
//! On SQLite and in dry runs, duplicates and conflicts are found without
//! holding the file's addresses in memory: the temporary table
//! `import_seen` records this import's first row for each subscriber id (a
//! dry run also records addresses new to the store, by address, in
//! `import_new`). Temporary tables live in a file (`temp_store = FILE`)
//! behind SQLite's default 2 MB cache, so memory stays flat: the ids
//! arrive mostly in order, so the file is appended to.
//!
//! SQLite-specific: `BEGIN IMMEDIATE`, the temp-store pragma and the pause.
//! PostgreSQL locks rows, not the database, so its batches need no pause;
//! each is a short transaction there too. They are larger ([`COPY_BATCH`]
//! rows), go through `COPY` (see `copy`) on two connections at once
//! (`workers`), and each address's first row is settled in memory before a
//! batch leaves (`firsts`, about 100 MB per million addresses); a dry run
//! binds arrays (`UNNEST`), one statement text whatever the count.
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::Connection;

use super::{Conn, Pool, Store, seconds};
use crate::import::{ImportRecord, Notice, Row as ImportRow};

mod batch;
mod binary;
mod copy;
mod firsts;
mod known;
mod seen;
mod workers;

pub use copy::COPY_BATCH;

/// Rows per batch: at most 10 bound values a row stays far below SQLite's
/// 32766 and PostgreSQL's 65535 parameter limits.
pub const IMPORT_BATCH: usize = 500;

/// How long one chunk holds the write lock before it commits: what a web
/// request may wait for an import, at worst.
pub const CHUNK_HOLD: Duration = Duration::from_millis(400);

/// The pause after a commit, in which other writers get the lock: many
/// times the web writers' 2 ms between tries, for a loaded machine.
pub const CHUNK_GAP: Duration = Duration::from_millis(25);

/// A pause longer than SQLite's busy handler sleeps between tries (100 ms),
/// so that any waiting writer gets the lock in it.
pub const LONG_GAP: Duration = Duration::from_millis(110);

/// Every this many pauses, one is [`LONG_GAP`]. With the short ones, the
/// pauses cost about 10% of an import's time.
pub const LONG_GAP_EVERY: u32 = 4;

/// What an import did, row by row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Addresses new to the store (with the status their file gives them).
    pub added: u64,
    /// Known addresses whose status or name changed.
    pub updated: u64,
    /// Rows that changed nothing: the store already agreed, or an earlier
    /// file of this import gave the address another suppression.
    pub unchanged: u64,
    /// Rows that would subscribe a suppressed address (in the store, or
    /// suppressed by an earlier file of this import); left suppressed.
    pub suppressed: u64,
    /// Bad rows and duplicates, skipped.
    pub rejected: u64,
}

impl ImportSummary {
    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &ImportSummary) {
        self.added += other.added;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.suppressed += other.suppressed;
        self.rejected += other.rejected;
    }
}

/// An import in progress: apply batches, then [`ImportSession::finish`].
pub struct ImportSession {
    /// A connection of its own: the temporary tables live on it.
    pub(super) conn: Conn,
    pub(super) dry_run: bool,
    /// When the open chunk's transaction began.
    chunk_began: Option<Instant>,
    /// When the last chunk committed.
    last_commit: Option<Instant>,
    /// Chunks committed so far.
    chunks: u32,
    /// When this import began: every row it writes carries this time.
    pub(super) now: i64,
    /// Whether the last batch was mostly new addresses.
    pub(super) mostly_new: bool,
    pub(super) files: Vec<Arc<str>>,
    pub(super) summary: ImportSummary,
    /// When the store holds erased addresses: the keys to recognise them.
    pub(super) erased: Option<super::erasure::ErasureKeys>,
    /// PostgreSQL, unless a dry run: the connections the batches go to.
    workers: Option<workers::Workers>,
    /// With `workers`: each address's first row so far.
    firsts: firsts::Firsts,
}

impl Store {
    /// How many rows an import should hand [`ImportSession::apply`] at a
    /// time: [`COPY_BATCH`] on PostgreSQL, [`IMPORT_BATCH`] on SQLite.
    pub fn import_batch_rows(&self) -> usize {
        match self.pool {
            Pool::Sqlite(_) => IMPORT_BATCH,
            Pool::Postgres(_) => COPY_BATCH,
        }
    }

    /// Starts an import; a dry run writes nothing to the store.
    pub async fn begin_import(&self, dry_run: bool) -> anyhow::Result<ImportSession> {
        let context = "cannot reach the store";
        let mut conn = match &self.pool {
            Pool::Sqlite(p) => Conn::Sqlite(p.acquire().await.context(context)?.detach()),
            Pool::Postgres(p) => Conn::Postgres(p.acquire().await.context(context)?.detach()),
        };
        let copies = matches!(conn, Conn::Postgres(_)) && !dry_run;
        let statements: &[&str] = match conn {
            // The workers need no temporary tables (see `firsts`).
            Conn::Postgres(_) if copies => &[],
            Conn::Sqlite(_) => &[
                "PRAGMA temp_store = FILE",
                "CREATE TEMP TABLE import_seen (id INTEGER PRIMARY KEY, \
                 file INTEGER NOT NULL, line INTEGER NOT NULL, status TEXT NOT NULL)",
                "CREATE TEMP TABLE import_new (email TEXT PRIMARY KEY, \
                 file INTEGER NOT NULL, line INTEGER NOT NULL, status TEXT NOT NULL) \
                 WITHOUT ROWID",
            ],
            Conn::Postgres(_) => &[
                "CREATE TEMP TABLE import_seen (id BIGINT PRIMARY KEY, \
                 file BIGINT NOT NULL, line BIGINT NOT NULL, status TEXT NOT NULL)",
                "CREATE TEMP TABLE import_new (email TEXT PRIMARY KEY, \
                 file BIGINT NOT NULL, line BIGINT NOT NULL, status TEXT NOT NULL)",
            ],
        };
        let setup: &[&str] = match conn {
            Conn::Sqlite(_) => &[],
            Conn::Postgres(_) => &copy::SETUP,
        };
        for statement in statements.iter().chain(setup) {
            on_exec!(&mut conn, c => sqlx::query(*statement).execute(&mut *c).await.map(|_| ()))
                .context("cannot prepare the import")?;
        }
        let erased = if super::erasure::any_erased(&mut conn).await? {
            Some(self.erasure_keys()?)
        } else {
            None
        };
        let now = seconds(crate::domain::now());
        let workers = match &self.pool {
            Pool::Postgres(p) if copies => Some(workers::Workers::start(p, now).await?),
            _ => None,
        };
        Ok(ImportSession {
            workers,
            firsts: firsts::Firsts::default(),
            erased,
            conn,
            dry_run,
            chunk_began: None,
            last_commit: None,
            chunks: 0,
            now,
            mostly_new: true,
            files: Vec::new(),
            summary: ImportSummary::default(),
        })
    }
}

impl ImportSession {
    /// Applies parsed rows ([`IMPORT_BATCH`] at a time, [`COPY_BATCH`] when
    /// the batch is copied to PostgreSQL) and returns what
    /// must be told about them, by line: bad rows, duplicates, conflicts.
    /// Commits when the chunk has held the lock for [`CHUNK_HOLD`]; on
    /// PostgreSQL, hands the rows to the workers, which commit each batch.
    pub async fn apply(&mut self, rows: Vec<ImportRow>) -> anyhow::Result<Vec<Notice>> {
        let mut notices = Vec::new();
        let mut records = Vec::with_capacity(rows.len());
        for row in rows {
            match row {
                ImportRow::Accepted(r) => records.push(r),
                ImportRow::Rejected(r) => notices.push(Notice::Rejected(r)),
            }
        }
        if self.workers.is_some() {
            self.send_to_workers(records, &mut notices).await?;
        } else {
            self.begin_chunk().await?;
            for batch in records.chunks(IMPORT_BATCH) {
                self.apply_batch(batch, &mut notices).await?;
            }
        }
        let rejected = notices
            .iter()
            .filter(|n| matches!(n, Notice::Rejected(_)))
            .count();
        self.summary.rejected += rejected as u64;
        if self.chunk_began.is_some_and(|t| t.elapsed() >= CHUNK_HOLD) {
            self.commit_chunk().await?;
        }
        notices.sort_by_key(|n| n.origin().line);
        Ok(notices)
    }

    /// Settles each row's place among the import's rows, leaves out the
    /// erased addresses, and hands the rest to the workers.
    async fn send_to_workers(
        &mut self,
        records: Vec<ImportRecord>,
        notices: &mut Vec<Notice>,
    ) -> anyhow::Result<()> {
        let firsts = self.first_rows_only(records, notices);
        let firsts = self.drop_erased_owned(firsts).await?;
        if let Some(workers) = &mut self.workers {
            workers.send(firsts).await?;
        }
        Ok(())
    }

    /// The summary so far: of the committed batches, on PostgreSQL.
    pub fn summary(&self) -> ImportSummary {
        let mut summary = self.summary;
        if let Some(workers) = &self.workers {
            summary.add(&workers.committed());
        }
        summary
    }

    /// Commits the last chunk and ends the import.
    pub async fn finish(mut self) -> anyhow::Result<ImportSummary> {
        if let Some(workers) = &mut self.workers {
            workers.finish().await?;
        }
        if self.chunk_began.is_some() {
            self.commit_chunk().await?;
        }
        // On PostgreSQL the batches committed without waiting for the disk
        // (see `copy::SETUP`): wait for them all now. A simple query:
        // several statements, one round trip.
        let summary = self.summary();
        if let Conn::Postgres(c) = &mut self.conn
            && !self.dry_run
        {
            sqlx::raw_sql(copy::FLUSH)
                .execute(&mut *c)
                .await
                .context("cannot commit the import")?;
        }
        // Closing the connection drops the temporary tables.
        let _ = match self.conn {
            Conn::Sqlite(c) => c.close().await,
            Conn::Postgres(c) => c.close().await,
        };
        Ok(summary)
    }

    /// Opens a chunk's transaction unless one is open, after the pause.
    async fn begin_chunk(&mut self) -> anyhow::Result<()> {
        if self.chunk_began.is_some() {
            return Ok(());
        }
        let begin = if self.dry_run {
            // Reads only; the bookkeeping in temporary tables takes no
            // lock on the store.
            "BEGIN"
        } else if let Conn::Postgres(_) = self.conn {
            // Row locks: other writers wait only for the rows this chunk
            // touches, so no pause.
            "BEGIN"
        } else {
            let gap = if self.chunks.is_multiple_of(LONG_GAP_EVERY) {
                LONG_GAP
            } else {
                CHUNK_GAP
            };
            if let Some(pause) = self.last_commit.and_then(|t| gap.checked_sub(t.elapsed())) {
                tokio::time::sleep(pause).await;
            }
            "BEGIN IMMEDIATE"
        };
        on_exec!(&mut self.conn, c => sqlx::query(begin).execute(&mut *c).await.map(|_| ()))
            .context(
                "cannot start a write transaction (is another process holding the database?)",
            )?;
        self.chunk_began = Some(Instant::now());
        Ok(())
    }

    async fn commit_chunk(&mut self) -> anyhow::Result<()> {
        on_exec!(&mut self.conn, c => sqlx::query("COMMIT").execute(&mut *c).await.map(|_| ()))
            .context("cannot commit the import")?;
        self.chunk_began = None;
        self.last_commit = Some(Instant::now());
        self.chunks += 1;
        Ok(())
    }

    /// The index of `file` in [`ImportSession::files`], added if new.
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
