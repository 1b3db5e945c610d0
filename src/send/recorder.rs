//! The recorder task: collects outcomes from the workers and commits them
//! in batches (at most [`FLUSH_ROWS`] rows or [`FLUSH_EVERY`] old), so a
//! row leaves `sending` only once its outcome is durable.
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{Mutex, Notify, mpsc};
use tokio::time::Instant;

use super::Stats;
use crate::domain::{DeliveryState, Lease, Ledger, LedgerResult, Record, now_ms};

/// The most outcomes committed in one transaction.
pub const FLUSH_ROWS: usize = 512;
/// The longest an outcome waits to be committed.
pub const FLUSH_EVERY: Duration = Duration::from_millis(50);

/// Runs until every sender of `rx` is gone, then commits what is left.
pub async fn run<L: Ledger>(
    ledger: L,
    lease: Lease,
    mut rx: mpsc::Receiver<Record>,
    stats: Arc<Stats>,
    committed: Arc<Notify>,
    writes: Arc<Mutex<()>>,
) -> LedgerResult<()> {
    let mut buf = Vec::with_capacity(FLUSH_ROWS);
    loop {
        let Some(first) = rx.recv().await else {
            return Ok(());
        };
        buf.push(first);
        let deadline = Instant::now() + FLUSH_EVERY;
        while buf.len() < FLUSH_ROWS {
            tokio::select! {
                r = rx.recv() => match r {
                    Some(r) => buf.push(r),
                    None => break,
                },
                () = tokio::time::sleep_until(deadline) => break,
            }
        }
        {
            let _writer = writes.lock().await;
            ledger.record(&lease, &buf, now_ms()).await?;
        }
        count(&stats, &buf);
        buf.clear();
        committed.notify_one();
    }
}

fn count(stats: &Stats, records: &[Record]) {
    for r in records {
        let counter = match r.state {
            DeliveryState::Sent => &stats.sent,
            DeliveryState::Deferred => &stats.deferred,
            DeliveryState::Failed => &stats.failed,
            DeliveryState::Skipped => &stats.skipped,
            DeliveryState::Pending | DeliveryState::Sending => continue,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
    stats
        .outstanding
        .fetch_sub(records.len() as u64, Ordering::Relaxed);
}
