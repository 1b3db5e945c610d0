//! The rate limit shared by every worker of a run: each message takes the
//! next slot `1/rate` seconds after the previous one. Hand-written (a few
//! lines) rather than pulling in `governor`: no bursts are wanted, just
//! spacing.
//!
//! `[send] rate_per_second` is the campaign's rate, whatever the number of
//! senders: with several runs on one campaign, each takes an equal share,
//! re-read from the store at every heartbeat ([`RateLimit::share`]).
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Spaces calls to [`RateLimit::acquire`] evenly; no rate = unlimited.
#[derive(Debug)]
pub struct RateLimit {
    /// The campaign's messages per second (0 or less: unlimited).
    per_second: f64,
    slots: Mutex<Slots>,
}

#[derive(Debug)]
struct Slots {
    interval: Option<Duration>,
    next: Instant,
}

impl RateLimit {
    /// This run's share of a campaign rate of `per_second` when `runs`
    /// runs send it.
    pub fn shared(per_second: f64, runs: usize) -> Self {
        Self {
            per_second,
            slots: Mutex::new(Slots {
                interval: interval(per_second, runs),
                next: Instant::now(),
            }),
        }
    }

    /// Adjusts this run's share to `runs` live runs.
    pub fn share(&self, runs: usize) {
        self.slots.lock().expect("rate limit lock").interval = interval(self.per_second, runs);
    }

    /// Waits for this caller's slot.
    pub async fn acquire(&self) {
        let at = {
            let mut slots = self.slots.lock().expect("rate limit lock");
            let Some(interval) = slots.interval else {
                return;
            };
            let at = slots.next.max(Instant::now());
            slots.next = at + interval;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

fn interval(per_second: f64, runs: usize) -> Option<Duration> {
    (per_second > 0.0).then(|| Duration::from_secs_f64(runs.max(1) as f64 / per_second))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_of_n_runs_takes_an_equal_share_of_the_campaign_rate() {
        assert_eq!(interval(100.0, 1), Some(Duration::from_millis(10)));
        assert_eq!(interval(100.0, 4), Some(Duration::from_millis(40)));
        assert_eq!(interval(100.0, 0), Some(Duration::from_millis(10)));
        assert_eq!(interval(0.0, 3), None);
        let limit = RateLimit::shared(50.0, 1);
        limit.share(5);
        let got = limit.slots.lock().unwrap().interval;
        assert_eq!(got, Some(Duration::from_millis(100)));
    }
}
