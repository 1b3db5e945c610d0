//! The connection cap: at most `cap` connections are open at once. When a
//! new one arrives at the cap, the oldest *idle* connection (one with no
//! request in a handler: waiting for a request head, trickling one in, or
//! kept alive between requests) is closed to make room; when every
//! connection is busy, accepting waits for one to end.
//!
//! Hand-written: hyper, hyper-util, axum and tower bound requests, not
//! connections, and none of them can tell an idle connection from a busy
//! one, which is what lets `/healthz` and one-click unsubscribes through
//! while slow or idle clients hold every slot (issue 10). Without eviction
//! a full table would make a new visitor wait in the listen backlog until
//! some idle client's header timeout ran out.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// The open connections, oldest first.
#[derive(Debug)]
pub struct Conns {
    slots: Arc<Semaphore>,
    cap: usize,
    open: Mutex<Open>,
    /// Idle connections closed to make room, since the start.
    evicted: AtomicU64,
}

#[derive(Debug, Default)]
struct Open {
    next: u64,
    /// By admission order, so the first idle one is the oldest.
    conns: BTreeMap<u64, Slot>,
}

#[derive(Debug)]
struct Slot {
    busy: Arc<AtomicUsize>,
    close: Arc<Notify>,
}

/// One admitted connection; dropping it frees its slot.
pub struct Admitted {
    id: u64,
    conns: Arc<Conns>,
    _permit: OwnedSemaphorePermit,
    /// Requests of this connection now in a handler.
    pub busy: Arc<AtomicUsize>,
    /// Notified when the connection must close at once.
    pub close: Arc<Notify>,
}

/// Marks a connection busy while a request is in its handler.
pub struct Busy(Arc<AtomicUsize>);

impl Busy {
    /// Counts one request in flight on the connection until dropped.
    pub fn enter(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(counter.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Conns {
    /// A table of at most `cap` connections.
    pub fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            slots: Arc::new(Semaphore::new(cap)),
            cap,
            open: Mutex::new(Open::default()),
            evicted: AtomicU64::new(0),
        })
    }

    /// Admits a new connection: at once while below the cap, else after
    /// closing the oldest idle connection, else once a busy one ends.
    pub async fn admit(self: &Arc<Self>) -> Admitted {
        let permit = match self.slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                self.close_oldest_idle();
                self.slots
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed")
            }
        };
        let mut open = self.lock();
        open.next += 1;
        let id = open.next;
        let slot = Slot {
            busy: Arc::new(AtomicUsize::new(0)),
            close: Arc::new(Notify::new()),
        };
        let admitted = Admitted {
            id,
            conns: self.clone(),
            _permit: permit,
            busy: slot.busy.clone(),
            close: slot.close.clone(),
        };
        open.conns.insert(id, slot);
        admitted
    }

    /// Closes the oldest connection with no request in a handler; whether
    /// there was one. Also the answer to running out of file descriptors.
    pub fn close_oldest_idle(&self) -> bool {
        let mut open = self.lock();
        let idle = open
            .conns
            .iter()
            .find(|(_, s)| s.busy.load(Ordering::SeqCst) == 0)
            .map(|(id, _)| *id);
        match idle.and_then(|id| open.conns.remove(&id)) {
            Some(slot) => {
                slot.close.notify_one();
                self.evicted.fetch_add(1, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// Closes every connection at once, busy or not (the end of shutdown).
    pub fn close_all(&self) {
        for (_, slot) in std::mem::take(&mut self.lock().conns) {
            slot.close.notify_one();
        }
    }

    /// Waits until every connection has ended.
    pub async fn all_closed(&self) {
        let all = u32::try_from(self.cap).unwrap_or(u32::MAX);
        let _ = self.slots.acquire_many(all).await;
    }

    /// Connections open now.
    pub fn len(&self) -> usize {
        self.cap - self.slots.available_permits()
    }

    /// The cap.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Idle connections closed to make room so far.
    pub fn evicted(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.conns.lock().conns.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn at_the_cap_the_oldest_idle_connection_makes_room() {
        let conns = Conns::new(3);
        let a = conns.admit().await;
        let b = conns.admit().await;
        let c = conns.admit().await;
        let _busy = Busy::enter(&a.busy);
        let closed_b = b.close.clone();
        let closed_c = c.close.clone();
        let waiting = tokio::spawn({
            let conns = conns.clone();
            async move { conns.admit().await }
        });
        // b, the oldest idle one, is told to close; a is busy and stays.
        closed_b.notified().await;
        drop(b);
        let d = waiting.await.unwrap();
        assert_eq!(conns.len(), 3);
        // Next in line is c, older than d.
        assert!(conns.close_oldest_idle());
        closed_c.notified().await;
        assert_eq!(conns.evicted(), 2, "b and c were evicted");
        let d_told = tokio::time::timeout(Duration::ZERO, d.close.notified()).await;
        assert!(d_told.is_err(), "the newer idle connection was kept");
        drop((a, c, d));
        assert_eq!(conns.len(), 0);
    }

    #[tokio::test]
    async fn when_every_connection_is_busy_admission_waits_for_one_to_end() {
        let conns = Conns::new(1);
        let a = conns.admit().await;
        let busy = Busy::enter(&a.busy);
        assert!(!conns.close_oldest_idle(), "a busy connection is kept");
        let waiting = tokio::spawn({
            let conns = conns.clone();
            async move { conns.admit().await.id }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(busy);
        drop(a);
        assert_eq!(waiting.await.unwrap(), 2);
    }
}
