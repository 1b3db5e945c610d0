//! One reading of a run: the campaign's position, the recipients deferred
//! now, and this run's rate and ETA as [`Pace`] defines them (over this
//! run's messages and sending time only), as the bar, the log lines and the
//! JSON events all show it.
use serde::Serialize;

use super::wording;
use crate::domain::{CampaignCounts, Pace, RunCounts};

/// One reading of a run, as every form of progress shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reading {
    pub issue: u32,
    pub total: u64,
    /// Recipients with a final outcome (sent, failed, skipped), all runs.
    pub done: u64,
    /// Recipients waiting for a retry now.
    pub deferred: u64,
    pub this_run: RunCounts,
    pub elapsed_secs: f64,
    pub sending_secs: f64,
    pub rate_per_sec: f64,
    /// `None` until this run has a rate.
    pub eta_secs: Option<f64>,
}

impl Reading {
    /// The reading of a run that started with the ledger at `before`, has
    /// recorded `run`, and has run `elapsed_ms`, `waited_ms` of it idle.
    pub fn new(
        issue: u32,
        before: &CampaignCounts,
        run: RunCounts,
        deferred: u64,
        elapsed_ms: i64,
        waited_ms: i64,
    ) -> Reading {
        let pace = Pace::new(run.messages(), elapsed_ms, waited_ms);
        let total = before.total();
        let done = (before.done() + run.sent + run.failed + run.skipped).min(total);
        Reading {
            issue,
            total,
            done,
            // Read a moment apart from `done`; never more than is left.
            deferred: deferred.min(total - done),
            this_run: run,
            elapsed_secs: pace.elapsed_secs,
            sending_secs: pace.sending_secs,
            rate_per_sec: pace.rate(),
            eta_secs: pace.eta_secs(total - done),
        }
    }

    /// `sent 684, failed 0, deferred 12 · 152 msg/s · eta 19s`.
    pub fn summary(&self) -> String {
        let r = &self.this_run;
        let mut s = format!(
            "sent {}, failed {}, deferred {}",
            r.sent, r.failed, self.deferred
        );
        if let Some(eta) = self.eta_secs {
            s.push_str(&format!(
                " · {} · eta {}",
                wording::rate(self.rate_per_sec),
                wording::duration(eta)
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_run_rates_only_its_own_messages() {
        // 3,000 of 4,000 were done before; this run sent 300 in 2 s.
        let before = CampaignCounts {
            sent: 3_000,
            pending: 1_000,
            ..CampaignCounts::default()
        };
        let run = RunCounts {
            sent: 300,
            ..RunCounts::default()
        };
        let r = Reading::new(620, &before, run, 0, 2_000, 0);
        assert_eq!((r.done, r.total), (3_300, 4_000));
        assert_eq!(r.rate_per_sec, 150.0);
        assert_eq!(r.eta_secs, Some(700.0 / 150.0));
        assert_eq!(
            r.summary(),
            "sent 300, failed 0, deferred 0 · 150 msg/s · eta 4.7s"
        );
    }

    #[test]
    fn time_spent_waiting_for_retries_does_not_lower_the_rate() {
        let before = CampaignCounts {
            pending: 100,
            ..CampaignCounts::default()
        };
        let run = RunCounts {
            sent: 50,
            deferrals: 70,
            ..RunCounts::default()
        };
        let r = Reading::new(620, &before, run, 50, 60_000, 59_000);
        assert_eq!((r.sending_secs, r.rate_per_sec), (1.0, 50.0));
        assert_eq!(r.deferred, 50, "recipients, not the 70 attempts");
        assert_eq!(r.eta_secs, Some(1.0));
    }
}
