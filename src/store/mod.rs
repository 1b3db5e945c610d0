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
use anyhow::Context;
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

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

mod campaigns;
mod history;
mod import;
mod open;
mod row;
mod sql;
mod subscribers;
mod web;

pub use campaigns::{CampaignSummary, Unbounced};
pub use import::{IMPORT_BATCH, ImportSession, ImportSummary};
pub use open::{BUSY_TIMEOUT, Location, Opening, StoreMissing};
pub use subscribers::{AddOutcome, Transition};
pub use web::{Confirmation, SubscribeRequest, UNSUBSCRIBE_BATCH};

use row::Cols;

/// The subscriber store: a connection pool with domain-level methods.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
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

    async fn rollback(self) -> Result<(), sqlx::Error> {
        on_tx!(self, t => t.rollback().await)
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

    /// Closes every connection (checkpointing SQLite's WAL).
    pub async fn close(self) {
        on_pool!(self, p => p.close().await)
    }

    /// Starts a write transaction. SQLite takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a second process waits for it (up to
    /// [`BUSY_TIMEOUT`]) instead of failing on a lock upgrade; PostgreSQL
    /// locks rows as statements touch them.
    async fn begin_write(&self) -> anyhow::Result<Tx> {
        let tx = match &self.pool {
            Pool::Sqlite(p) => p.begin_with("BEGIN IMMEDIATE").await.map(Tx::Sqlite),
            Pool::Postgres(p) => p.begin().await.map(Tx::Postgres),
        };
        tx.context("cannot start a write transaction (is another process holding the database?)")
    }
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
