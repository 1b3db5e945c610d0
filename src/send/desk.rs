//! The ledger desk: the one task that writes a run's ledger. Each worker
//! comes to it with its last outcome and asks for its next recipient; the
//! desk commits every outcome that arrived meanwhile in one transaction
//! (group commit, a few milliseconds at most), claims exactly one row per
//! asking worker, and only then answers.
//!
//! So a row is `sending` only while a worker holds it, a worker holds one
//! row at a time, and its outcome is durable before it gets the next. A
//! `kill -9` therefore leaves at most `concurrency` rows `sending`, which
//! the next run counts as possible duplicates and sends again; no more than
//! those can arrive twice.
//!
//! Before a worker sends a message's final `.`, it has the desk note the
//! row as handed over (in the same group commits), so after a crash only
//! those rows, not every claimed one, count as possible duplicates.
//!
//! The desk also runs the bounce breaker over outcomes in the order it
//! commits them, marks cleared bounces, and decides when the run is over.
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::breaker::{Breaker, Verdict};
use super::worker::{self, Shared};
use super::{RunEnd, Stats};
use crate::domain::{
    Claimed, DeliveryState, Ledger, LedgerError, LedgerResult, Record, Senders, now_ms,
};

/// How often an idle run looks again while other runs still hold rows
/// (several senders).
const OTHERS_POLL: Duration = Duration::from_millis(500);

/// A worker at the desk.
pub enum Visit {
    /// Its last outcome, and where to send its next row (`Some(None)`:
    /// stop); `next` is `None` for a worker that only drops off an outcome
    /// (it pauses before asking again).
    Done {
        record: Option<Record>,
        next: Option<oneshot::Sender<Option<Claimed>>>,
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
/// waiting, …) is set on `shared` when the desk decides it.
pub async fn run<L: Ledger>(
    ledger: L,
    shared: Arc<Shared>,
    mut visits: mpsc::Receiver<Visit>,
    stats: Arc<Stats>,
    mut breaker: Breaker,
) -> LedgerResult<DeskEnd> {
    let lease = shared.ctx.lease.clone();
    let mut waiting: Vec<oneshot::Sender<Option<Claimed>>> = Vec::new();
    let mut records: Vec<Record> = Vec::new();
    let workers = shared.ctx.settings.concurrency.max(1);
    loop {
        // Wait for a visit; with idle workers, wake up to look for due rows.
        let first = if waiting.is_empty() {
            visits.recv().await
        } else if waiting.len() == workers {
            // Everyone is idle and nothing was claimable: done, or sleep
            // until the next deferred row is due.
            if let Some(end) = idle(&ledger, &shared, &stats).await? {
                shared.abort_with(end);
            }
            visits.try_recv().ok()
        } else {
            tokio::time::timeout(Duration::from_millis(50), visits.recv())
                .await
                .unwrap_or_default()
        };
        let mut batch: Vec<Visit> = first.into_iter().collect();
        while let Ok(v) = visits.try_recv() {
            batch.push(v);
        }
        if batch.is_empty() && waiting.is_empty() && visits.is_closed() {
            return Ok(DeskEnd {
                tripped: breaker.tripped(),
            });
        }
        let mut handing = Vec::new();
        let mut acks = Vec::new();
        for v in batch {
            match v {
                Visit::Done { record, next } => {
                    records.extend(record);
                    waiting.extend(next);
                }
                Visit::Handing { delivery, ack } => {
                    handing.push(delivery);
                    acks.push(ack);
                }
            }
        }
        judge(&mut breaker, &shared, &records);
        if !records.is_empty() {
            ledger.record(&lease, &records, now_ms()).await?;
            count(&stats, &records);
            records.clear();
        }
        if !handing.is_empty() {
            ledger.hand_over(&lease, &handing, now_ms()).await?;
            for ack in acks {
                let _ = ack.send(());
            }
        }
        let cleared = breaker.cleared();
        if !cleared.is_empty() {
            ledger.apply_bounces(&lease, &cleared).await?;
        }
        if shared.stopping() {
            for w in waiting.drain(..) {
                let _ = w.send(None);
            }
            continue;
        }
        hand_out(&ledger, &lease, &mut waiting, &mut records, &stats).await?;
    }
}

/// Claims one row per waiting worker and hands them out; rows of addresses
/// suppressed since the snapshot are recorded skipped (next commit).
async fn hand_out<L: Ledger>(
    ledger: &L,
    lease: &crate::domain::Lease,
    waiting: &mut Vec<oneshot::Sender<Option<Claimed>>>,
    records: &mut Vec<Record>,
    stats: &Stats,
) -> LedgerResult<()> {
    if waiting.is_empty() {
        return Ok(());
    }
    let limit = u32::try_from(waiting.len()).unwrap_or(u32::MAX);
    let rows = ledger.claim(lease, limit, now_ms()).await?;
    stats
        .outstanding
        .fetch_add(rows.len() as u64, Ordering::Relaxed);
    for row in rows {
        if !row.mailable {
            let why = "mailroom: suppressed after the snapshot";
            records.push(worker::untried(&row, DeliveryState::Skipped, why, None));
            continue;
        }
        let Some(w) = waiting.pop() else { break };
        if let Err(Some(row)) = w.send(Some(row)) {
            // The worker is gone (aborted): hand the row back.
            records.push(worker::untried(
                &row,
                DeliveryState::Pending,
                "mailroom: stopped before sending",
                None,
            ));
        }
    }
    Ok(())
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
