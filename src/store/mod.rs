//! The database: subscribers, their append-only history, imports. The only
//! module that knows SQL or which database is in use (SQLite today;
//! PostgreSQL next, for several sender machines sharing one campaign).
//!
//! Queries are sqlx runtime queries in portable SQL (`$1` placeholders,
//! `RETURNING`, `ON CONFLICT`). Write transactions start with
//! `BEGIN IMMEDIATE`, so a second process waits for the write lock (up to
//! [`BUSY_TIMEOUT`]) instead of failing on a lock upgrade.
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Transaction};

use crate::domain::{Consent, EmailAddress, Status, Subscriber, SubscriberId};

mod campaigns;
mod confirmations;
mod erasure;
mod history;
mod identity;
mod import;
mod sql;
mod subscribers;
mod web;

pub use campaigns::{CampaignSummary, Unbounced};
pub use confirmations::{ClaimedConfirmation, ConfirmationOutcome, QueuedConfirmation};
pub use erasure::{EraseOutcome, Erasure};
pub use identity::Merge;
pub use import::{
    CHUNK_GAP, CHUNK_HOLD, IMPORT_BATCH, ImportSession, ImportSummary, LONG_GAP, LONG_GAP_EVERY,
};
pub use subscribers::{AddOutcome, Transition};
pub use web::{Confirmation, SubscribeRequest, UNSUBSCRIBE_BATCH};

/// How long a writer waits for another process's write to finish. An
/// import commits every [`CHUNK_HOLD`], so nobody should wait that long.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(120);

type Db = sqlx::Sqlite;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a writer of the web service waits in SQLite's busy handler
/// before it tries again: see [`Store::open_durable`].
const EAGER_POLL: Duration = Duration::from_millis(2);

/// The subscriber store: a connection pool with domain-level methods.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    /// Write connections that try for the lock every [`EAGER_POLL`] (the
    /// web service's); `None`: writers wait in SQLite's busy handler.
    eager: Option<SqlitePool>,
    /// Subscribers merged when this store was opened (see `identity`).
    merged: std::sync::Arc<[Merge]>,
    /// Keys for erasure hashes; `None` until [`Store::with_erasure_keys`].
    erasure: Option<erasure::ErasureKeys>,
}

/// There is no store where the settings point. Only `init`,
/// `subscribers add` and `subscribers import` create one, so a run from the
/// wrong directory fails here instead of mailing an empty list.
#[derive(Debug, thiserror::Error)]
#[error(
    "no store at `{}`; run `mailroom init` to create one there, or point `[database] url` \
     (or MAILROOM_DATABASE__URL, or `--config`) at the existing store",
    path.display()
)]
pub struct StoreMissing {
    pub path: std::path::PathBuf,
}

/// Whether [`Store::create`] made a new store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    Created,
    Existed,
}

impl Store {
    /// Opens the existing database at `url` (`sqlite://mailroom.db`),
    /// applying migrations as needed; a missing file is [`StoreMissing`].
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        Ok(
            Self::open_with(url, SqliteSynchronous::Normal, false, false)
                .await?
                .0,
        )
    }

    /// Like [`Store::open`], for the web service, which answers "done" only
    /// once a change is safe and must not keep a visitor waiting:
    /// - every commit is flushed to disk before it returns
    ///   (`synchronous = FULL`), so a change survives a power loss;
    /// - a write that finds the lock taken tries again every
    ///   [`EAGER_POLL`], where SQLite's busy handler sleeps up to 100 ms
    ///   between tries, so it gets the lock in the short pause an import
    ///   leaves between its chunks (see `store::import`).
    pub async fn open_durable(url: &str) -> anyhow::Result<Self> {
        Ok(Self::open_with(url, SqliteSynchronous::Full, false, true)
            .await?
            .0)
    }

    /// Opens the database at `url`, creating it (readable by the owner
    /// only) when it does not exist: for `init` and adding subscribers.
    pub async fn create(url: &str) -> anyhow::Result<(Self, Opening)> {
        Self::open_with(url, SqliteSynchronous::Normal, true, false).await
    }

    async fn open_with(
        url: &str,
        synchronous: SqliteSynchronous,
        create: bool,
        eager: bool,
    ) -> anyhow::Result<(Self, Opening)> {
        if url.starts_with("postgres") {
            anyhow::bail!(
                "`[database] url` is `{url}`: PostgreSQL is not supported yet; use `sqlite://FILE`"
            );
        }
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| {
                format!("`[database] url` is `{url}`, expected `sqlite://FILE` (e.g. `sqlite://mailroom.db`)")
            })?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let opening = prepare_file(url, options.get_filename(), create)?;
        let eager = eager.then(|| {
            SqlitePoolOptions::new()
                .max_connections(2)
                .connect_lazy_with(options.clone().busy_timeout(EAGER_POLL))
        });
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.create_if_missing(create))
            .await
            .with_context(|| {
                format!(
                    "cannot open the database `{url}`; check `[database] url` \
                     (or MAILROOM_DATABASE__URL) and that its directory exists and is writable"
                )
            })?;
        // Two processes opening a new file at once may race to migrate; the
        // loser's retry finds the migrations applied.
        if MIGRATOR.run(&pool).await.is_err() {
            MIGRATOR
                .run(&pool)
                .await
                .with_context(|| format!("cannot migrate the database `{url}`"))?;
        }
        let mut store = Self {
            pool,
            eager,
            merged: std::sync::Arc::new([]),
            erasure: None,
        };
        let merged = store
            .settle_identities()
            .await
            .with_context(|| format!("cannot settle the subscribers' identities in `{url}`"))?;
        store.merged = merged.into();
        Ok((store, opening))
    }

    /// The subscribers merged into one when this store was opened, because
    /// their addresses differ only in letter case or in the spelling of an
    /// internationalised domain (once, after an upgrade; usually empty).
    pub fn merged(&self) -> &[Merge] {
        &self.merged
    }

    /// Closes every connection (checkpointing the WAL).
    pub async fn close(self) {
        if let Some(eager) = self.eager {
            eager.close().await;
        }
        self.pool.close().await;
    }

    /// Starts a write transaction, waiting for other writers (up to
    /// [`BUSY_TIMEOUT`]).
    async fn begin_write(&self) -> anyhow::Result<Transaction<'static, Db>> {
        let context = "cannot start a write transaction (is another process holding the database?)";
        let Some(eager) = &self.eager else {
            return self
                .pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .context(context);
        };
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        loop {
            match eager.begin_with("BEGIN IMMEDIATE").await {
                Ok(tx) => return Ok(tx),
                Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                    tokio::task::yield_now().await;
                }
                Err(e) => return Err(e).context(context),
            }
        }
    }
}

/// Checks that the SQLite file exists, or creates it empty with mode 0600
/// when `create` (SQLite gives its `-wal` and `-shm` files the same mode).
/// In-memory databases have no file.
fn prepare_file(url: &str, path: &std::path::Path, create: bool) -> anyhow::Result<Opening> {
    use std::os::unix::fs::OpenOptionsExt;
    if url.contains(":memory:") || url.contains("mode=memory") || path.exists() {
        return Ok(Opening::Existed);
    }
    if !create {
        return Err(StoreMissing {
            path: path.to_owned(),
        }
        .into());
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(Opening::Created),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Opening::Existed),
        Err(e) => Err(e).with_context(|| {
            format!(
                "cannot create the store `{}`; check that its directory exists and is writable",
                path.display()
            )
        }),
    }
}

/// Whether `e` is SQLite's `SQLITE_BUSY` (any extended code): the write
/// lock is taken.
fn is_busy(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| code & 0xff == 5)
}

/// The columns [`subscriber_from_row`] reads, in a `SELECT`.
const SUBSCRIBER_COLUMNS: &str = "id, email, name, status, created_at, updated_at, \
     consent_source, consent_at, consent_ip, confirmed_at, confirm_ip";

/// Reads a subscriber selected with [`SUBSCRIBER_COLUMNS`].
fn subscriber_from_row(row: &SqliteRow) -> anyhow::Result<Subscriber> {
    let email: String = row.try_get("email")?;
    let parsed = EmailAddress::parse(&email)
        .with_context(|| format!("the store holds an invalid address `{email}`"))?;
    Ok(Subscriber {
        id: SubscriberId::new(row.try_get("id")?),
        email: parsed,
        name: row.try_get("name")?,
        status: status_from(row.try_get("status")?)?,
        created_at: time_from(row.try_get("created_at")?)?,
        updated_at: time_from(row.try_get("updated_at")?)?,
        consent: Consent {
            source: row.try_get::<String, _>("consent_source")?.parse()?,
            at: time_from(row.try_get("consent_at")?)?,
            ip: ip_from(row.try_get("consent_ip")?),
            confirmed_at: row
                .try_get::<Option<i64>, _>("confirmed_at")?
                .map(time_from)
                .transpose()?,
            confirm_ip: ip_from(row.try_get("confirm_ip")?),
        },
    })
}

fn status_from(word: String) -> anyhow::Result<Status> {
    word.parse::<Status>()
        .context("the store holds a status this version does not know; upgrade mailroom")
}

fn ip_from(text: Option<String>) -> Option<std::net::IpAddr> {
    text.and_then(|t| t.parse().ok())
}

fn ip_text(ip: Option<std::net::IpAddr>) -> Option<String> {
    ip.map(|i| i.to_string())
}

/// A time as the store keeps it: whole seconds since the Unix epoch.
pub(crate) fn seconds(t: time::OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

pub(crate) fn time_from(seconds: i64) -> anyhow::Result<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .with_context(|| format!("the store holds an impossible time `{seconds}`"))
}
