//! Opening the store named by `[database] url`: a SQLite file (created and
//! migrated as needed) or a PostgreSQL database (migrated as needed; the
//! database itself is the operator's to create). The PostgreSQL password
//! comes from `MAILROOM_DATABASE__PASSWORD`, else `PGPASSWORD` or
//! `~/.pgpass`, never from the config file; messages never show it.
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{Pool, Store};
use crate::config::{DatabaseSettings, DatabaseUrl};

/// How long a SQLite writer waits for another process's write to finish. An
/// import commits every [`CHUNK_HOLD`](super::CHUNK_HOLD), so nobody should
/// wait that long.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(120);

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Where the store is: its URL and, for PostgreSQL, the password from the
/// environment (`[database] password`, only ever from
/// `MAILROOM_DATABASE__PASSWORD`).
#[derive(Clone, Copy)]
pub struct Location<'a> {
    pub url: &'a str,
    pub password: Option<&'a str>,
}

impl<'a> From<&'a str> for Location<'a> {
    fn from(url: &'a str) -> Self {
        Self {
            url,
            password: None,
        }
    }
}

impl<'a> From<&'a String> for Location<'a> {
    fn from(url: &'a String) -> Self {
        url.as_str().into()
    }
}

impl<'a> From<&'a DatabaseUrl> for Location<'a> {
    fn from(url: &'a DatabaseUrl) -> Self {
        Self {
            url,
            password: None,
        }
    }
}

impl<'a> From<&'a DatabaseSettings> for Location<'a> {
    fn from(db: &'a DatabaseSettings) -> Self {
        Self {
            url: &db.url,
            password: db.password.as_ref().map(|p| p.expose()),
        }
    }
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
    /// The SQLite file, or the PostgreSQL URL (without its password).
    pub path: std::path::PathBuf,
}

/// Whether [`Store::create`] made a new store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    Created,
    Existed,
}

impl Store {
    /// Opens the existing store at `at` (`sqlite://mailroom.db` or
    /// `postgres://user@host/db`), applying migrations as needed; a missing
    /// SQLite file, or a PostgreSQL database without mailroom's tables, is
    /// [`StoreMissing`].
    pub async fn open<'a>(at: impl Into<Location<'a>>) -> anyhow::Result<Self> {
        Ok(
            Self::open_with(at.into(), SqliteSynchronous::Normal, false, false)
                .await?
                .0,
        )
    }

    /// Like [`Store::open`], for the web service, which answers "done" only
    /// once a change is safe and must not keep a visitor waiting. On SQLite:
    /// - every commit is flushed to disk before it returns
    ///   (`synchronous = FULL`), so a change survives a power loss;
    /// - a write that finds the lock taken tries again every
    ///   [`EAGER_POLL`](super::EAGER_POLL), where SQLite's busy handler
    ///   sleeps up to 100 ms between tries, so it gets the lock in the short
    ///   pause an import leaves between its chunks (see `store::import`).
    ///
    /// (PostgreSQL commits are durable by the server's settings, and its
    /// writers wait on rows, not on one lock.)
    pub async fn open_durable<'a>(at: impl Into<Location<'a>>) -> anyhow::Result<Self> {
        Ok(
            Self::open_with(at.into(), SqliteSynchronous::Full, false, true)
                .await?
                .0,
        )
    }

    /// Opens the store at `at`, creating it when it does not exist (a
    /// SQLite file readable by the owner only; mailroom's tables in an
    /// existing, empty PostgreSQL database): for `init` and adding
    /// subscribers.
    pub async fn create<'a>(at: impl Into<Location<'a>>) -> anyhow::Result<(Self, Opening)> {
        Self::open_with(at.into(), SqliteSynchronous::Normal, true, false).await
    }

    async fn open_with(
        at: Location<'_>,
        synchronous: SqliteSynchronous,
        create: bool,
        eager: bool,
    ) -> anyhow::Result<(Self, Opening)> {
        let (pool, eager, opening) = if is_postgres(at.url) {
            let (pool, opening) = open_postgres(at, create).await?;
            (Pool::Postgres(pool), None, opening)
        } else {
            let (pool, eager, opening) = open_sqlite(at.url, synchronous, create, eager).await?;
            (Pool::Sqlite(pool), eager, opening)
        };
        let mut store = Self {
            pool,
            eager,
            merged: std::sync::Arc::new([]),
            erasure: None,
            writer: None,
        };
        let merged = store.settle_identities().await.with_context(|| {
            format!(
                "cannot settle the subscribers' identities in `{}`",
                redact(at.url)
            )
        })?;
        store.merged = merged.into();
        Ok((store, opening))
    }
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Opens the SQLite pool, and with `eager` a second, small pool of write
/// connections that give up on a taken lock at once (tried again by
/// `Store::begin_write`).
async fn open_sqlite(
    url: &str,
    synchronous: SqliteSynchronous,
    create: bool,
    eager: bool,
) -> anyhow::Result<(sqlx::SqlitePool, Option<sqlx::SqlitePool>, Opening)> {
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| {
            format!(
                "`[database] url` is `{url}`, expected `sqlite://FILE` (e.g. \
                 `sqlite://mailroom.db`) or `postgres://USER@HOST/DATABASE`"
            )
        })?
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true);
    let opening = prepare_file(url, options.get_filename(), create)?;
    let eager = eager.then(|| {
        SqlitePoolOptions::new()
            .max_connections(2)
            .connect_lazy_with(options.clone().busy_timeout(super::EAGER_POLL))
    });
    // A SQLite connection is a file handle in this process: it cannot go
    // stale, so the pool does not ping it before each use (sqlx does by
    // default: one more round trip to the connection's thread per ledger
    // commit, ~1 context switch per message sent).
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .test_before_acquire(false)
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
    if SQLITE.run(&pool).await.is_err() {
        SQLITE
            .run(&pool)
            .await
            .with_context(|| format!("cannot migrate the database `{url}`"))?;
    }
    Ok((pool, eager, opening))
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

async fn open_postgres(at: Location<'_>, create: bool) -> anyhow::Result<(sqlx::PgPool, Opening)> {
    let shown = redact(at.url);
    let mut options = PgConnectOptions::from_str(at.url).with_context(|| {
        format!("`[database] url` is `{shown}`, expected `postgres://USER@HOST[:PORT]/DATABASE`")
    })?;
    if let Some(password) = at.password {
        options = options.password(password);
    }
    options = options.application_name("mailroom");
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options)
        .await
        .with_context(|| {
            format!(
                "cannot connect to the PostgreSQL database `{shown}`; check `[database] url` (or \
                 MAILROOM_DATABASE__URL), that the database exists (`createdb`), and the \
                 password (MAILROOM_DATABASE__PASSWORD, PGPASSWORD or ~/.pgpass)"
            )
        })?;
    // The database is the operator's; mailroom's tables in it are the
    // store, created only where a SQLite file would be.
    let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass('subscribers')::TEXT")
        .fetch_one(&pool)
        .await
        .with_context(|| format!("cannot read the database `{shown}`"))?;
    let opening = match (exists, create) {
        (Some(_), _) => Opening::Existed,
        (None, true) => Opening::Created,
        (None, false) => {
            return Err(StoreMissing { path: shown.into() }.into());
        }
    };
    // sqlx holds an advisory lock while migrating, so senders starting
    // together apply each migration once.
    POSTGRES
        .run(&pool)
        .await
        .with_context(|| format!("cannot migrate the database `{shown}`"))?;
    Ok((pool, opening))
}

/// `url` with any password replaced by `***`, for messages.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    match authority[..at].find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end],
            &authority[..colon],
            &rest[at..]
        ),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_a_url_never_reaches_a_message() {
        assert_eq!(
            redact("postgres://mail:s3cr@t@db.example.org:5432/mailroom?sslmode=require"),
            "postgres://mail:***@db.example.org:5432/mailroom?sslmode=require"
        );
        assert_eq!(
            redact("postgres://mail@db.example.org/mailroom"),
            "postgres://mail@db.example.org/mailroom"
        );
        assert_eq!(redact("sqlite://mailroom.db"), "sqlite://mailroom.db");
        assert!(is_postgres("postgresql://h/d") && !is_postgres("sqlite://p.db"));
    }
}
