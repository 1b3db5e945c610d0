//! The lines between the ledger desk and the workers: the queue of rows
//! the desk claims ahead (workers take the next), and the channel of
//! their visits, sized so one batch fills a commit.
use std::sync::Arc;

use tokio::sync::{Mutex, mpsc};

use super::desk::Visit;
use crate::domain::Claimed;

/// The rows claimed ahead of the workers; each worker takes the next.
pub struct Queue(Mutex<mpsc::Receiver<Claimed>>);

impl Queue {
    /// The next claimed row, or `None` once the run hands out no more.
    pub async fn take(&self) -> Option<Claimed> {
        self.0.lock().await.recv().await
    }

    /// Takes back every row still waiting (the run stops).
    pub(super) async fn drain(&self) -> Vec<Claimed> {
        let mut rx = self.0.lock().await;
        let mut rows = Vec::new();
        while let Ok(row) = rx.try_recv() {
            rows.push(row);
        }
        rows
    }
}

/// The desk's ends of a run's channels.
pub struct Lines {
    pub visits: mpsc::Receiver<Visit>,
    pub rows: mpsc::Sender<Claimed>,
    pub queue: Arc<Queue>,
}

/// The channels between the desk and `concurrency` workers: the visits
/// the workers make (their end) and the queue of claimed rows (shared).
/// `ahead` rows are claimed ahead: enough for a batch per commit, bounded
/// by the rate limit so rows don't wait `sending` for long.
pub fn lines(concurrency: usize, rate_per_second: f64) -> (mpsc::Sender<Visit>, Lines) {
    let mut ahead = (concurrency * 8).max(1024);
    if rate_per_second > 0.0 {
        ahead = ahead.min((rate_per_second.ceil() as usize).max(concurrency));
    }
    let (visits_tx, visits) = mpsc::channel(ahead + 2 * concurrency);
    let (rows, rows_rx) = mpsc::channel(ahead.max(1));
    let queue = Arc::new(Queue(Mutex::new(rows_rx)));
    (
        visits_tx,
        Lines {
            visits,
            rows,
            queue,
        },
    )
}
