//! PostgreSQL imports on several connections at once: a backend is a
//! process, so [`WORKERS`] `COPY`s in flight use as many cores.
//!
//! The session's own task settles which row is each address's first
//! (`firsts`), leaves out erased addresses, and hands each batch to
//! whichever worker is free. A batch's addresses are then unique across
//! the whole import, so the workers never meet one another's rows. Each
//! batch is a transaction of its own; its counts join the summary only
//! once it has committed, so a summary always describes what is in the
//! store. The first error stops every worker after its current batch.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use sqlx::{Connection, PgPool};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::ImportSummary;
use super::copy::{Copier, SETUP};
use crate::import::ImportRecord;
use crate::store::Conn;

/// Connections writing at once. Two: a bare `COPY` of 1,000,000 subscribers
/// took 7.0 s split over two sessions against 9.0 s in one, the same 5.8 s
/// of CPU in all (`psql`, this 2-core machine, load 3.7), and more
/// connections than the server has cores only queue.
pub const WORKERS: usize = 2;

type Batch = Vec<ImportRecord>;
type Queue = Arc<tokio::sync::Mutex<mpsc::Receiver<Batch>>>;

/// The workers of one import.
pub(super) struct Workers {
    tx: Option<mpsc::Sender<Batch>>,
    handles: Vec<JoinHandle<anyhow::Result<()>>>,
    /// What the committed batches did.
    committed: Arc<Mutex<ImportSummary>>,
    /// Set by a worker that failed: the others stop, no batch is sent.
    failed: Arc<AtomicBool>,
}

impl Workers {
    /// Opens [`WORKERS`] connections of `pool`; rows written carry `now`.
    pub async fn start(pool: &PgPool, now: i64) -> anyhow::Result<Self> {
        let (tx, rx) = mpsc::channel::<Batch>(WORKERS);
        let queue: Queue = Arc::new(tokio::sync::Mutex::new(rx));
        let committed = Arc::new(Mutex::new(ImportSummary::default()));
        let failed = Arc::new(AtomicBool::new(false));
        let mut handles = Vec::with_capacity(WORKERS);
        for _ in 0..WORKERS {
            let mut conn = pool
                .acquire()
                .await
                .context("cannot reach the store")?
                .detach();
            for statement in SETUP {
                sqlx::query(statement)
                    .execute(&mut conn)
                    .await
                    .context("cannot prepare the import")?;
            }
            let copier = Copier {
                conn: Conn::Postgres(conn),
                now,
                // The first batch is looked up: it tells whether the list
                // is new to the store.
                all_new: false,
            };
            let (queue, committed, failed) = (queue.clone(), committed.clone(), failed.clone());
            handles.push(tokio::spawn(work(copier, queue, committed, failed)));
        }
        Ok(Self {
            tx: Some(tx),
            handles,
            committed,
            failed,
        })
    }

    /// Hands `rows` to the next free worker (waiting while all are busy
    /// and the queue is full). Fails with a worker's error once one failed.
    pub async fn send(&mut self, rows: Batch) -> anyhow::Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let sent = match (&self.tx, self.failed.load(Ordering::SeqCst)) {
            (Some(tx), false) => tx.send(rows).await.is_ok(),
            _ => false,
        };
        if sent && !self.failed.load(Ordering::SeqCst) {
            return Ok(());
        }
        self.finish().await?;
        anyhow::bail!("the import's connections stopped")
    }

    /// What the committed batches did so far.
    pub fn committed(&self) -> ImportSummary {
        *self.committed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lets the workers finish the queued batches and close; the first
    /// error any of them met.
    pub async fn finish(&mut self) -> anyhow::Result<()> {
        self.tx = None;
        let mut first = Ok(());
        for handle in self.handles.drain(..) {
            let done = match handle.await {
                Ok(done) => done,
                Err(e) => Err(anyhow::anyhow!("an import connection's task failed: {e}")),
            };
            if first.is_ok() {
                first = done;
            }
        }
        first
    }
}

/// One worker: takes batches off the queue until it is closed, or until
/// any worker failed.
async fn work(
    mut copier: Copier,
    queue: Queue,
    committed: Arc<Mutex<ImportSummary>>,
    failed: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let result = loop {
        if failed.load(Ordering::SeqCst) {
            break Ok(());
        }
        let Some(rows) = queue.lock().await.recv().await else {
            break Ok(());
        };
        if failed.load(Ordering::SeqCst) {
            break Ok(());
        }
        match copier.apply(rows).await {
            Ok(done) => committed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .add(&done),
            Err(e) => {
                failed.store(true, Ordering::SeqCst);
                break Err(e);
            }
        }
    };
    if let Conn::Postgres(c) = copier.conn {
        let _ = c.close().await;
    }
    result
}
