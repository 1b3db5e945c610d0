//! The delivery engine: `concurrency` workers (each with its own
//! connection) personalize the prepared message for one claimed row at a
//! time and deliver it through the transport (outbox or SMTP) under a
//! global rate limit; the ledger desk claims rows ahead of them, commits
//! their outcomes and hand-overs in group commits, and runs the bounce
//! breaker. It knows the ledger only as [`Ledger`](crate::domain::Ledger)
//! and the relay only as [`Transport`], never a database or a socket type.
//!
//! Memory does not grow with the list: the rows claimed ahead (a few
//! hundred at most) and the workers' buffers are alive at a time. Only a
//! row handed over without a durable outcome can arrive twice after a
//! crash, and each worker has at most one such row: that bounds a crash's
//! duplicates to `concurrency`.
pub mod backoff;
pub mod breaker;
mod desk;
mod engine;
pub mod lease;
pub mod progress;
mod queue;
mod rate;
mod reading;
pub mod wording;
mod worker;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use serde::Serialize;

pub use engine::{in_flight_cap, run};

use crate::config::SendSettings;
pub use crate::domain::RunCounts;
use crate::domain::{Campaign, CampaignCounts, ContentChange, EmailAddress, Lease, Waiting};
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
    /// The unsubscribe-token key (it signs the VERP tags too).
    pub secret: Arc<[u8]>,
    /// `[bounces] address`: each recipient's envelope sender is its VERP
    /// address; `None`: the From address.
    pub bounce_address: Option<EmailAddress>,
    pub settings: SendSettings,
    pub transport: Transport,
    /// How progress is shown.
    pub progress: ProgressMode,
    /// The issue file (absolute), kept in the run history so `status` can
    /// print the command that resumes.
    pub issue_file: Option<String>,
}

/// How a run shows its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A bar on stderr (a terminal).
    Bar,
    /// A line on stderr every `[send] progress_secs`.
    Lines,
    /// JSON events on stdout, one per line (`send --format json`).
    Json,
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
    /// `mailroom campaigns pause` (found at a heartbeat).
    Paused,
    /// The relay could not be reached for `max_attempts` tries in a row.
    RelayUnavailable { reason: String },
    /// Another run took the campaign's lease over (this one stalled).
    LeaseLost,
    /// The relay refused us (5xx to EHLO, AUTH or MAIL FROM, TLS that
    /// cannot be verified): a configuration problem; nobody was failed.
    RelayRefused { reason: String },
}

impl RunEnd {
    /// The word the run history keeps (the JSON report's `end`).
    pub fn outcome(&self) -> &'static str {
        match self {
            RunEnd::Complete => "complete",
            RunEnd::Waiting { .. } => "waiting",
            RunEnd::Interrupted => "interrupted",
            RunEnd::Paused => "paused",
            RunEnd::RelayUnavailable { .. } => "relay_unavailable",
            RunEnd::LeaseLost => "lease_lost",
            RunEnd::RelayRefused { .. } => "relay_refused",
        }
    }
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
    /// Wall-clock time of the run.
    pub elapsed_secs: f64,
    /// `elapsed_secs` minus the time spent waiting for deferred recipients.
    pub sending_secs: f64,
    /// This run's sent and failed messages per second of sending time
    /// (see [`Pace`](crate::domain::Pace)).
    pub rate_per_sec: f64,
    /// The whole campaign's ledger (`deferred` counts recipients).
    pub campaign: CampaignCounts,
    /// When deferred recipients remain: when the next is due and by when
    /// the last gives up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting: Option<Waiting>,
    pub possible_duplicates: u64,
    /// Changes of the issue accepted mid-campaign (`--accept-changes`):
    /// recipients sent before each got the earlier version.
    pub content_changes: Vec<ContentChange>,
}

/// Live counters shared by the recorder (writer) and progress (reader).
#[derive(Debug, Default)]
struct Stats {
    sent: AtomicU64,
    deferrals: AtomicU64,
    failed: AtomicU64,
    skipped: AtomicU64,
    /// Claimed rows whose outcome is not committed yet.
    outstanding: AtomicU64,
    /// Rows of dead runs this run re-queued (at its start, and with
    /// several senders at each heartbeat).
    recovered: AtomicU64,
    /// Time spent idle waiting for deferred rows to fall due, in ms.
    waited_ms: AtomicU64,
    /// While idle waiting: when the next deferred row is due (unix ms);
    /// 0 otherwise.
    waiting_until: AtomicI64,
}

impl Stats {
    fn snapshot(&self) -> RunCounts {
        RunCounts {
            sent: self.sent.load(Ordering::Relaxed),
            deferrals: self.deferrals.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
        }
    }

    fn waited_ms(&self) -> i64 {
        i64::try_from(self.waited_ms.load(Ordering::Relaxed)).unwrap_or(i64::MAX)
    }
}
