//! A keyed token bucket in memory, for the subscribe form's per-IP and
//! per-address limits. Hand-written rather than the `governor` crate: this
//! is the only rate limit the service needs, it is ~50 lines, and it must
//! also forget idle keys so a flood of addresses cannot grow it forever.
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Up to `burst` events at once per key, refilled at one per `every`.
#[derive(Debug)]
pub struct KeyedLimiter<K> {
    burst: f64,
    every: Duration,
    /// Keys are swept once the map holds this many.
    sweep_at: usize,
    buckets: Mutex<HashMap<K, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl<K: Hash + Eq> KeyedLimiter<K> {
    /// A limiter allowing `burst` events, then one per `every`, per key.
    pub fn new(burst: u32, every: Duration) -> Self {
        Self {
            burst: f64::from(burst.max(1)),
            every,
            sweep_at: 10_000,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` may act now (and if so, takes one token).
    pub fn allow(&self, key: K, now: Instant) -> bool {
        let mut map = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.sweep_at {
            // A full bucket carries no state worth keeping.
            map.retain(|_, b| self.refill(*b, now).tokens < self.burst);
        }
        let bucket = map.entry(key).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        *bucket = self.refill(*bucket, now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn refill(&self, b: Bucket, now: Instant) -> Bucket {
        let earned = now.saturating_duration_since(b.at).as_secs_f64() / self.every.as_secs_f64();
        Bucket {
            tokens: (b.tokens + earned).min(self.burst),
            at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_burst_then_waits_for_a_refill() {
        let l = KeyedLimiter::new(2, Duration::from_secs(60));
        let t = Instant::now();
        assert!(l.allow("a", t));
        assert!(l.allow("a", t));
        assert!(!l.allow("a", t));
        assert!(l.allow("b", t), "keys are independent");
        assert!(!l.allow("a", t + Duration::from_secs(30)));
        assert!(l.allow("a", t + Duration::from_secs(61)));
    }

    #[test]
    fn idle_keys_are_forgotten_once_the_map_is_large() {
        let mut l = KeyedLimiter::new(1, Duration::from_secs(1));
        l.sweep_at = 3;
        let t = Instant::now();
        for k in 0..3 {
            assert!(l.allow(k, t));
        }
        assert!(l.allow(99, t + Duration::from_secs(5)));
        assert_eq!(
            l.buckets.lock().unwrap().len(),
            1,
            "refilled keys were swept"
        );
    }
}
