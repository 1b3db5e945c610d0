//! The confirmation worker: delivers the queue in the store
//! (`Store::claim_confirmations`) in the background of `serve`, retrying
//! deferred deliveries with exponential backoff, so a confirmation the form
//! accepted survives a relay outage and a restart.
//!
//! A 4xx, a timeout or an unreachable relay is retried (and the rest of
//! the batch waits with it, since the relay is likely down for them too);
//! a 5xx to the recipient or the message gives the row up and records the
//! reply. A refused sender (5xx to MAIL FROM) is the relay's configuration,
//! not the recipient's fault, so it is retried too, and so is a reply lost
//! after the final `.` (a second confirmation is harmless; a missing one is
//! not). On stop, the delivery
//! in flight gets `[send] shutdown_grace_secs`, and whatever is left stays
//! queued in the store for the next start.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::{Notify, watch};

use super::mailer::{Job, Mailer};
use super::metrics::Metrics;
use super::metrics_labels::{ConfirmationEvent as Event, StoreOp};
use crate::config::Settings;
use crate::domain::now;
use crate::store::{ClaimedConfirmation, ConfirmationOutcome as Outcome, Store};
use crate::token::{Keyring, Purpose};
use crate::transport::Delivery;

/// Rows claimed at once.
const BATCH: u32 = 16;
/// How long a claim holds a row: longer than any delivery can take, so
/// only a process that died mid-delivery lets it lapse.
const LEASE: Duration = Duration::from_secs(15 * 60);
/// The longest nap between looks at the queue (other processes add rows).
const POLL: Duration = Duration::from_secs(5);

/// What request handlers share with the worker.
#[derive(Debug, Clone)]
pub struct Queue {
    /// `[web] confirm_queue_max`.
    pub cap: u32,
    wake: Arc<Notify>,
    relay_ok: Arc<AtomicBool>,
}

impl Queue {
    /// Tells the worker a row was added.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Whether the last delivery attempt reached the relay (true before any).
    pub fn relay_ok(&self) -> bool {
        self.relay_ok.load(Ordering::Relaxed)
    }
}

/// Exponential backoff with jitter, as `send` retries (`base_secs`,
/// doubling per attempt, at most `max_secs`); after `attempts` attempts
/// the row is given up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub base_secs: f64,
    pub max_secs: f64,
    pub attempts: u32,
}

impl Backoff {
    /// From `[web] confirm_retry_base_secs`, `confirm_retry_max_secs` and
    /// `confirm_max_attempts`.
    pub fn from_settings(s: &Settings) -> anyhow::Result<Self> {
        let w = &s.web;
        let ok = |v: f64| v > 0.0 && v <= 7.0 * 86_400.0;
        if !ok(w.confirm_retry_base_secs) || !ok(w.confirm_retry_max_secs) {
            anyhow::bail!(
                "`[web] confirm_retry_base_secs` and `confirm_retry_max_secs` must be seconds \
                 above 0, at most a week (they are `{}` and `{}`)",
                w.confirm_retry_base_secs,
                w.confirm_retry_max_secs
            );
        }
        if w.confirm_max_attempts == 0 {
            anyhow::bail!("`[web] confirm_max_attempts` is `0`: allow at least 1 (default 30)");
        }
        Ok(Self {
            base_secs: w.confirm_retry_base_secs,
            max_secs: w.confirm_retry_max_secs.max(w.confirm_retry_base_secs),
            attempts: w.confirm_max_attempts,
        })
    }

    /// The wait after attempt number `attempt` (1 for the first) failed.
    pub fn after(&self, attempt: u32) -> Duration {
        crate::send::backoff::backoff(attempt, self.base_secs, self.max_secs)
    }
}

/// The worker and what it needs.
pub struct Worker {
    pub store: Store,
    pub mailer: Mailer,
    pub keys: Keyring,
    /// `[web] public_url`, without a trailing slash.
    pub public_url: String,
    pub token_life: time::Duration,
    pub backoff: Backoff,
    /// `[send] shutdown_grace_secs`.
    pub grace: Duration,
    pub metrics: Metrics,
}

impl Worker {
    /// Starts the worker; it runs until `stop` turns true.
    pub fn start(
        self,
        cap: u32,
        stop: watch::Receiver<bool>,
    ) -> (Queue, tokio::task::JoinHandle<()>) {
        let queue = Queue {
            cap,
            wake: Arc::new(Notify::new()),
            relay_ok: Arc::new(AtomicBool::new(true)),
        };
        let task = tokio::spawn(self.run(queue.clone(), stop));
        (queue, task)
    }

    async fn run(self, queue: Queue, mut stop: watch::Receiver<bool>) {
        let m = &self.metrics;
        while !*stop.borrow() {
            let claim = self.store.claim_confirmations(now(), LEASE, BATCH);
            let batch = match m.store(StoreOp::ClaimConfirmations, claim).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(
                        error = format!("{e:#}"),
                        "cannot read the confirmation queue"
                    );
                    nap(Duration::from_secs(1), &queue, &mut stop).await;
                    continue;
                }
            };
            if batch.is_empty() {
                let next = self.store.next_confirmation_due();
                let wait = match m.store(StoreOp::NextConfirmationDue, next).await {
                    Ok(Some(at)) => duration_until(at).min(POLL),
                    _ => POLL,
                };
                nap(wait, &queue, &mut stop).await;
                continue;
            }
            let outcomes = self.work(batch, &queue, &stop).await;
            let finish = self.store.finish_confirmations(&outcomes, now());
            if let Err(e) = m.store(StoreOp::FinishConfirmations, finish).await {
                // The rows keep their lease and are tried again after it.
                tracing::error!(error = format!("{e:#}"), "cannot record confirmations");
            }
        }
    }

    /// Delivers a claimed batch in order; after a deferral (the relay is
    /// likely down) or a stop, the rest waits untried.
    async fn work(
        &self,
        batch: Vec<ClaimedConfirmation>,
        queue: &Queue,
        stop: &watch::Receiver<bool>,
    ) -> Vec<(crate::domain::SubscriberId, Outcome)> {
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut hold_until: Option<OffsetDateTime> = None;
        for row in batch {
            let Some(to) = row.to.clone() else {
                outcomes.push((row.id, Outcome::Done));
                continue;
            };
            if *stop.borrow() || hold_until.is_some() {
                let at = hold_until.unwrap_or_else(now);
                outcomes.push((row.id, Outcome::Postpone { at }));
                continue;
            }
            let token = self
                .keys
                .sign(Purpose::Confirm, row.id, now() + self.token_life);
            let job = Job {
                id: row.id,
                to,
                link: format!("{}/confirm/{token}", self.public_url),
            };
            let outcome = match self.deliver(&job, stop).await {
                Some(delivery) => {
                    let outcome = self.judge(&row, delivery, queue);
                    self.metrics.confirmation(match &outcome {
                        Outcome::Done => Event::Sent,
                        Outcome::GiveUp { .. } => Event::GivenUp,
                        Outcome::Retry { .. } | Outcome::Postpone { .. } => Event::Retried,
                    });
                    outcome
                }
                None => Outcome::Retry {
                    at: now(),
                    error: "interrupted by a shutdown; it may have been sent".into(),
                },
            };
            if let Outcome::Retry { at, .. } = &outcome {
                hold_until = Some(*at);
            }
            outcomes.push((row.id, outcome));
        }
        outcomes
    }

    /// One delivery; `None` if a stop's grace ran out first.
    async fn deliver(&self, job: &Job, stop: &watch::Receiver<bool>) -> Option<Delivery> {
        let mut stop = stop.clone();
        let grace = self.grace;
        let out_of_grace = async move {
            let _ = stop.wait_for(|s| *s).await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            d = self.mailer.deliver(job) => Some(d),
            () = out_of_grace => None,
        }
    }

    /// What an attempt's result means for the row. Logs name the
    /// subscriber id and the kind of outcome, never the reply (which may
    /// quote the address); the reply goes to the store.
    fn judge(&self, row: &ClaimedConfirmation, delivery: Delivery, queue: &Queue) -> Outcome {
        let id = row.id.get();
        let retry = match delivery {
            Delivery::Sent(_) => {
                if !queue.relay_ok.swap(true, Ordering::Relaxed) {
                    crate::output::note!(
                        "serve: the relay accepts mail again; sending queued confirmations"
                    );
                }
                tracing::info!(subscriber = id, "confirmation mailed");
                return Outcome::Done;
            }
            Delivery::Failed { reply, .. } => {
                tracing::warn!(
                    subscriber = id,
                    "confirmation refused by the relay; given up"
                );
                return Outcome::GiveUp { error: reply };
            }
            Delivery::Deferred(r)
            | Delivery::Unconfirmed(r)
            | Delivery::NotTried(r)
            | Delivery::RelayRefused(r) => r,
        };
        if queue.relay_ok.swap(false, Ordering::Relaxed) {
            crate::output::note!(
                "serve: cannot deliver confirmations now; they stay queued and are retried \
                 with backoff (the reply is in the store's `confirmation_queue.last_error`)"
            );
        }
        if row.attempts >= self.backoff.attempts {
            tracing::warn!(
                subscriber = id,
                attempts = row.attempts,
                "confirmation given up"
            );
            return Outcome::GiveUp {
                error: format!("gave up after {} attempts: {retry}", row.attempts),
            };
        }
        let wait = self.backoff.after(row.attempts);
        tracing::warn!(
            subscriber = id,
            attempts = row.attempts,
            retry_in_ms = wait.as_millis() as u64,
            "confirmation deferred"
        );
        Outcome::Retry {
            at: now() + wait,
            error: retry,
        }
    }
}

/// Sleeps `wait`, or less if a row is added or a stop comes.
async fn nap(wait: Duration, queue: &Queue, stop: &mut watch::Receiver<bool>) {
    tokio::select! {
        () = tokio::time::sleep(wait) => {}
        () = queue.wake.notified() => {}
        _ = stop.wait_for(|s| *s) => {}
    }
}

fn duration_until(at: OffsetDateTime) -> Duration {
    Duration::try_from(at - now()).unwrap_or(Duration::ZERO)
}
