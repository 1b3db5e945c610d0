//! Progress while sending: an indicatif bar on a terminal (sent, deferred,
//! failed, rate, ETA), a log line every `[send] progress_secs` otherwise.
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinHandle;

use super::{SendContext, Stats};
use crate::domain::CampaignCounts;

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

/// Starts reporting; `before` is the ledger when the run began.
pub fn start(ctx: &SendContext, before: CampaignCounts, stats: Arc<Stats>) -> Progress {
    let done_before = before.done();
    let total = before.total();
    if ctx.progress_bar {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} {rate} eta {eta}")
                .expect("a valid progress template")
                // indicatif's own `{per_sec}` prints four decimals.
                .with_key(
                    "rate",
                    |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.0} msg/s", state.per_sec());
                    },
                ),
        );
        bar.set_position(done_before);
        let b = bar.clone();
        let task = tokio::spawn(async move {
            loop {
                let c = stats.snapshot();
                b.set_position(done_before + c.sent + c.failed + c.skipped);
                b.set_message(format!(
                    "sent {} deferred {} failed {}",
                    c.sent, c.deferred, c.failed
                ));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        return Progress {
            task,
            bar: Some(bar),
        };
    }
    let every = Duration::from_secs_f64(ctx.settings.progress_secs.max(0.1));
    let issue = ctx.campaign.issue;
    let task = tokio::spawn(async move {
        let started = Instant::now();
        loop {
            tokio::time::sleep(every).await;
            let c = stats.snapshot();
            let secs = started.elapsed().as_secs_f64();
            crate::output::note!(
                "send {issue}: {}/{total} done, this run sent {} deferred {} failed {} \
                 skipped {} ({:.0} msg/s)",
                done_before + c.sent + c.failed + c.skipped,
                c.sent,
                c.deferred,
                c.failed,
                c.skipped,
                c.sent as f64 / secs.max(1e-3),
            );
        }
    });
    Progress { task, bar: None }
}
