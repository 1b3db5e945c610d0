//! Group commit for unsubscribes: requests queue up while the previous
//! transaction commits, and the next transaction takes all of them (up to
//! [`UNSUBSCRIBE_BATCH`]). Each request is answered only after the
//! transaction holding it has committed (and, with `Store::open_durable`,
//! reached the disk), so "done" is never said early. One fsync serves a
//! whole batch, which is what lets SQLite keep up with thousands of
//! one-click requests a second.
use tokio::sync::{mpsc, oneshot};

use super::metrics::Metrics;
use super::metrics_labels::StoreOp;
use crate::domain::{Source, Status, StatusChange, SubscriberId};
use crate::store::{Store, Transition, UNSUBSCRIBE_BATCH};

struct Job {
    id: SubscriberId,
    reason: &'static str,
    reply: oneshot::Sender<Result<Transition, String>>,
}

/// The handle request handlers use; cheap to clone.
#[derive(Clone)]
pub struct Unsubscriber {
    tx: mpsc::Sender<Job>,
}

impl Unsubscriber {
    /// Starts the writer task on `store` (timing each batch in `metrics`);
    /// it ends once every handle is dropped and the queue is drained.
    pub fn start(store: Store, metrics: Metrics) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(UNSUBSCRIBE_BATCH * 4);
        let task = tokio::spawn(run(store, metrics, rx));
        (Self { tx }, task)
    }

    /// Unsubscribes `id` (source `web`, with `reason`), once it is on disk.
    pub async fn unsubscribe(
        &self,
        id: SubscriberId,
        reason: &'static str,
    ) -> anyhow::Result<Transition> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job { id, reason, reply })
            .await
            .map_err(|_| anyhow::anyhow!("the unsubscribe writer has stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the unsubscribe writer dropped a request"))?
            .map_err(anyhow::Error::msg)
    }
}

async fn run(store: Store, metrics: Metrics, mut rx: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(UNSUBSCRIBE_BATCH);
    while rx.recv_many(&mut jobs, UNSUBSCRIBE_BATCH).await > 0 {
        let at = crate::domain::now();
        let changes: Vec<(SubscriberId, StatusChange)> = jobs
            .iter()
            .map(|j| {
                let change = StatusChange {
                    status: Status::Unsubscribed,
                    at,
                    source: Source::Web,
                    ip: None,
                    reason: Some(j.reason.to_owned()),
                };
                (j.id, change)
            })
            .collect();
        let batch = store.unsubscribe_batch(&changes);
        match metrics.store(StoreOp::UnsubscribeBatch, batch).await {
            Ok(outcomes) => {
                for (job, outcome) in jobs.drain(..).zip(outcomes) {
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                // No address or token is in this error: the batch is by id.
                tracing::error!(
                    error = format!("{e:#}"),
                    batch = jobs.len(),
                    "unsubscribe batch failed"
                );
                for job in jobs.drain(..) {
                    let _ = job.reply.send(Err(format!("{e:#}")));
                }
            }
        }
    }
}
