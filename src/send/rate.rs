//! A global rate limit shared by every worker: each message takes the next
//! slot `1/rate` seconds after the previous one. Hand-written (20 lines)
//! rather than pulling in `governor`: no bursts are wanted, just spacing.
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Spaces calls to [`RateLimit::acquire`] evenly; `None` rate = unlimited.
#[derive(Debug)]
pub struct RateLimit {
    interval: Option<Duration>,
    next: Mutex<Instant>,
}

impl RateLimit {
    /// A limit of `per_second` messages (0 or less: unlimited).
    pub fn new(per_second: f64) -> Self {
        let interval = (per_second > 0.0).then(|| Duration::from_secs_f64(1.0 / per_second));
        Self {
            interval,
            next: Mutex::new(Instant::now()),
        }
    }

    /// Waits for this caller's slot.
    pub async fn acquire(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let at = {
            let mut next = self.next.lock().expect("rate limit lock");
            let at = (*next).max(Instant::now());
            *next = at + interval;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}
