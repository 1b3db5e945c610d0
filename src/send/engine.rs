//! One run over a campaign: re-queue what a dead run left, then claim,
//! deliver and record until every row is done, deferred rows are due too
//! late, Ctrl-C, or the relay stays away.
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::{Mutex, Notify, mpsc, watch};

use super::lease::Beat;
use super::worker::{self, Shared};
use super::{RunEnd, RunReport, SendContext, Stats, lease, progress, rate, recorder};
use crate::domain::{Claimed, DeliveryState, Ledger, LedgerError, Record, Senders, now_ms};

/// Delivers `ctx.campaign` from `ledger` until it is done or the run must
/// end; `stop` turning true (Ctrl-C) stops claiming and winds down within
/// `[send] shutdown_grace_secs`.
pub async fn run<L: Ledger>(
    ledger: L,
    ctx: SendContext,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<RunReport> {
    let started = Instant::now();
    let campaign = ctx.campaign.id;
    let recovered = ledger.start_run(&ctx.lease).await?;
    let total = ledger.campaign_counts(campaign).await?;
    let runs = match ledger.senders() {
        Senders::One => 1,
        Senders::Many => ledger.runs(campaign).await?.len().max(1),
    };
    let stats = Arc::new(Stats::default());
    stats.recovered.store(recovered, Ordering::Relaxed);
    let committed = Arc::new(Notify::new());
    let concurrency = ctx.settings.concurrency.max(1);
    let (rec_tx, rec_rx) = mpsc::channel::<Record>(recorder::FLUSH_ROWS * 4);
    // With one writer (SQLite) claims and records take turns in-process
    // rather than meeting at its lock, whose busy handler sleeps in
    // milliseconds; a database of many senders lets them overlap.
    let writes = Arc::new(Mutex::new(()));
    let record_turns = match ledger.senders() {
        Senders::One => writes.clone(),
        Senders::Many => Arc::new(Mutex::new(())),
    };
    let recorder = tokio::spawn(recorder::run(
        ledger.clone(),
        ctx.lease.clone(),
        rec_rx,
        stats.clone(),
        committed.clone(),
        record_turns,
    ));
    let shared = Arc::new(Shared {
        from: lettre::Address::from_str(ctx.message.from_address.as_str())
            .context("the From address is not usable as an SMTP envelope sender")?,
        rate: rate::RateLimit::shared(ctx.settings.rate_per_second, runs),
        stop: stop.clone(),
        abort: std::sync::Mutex::new(None),
        sent_any: std::sync::atomic::AtomicBool::new(false),
        early_policy: std::sync::atomic::AtomicU32::new(0),
        ctx,
    });
    let beat = {
        let weak = Arc::downgrade(&shared);
        let (stats, committed) = (stats.clone(), committed.clone());
        let (c, lease) = (shared.ctx.campaign.clone(), shared.ctx.lease.clone());
        lease::heartbeat(ledger.clone(), c, lease, move |beat| {
            let Some(s) = weak.upgrade() else { return };
            match beat {
                Beat::Lost => s.abort_with(RunEnd::LeaseLost),
                Beat::Renewed { runs, requeued } => {
                    s.rate.share(runs);
                    if requeued > 0 {
                        stats.recovered.fetch_add(requeued, Ordering::Relaxed);
                        committed.notify_one();
                    }
                }
            }
        })
    };
    let progress = progress::start(&shared.ctx, total, stats.clone());
    let (job_tx, job_rx) = mpsc::channel::<Claimed>(concurrency);
    let job_rx = Arc::new(Mutex::new(job_rx));
    let workers: Vec<_> = (0..concurrency)
        .map(|_| tokio::spawn(worker::run(shared.clone(), job_rx.clone(), rec_tx.clone())))
        .collect();
    // Only the workers hold the queue's receiving end: once they have all
    // stopped (the recorder failed), queueing fails instead of waiting.
    drop(job_rx);
    let claim = claim_loop(
        &ledger, &shared, &stats, &committed, &writes, &job_tx, &rec_tx,
    )
    .await;
    drop(job_tx);
    wind_down(&shared, workers).await;
    drop(rec_tx);
    let recorded = recorder.await.context("the recorder task panicked")?;
    beat.abort();
    progress.finish();
    let end = match recorded {
        // Outcomes this run could not record after losing its lease belong
        // to the run that took over (it re-sends those rows).
        Err(LedgerError::LeaseLost) => RunEnd::LeaseLost,
        recorded => {
            let end = claim?;
            recorded?;
            end
        }
    };
    let recovered = stats.recovered.load(Ordering::Relaxed);
    report(&ledger, &shared.ctx, end, recovered, &stats, started).await
}

/// Claims pages of due rows and queues them for the workers.
async fn claim_loop<L: Ledger>(
    ledger: &L,
    shared: &Shared,
    stats: &Stats,
    committed: &Notify,
    writes: &Mutex<()>,
    jobs: &mpsc::Sender<Claimed>,
    records: &mpsc::Sender<Record>,
) -> anyhow::Result<RunEnd> {
    let concurrency = shared.ctx.settings.concurrency.max(1);
    let page = claim_page(concurrency);
    loop {
        if *shared.stop.borrow() {
            return Ok(RunEnd::Interrupted);
        }
        if let Some(end) = shared.abort.lock().expect("abort lock").clone() {
            return Ok(end);
        }
        if stats.outstanding.load(Ordering::Relaxed) + u64::from(page) > in_flight_cap(concurrency)
        {
            let _ = tokio::time::timeout(Duration::from_millis(100), committed.notified()).await;
            continue;
        }
        let batch = {
            let _writer = writes.lock().await;
            ledger.claim(&shared.ctx.lease, page, now_ms()).await
        };
        let batch = match batch {
            Err(LedgerError::LeaseLost) => return Ok(RunEnd::LeaseLost),
            other => other?,
        };
        if batch.is_empty() {
            if stats.outstanding.load(Ordering::Relaxed) > 0 {
                let _ =
                    tokio::time::timeout(Duration::from_millis(100), committed.notified()).await;
                continue;
            }
            match idle(ledger, shared).await? {
                Some(end) => return Ok(end),
                None => continue,
            }
        }
        stats
            .outstanding
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        dispatch(batch, jobs, records).await?;
    }
}

/// Queues mailable rows for the workers; records the others as skipped
/// (suppressed after the snapshot).
async fn dispatch(
    batch: Vec<Claimed>,
    jobs: &mpsc::Sender<Claimed>,
    records: &mpsc::Sender<Record>,
) -> anyhow::Result<()> {
    for job in batch {
        if !job.mailable {
            let why = "mailroom: suppressed after the snapshot";
            let _ = records
                .send(worker::untried(&job, DeliveryState::Skipped, why, None))
                .await;
        } else if jobs.send(job).await.is_err() {
            anyhow::bail!("every delivery worker has stopped");
        }
    }
    Ok(())
}

/// How often a run with nothing left to claim looks again while other runs
/// still hold rows (several senders).
const OTHERS_POLL: Duration = Duration::from_millis(500);

/// Rows claimed per claim: enough that claiming costs little per message.
fn claim_page(concurrency: usize) -> u32 {
    u32::try_from((concurrency * 4).clamp(1, 256)).unwrap_or(256)
}

/// The most rows claimed but not yet recorded with `concurrency` workers:
/// a claim page being queued, the job queue and the workers (`concurrency`
/// each), plus one recording batch. These are the only rows `sending`, so
/// this bounds the duplicates a crash can cause.
pub fn in_flight_cap(concurrency: usize) -> u64 {
    (u64::from(claim_page(concurrency)) + 2 * concurrency as u64) + recorder::FLUSH_ROWS as u64
}

/// Nothing is claimable and nothing is in flight: finish, or sleep until
/// the next deferred row is due if that is soon enough. With several
/// senders, rows other runs hold may still come back (their run dies and a
/// heartbeat re-queues them), so a run finishes only once none is left.
async fn idle<L: Ledger>(ledger: &L, shared: &Shared) -> Result<Option<RunEnd>, LedgerError> {
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
    let max_wait = shared.ctx.settings.max_wait_secs;
    if wait_ms as f64 / 1000.0 > max_wait {
        return Ok(Some(RunEnd::Waiting {
            next_due_unix_ms: due,
        }));
    }
    let mut stop = shared.stop.clone();
    tokio::select! {
        () = tokio::time::sleep(Duration::from_millis(wait_ms as u64 + 5)) => {}
        _ = stop.wait_for(|s| *s) => {}
    }
    Ok(None)
}

/// Lets the workers finish what they hold; after Ctrl-C, only for the
/// grace period, then abandons them (their rows stay `sending` and the next
/// run counts them as possible duplicates).
async fn wind_down(shared: &Shared, mut workers: Vec<tokio::task::JoinHandle<()>>) {
    let grace = Duration::from_secs_f64(shared.ctx.settings.shutdown_grace_secs.max(0.0));
    let stopping = *shared.stop.borrow();
    let deadline = tokio::time::Instant::now() + grace;
    for w in &mut workers {
        if !stopping {
            let _ = w.await;
        } else if tokio::time::timeout_at(deadline, &mut *w).await.is_err() {
            w.abort();
            tracing::warn!("an in-flight message did not finish within {grace:?}; abandoned");
        }
    }
}

async fn report<L: Ledger>(
    ledger: &L,
    ctx: &SendContext,
    end: RunEnd,
    recovered: u64,
    stats: &Stats,
    started: Instant,
) -> anyhow::Result<RunReport> {
    let campaign = ledger
        .find_campaign(ctx.campaign.issue)
        .await?
        .context("the campaign vanished")?;
    let counts = ledger.campaign_counts(campaign.id).await?;
    let this_run = stats.snapshot();
    let elapsed = started.elapsed().as_secs_f64();
    Ok(RunReport {
        issue: campaign.issue.get(),
        end,
        recovered,
        this_run,
        elapsed_secs: elapsed,
        rate_per_sec: (this_run.sent + this_run.failed) as f64 / elapsed.max(1e-3),
        campaign: counts,
        possible_duplicates: campaign.possible_duplicates,
        content_changes: ledger.content_changes(campaign.id).await?,
    })
}
