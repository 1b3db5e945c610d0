//! A SQLite connection of the store's own, outside the pool, for the send
//! desk's claims and commits.
//!
//! Why not the pool: sqlx's pool hands out its idle connections in turn
//! (a FIFO queue), and in WAL mode a connection that finds the database
//! changed by another connection throws its whole page cache away and
//! reads the pages again. With the desk committing a small batch every
//! millisecond or so, every commit paid for that. Measured on a
//! 20,000-message SMTP send against smtp-sink (1 December 2026): 6.5 s of
//! CPU with the pool of 4, 4.9 s through one connection; but a pool of one
//! was slower (1,175–1,264 msg/s against 1,425–1,523), because a pooled
//! connection goes back to the pool in a task of its own, which the next
//! commit waits for. A connection held by the store has neither cost.
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use anyhow::Context;
use sqlx::pool::PoolConnection;
use sqlx::{Connection, Sqlite, SqliteConnection};
use tokio::sync::{Mutex, MutexGuard};

use super::{Pool, Store};

/// The store's own SQLite connection, shared by its clones.
pub(super) type Own = Arc<Mutex<SqliteConnection>>;

/// A SQLite connection to write the ledger on: the store's own, or one
/// from the pool.
pub(super) enum Writer<'a> {
    Own(MutexGuard<'a, SqliteConnection>),
    Pooled(PoolConnection<Sqlite>),
}

impl Deref for Writer<'_> {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        match self {
            Writer::Own(c) => c,
            Writer::Pooled(c) => c,
        }
    }
}

impl DerefMut for Writer<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        match self {
            Writer::Own(c) => c,
            Writer::Pooled(c) => c,
        }
    }
}

impl Store {
    /// This store, with a SQLite connection of its own for the ledger's
    /// claims and commits (see the module's comment); `send` opens its
    /// store this way. A PostgreSQL store is returned as it is.
    pub async fn with_own_writer(mut self) -> anyhow::Result<Self> {
        if let Pool::Sqlite(p) = &self.pool {
            let conn = SqliteConnection::connect_with(&p.connect_options())
                .await
                .context("cannot open a connection to the database for the ledger")?;
            self.writer = Some(Arc::new(Mutex::new(conn)));
        }
        Ok(self)
    }

    /// The connection to write a SQLite store's ledger on: the store's own
    /// when it has one, else one from the pool.
    pub(super) async fn sqlite_writer(&self) -> Result<Writer<'_>, sqlx::Error> {
        match (&self.writer, &self.pool) {
            (Some(own), _) => Ok(Writer::Own(own.lock().await)),
            (None, Pool::Sqlite(pool)) => pool.acquire().await.map(Writer::Pooled),
            (None, Pool::Postgres(_)) => {
                unreachable!("a PostgreSQL ledger writes through its pool")
            }
        }
    }
}

/// Closes the store's own connection, once no clone of the store holds it.
pub(super) async fn close(own: Own) {
    if let Ok(conn) = Arc::try_unwrap(own) {
        let _ = conn.into_inner().close().await;
    }
}
