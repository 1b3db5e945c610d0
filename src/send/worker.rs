//! A delivery worker: takes one claimed row at a time from the desk's
//! queue, fills the recipient's slots into the prepared message, hands it
//! to the outbox or its own SMTP connection (having the desk note the
//! hand-over first), and drops the outcome off at the desk.
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};

use super::SendContext;
use super::backoff::backoff;
use super::desk::{Queue, Visit};
use crate::domain::{Claimed, DeliveryState, Record, now_ms};
use crate::message::RecipientSlots;
use crate::token::{self, Purpose};
use crate::transport::{After, ConnectError, Connection, Delivery, Relay, Transport, outbox};

/// What every worker shares.
pub struct Shared {
    pub ctx: SendContext,
    pub rate: super::rate::RateLimit,
    /// Turns true when the run must stop taking rows: Ctrl-C, or an abort;
    /// every sleep waits on it too (backoffs, the wait for deferred rows,
    /// the wind-down).
    pub stop: watch::Receiver<bool>,
    /// The switch behind `stop`, which an abort turns on.
    pub halt: watch::Sender<bool>,
    /// Set when the run must end early (the relay stayed unreachable, the
    /// lease was lost); the run winds down and ends this way.
    pub abort: std::sync::Mutex<Option<super::RunEnd>>,
    /// Whether the relay has accepted any message in this run.
    pub sent_any: std::sync::atomic::AtomicBool,
    /// Policy rejections (`5.7.x`) seen before the relay accepted anything.
    pub early_policy: std::sync::atomic::AtomicU32,
}

/// The reply recorded for a row handed back untried because the run is
/// stopping.
pub const STOPPED: &str = "mailroom: stopped before sending";

/// Policy rejections in a row, before any success, that stop a run: the
/// relay is refusing us (relaying denied, sender not allowed), not judging
/// each recipient.
pub const POLICY_BREAKER: u32 = 10;

impl Shared {
    /// Ends the run early as `end` (the first reason wins).
    pub fn abort_with(&self, end: super::RunEnd) {
        self.abort.lock().expect("abort lock").get_or_insert(end);
        self.halt.send_replace(true);
    }

    /// Until the relay has accepted a message in this run, a `5.7.x` policy
    /// rejection says more about us than about the recipient: it goes back
    /// to the queue instead of failing the recipient, and
    /// [`POLICY_BREAKER`] of them stop the run as a relay refusal.
    fn judge(&self, delivery: Delivery) -> Delivery {
        use std::sync::atomic::Ordering::Relaxed;
        if matches!(delivery, Delivery::Sent(_)) {
            self.sent_any.store(true, Relaxed);
        }
        let Delivery::Failed { reply, .. } = &delivery else {
            return delivery;
        };
        if self.sent_any.load(Relaxed) || !is_policy_rejection(reply) {
            return delivery;
        }
        let seen = self.early_policy.fetch_add(1, Relaxed) + 1;
        if seen >= POLICY_BREAKER {
            return Delivery::RelayRefused(format!(
                "the relay refused the first {seen} recipients by policy (`{reply}`); that is \
                 the relay refusing us (relaying denied, sender not allowed), so check \
                 `[smtp] username`, MAILROOM_SMTP__PASSWORD and that the relay lets this \
                 account send as `[newsletter] from`"
            ));
        }
        Delivery::NotTried(reply.clone())
    }

    /// Whether to stop taking work (Ctrl-C or an abort).
    pub fn stopping(&self) -> bool {
        *self.stop.borrow() || self.abort.lock().expect("abort lock").is_some()
    }
}

struct Worker {
    shared: Arc<Shared>,
    conn: Option<Connection>,
    on_conn: usize,
    /// Connection attempts that failed in a row.
    failures: u32,
    pause: Option<Duration>,
    buf: Vec<u8>,
}

/// Runs one worker: takes claimed rows from `queue` and drops each
/// outcome off at the desk, until the queue is closed or the desk is gone.
pub async fn run(shared: Arc<Shared>, queue: Arc<Queue>, desk: mpsc::Sender<Visit>) {
    let mut w = Worker {
        shared,
        conn: None,
        on_conn: 0,
        failures: 0,
        pause: None,
        buf: Vec::with_capacity(128 * 1024),
    };
    while let Some(job) = queue.take().await {
        let record = w.handle(job, &desk).await;
        let (ack, judged) = if record.state == DeliveryState::Failed {
            let (ack, judged) = oneshot::channel();
            (Some(ack), Some(judged))
        } else {
            (None, None)
        };
        if desk.send(Visit::Done { record, ack }).await.is_err() {
            break;
        }
        if let Some(judged) = judged
            && judged.await.is_err()
        {
            break;
        }
        if let Some(pause) = w.pause.take() {
            let mut stop = w.shared.stop.clone();
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                _ = stop.wait_for(|s| *s) => {}
            }
        }
    }
    if let Some(conn) = w.conn.take() {
        conn.quit().await;
    }
}

impl Worker {
    async fn handle(&mut self, job: Claimed, desk: &mpsc::Sender<Visit>) -> Record {
        if self.shared.stopping() {
            return untried(&job, DeliveryState::Pending, STOPPED, None);
        }
        self.shared.rate.acquire().await;
        let delivery = self.deliver(&job, desk).await;
        let delivery = self.shared.judge(delivery);
        let s = &self.shared.ctx.settings;
        match delivery {
            Delivery::RelayRefused(reason) => {
                self.shared.abort_with(super::RunEnd::RelayRefused {
                    reason: reason.clone(),
                });
                untried(&job, DeliveryState::Pending, &reason, None)
            }
            Delivery::NotTried(reason) => {
                let wait = backoff(self.failures.max(1), s.retry_base_secs, s.retry_max_secs);
                untried(&job, DeliveryState::Deferred, &reason, Some(wait))
            }
            d => to_record(&job, d, s.max_attempts, s.retry_base_secs, s.retry_max_secs),
        }
    }

    async fn deliver(&mut self, job: &Claimed, desk: &mpsc::Sender<Visit>) -> Delivery {
        let ctx = &self.shared.ctx;
        let token = token::sign(&ctx.secret, Purpose::Unsubscribe, job.subscriber);
        let slots = match RecipientSlots::new(
            &ctx.message,
            ctx.campaign.issue,
            job.email.clone(),
            &token,
        ) {
            Ok(s) => s,
            Err(e) => {
                return Delivery::Failed {
                    reply: format!("mailroom: {e}"),
                    bounce: false,
                };
            }
        };
        self.buf.clear();
        if ctx.template.is_signed() {
            // An RSA-2048 signature takes ~0.8 ms of CPU here (`openssl
            // speed rsa2048`: 879 µs). On one of the runtime's two threads it
            // would hold up the replies of every connection queued there;
            // on tokio's blocking pool the runtime threads stay free for
            // I/O while the OS spreads the signatures over the cores
            // (paired runs under load: 606–699 msg/s signed against
            // 491–593 in-line; README has the quiet figures).
            let template = ctx.template.clone();
            let mut buf = std::mem::take(&mut self.buf);
            let signed = tokio::task::spawn_blocking(move || {
                template.personalize_into(&slots, &mut buf);
                buf
            });
            match signed.await {
                Ok(buf) => self.buf = buf,
                Err(e) => return Delivery::NotTried(format!("mailroom: signing failed: {e}")),
            }
        } else {
            ctx.template.personalize_into(&slots, &mut self.buf);
        }
        let shared = self.shared.clone();
        match &shared.ctx.transport {
            Transport::Outbox(dir) => {
                if !handing(desk, job.delivery).await.await {
                    return Delivery::NotTried(STOPPED.to_owned());
                }
                outbox::write(dir, &job.subscriber.to_string(), &self.buf)
            }
            Transport::Smtp(relay) => self.smtp(relay, job, desk).await,
            Transport::Discard => Delivery::Sent(format!("250 discarded {} bytes", self.buf.len())),
        }
    }

    async fn smtp(&mut self, relay: &Relay, job: &Claimed, desk: &mpsc::Sender<Visit>) -> Delivery {
        if self.conn.is_none() {
            match relay.connect().await {
                Ok(c) => {
                    self.conn = Some(c);
                    self.on_conn = 0;
                    self.failures = 0;
                }
                Err(ConnectError::Refused(refused)) => {
                    return Delivery::RelayRefused(refused.to_string());
                }
                Err(away) => return self.connect_failed(away.reason()),
            }
        }
        let ctx = &self.shared.ctx;
        let from = crate::token::verp::envelope_sender(
            &ctx.secret,
            ctx.bounce_address.as_ref(),
            &ctx.message.from_address,
            Some(ctx.campaign.issue),
            job.subscriber,
        );
        // Noted before the envelope goes out, so the note becomes durable
        // while MAIL, RCPT and DATA are answered; the body waits for it.
        let gate = handing(desk, job.delivery).await;
        let conn = self.conn.as_mut().expect("connected above");
        let (delivery, after) = conn
            .send_gated(&from, &job.email, &mut self.buf, gate)
            .await;
        let delivery = match delivery {
            Delivery::RelayRefused(reply) => {
                Delivery::RelayRefused(relay.sender_refused(reply).to_string())
            }
            d => d,
        };
        self.on_conn += 1;
        let cap = self.shared.ctx.settings.messages_per_connection.max(1);
        if after == After::Broken {
            self.conn = None;
        } else if self.on_conn >= cap
            && let Some(c) = self.conn.take()
        {
            c.quit().await;
        }
        delivery
    }

    fn connect_failed(&mut self, reason: String) -> Delivery {
        self.failures += 1;
        let s = &self.shared.ctx.settings;
        if self.failures >= s.max_attempts.max(1) {
            self.shared.abort_with(super::RunEnd::RelayUnavailable {
                reason: reason.clone(),
            });
        }
        self.pause = Some(backoff(self.failures, s.retry_base_secs, s.retry_max_secs));
        Delivery::NotTried(reason)
    }
}

/// Asks the desk to note `delivery` as handed to the relay, and returns
/// the wait for it: true once the note is durable, false if the desk is
/// gone. A row noted but never sent (its MAIL or RCPT refused, or a crash
/// before the body) at worst counts as one more possible duplicate, still
/// within the one row per connection a crash may duplicate.
async fn handing(desk: &mpsc::Sender<Visit>, delivery: i64) -> impl Future<Output = bool> {
    let (ack, done) = oneshot::channel();
    let asked = desk.send(Visit::Handing { delivery, ack }).await.is_ok();
    async move { asked && done.await.is_ok() }
}

/// Whether a `Failed` reply (`550 5.7.1 …`) carries a `5.7.x` (security or
/// policy) enhanced status code.
fn is_policy_rejection(reply: &str) -> bool {
    reply
        .split_once(' ')
        .and_then(|(_, text)| crate::transport::EnhancedCode::parse(text))
        .is_some_and(|c| c.class == 5 && c.subject == 7)
}

/// The ledger record for a tried delivery.
pub fn to_record(job: &Claimed, d: Delivery, max_attempts: u32, base: f64, max: f64) -> Record {
    let mut r = Record {
        delivery: job.delivery,
        state: DeliveryState::Sent,
        reply: None,
        next_attempt_at: None,
        refund_attempt: false,
        bounce: None,
        possible_duplicate: false,
    };
    match d {
        Delivery::Sent(reply) => r.reply = Some(reply),
        // Sent again later, so counted as a possible duplicate; after the
        // last attempt nothing is sent again and nothing is counted.
        Delivery::Unconfirmed(reply) => {
            if job.attempts >= max_attempts {
                r.state = DeliveryState::Failed;
            } else {
                r.state = DeliveryState::Deferred;
                r.possible_duplicate = true;
                r.next_attempt_at = Some(due_after(backoff(job.attempts, base, max)));
            }
            r.reply = Some(reply);
        }
        Delivery::Deferred(reply) if job.attempts >= max_attempts => {
            r.state = DeliveryState::Failed;
            r.reply = Some(reply);
        }
        Delivery::Deferred(reply) | Delivery::NotTried(reply) | Delivery::RelayRefused(reply) => {
            r.state = DeliveryState::Deferred;
            r.reply = Some(reply);
            r.next_attempt_at = Some(due_after(backoff(job.attempts, base, max)));
        }
        Delivery::Failed { reply, bounce } => {
            r.state = DeliveryState::Failed;
            r.reply = Some(reply);
            r.bounce = bounce.then_some(job.subscriber);
        }
    }
    r
}

/// A record that gives the attempt back: the row was never handed over.
pub fn untried(job: &Claimed, state: DeliveryState, why: &str, wait: Option<Duration>) -> Record {
    Record {
        delivery: job.delivery,
        state,
        reply: Some(why.to_owned()),
        next_attempt_at: wait.map(due_after),
        refund_attempt: true,
        bounce: None,
        possible_duplicate: false,
    }
}

fn due_after(wait: Duration) -> i64 {
    now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{EmailAddress, SubscriberId};

    fn job(attempts: u32) -> Claimed {
        Claimed {
            delivery: 9,
            subscriber: SubscriberId::new(4),
            email: EmailAddress::parse("a@example.com").unwrap(),
            mailable: true,
            attempts,
        }
    }

    #[test]
    fn a_deferral_is_retried_later_until_the_last_attempt_fails_it() {
        let d = || Delivery::Deferred("451 4.3.0 later".to_owned());
        let r = to_record(&job(1), d(), 3, 10.0, 100.0);
        assert_eq!(r.state, DeliveryState::Deferred);
        let due = r.next_attempt_at.unwrap() - now_ms();
        assert!((4_000..=10_000).contains(&due), "{due}");
        let last = to_record(&job(3), d(), 3, 10.0, 100.0);
        assert_eq!(last.state, DeliveryState::Failed);
        assert_eq!(last.reply.as_deref(), Some("451 4.3.0 later"));
        assert_eq!(last.bounce, None);
    }

    #[test]
    fn only_a_bad_mailbox_bounces_the_subscriber() {
        let failed = |bounce| Delivery::Failed {
            reply: "550 5.1.1 x".into(),
            bounce,
        };
        let r = to_record(&job(1), failed(true), 3, 1.0, 1.0);
        assert_eq!(
            (r.state, r.bounce),
            (DeliveryState::Failed, Some(SubscriberId::new(4)))
        );
        assert_eq!(to_record(&job(1), failed(false), 3, 1.0, 1.0).bounce, None);
        let sent = to_record(&job(2), Delivery::Sent("250 ok".into()), 3, 1.0, 1.0);
        assert_eq!(
            (sent.state, sent.reply.as_deref()),
            (DeliveryState::Sent, Some("250 ok"))
        );
    }

    #[test]
    fn only_5_7_x_replies_count_as_policy_rejections() {
        assert!(is_policy_rejection(
            "554 5.7.1 <x@example.com>: Relay access denied"
        ));
        assert!(is_policy_rejection("550 5.7.0 Authentication required"));
        assert!(!is_policy_rejection(
            "550 5.1.1 <x@example.com>: User unknown"
        ));
        assert!(!is_policy_rejection("550 Relay access denied"));
        assert!(!is_policy_rejection("451 4.7.1 Try again later"));
    }
}
