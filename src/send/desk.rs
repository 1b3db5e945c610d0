//! The ledger desk: the one task that writes a run's ledger. It claims
//! rows ahead of the workers into a queue they take from, and commits
//! whatever they bring back meanwhile in one transaction per batch (group
//! commit, a few milliseconds at most): their outcomes, and the rows whose
//! message they are about to finish.
//!
//! As a worker starts a message's envelope (MAIL FROM), it has the desk
//! note the row as handed over, and sends the body only once that note is
//! durable (the commit overlaps the envelope's round trip). A worker drops its
//! outcome off without waiting, but the desk takes a worker's visits in
//! order and commits an outcome no later than that worker's next
//! hand-over. So at any moment each worker has at most one row handed
//! over without a durable outcome: a `kill -9` leaves at most
//! `concurrency` such rows, which the next run counts as possible
//! duplicates and sends again; only those can arrive twice. Rows claimed
//! ahead but not handed over go back to the queue without counting.
//!
//! Claiming ahead and committing in batches is what makes the ledger cheap
//! per message: before, each worker waited for its outcome's commit and a
//! claim of its own next row, and a 50,000-recipient discard send spent
//! most of its time switching threads (5,400 msg/s, 236,000 context
//! switches; see README for the figures after).
//!
//! The desk also runs the bounce breaker over outcomes in the order it
//! commits them, marks cleared bounces, and decides when the run is over.
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

pub use super::queue::{Lines, Queue, lines};

use super::breaker::{Breaker, Verdict};
use super::worker::{self, Shared};
use super::{RunEnd, Stats};
use crate::domain::{
    Claimed, DeliveryState, Ledger, LedgerError, LedgerResult, Record, Senders, now_ms,
};

/// How often an idle run looks again while other runs still hold rows
/// (several senders).
const OTHERS_POLL: Duration = Duration::from_millis(500);

/// How often the desk claims again while nothing was claimable but rows
/// are still out (a deferred row may fall due, a worker may pause).
const DRY_POLL: Duration = Duration::from_millis(50);

/// Outcomes nobody waits for (a sent message, a deferral) are committed
/// with the next batch that somebody does wait for (a hand-over, a failure
/// the breaker judges), or once this many pile up, or once the oldest is
/// [`LAZY_WAIT`] old. A worker's outcome still becomes durable no later
/// than its next hand-over, since the desk takes its visits in order, and
/// a `discard` send's batches are full-sized. (A 20,000-message SMTP send
/// made about 8,500 ledger transactions, one per 2.3 messages, counted
/// from SQLite's lock calls under `strace`; paired runs with and without
/// this holding back showed no difference in context switches, 73,363
/// against 74,433.)
const LAZY_ROWS: usize = 512;
const LAZY_WAIT: Duration = Duration::from_millis(50);

/// A worker at the desk.
pub enum Visit {
    /// The outcome of the worker's last row. The worker waits (`ack`) only
    /// after a failure: the bounce breaker must judge it before the worker
    /// tries anyone else, so a relay refusing everyone stops the run within
    /// about `concurrency` recipients. Other outcomes are dropped off.
    Done {
        record: Record,
        ack: Option<oneshot::Sender<()>>,
    },
    /// It is about to hand this row's message to the relay; `ack` once
    /// that is durable.
    Handing {
        delivery: i64,
        ack: oneshot::Sender<()>,
    },
}

/// How the desk's work ended, besides the run's end in `shared`.
pub struct DeskEnd {
    /// The breaker tripped: bounce-pending rows go back to the queue.
    pub tripped: bool,
}

/// Serves workers until every one has left; the run's end (complete,
/// waiting, …) is set on `shared` when the desk decides it. On an error
/// (the lease lost, the store failing) the queue is emptied first, so no
/// worker takes another row; a row a worker holds can't be handed over
/// without the desk.
pub async fn run<L: Ledger>(
    ledger: L,
    shared: Arc<Shared>,
    lines: Lines,
    stats: Arc<Stats>,
    breaker: Breaker,
) -> LedgerResult<DeskEnd> {
    let queue = lines.queue.clone();
    let result = serve(ledger, shared, lines, stats, breaker).await;
    if result.is_err() {
        queue.drain().await;
    }
    result
}

async fn serve<L: Ledger>(
    ledger: L,
    shared: Arc<Shared>,
    lines: Lines,
    stats: Arc<Stats>,
    mut breaker: Breaker,
) -> LedgerResult<DeskEnd> {
    let Lines {
        mut visits,
        rows,
        queue,
    } = lines;
    let lease = shared.ctx.lease.clone();
    let ahead = rows.max_capacity();
    let mut rows = Some(rows);
    let mut records: Vec<Record> = Vec::new();
    let mut dry_since: Option<Instant> = None;
    // Since when outcomes nobody waits for have been held back.
    let mut lazy_since: Option<Instant> = None;
    loop {
        // Hand out: claim when the queue has room; stop handing out once
        // the run is over.
        if let Some(tx) = &rows {
            if shared.stopping() {
                rows = None;
                for row in queue.drain().await {
                    let why = worker::STOPPED;
                    records.push(worker::untried(&row, DeliveryState::Pending, why, None));
                }
            } else if tx.capacity() * 2 >= ahead
                && dry_since.is_none_or(|t| t.elapsed() >= DRY_POLL)
            {
                let found = refill(&ledger, &lease, tx, &mut records, &stats).await?;
                dry_since = (!found).then(Instant::now);
                let nothing_out =
                    records.is_empty() && stats.outstanding.load(Ordering::Relaxed) == 0;
                if !found && nothing_out {
                    // Nothing out, nothing claimable: done, or sleep until
                    // the next deferred row is due.
                    match idle(&ledger, &shared, &stats).await? {
                        Some(end) => shared.abort_with(end),
                        None => dry_since = None,
                    }
                    continue;
                }
            }
        }
        // Take visits: wait for one (while handing out, at most DRY_POLL;
        // with outcomes waiting lazily, until they are due); then
        // everything already waiting.
        let mut handed = Vec::new();
        let mut acks = Vec::new();
        let wait = match lazy_since {
            None if records.is_empty() => rows.is_some().then_some(DRY_POLL),
            None => Some(Duration::ZERO),
            Some(t) => Some(LAZY_WAIT.saturating_sub(t.elapsed())),
        };
        let mut closed = false;
        if wait != Some(Duration::ZERO) {
            let first = match wait {
                Some(w) => tokio::time::timeout(w, visits.recv()).await,
                None => Ok(visits.recv().await),
            };
            match first {
                Ok(Some(v)) => take(v, &mut records, &mut handed, &mut acks),
                // Every worker has left.
                Ok(None) => closed = true,
                Err(_) if records.is_empty() => continue,
                Err(_) => {}
            }
        }
        while let Ok(v) = visits.try_recv() {
            take(v, &mut records, &mut handed, &mut acks);
        }
        if closed && records.is_empty() {
            return Ok(DeskEnd {
                tripped: breaker.tripped(),
            });
        }
        let due = closed
            || !acks.is_empty()
            || records.len() >= LAZY_ROWS
            || rows.is_none()
            || lazy_since.is_some_and(|t| t.elapsed() >= LAZY_WAIT);
        if !due {
            lazy_since.get_or_insert_with(Instant::now);
            continue;
        }
        lazy_since = None;
        judge(&mut breaker, &shared, &records);
        ledger.commit(&lease, &records, &handed, now_ms()).await?;
        count(&stats, &records);
        records.clear();
        for ack in acks {
            let _ = ack.send(());
        }
        let cleared = breaker.cleared();
        if !cleared.is_empty() {
            ledger.apply_bounces(&lease, &cleared).await?;
        }
    }
}

/// Claims as many rows as the queue has room for and queues them; rows
/// of addresses suppressed since the snapshot are recorded skipped (next
/// commit) instead. Returns whether anything was claimable.
async fn refill<L: Ledger>(
    ledger: &L,
    lease: &crate::domain::Lease,
    queue: &mpsc::Sender<Claimed>,
    records: &mut Vec<Record>,
    stats: &Stats,
) -> LedgerResult<bool> {
    let limit = u32::try_from(queue.capacity()).unwrap_or(u32::MAX);
    let claimed = ledger.claim(lease, limit, now_ms()).await?;
    stats
        .outstanding
        .fetch_add(claimed.len() as u64, Ordering::Relaxed);
    let found = !claimed.is_empty();
    for row in claimed {
        if row.mailable {
            // Room was checked by the claim's limit, and only the desk sends.
            let _ = queue.try_send(row);
        } else {
            let why = "mailroom: suppressed after the snapshot";
            records.push(worker::untried(&row, DeliveryState::Skipped, why, None));
        }
    }
    Ok(found)
}

fn take(
    visit: Visit,
    records: &mut Vec<Record>,
    handed: &mut Vec<i64>,
    acks: &mut Vec<oneshot::Sender<()>>,
) {
    match visit {
        Visit::Done { record, ack } => {
            records.push(record);
            acks.extend(ack);
        }
        Visit::Handing { delivery, ack } => {
            handed.push(delivery);
            acks.push(ack);
        }
    }
}

/// Runs the breaker over tried outcomes; a trip ends the run as the
/// relay's refusal.
fn judge(breaker: &mut Breaker, shared: &Shared, records: &[Record]) {
    for r in records.iter().filter(|r| !r.refund_attempt) {
        let bounce = r.bounce.map(|_| r.delivery);
        if let Verdict::Tripped(why) = breaker.observe(bounce) {
            let sample = r.reply.clone().unwrap_or_default();
            shared.abort_with(RunEnd::RelayRefused {
                reason: format!(
                    "the bounce breaker tripped: {why}, the last with `{sample}`; a burst like \
                     this is the relay's doing, not the list's (a wrong port, an MX instead of \
                     the relay, a relay that does not relay for `[newsletter] from`): nobody \
                     was marked bounced and those recipients went back to the queue; check \
                     `[smtp]`"
                ),
            });
        }
    }
}

/// Every worker is idle and nothing is claimable: the run is complete, or
/// waits for the next deferred row if it is due soon enough, or ends
/// waiting. With several senders, rows other runs hold may still come back
/// (their run dies and a heartbeat re-queues them), so a run finishes only
/// once no row is pending or in flight anywhere.
async fn idle<L: Ledger>(
    ledger: &L,
    shared: &Shared,
    stats: &Stats,
) -> Result<Option<RunEnd>, LedgerError> {
    if ledger.senders() == Senders::Many {
        let counts = ledger.campaign_counts(shared.ctx.campaign.id).await?;
        if counts.sending + counts.pending > 0 {
            let mut stop = shared.stop.clone();
            tokio::select! {
                () = tokio::time::sleep(OTHERS_POLL) => {}
                _ = stop.wait_for(|s| *s) => {}
            }
            return Ok(None);
        }
    }
    let Some(due) = ledger.next_due(shared.ctx.campaign.id).await? else {
        return Ok(Some(RunEnd::Complete));
    };
    let wait_ms = (due - now_ms()).max(0);
    if wait_ms as f64 / 1000.0 > shared.ctx.settings.max_wait_secs {
        return Ok(Some(RunEnd::Waiting {
            next_due_unix_ms: due,
        }));
    }
    // The wait shows as the waiting line, and is left out of the rate.
    stats.waiting_until.store(due, Ordering::Relaxed);
    let idle_since = std::time::Instant::now();
    let mut stop = shared.stop.clone();
    tokio::select! {
        () = tokio::time::sleep(Duration::from_millis(wait_ms as u64 + 5)) => {}
        _ = stop.wait_for(|s| *s) => {}
    }
    let waited = u64::try_from(idle_since.elapsed().as_millis()).unwrap_or(u64::MAX);
    stats.waited_ms.fetch_add(waited, Ordering::Relaxed);
    stats.waiting_until.store(0, Ordering::Relaxed);
    Ok(None)
}

fn count(stats: &Stats, records: &[Record]) {
    let mut settled = 0;
    for r in records {
        let counter = match r.state {
            DeliveryState::Sent => &stats.sent,
            DeliveryState::Deferred => &stats.deferrals,
            DeliveryState::Failed => &stats.failed,
            DeliveryState::Skipped => &stats.skipped,
            DeliveryState::Pending | DeliveryState::Sending => {
                settled += 1;
                continue;
            }
        };
        counter.fetch_add(1, Ordering::Relaxed);
        settled += 1;
    }
    stats.outstanding.fetch_sub(settled, Ordering::Relaxed);
}
