//! A run of a campaign: what it recorded, its entry in the campaign's run
//! history, and the one definition of elapsed time, rate and ETA that
//! `send`'s progress, `send`'s summary and `status` all use.
use serde::Serialize;

use super::CampaignId;

/// Outcomes recorded by one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RunCounts {
    pub sent: u64,
    pub failed: u64,
    pub skipped: u64,
    /// Attempts the relay answered "try later" (4xx, a lost connection):
    /// one recipient deferred three times counts three. How many
    /// recipients are deferred is the campaign's `deferred` count.
    pub deferrals: u64,
}

impl RunCounts {
    /// Messages that got a final answer: sent or failed.
    pub fn messages(&self) -> u64 {
        self.sent + self.failed
    }
}

/// Elapsed time and rate, defined once:
///
/// - **elapsed**: wall-clock time from a run's start to its end (or now);
/// - **sending time**: elapsed minus the time the run sat idle waiting for
///   deferred recipients to fall due;
/// - **rate**: messages with a final answer (sent or failed) in that run,
///   divided by its sending time;
/// - **ETA**: recipients left (pending, in flight, deferred) divided by
///   the rate.
///
/// Over a campaign (`status`), each figure is the sum over its runs, so a
/// resumed run never divides the campaign's position by its own time.
/// Runs that overlap (several senders on PostgreSQL) count their shared
/// wall-clock time once ([`Pace::over_runs`]), so the rate is the
/// campaign's throughput, not one run's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Pace {
    /// Sent or failed.
    pub messages: u64,
    pub elapsed_secs: f64,
    pub sending_secs: f64,
}

impl Pace {
    /// `messages` over `elapsed_ms`, of which `waited_ms` idle.
    pub fn new(messages: u64, elapsed_ms: i64, waited_ms: i64) -> Self {
        let elapsed = elapsed_ms.max(0);
        Self {
            messages,
            elapsed_secs: elapsed as f64 / 1000.0,
            sending_secs: (elapsed - waited_ms.clamp(0, elapsed)) as f64 / 1000.0,
        }
    }

    /// A campaign's pace from its runs, each `(started_ms, ended_ms,
    /// waited_ms, messages)`: messages summed; elapsed time the union of the
    /// runs' spans (time several runs shared counts once); sending time that
    /// union less the waits, which are scaled by the same overlap. Runs that
    /// never overlap give the plain sums.
    pub fn over_runs(runs: &[(i64, i64, i64, u64)]) -> Self {
        let mut spans: Vec<(i64, i64)> = runs.iter().map(|r| (r.0, r.1.max(r.0))).collect();
        spans.sort_unstable();
        let mut union = 0;
        let mut open: Option<(i64, i64)> = None;
        for (start, end) in spans {
            open = match open {
                Some((a, b)) if start <= b => Some((a, b.max(end))),
                Some((a, b)) => {
                    union += b - a;
                    Some((start, end))
                }
                None => Some((start, end)),
            };
        }
        union += open.map_or(0, |(a, b)| b - a);
        let summed: i64 = runs.iter().map(|r| (r.1 - r.0).max(0)).sum();
        let waited: i64 = runs.iter().map(|r| r.2.clamp(0, (r.1 - r.0).max(0))).sum();
        let waited = if summed > 0 {
            (waited as f64 * union as f64 / summed as f64).round() as i64
        } else {
            0
        };
        Self::new(runs.iter().map(|r| r.3).sum(), union, waited)
    }

    /// Messages per second of sending time; 0 before any.
    pub fn rate(&self) -> f64 {
        if self.sending_secs > 0.0 {
            self.messages as f64 / self.sending_secs
        } else {
            0.0
        }
    }

    /// Seconds until `remaining` recipients are done at this rate; `None`
    /// while the rate is unknown.
    pub fn eta_secs(&self, remaining: u64) -> Option<f64> {
        let rate = self.rate();
        (rate > 0.0).then(|| remaining as f64 / rate)
    }
}

/// A run's entry in the campaign's run history, written when it starts,
/// every few seconds while it runs, and when it ends. A run that dies
/// keeps its last entry, without an end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunNote {
    pub campaign: CampaignId,
    /// The run's lease token: unique per run.
    pub token: String,
    pub host: String,
    pub pid: u32,
    /// The issue file it sends (absolute), for the command that resumes.
    pub issue_file: Option<String>,
    /// Unix ms.
    pub started_at: i64,
    /// Unix ms: when this note was taken.
    pub now: i64,
    pub counts: RunCounts,
    /// Time spent idle waiting for deferred recipients, in ms.
    pub waited_ms: i64,
    /// How it ended (`complete`, `waiting`, `interrupted`, …); `None`
    /// while it runs.
    pub outcome: Option<String>,
}

/// A campaign's run history, summed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunHistory {
    /// Runs with an entry (campaigns sent before mailroom kept the history
    /// have none).
    pub runs: u64,
    /// Unix ms.
    pub first_started: Option<i64>,
    pub last_started: Option<i64>,
    /// Summed over the runs.
    pub pace: Pace,
    /// The latest run.
    pub last: Option<RunEntry>,
}

/// One run as the history keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEntry {
    pub token: String,
    pub host: String,
    pub pid: u32,
    pub issue_file: Option<String>,
    /// Unix ms.
    pub started_at: i64,
    /// Unix ms: its last note.
    pub updated_at: i64,
    /// Unix ms; `None` while it runs, or if it died.
    pub ended_at: Option<i64>,
    pub outcome: Option<String>,
    pub counts: RunCounts,
    pub pace: Pace,
}

/// Deferred recipients that have been tried the same number of times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeferredGroup {
    pub attempts: u32,
    pub count: u64,
    /// Unix ms: when the earliest and the latest of them are due.
    pub first_due: i64,
    pub last_due: i64,
}

/// Recipients waiting for a retry: how many, when the next is due, and by
/// when the last of them has had its last attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Waiting {
    pub deferred: u64,
    pub next_retry_unix_ms: i64,
    pub give_up_unix_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_counts_sending_time_only_and_the_eta_follows_it() {
        // 300 messages in 5 s, of which 2 s waiting for retries: 100/s.
        let p = Pace::new(300, 5_000, 2_000);
        assert_eq!((p.elapsed_secs, p.sending_secs), (5.0, 3.0));
        assert_eq!(p.rate(), 100.0);
        assert_eq!(p.eta_secs(250), Some(2.5));
    }

    #[test]
    fn no_messages_or_no_time_gives_no_rate_and_no_eta() {
        assert_eq!(Pace::new(0, 5_000, 0).eta_secs(10), None);
        assert_eq!(Pace::new(10, 0, 0).rate(), 0.0);
        // Waiting longer than the run (clock skew) never goes negative.
        assert_eq!(Pace::new(10, 1_000, 5_000).sending_secs, 0.0);
    }

    #[test]
    fn overlapping_runs_count_their_shared_time_once() {
        // One run, then a resumed one: the plain sums.
        let apart = Pace::over_runs(&[(0, 4_000, 1_000, 300), (10_000, 12_000, 0, 200)]);
        assert_eq!(apart, Pace::new(500, 6_000, 1_000));
        // Three senders side by side for 10 s (one joined late): 10 s of
        // wall time, so the rate is the campaign's throughput.
        let side = Pace::over_runs(&[
            (0, 10_000, 0, 400),
            (0, 10_000, 0, 400),
            (5_000, 10_000, 0, 200),
        ]);
        assert_eq!((side.elapsed_secs, side.sending_secs), (10.0, 10.0));
        assert_eq!(side.rate(), 100.0);
        // Waits shrink with the overlap: 2 runs x 10 s, 4 s waited in all.
        let waits = Pace::over_runs(&[(0, 10_000, 2_000, 80), (0, 10_000, 2_000, 80)]);
        assert_eq!(waits.sending_secs, 8.0);
        assert_eq!(Pace::over_runs(&[]), Pace::new(0, 0, 0));
    }
}
