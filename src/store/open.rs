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
use crate::config::DatabaseSettings;

/// How long a SQLite writer waits for another process's write to finish.
/// An import of a million rows is one transaction of several seconds.
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

impl<'a> From<&'a DatabaseSettings> for Location<'a> {
    fn from(db: &'a DatabaseSettings) -> Self {
        Self {
            url: &db.url,
            password: db.password.as_ref().map(|p| p.expose()),
        }
    }
}

impl Store {
    /// Opens the store at `at` (`sqlite://mailroom.db` or
    /// `postgres://user@host/db`), creating a SQLite file and applying
    /// migrations as needed.
    pub async fn open<'a>(at: impl Into<Location<'a>>) -> anyhow::Result<Self> {
        Self::open_with(at.into(), SqliteSynchronous::Normal).await
    }

    /// Like [`Store::open`], but every SQLite commit is flushed to disk
    /// before it returns (`synchronous = FULL`), so a change survives a
    /// power loss: for the web service, which answers "done" only after
    /// that. (PostgreSQL commits are durable by the server's settings.)
    pub async fn open_durable<'a>(at: impl Into<Location<'a>>) -> anyhow::Result<Self> {
        Self::open_with(at.into(), SqliteSynchronous::Full).await
    }

    async fn open_with(at: Location<'_>, synchronous: SqliteSynchronous) -> anyhow::Result<Self> {
        let pool = if is_postgres(at.url) {
            Pool::Postgres(open_postgres(at).await?)
        } else {
            Pool::Sqlite(open_sqlite(at.url, synchronous).await?)
        };
        Ok(Self { pool })
    }
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

async fn open_sqlite(
    url: &str,
    synchronous: SqliteSynchronous,
) -> anyhow::Result<sqlx::SqlitePool> {
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| {
            format!(
                "`[database] url` is `{url}`, expected `sqlite://FILE` (e.g. \
                 `sqlite://mailroom.db`) or `postgres://USER@HOST/DATABASE`"
            )
        })?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
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
    Ok(pool)
}

async fn open_postgres(at: Location<'_>) -> anyhow::Result<sqlx::PgPool> {
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
    // sqlx holds an advisory lock while migrating, so senders starting
    // together apply each migration once.
    POSTGRES
        .run(&pool)
        .await
        .with_context(|| format!("cannot migrate the database `{shown}`"))?;
    Ok(pool)
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
