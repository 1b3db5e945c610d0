//! The bounce circuit breaker: pure logic over the run's tried outcomes in
//! the order they were recorded. A list mailed weekly bounces a little; a
//! burst of hard bounces (a wrong port, an MX instead of the relay, a relay
//! that does not relay for us and says `550 5.1.1` to everyone) is the
//! relay's doing. The breaker trips on more than `start_max` bounces among
//! the first `start` recipients, or more than `ratio` of any `window` in a
//! row. A bounce is *cleared* (its subscriber may be marked `bounced`) only
//! once no window that could still trip contains it.
use std::collections::VecDeque;

use crate::config::SendSettings;

/// The breaker's thresholds (`[send] bounce_breaker_*`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// The first recipients of a run, judged on their own (0: off).
    pub start: u64,
    /// Bounces allowed among them.
    pub start_max: u64,
    /// The sliding window (0: off).
    pub window: u64,
    /// The share of a window that may bounce.
    pub ratio: f64,
}

impl Thresholds {
    /// From `[send]`.
    pub fn from_settings(s: &SendSettings) -> Self {
        Self {
            start: s.bounce_breaker_start,
            start_max: s.bounce_breaker_start_max,
            window: s.bounce_breaker_window,
            ratio: s.bounce_breaker_ratio,
        }
    }

    /// Bounces allowed in one window.
    fn window_max(&self) -> u64 {
        (self.window as f64 * self.ratio).floor() as u64
    }

    /// How many later outcomes it takes before no window can hold a given
    /// one any more.
    fn horizon(&self) -> u64 {
        self.window.max(self.start)
    }
}

/// What one outcome did to the breaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing to act on.
    Fine,
    /// The breaker tripped just now; the text says why.
    Tripped(String),
}

/// The breaker's state for one run.
#[derive(Debug)]
pub struct Breaker {
    limits: Thresholds,
    /// Tried outcomes seen so far.
    seen: u64,
    /// Bounces among the first `start`.
    start_bounces: u64,
    /// Positions of the bounces within the last `window` outcomes.
    recent: VecDeque<u64>,
    /// Bounces not yet cleared: (position, ledger row).
    uncleared: VecDeque<(u64, i64)>,
    tripped: bool,
}

impl Breaker {
    /// A fresh breaker.
    pub fn new(limits: Thresholds) -> Self {
        Self {
            limits,
            seen: 0,
            start_bounces: 0,
            recent: VecDeque::new(),
            uncleared: VecDeque::new(),
            tripped: false,
        }
    }

    /// Whether it has tripped.
    pub fn tripped(&self) -> bool {
        self.tripped
    }

    /// Takes one tried outcome: `bounce` is the row of a hard bounce.
    pub fn observe(&mut self, bounce: Option<i64>) -> Verdict {
        let at = self.seen;
        self.seen += 1;
        let l = self.limits;
        while self
            .recent
            .front()
            .is_some_and(|&p| l.window == 0 || p + l.window <= at)
        {
            self.recent.pop_front();
        }
        let Some(row) = bounce else {
            return Verdict::Fine;
        };
        self.uncleared.push_back((at, row));
        if l.window > 0 {
            self.recent.push_back(at);
        }
        if at < l.start {
            self.start_bounces += 1;
        }
        if self.tripped {
            return Verdict::Fine;
        }
        if l.start > 0 && at < l.start && self.start_bounces > l.start_max {
            self.tripped = true;
            return Verdict::Tripped(format!(
                "{} of the first {} recipients bounced as unknown (more than `[send] \
                 bounce_breaker_start_max` = {})",
                self.start_bounces, self.seen, l.start_max
            ));
        }
        if l.window > 0 && self.recent.len() as u64 > l.window_max() {
            self.tripped = true;
            return Verdict::Tripped(format!(
                "{} of {} recipients in a row bounced as unknown (more than `[send] \
                 bounce_breaker_ratio` = {} of `bounce_breaker_window` = {})",
                self.recent.len(),
                (at - self.recent.front().copied().unwrap_or(at) + 1),
                l.ratio,
                l.window
            ));
        }
        Verdict::Fine
    }

    /// The rows of bounces that no window can hold any more: their
    /// subscribers may be marked `bounced`. Empty once tripped.
    pub fn cleared(&mut self) -> Vec<i64> {
        if self.tripped {
            return Vec::new();
        }
        let horizon = self.limits.horizon();
        let mut out = Vec::new();
        while let Some(&(at, row)) = self.uncleared.front() {
            if at + horizon > self.seen {
                break;
            }
            out.push(row);
            self.uncleared.pop_front();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Thresholds {
        Thresholds {
            start: 200,
            start_max: 20,
            window: 500,
            ratio: 0.1,
        }
    }

    #[test]
    fn a_relay_that_rejects_everyone_trips_on_the_twenty_first_bounce() {
        let mut b = Breaker::new(limits());
        for i in 0..20 {
            assert_eq!(b.observe(Some(i)), Verdict::Fine);
        }
        assert!(
            matches!(b.observe(Some(20)), Verdict::Tripped(why) if why.contains("21 of the first 21"))
        );
        assert!(b.tripped());
        assert!(b.cleared().is_empty(), "nothing of a burst is cleared");
    }

    #[test]
    fn a_list_with_a_few_dead_addresses_clears_each_bounce_after_a_window() {
        let mut b = Breaker::new(limits());
        let mut cleared = Vec::new();
        for i in 0..2_000 {
            // 4% bounce, evenly spread.
            let bounce = (i % 25 == 0).then_some(i);
            assert_eq!(b.observe(bounce), Verdict::Fine, "at {i}");
            cleared.extend(b.cleared());
        }
        assert!(!b.tripped());
        assert_eq!(cleared.first(), Some(&0));
        // Bounces in the last window are still being judged.
        assert!(cleared.iter().all(|&r| r + 500 <= 2_000), "{cleared:?}");
        assert_eq!(cleared.len(), 61, "0, 25, …, 1500");
    }

    #[test]
    fn a_burst_later_in_the_run_trips_the_window() {
        let mut b = Breaker::new(limits());
        for i in 0..1_000 {
            b.observe(None);
            let _ = i;
        }
        let mut verdict = Verdict::Fine;
        for i in 0..60 {
            verdict = b.observe(Some(i));
            if verdict != Verdict::Fine {
                break;
            }
        }
        assert!(
            matches!(&verdict, Verdict::Tripped(why) if why.contains("51 of 51")),
            "{verdict:?}"
        );
    }

    #[test]
    fn zero_turns_a_rule_off() {
        let mut b = Breaker::new(Thresholds {
            start: 0,
            start_max: 0,
            window: 0,
            ratio: 0.0,
        });
        for i in 0..1_000 {
            assert_eq!(b.observe(Some(i)), Verdict::Fine);
        }
        assert_eq!(b.cleared().len(), 1_000);
    }
}
