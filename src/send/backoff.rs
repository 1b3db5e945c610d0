//! How long a deferred message waits before its next attempt.
use std::time::Duration;

/// The delay before retrying a message that has been tried `attempts`
/// times: `base · 2^(attempts-1)`, capped at `max`, scaled by a random
/// factor in [0.5, 1) so that many deferred messages do not return at once.
pub fn backoff(attempts: u32, base_secs: f64, max_secs: f64) -> Duration {
    let exp = f64::from(attempts.saturating_sub(1).min(30));
    let secs = (base_secs * 2f64.powf(exp)).min(max_secs).max(0.0);
    let jitter = 0.5 + rand::random::<f64>() / 2.0;
    Duration::from_secs_f64(secs * jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        for attempts in 1..=6 {
            let d = backoff(attempts, 10.0, 100.0).as_secs_f64();
            let full = (10.0 * 2f64.powi(attempts as i32 - 1)).min(100.0);
            assert!(d >= full * 0.5 && d < full, "attempt {attempts}: {d}");
        }
    }
}
