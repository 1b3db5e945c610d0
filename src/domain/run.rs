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
}
