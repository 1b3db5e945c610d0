//! The database: subscribers, their append-only history, imports, campaigns
//! and their ledger. The only module that knows SQL or which database is in
//! use: SQLite (the embedded default, one sender per campaign) or
//! PostgreSQL (several senders on several machines sharing a campaign).
//!
//! One [`Store`] type holds either pool. Statements the two dialects agree
//! on are written once and run on either pool ([`on_pool!`], [`on_tx!`]
//! expand the same code for each backend); where they differ (bulk writes
//! with arrays on PostgreSQL, `FOR UPDATE SKIP LOCKED` claims, temporary
//! tables), each backend has its own statement. Placeholders are `$n`.
//! Every integer column is 64-bit on both (`BIGINT` on PostgreSQL).
use std::time::Duration;

use anyhow::Context;
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};

use crate::domain::{Consent, EmailAddress, Status, Subscriber, SubscriberId};

/// Runs `$body` with `$p` bound to the store's pool, whichever backend it
/// is: the same code, compiled once per backend.
macro_rules! on_pool {
    ($store:expr, $p:ident => $body:expr) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite($p) => $body,
            $crate::store::Pool::Postgres($p) => $body,
        }
    };
}

/// Runs `$body` with `$c` bound to the transaction's connection
/// (`&mut *$c` is an executor), whichever backend it is.
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::store::Tx::Sqlite($c) => $body,
            $crate::store::Tx::Postgres($c) => $body,
        }
    };
}

/// Runs `$body` with `$c` bound to a connection in a transaction (a
/// [`Tx`]'s, or an import's own [`Conn`]), whichever backend it is:
/// `&mut *$c` is an executor.
macro_rules! on_exec {
    ($conn:expr, $c:ident => $body:expr) => {
        match $crate::store::Exec::from($conn) {
            $crate::store::Exec::Sqlite($c) => $body,
            $crate::store::Exec::Postgres($c) => $body,
        }
    };
}

mod campaigns;
mod confirmations;
mod erasure;
mod history;
mod identity;
mod import;
mod inbound;
mod open;
mod row;
mod sql;
mod subscribers;
mod web;
mod writer;

pub use campaigns::{CampaignSummary, Unbounced};
pub use confirmations::{ClaimedConfirmation, ConfirmationOutcome, QueueDepth, QueuedConfirmation};
pub use erasure::{EraseOutcome, Erasure};
pub use identity::Merge;
pub use import::{
    CHUNK_GAP, CHUNK_HOLD, COPY_BATCH, IMPORT_BATCH, ImportSession, ImportSummary, LONG_GAP,
    LONG_GAP_EVERY,
};
pub use inbound::{Applied, BounceCounts, Received, SoftBounceRule};
pub use open::{BUSY_TIMEOUT, Location, Opening, StoreMissing};
pub use subscribers::{AddOutcome, Transition};
pub use web::{Confirmation, SubscribeRequest, UNSUBSCRIBE_BATCH};

use row::Cols;

/// How long a writer of the web service waits in SQLite's busy handler
/// before it tries again: see [`Store::open_durable`].
const EAGER_POLL: Duration = Duration::from_millis(2);

/// The subscriber store: a connection pool with domain-level methods.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    /// SQLite write connections that try for the lock every [`EAGER_POLL`]
    /// (the web service's); `None`: writers wait in SQLite's busy handler
    /// (and on PostgreSQL, which locks rows, not the database).
    eager: Option<SqlitePool>,
    /// Subscribers merged when this store was opened (see `identity`).
    merged: std::sync::Arc<[Merge]>,
    /// Keys for erasure hashes; `None` until [`Store::with_erasure_keys`].
    erasure: Option<erasure::ErasureKeys>,
    /// A SQLite connection outside the pool for the ledger's claims and
    /// commits; `None` until [`Store::with_own_writer`].
    writer: Option<writer::Own>,
}

/// The pool of whichever database the store uses.
#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A write transaction on either backend.
enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    async fn commit(self) -> Result<(), sqlx::Error> {
        on_tx!(self, t => t.commit().await)
    }

    /// What ends a `SELECT` whose rows this transaction goes on to change:
    /// `FOR UPDATE` on PostgreSQL, so concurrent writers queue on the rows;
    /// nothing on SQLite, where the transaction already holds the one
    /// write lock.
    fn for_update(&self) -> &'static str {
        match self {
            Tx::Sqlite(_) => "",
            Tx::Postgres(_) => " FOR UPDATE",
        }
    }
}

/// A connection of its own, outside the pool, on either backend: an
/// import's, whose temporary tables live as long as it does, and whose
/// transactions are its chunks (`BEGIN`/`COMMIT` as statements).
enum Conn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// A connection in a transaction, borrowed from a [`Tx`] or a [`Conn`], for
/// code both use (see [`on_exec!`]).
enum Exec<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

impl<'a> From<&'a mut Tx> for Exec<'a> {
    fn from(tx: &'a mut Tx) -> Self {
        match tx {
            Tx::Sqlite(t) => Exec::Sqlite(t),
            Tx::Postgres(t) => Exec::Postgres(t),
        }
    }
}

impl<'a, 'b> From<&'b mut Exec<'a>> for Exec<'b> {
    fn from(ex: &'b mut Exec<'a>) -> Self {
        match ex {
            Exec::Sqlite(c) => Exec::Sqlite(c),
            Exec::Postgres(c) => Exec::Postgres(c),
        }
    }
}

impl<'a> From<&'a mut Conn> for Exec<'a> {
    fn from(conn: &'a mut Conn) -> Self {
        match conn {
            Conn::Sqlite(c) => Exec::Sqlite(c),
            Conn::Postgres(c) => Exec::Postgres(c),
        }
    }
}

/// Which database a store uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One file, one sender per campaign.
    Sqlite,
    /// A shared server; several senders per campaign.
    Postgres,
}

impl Store {
    /// Which database this store uses.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The subscribers merged into one when this store was opened, because
    /// their addresses differ only in letter case or in the spelling of an
    /// internationalised domain (once, after an upgrade; usually empty).
    pub fn merged(&self) -> &[Merge] {
        &self.merged
    }

    /// Closes every connection (checkpointing SQLite's WAL).
    pub async fn close(self) {
        if let Some(own) = self.writer {
            writer::close(own).await;
        }
        if let Some(eager) = self.eager {
            eager.close().await;
        }
        on_pool!(self, p => p.close().await)
    }

    /// Starts a write transaction. SQLite takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a second process waits for it (up to
    /// [`BUSY_TIMEOUT`]) instead of failing on a lock upgrade; PostgreSQL
    /// locks rows as statements touch them.
    async fn begin_write(&self) -> anyhow::Result<Tx> {
        let context = "cannot start a write transaction (is another process holding the database?)";
        if let Some(eager) = &self.eager {
            return begin_eager(eager).await.map(Tx::Sqlite).context(context);
        }
        let tx = match &self.pool {
            Pool::Sqlite(p) => p.begin_with("BEGIN IMMEDIATE").await.map(Tx::Sqlite),
            Pool::Postgres(p) => p.begin().await.map(Tx::Postgres),
        };
        tx.context(context)
    }
}

/// Takes SQLite's write lock on an eager connection, trying again at once
/// while it is taken (up to [`BUSY_TIMEOUT`]).
async fn begin_eager(eager: &SqlitePool) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match eager.begin_with("BEGIN IMMEDIATE").await {
            Ok(tx) => return Ok(tx),
            Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                tokio::task::yield_now().await;
            }
            Err(e) => return Err(e),
        }
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
fn subscriber_from_row(row: &impl Cols) -> anyhow::Result<Subscriber> {
    let email = row.text("email")?;
    let parsed = EmailAddress::parse(&email)
        .with_context(|| format!("the store holds an invalid address `{email}`"))?;
    Ok(Subscriber {
        id: SubscriberId::new(row.int("id")?),
        email: parsed,
        name: row.opt_text("name")?,
        status: status_from(row.text("status")?)?,
        created_at: time_from(row.int("created_at")?)?,
        updated_at: time_from(row.int("updated_at")?)?,
        consent: Consent {
            source: row.text("consent_source")?.parse()?,
            at: time_from(row.int("consent_at")?)?,
            ip: ip_from(row.opt_text("consent_ip")?),
            confirmed_at: row.opt_int("confirmed_at")?.map(time_from).transpose()?,
            confirm_ip: ip_from(row.opt_text("confirm_ip")?),
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
