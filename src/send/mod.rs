//! The delivery engine: `concurrency` workers (each with its own
//! connection) personalize the prepared message for one claimed row at a
//! time and deliver it through the transport (outbox or SMTP) under a
//! global rate limit; the ledger desk commits their outcomes in group
//! commits and hands each its next row, and runs the bounce breaker. It
//! knows the ledger only as [`Ledger`](crate::domain::Ledger) and the relay
//! only as [`Transport`], never a database or a socket type.
//!
//! Memory does not grow with the list: one row per worker and the
//! workers' buffers are alive at a time. Those rows are the only ones
//! `sending`, which bounds the duplicates a crash can cause to
//! `concurrency`.
pub mod backoff;
pub mod breaker;
mod desk;
mod engine;
pub mod lease;
mod progress;
mod rate;
mod worker;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

pub use engine::{in_flight_cap, run};

use crate::config::SendSettings;
use crate::domain::{Campaign, CampaignCounts, ContentChange, Lease};
use crate::message::{MessageContext, MessageTemplate};
use crate::transport::Transport;

/// Everything a run needs besides the ledger.
pub struct SendContext {
    pub campaign: Campaign,
    /// The campaign's lease, held by this run (see [`lease`]).
    pub lease: Lease,
    /// The issue's message, built once.
    pub template: Arc<MessageTemplate>,
    pub message: Arc<MessageContext>,
    /// The unsubscribe-token key.
    pub secret: Arc<[u8]>,
    pub settings: SendSettings,
    pub transport: Transport,
    /// Draw a progress bar (a terminal) rather than log lines.
    pub progress_bar: bool,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "end", rename_all = "snake_case")]
pub enum RunEnd {
    /// Every row has a final outcome (sent, failed or skipped).
    Complete,
    /// Deferred rows remain, due later than `[send] max_wait_secs`.
    Waiting { next_due_unix_ms: i64 },
    /// Ctrl-C.
    Interrupted,
    /// The relay could not be reached for `max_attempts` tries in a row.
    RelayUnavailable { reason: String },
    /// Another run took the campaign's lease over (this one stalled).
    LeaseLost,
    /// The relay refused us (5xx to EHLO, AUTH or MAIL FROM, TLS that
    /// cannot be verified): a configuration problem; nobody was failed.
    RelayRefused { reason: String },
}

/// What a run did and where the campaign stands afterwards.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub issue: u32,
    #[serde(flatten)]
    pub end: RunEnd,
    /// Rows dead runs left `sending`, re-queued by this run.
    pub recovered: u64,
    /// Outcomes recorded by this run.
    pub this_run: RunCounts,
    pub elapsed_secs: f64,
    /// Messages per second handed over by this run.
    pub rate_per_sec: f64,
    /// The whole campaign's ledger.
    pub campaign: CampaignCounts,
    pub possible_duplicates: u64,
    /// Changes of the issue accepted mid-campaign (`--accept-changes`):
    /// recipients sent before each got the earlier version.
    pub content_changes: Vec<ContentChange>,
}

/// Outcomes recorded by one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RunCounts {
    pub sent: u64,
    pub deferred: u64,
    pub failed: u64,
    pub skipped: u64,
}

/// Live counters shared by the recorder (writer) and progress (reader).
#[derive(Debug, Default)]
struct Stats {
    sent: AtomicU64,
    deferred: AtomicU64,
    failed: AtomicU64,
    skipped: AtomicU64,
    /// Claimed rows whose outcome is not committed yet.
    outstanding: AtomicU64,
    /// Rows of dead runs this run re-queued (at its start, and with
    /// several senders at each heartbeat).
    recovered: AtomicU64,
}

impl Stats {
    fn snapshot(&self) -> RunCounts {
        RunCounts {
            sent: self.sent.load(Ordering::Relaxed),
            deferred: self.deferred.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
        }
    }
}
