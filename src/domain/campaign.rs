//! Campaigns and where their ledger rows stand: plain types shared by the
//! send engine, `status` and the store (which alone knows SQL).
use std::fmt;
use std::str::FromStr;

use anyhow::Context;
use serde::Serialize;
use time::OffsetDateTime;

use super::IssueNumber;

/// A campaign's id in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CampaignId(i64);

impl CampaignId {
    /// Wraps a stored id.
    pub fn new(id: i64) -> Self {
        Self(id)
    }

    /// The raw id, for binding in queries.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// One issue's delivery to the audience snapshotted when it was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: CampaignId,
    pub issue: IssueNumber,
    pub subject: String,
    pub created_at: OffsetDateTime,
    /// Rows found `sending` at the start of a run, summed over runs.
    pub possible_duplicates: u64,
    /// How many runs have worked on it.
    pub runs: u64,
    /// The hash of what it sends (see `cmd::send::content`); `None` for a
    /// campaign created before mailroom stored it.
    pub content_hash: Option<String>,
    /// Where its messages go: the real send (`smtp`) or a rehearsal.
    pub transport: CampaignTransport,
    /// When its last run started.
    pub last_run_at: Option<OffsetDateTime>,
    /// When `mailroom campaigns reset` retired it (its ledger is kept).
    pub reset_at: Option<OffsetDateTime>,
    /// Since when `mailroom campaigns pause` holds it: its runs stop at
    /// their next heartbeat and `send` starts none until it is resumed.
    pub paused_at: Option<OffsetDateTime>,
}

impl Campaign {
    /// Whether this is a rehearsal (outbox or discard), which never stands
    /// in the way of the real send.
    pub fn is_rehearsal(&self) -> bool {
        self.transport.is_rehearsal()
    }
}

/// Where a campaign's messages go. Each issue has at most one live
/// campaign per transport, so a rehearsal in the outbox never uses up the
/// real (SMTP) campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CampaignTransport {
    Smtp,
    Outbox,
    Discard,
}

impl CampaignTransport {
    /// Every transport, the real one first.
    pub const ALL: [CampaignTransport; 3] = [
        CampaignTransport::Smtp,
        CampaignTransport::Outbox,
        CampaignTransport::Discard,
    ];

    /// The word stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignTransport::Smtp => "smtp",
            CampaignTransport::Outbox => "outbox",
            CampaignTransport::Discard => "discard",
        }
    }

    /// Outbox and discard sends mail nobody: rehearsals.
    pub fn is_rehearsal(self) -> bool {
        self != CampaignTransport::Smtp
    }
}

impl FromStr for CampaignTransport {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CampaignTransport::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .with_context(|| {
                format!("the store holds an unknown transport `{s}`; upgrade mailroom")
            })
    }
}

impl fmt::Display for CampaignTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Where a ledger row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    Pending,
    Sending,
    Sent,
    Deferred,
    Failed,
    /// The address was suppressed after the snapshot; not mailed.
    Skipped,
}

impl DeliveryState {
    /// Every state, in display order.
    pub const ALL: [DeliveryState; 6] = [
        DeliveryState::Pending,
        DeliveryState::Sending,
        DeliveryState::Sent,
        DeliveryState::Deferred,
        DeliveryState::Failed,
        DeliveryState::Skipped,
    ];

    /// The word stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sending => "sending",
            DeliveryState::Sent => "sent",
            DeliveryState::Deferred => "deferred",
            DeliveryState::Failed => "failed",
            DeliveryState::Skipped => "skipped",
        }
    }
}

impl FromStr for DeliveryState {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeliveryState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .with_context(|| format!("the ledger holds an unknown state `{s}`; upgrade mailroom"))
    }
}

impl fmt::Display for DeliveryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// How many ledger rows are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CampaignCounts {
    pub pending: u64,
    pub sending: u64,
    pub sent: u64,
    pub deferred: u64,
    pub failed: u64,
    pub skipped: u64,
}

impl CampaignCounts {
    /// Every row.
    pub fn total(&self) -> u64 {
        self.pending + self.sending + self.sent + self.deferred + self.failed + self.skipped
    }

    /// Rows with a final outcome (sent, failed, skipped).
    pub fn done(&self) -> u64 {
        self.sent + self.failed + self.skipped
    }

    /// The counter of `state`.
    pub fn slot(&mut self, state: DeliveryState) -> &mut u64 {
        match state {
            DeliveryState::Pending => &mut self.pending,
            DeliveryState::Sending => &mut self.sending,
            DeliveryState::Sent => &mut self.sent,
            DeliveryState::Deferred => &mut self.deferred,
            DeliveryState::Failed => &mut self.failed,
            DeliveryState::Skipped => &mut self.skipped,
        }
    }
}

/// One recipient of a campaign and where their delivery stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecipientRow {
    pub email: String,
    pub state: DeliveryState,
    pub attempts: u32,
    /// Unix ms: the row's last change.
    pub updated_unix_ms: i64,
    /// The relay's last reply (a sent row keeps its queue id here).
    pub reply: String,
    /// A bounce (DSN) that arrived after the send: its status and
    /// diagnostic, e.g. `5.1.1 smtp; 550 5.1.1 no such user`.
    pub late_bounce: Option<String>,
}

/// A campaign's failed recipients, by whether `send --retry-failed` would
/// try them again (it re-queues only those still subscribed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FailedSplit {
    /// Still subscribed: the failure was the relay's or the message's
    /// (a policy or content rejection, retries used up), not the address's.
    pub retryable: u64,
    /// Marked bounced: the address does not exist. Never retried.
    pub bounced: u64,
    /// Unsubscribed or complained since. Never retried.
    pub suppressed: u64,
}

/// A change of the issue accepted while its campaign was under way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContentChange {
    /// Unix seconds.
    pub changed_at: i64,
    pub old_hash: String,
    pub new_hash: String,
    /// Recipients who had been sent the earlier version.
    pub sent_before: u64,
}
