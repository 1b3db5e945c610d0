//! One run over a campaign: re-queue what a dead run left, then let the
//! workers deliver through the ledger desk until every row is done,
//! deferred rows are due too late, Ctrl-C, the relay stays away or refuses
//! us, or the bounce breaker trips; then settle the run's bounces.
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::watch;

use super::breaker::{Breaker, Thresholds};
use super::desk;
use super::lease::Beat;
use super::progress::RunStart;
use super::worker::{self, Shared};
use super::{RunEnd, RunReport, SendContext, Stats, backoff, lease, progress, rate};
use crate::domain::{Ledger, LedgerError, Pace, Senders, now_ms};

/// Delivers `ctx.campaign` from `ledger` until it is done or the run must
/// end; `stop` turning true (the caller's Ctrl-C handler, or the run's own
/// abort: a pause, a lost lease, an unreachable relay) stops handing out
/// rows, wakes every wait, and winds down within `[send]
/// shutdown_grace_secs`.
pub async fn run<L: Ledger>(
    ledger: L,
    ctx: SendContext,
    stop: watch::Sender<bool>,
) -> anyhow::Result<RunReport> {
    let (started, started_at) = (Instant::now(), now_ms());
    let lease = ctx.lease.clone();
    let recovered = ledger.start_run(&lease).await?;
    let total = ledger.campaign_counts(ctx.campaign.id).await?;
    let runs = match ledger.senders() {
        Senders::One => 1,
        Senders::Many => ledger.live_runs(ctx.campaign.id).await?.len().max(1),
    };
    let stats = Arc::new(Stats::default());
    stats.recovered.store(recovered, Ordering::Relaxed);
    let concurrency = ctx.settings.concurrency.max(1);
    let breaker = Breaker::new(Thresholds::from_settings(&ctx.settings));
    lettre::Address::from_str(ctx.message.from_address.as_str())
        .context("the From address is not usable as an SMTP envelope sender")?;
    let shared = Arc::new(Shared {
        rate: rate::RateLimit::shared(ctx.settings.rate_per_second, runs),
        stop: stop.subscribe(),
        halt: stop.clone(),
        abort: std::sync::Mutex::new(None),
        sent_any: std::sync::atomic::AtomicBool::new(false),
        early_policy: std::sync::atomic::AtomicU32::new(0),
        ctx,
    });
    let beat = {
        let weak = Arc::downgrade(&shared);
        let stats = stats.clone();
        let campaign = shared.ctx.campaign.clone();
        lease::heartbeat(ledger.clone(), campaign, lease.clone(), move |beat| {
            let Some(s) = weak.upgrade() else { return };
            match beat {
                Beat::Lost => s.abort_with(RunEnd::LeaseLost),
                Beat::Paused => s.abort_with(RunEnd::Paused),
                Beat::Renewed { runs, requeued } => {
                    s.rate.share(runs);
                    stats.recovered.fetch_add(requeued, Ordering::Relaxed);
                }
            }
        })
    };
    let start = Arc::new(RunStart {
        instant: started,
        at_ms: started_at,
        before: total,
        recovered,
    });
    ledger
        .note_run(&start.note(&shared.ctx, &stats, None))
        .await?;
    let progress = progress::start(ledger.clone(), shared.clone(), start.clone(), stats.clone());
    let (visits, lines) = desk::lines(concurrency, shared.ctx.settings.rate_per_second);
    let queue = lines.queue.clone();
    let desk = tokio::spawn(desk::run(
        ledger.clone(),
        shared.clone(),
        lines,
        stats.clone(),
        breaker,
    ));
    let workers: Vec<_> = (0..concurrency)
        .map(|_| tokio::spawn(worker::run(shared.clone(), queue.clone(), visits.clone())))
        .collect();
    drop(visits);
    wind_down(&shared, workers).await;
    let desk = desk.await.context("the ledger desk panicked")?;
    beat.abort();
    progress.finish();
    let end = match desk {
        // Outcomes this run could not record after losing its lease belong
        // to the run that took over (it re-sends those rows).
        Err(LedgerError::LeaseLost) => RunEnd::LeaseLost,
        Err(e) => return Err(e.into()),
        Ok(desk) => {
            let end = shared.abort.lock().expect("abort lock").clone();
            let end = end.unwrap_or(if *stop.borrow() {
                RunEnd::Interrupted
            } else {
                RunEnd::Complete
            });
            settle_bounces(&ledger, &lease, desk.tripped, &end).await?;
            end
        }
    };
    report(&ledger, &shared.ctx, end, &stats, &start).await
}

/// After the run: a tripped breaker puts the bounce-pending rows back in
/// the queue; a run that went through its list (complete, or waiting for
/// deferred rows) marks the rest of its bounces. Other ends leave them
/// pending for the next run to judge.
async fn settle_bounces<L: Ledger>(
    ledger: &L,
    lease: &crate::domain::Lease,
    tripped: bool,
    end: &RunEnd,
) -> anyhow::Result<()> {
    let result = if tripped {
        ledger.release_bounces(lease).await.map(|_| ())
    } else if matches!(end, RunEnd::Complete | RunEnd::Waiting { .. }) {
        ledger.apply_all_bounces(lease).await.map(|_| ())
    } else {
        Ok(())
    };
    match result {
        Ok(()) | Err(LedgerError::LeaseLost) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The most rows a run holds handed over to the relay without a durable
/// outcome: one per worker (a worker's outcome is committed no later than
/// its next hand-over, see `desk`). This bounds the duplicates a crash can
/// cause, and the possible duplicates it adds.
pub fn in_flight_cap(concurrency: usize) -> u64 {
    concurrency.max(1) as u64
}

/// Lets the workers finish what they hold; after Ctrl-C, only for the
/// grace period, then abandons them (their rows stay `sending` and the next
/// run counts them as possible duplicates).
async fn wind_down(shared: &Shared, mut workers: Vec<tokio::task::JoinHandle<()>>) {
    let grace = Duration::from_secs_f64(shared.ctx.settings.shutdown_grace_secs.max(0.0));
    let mut stop = shared.stop.clone();
    let mut deadline = None;
    for w in &mut workers {
        if deadline.is_none() {
            tokio::select! {
                _ = &mut *w => continue,
                _ = stop.wait_for(|s| *s) => {
                    deadline = Some(tokio::time::Instant::now() + grace);
                }
            }
        }
        let until = deadline.expect("set above");
        if tokio::time::timeout_at(until, &mut *w).await.is_err() {
            w.abort();
            crate::output::warning!(
                "an in-flight message did not finish within {:.1}s (`[send] shutdown_grace_secs`); \
                 abandoned",
                grace.as_secs_f64()
            );
        }
    }
}

/// The run's report; also closes its entry in the run history.
async fn report<L: Ledger>(
    ledger: &L,
    ctx: &SendContext,
    end: RunEnd,
    stats: &Stats,
    start: &RunStart,
) -> anyhow::Result<RunReport> {
    let campaign = ledger
        .campaign(ctx.campaign.id)
        .await?
        .context("the campaign vanished")?;
    let counts = ledger.campaign_counts(campaign.id).await?;
    let waiting = backoff::waiting(&ledger.deferred(campaign.id).await?, &ctx.settings);
    let note = start.note(ctx, stats, Some(end.outcome().to_owned()));
    ledger.note_run(&note).await?;
    let pace = Pace::new(
        note.counts.messages(),
        note.now - note.started_at,
        note.waited_ms,
    );
    Ok(RunReport {
        issue: campaign.issue.get(),
        end,
        recovered: stats.recovered.load(Ordering::Relaxed),
        this_run: note.counts,
        elapsed_secs: pace.elapsed_secs,
        sending_secs: pace.sending_secs,
        rate_per_sec: pace.rate(),
        campaign: counts,
        waiting,
        possible_duplicates: campaign.possible_duplicates,
        content_changes: ledger.content_changes(campaign.id).await?,
    })
}
