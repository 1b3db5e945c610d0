//! How long a deferred message waits before its next attempt, and when a
//! deferred recipient has had its last one.
use std::time::Duration;

use crate::config::SendSettings;
use crate::domain::{DeferredGroup, Waiting};

/// The delay before retrying a message that has been tried `attempts`
/// times: `base · 2^(attempts-1)`, capped at `max`, scaled by a random
/// factor in [0.5, 1) so that many deferred messages do not return at once.
pub fn backoff(attempts: u32, base_secs: f64, max_secs: f64) -> Duration {
    let exp = f64::from(attempts.saturating_sub(1).min(30));
    let secs = (base_secs * 2f64.powf(exp)).min(max_secs).max(0.0);
    let jitter = 0.5 + rand::random::<f64>() / 2.0;
    Duration::from_secs_f64(secs * jitter)
}

/// The longest [`backoff`] after `attempts` tries (no jitter), in ms.
fn longest_ms(attempts: u32, base_secs: f64, max_secs: f64) -> i64 {
    let exp = f64::from(attempts.saturating_sub(1).min(30));
    ((base_secs * 2f64.powf(exp)).min(max_secs).max(0.0) * 1000.0) as i64
}

/// What the deferred recipients wait for: the next retry, and the time by
/// which the last of them has had its last attempt (`max_attempts`), after
/// which a recipient still deferred is failed. The latter assumes every
/// retry is deferred again and waits the longest backoff: an upper bound.
/// `None` when nobody is deferred.
pub fn waiting(groups: &[DeferredGroup], s: &SendSettings) -> Option<Waiting> {
    let deferred: u64 = groups.iter().map(|g| g.count).sum();
    if deferred == 0 {
        return None;
    }
    let next = groups.iter().map(|g| g.first_due).min()?;
    let give_up = groups
        .iter()
        .map(|g| {
            let later: i64 = (g.attempts + 1..s.max_attempts)
                .map(|k| longest_ms(k, s.retry_base_secs, s.retry_max_secs))
                .sum();
            g.last_due.saturating_add(later)
        })
        .max()?;
    Some(Waiting {
        deferred,
        next_retry_unix_ms: next,
        give_up_unix_ms: give_up,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_attempt_follows_the_longest_backoffs_still_to_come() {
        let s = SendSettings {
            max_attempts: 5,
            retry_base_secs: 60.0,
            retry_max_secs: 200.0,
            ..SendSettings::default()
        };
        let groups = [
            // Tried once: attempts 2..5 still to come, after backoffs of
            // attempts 2, 3, 4 (120 s, 200 s capped, 200 s).
            DeferredGroup {
                attempts: 1,
                count: 3,
                first_due: 1_000,
                last_due: 5_000,
            },
            // Tried four times: the next attempt is the last.
            DeferredGroup {
                attempts: 4,
                count: 2,
                first_due: 900,
                last_due: 9_000,
            },
        ];
        let w = waiting(&groups, &s).unwrap();
        assert_eq!(w.deferred, 5);
        assert_eq!(w.next_retry_unix_ms, 900);
        assert_eq!(w.give_up_unix_ms, 5_000 + 520_000);
        assert_eq!(waiting(&[], &s), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        for attempts in 1..=6 {
            let d = backoff(attempts, 10.0, 100.0).as_secs_f64();
            let full = (10.0 * 2f64.powi(attempts as i32 - 1)).min(100.0);
            assert!(d >= full * 0.5 && d < full, "attempt {attempts}: {d}");
        }
    }
}
