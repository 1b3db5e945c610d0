//! Progress while sending, in one of three forms ([`ProgressMode`]): a bar
//! on a terminal, a line on stderr every `[send] progress_secs`, or JSON
//! events on stdout (`send --format json`). All three show the same
//! [`Reading`]: the campaign's position, the recipients deferred now
//! (recipients, not attempts), and this run's rate and ETA as
//! [`Pace`] defines them, over this run's messages and time only. While
//! the run waits for deferred recipients to fall due, they show the waiting
//! line instead. The reporter also keeps the run's entry in the campaign's
//! run history current, for `status`.
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use tokio::task::JoinHandle;

use super::reading::Reading;
use super::{ProgressMode, SendContext, Stats, backoff, wording};
use crate::domain::{CampaignCounts, Ledger, RunNote, Waiting, now_ms};

/// How often the run's history entry is rewritten.
const NOTE_EVERY: Duration = Duration::from_secs(2);
/// How often the bar is redrawn, and the clock of the other forms.
const TICK: Duration = Duration::from_millis(200);

/// A running progress reporter; [`Progress::finish`] stops it.
pub struct Progress {
    task: JoinHandle<()>,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Stops reporting and clears the bar.
    pub fn finish(self) {
        self.task.abort();
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// When and how a run started.
pub(super) struct RunStart {
    pub instant: Instant,
    /// Unix ms.
    pub at_ms: i64,
    pub before: CampaignCounts,
    pub recovered: u64,
}

impl RunStart {
    /// The run's history entry now (`outcome` once it ended).
    pub(super) fn note(
        &self,
        ctx: &SendContext,
        stats: &Stats,
        outcome: Option<String>,
    ) -> RunNote {
        let owner = super::lease::this_process();
        RunNote {
            campaign: ctx.campaign.id,
            token: ctx.lease.token.clone(),
            host: owner.host,
            pid: owner.pid,
            issue_file: ctx.issue_file.clone(),
            started_at: self.at_ms,
            now: self.at_ms + self.elapsed_ms(),
            counts: stats.snapshot(),
            waited_ms: stats.waited_ms(),
            outcome,
        }
    }

    fn elapsed_ms(&self) -> i64 {
        i64::try_from(self.instant.elapsed().as_millis()).unwrap_or(i64::MAX)
    }
}

/// Starts reporting.
pub(super) fn start<L: Ledger>(
    ledger: L,
    ctx: Arc<super::worker::Shared>,
    start: Arc<RunStart>,
    stats: Arc<Stats>,
) -> Progress {
    let mut mode = ctx.ctx.progress;
    // A terminal that cannot draw a bar (`TERM=dumb`, none) gets lines.
    if mode == ProgressMode::Bar && ProgressDrawTarget::stderr().is_hidden() {
        mode = ProgressMode::Lines;
    }
    let bar = (mode == ProgressMode::Bar).then(|| {
        let bar =
            ProgressBar::with_draw_target(Some(start.before.total()), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .expect("a valid progress template"),
        );
        bar.set_position(start.before.done());
        bar
    });
    if mode == ProgressMode::Json {
        emit(
            "start",
            &StartEvent {
                issue: ctx.ctx.campaign.issue.get(),
                transport: ctx.ctx.campaign.transport.as_str(),
                total: start.before.total(),
                done: start.before.done(),
                deferred: start.before.deferred,
                recovered: start.recovered,
            },
        );
    }
    let reporter = Reporter {
        mode,
        ledger,
        shared: ctx,
        start,
        stats,
        bar: bar.clone(),
    };
    let task = tokio::spawn(reporter.run());
    Progress { task, bar }
}

#[derive(Serialize)]
struct StartEvent {
    issue: u32,
    transport: &'static str,
    total: u64,
    done: u64,
    deferred: u64,
    recovered: u64,
}

#[derive(Serialize)]
struct Event<'a, T: Serialize> {
    event: &'a str,
    #[serde(flatten)]
    body: &'a T,
}

/// Prints one JSON event line on stdout (`send --format json`).
pub fn emit<T: Serialize>(event: &str, body: &T) {
    use std::io::Write;
    if let Ok(line) = serde_json::to_string(&Event { event, body }) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

struct Reporter<L> {
    mode: ProgressMode,
    ledger: L,
    shared: Arc<super::worker::Shared>,
    start: Arc<RunStart>,
    stats: Arc<Stats>,
    bar: Option<ProgressBar>,
}

impl<L: Ledger> Reporter<L> {
    async fn run(self) {
        let ctx = &self.shared.ctx;
        let every = Duration::from_secs_f64(ctx.settings.progress_secs.max(0.05));
        let mut deferred = self.start.before.deferred;
        let mut waiting: Option<Waiting> = None;
        let mut was_waiting = false;
        let (mut refreshed, mut refresh_every) = (Instant::now(), TICK);
        let (mut noted, mut shown) = (Instant::now(), Instant::now());
        loop {
            tokio::time::sleep(TICK).await;
            let is_waiting = self.stats.waiting_until.load(Ordering::Relaxed) != 0;
            // Deferred recipients come from the ledger: one index range,
            // cheap, but asked for at most a tenth of the time.
            if refreshed.elapsed() >= refresh_every || is_waiting != was_waiting {
                let asked = Instant::now();
                if let Ok(groups) = self.ledger.deferred(ctx.campaign.id).await {
                    waiting = backoff::waiting(&groups, &ctx.settings);
                    deferred = waiting.map_or(0, |w| w.deferred);
                }
                refresh_every = (asked.elapsed() * 10).max(TICK);
                refreshed = Instant::now();
            }
            if noted.elapsed() >= NOTE_EVERY {
                let note = self.start.note(ctx, &self.stats, None);
                let _ = self.ledger.note_run(&note).await;
                noted = Instant::now();
            }
            let reading = Reading::new(
                ctx.campaign.issue.get(),
                &self.start.before,
                self.stats.snapshot(),
                deferred,
                self.start.elapsed_ms(),
                self.stats.waited_ms(),
            );
            let line = waiting
                .filter(|_| is_waiting)
                .map(|w| wording::waiting_line(&w, now_ms()));
            let due = shown.elapsed() >= every || (is_waiting && !was_waiting);
            was_waiting = is_waiting;
            match (&self.bar, self.mode) {
                (Some(bar), _) => {
                    // The message first: a new position draws at once.
                    bar.set_message(line.unwrap_or_else(|| reading.summary()));
                    bar.set_position(reading.done);
                }
                (None, ProgressMode::Json) if due => {
                    match waiting.filter(|_| is_waiting) {
                        Some(w) => emit(
                            "waiting",
                            &WaitingEvent {
                                issue: reading.issue,
                                waiting: w,
                            },
                        ),
                        None => emit("progress", &reading),
                    }
                    shown = Instant::now();
                }
                (None, _) if due => {
                    let issue = reading.issue;
                    match line {
                        Some(l) => crate::output::note!("send {issue}: {l}"),
                        None => crate::output::note!(
                            "send {issue}: {}/{} done; this run {}",
                            reading.done,
                            reading.total,
                            reading.summary()
                        ),
                    }
                    shown = Instant::now();
                }
                _ => {}
            }
        }
    }
}

#[derive(Serialize)]
struct WaitingEvent {
    issue: u32,
    #[serde(flatten)]
    waiting: Waiting,
}
