//! The delivery ledger as the send engine sees it: the [`Ledger`] interface
//! (claim due rows, record outcomes, hold the campaign's lease) with its
//! typed [`LedgerError`], and the plain rows that cross it. The store
//! implements it per backend; the engine never learns which.
//!
//! A row moves `pending` → `sending` (claimed) → `sent` | `deferred` |
//! `failed` | `skipped`; `deferred` rows become claimable again at
//! `next_attempt_at`. Rows stay `sending` until their outcome is committed,
//! so after a crash the rows still `sending` are exactly the ones whose
//! outcome is unknown: they are re-queued ([`Ledger::start_run`],
//! [`Ledger::requeue_orphans`]), and those marked by [`Ledger::hand_over`]
//! (their message was being handed to the relay), the only ones that can
//! have arrived, count as possible duplicates.
//!
//! A hard bounce is recorded `failed` at once, but its subscriber is marked
//! `bounced` only once the run's bounce breaker has cleared it
//! ([`Ledger::apply_bounces`]); a burst the list cannot explain goes back
//! to the queue instead ([`Ledger::release_bounces`]).
//!
//! A run holds a [`Lease`] on the campaign. With [`Senders::One`] (SQLite)
//! it is exclusive: a second run refuses while it is live. With
//! [`Senders::Many`] (PostgreSQL) every run registers its own lease and
//! claims rows of its own; a run whose lease expired or whose process is
//! gone is dropped, and only the rows it had claimed go back to the queue.
use std::future::Future;

use time::OffsetDateTime;

use super::campaign::{Campaign, CampaignCounts, CampaignId, ContentChange, DeliveryState};
use super::run::{DeferredGroup, RunNote};
use super::{EmailAddress, SubscriberId};

/// A claimed ledger row: who to mail now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The ledger row.
    pub delivery: i64,
    pub subscriber: SubscriberId,
    pub email: EmailAddress,
    /// False when the address was suppressed after the snapshot.
    pub mailable: bool,
    /// Attempts including this one.
    pub attempts: u32,
}

/// The outcome of a claimed row, ready to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub delivery: i64,
    /// `Sent`, `Deferred`, `Failed`, `Skipped`, or `Pending` (handed back
    /// untried, e.g. on Ctrl-C).
    pub state: DeliveryState,
    pub reply: Option<String>,
    /// For `Deferred`: when it is due again (unix ms).
    pub next_attempt_at: Option<i64>,
    /// The row was not actually tried (no connection): give the attempt back.
    pub refund_attempt: bool,
    /// A hard bounce of this subscriber. The row is marked bounce-pending;
    /// the subscriber becomes `bounced` only when the run's bounce breaker
    /// has judged the window around it ([`Ledger::apply_bounces`]).
    pub bounce: Option<SubscriberId>,
    /// The message may have reached the relay though no reply said so (the
    /// connection was lost or timed out after the final `.`): it is sent
    /// again and counted as a possible duplicate.
    pub possible_duplicate: bool,
}

/// The process a lease names: enough to say who is sending, and to tell
/// on the same host whether that process still runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseOwner {
    pub host: String,
    pub pid: u32,
    /// The process's start time (clock ticks after boot), which tells a
    /// reused pid apart; 0 when unknown.
    pub process_start: u64,
}

/// A lease as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    /// Unique per run.
    pub token: String,
    pub owner: LeaseOwner,
    pub acquired_at: i64,
    pub renewed_at: i64,
    pub expires_at: i64,
    /// Outcomes (sent or failed) the run has recorded.
    pub handed: u64,
}

impl LeaseRow {
    /// Messages per second the run has handed over since it started,
    /// as of its last heartbeat.
    pub fn rate_per_sec(&self) -> f64 {
        let secs = (self.renewed_at - self.acquired_at) as f64 / 1000.0;
        if secs > 0.0 {
            self.handed as f64 / secs
        } else {
            0.0
        }
    }
}

/// How many runs may work on one campaign at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Senders {
    /// One at a time (SQLite: one machine, one writer).
    One,
    /// Any number, on any number of machines (PostgreSQL).
    Many,
}

/// A lease this run holds: what lets it re-queue and claim rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub campaign: CampaignId,
    pub token: String,
    /// How long a renewal keeps it, in milliseconds.
    pub ttl_ms: i64,
}

/// Why a ledger operation failed, as far as its caller must tell apart.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The lease was taken over by another run (this one stalled past its
    /// expiry); this run must stop claiming and recording.
    #[error(
        "another run took over this campaign's lease (this run stalled past `[send] \
         lease_secs`); it stops here and the other run carries on"
    )]
    LeaseLost,
    /// The database failed (unreachable, busy, corrupt); the context says
    /// which operation.
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

/// What a ledger call returns.
pub type LedgerResult<T> = Result<T, LedgerError>;

/// The operations the send engine needs from a campaign's ledger. Every
/// change to rows is fenced by the caller's [`Lease`]: once another run
/// holds the campaign, the call fails with [`LedgerError::LeaseLost`] and
/// changes nothing.
pub trait Ledger: Clone + Send + Sync + 'static {
    /// How many runs may work on one campaign at once.
    fn senders(&self) -> Senders;

    /// Starts a run: rows left `sending` by dead runs (with
    /// [`Senders::One`], every `sending` row; with [`Senders::Many`], those
    /// whose run is no longer registered) go back to `pending`; those that
    /// were handed over are added to the campaign's possible duplicates.
    /// Returns how many.
    fn start_run(&self, lease: &Lease) -> impl Future<Output = LedgerResult<u64>> + Send;

    /// With [`Senders::Many`]: re-queues the `sending` rows of runs no
    /// longer registered (dropped as dead, or ended with rows abandoned),
    /// adding the handed-over ones to the possible duplicates. Returns how
    /// many those are.
    fn requeue_orphans(
        &self,
        campaign: CampaignId,
    ) -> impl Future<Output = LedgerResult<u64>> + Send;

    /// Claims up to `limit` rows due at `now` (pending, or deferred with
    /// `next_attempt_at <= now`), lowest id first: marks them `sending`,
    /// counts the attempt, and returns them with their addresses.
    fn claim(
        &self,
        lease: &Lease,
        limit: u32,
        now: i64,
    ) -> impl Future<Output = LedgerResult<Vec<Claimed>>> + Send;

    /// Writes, in one transaction, the outcomes of claimed rows (hard
    /// bounces are marked bounce-pending, their subscribers left alone;
    /// possible duplicates are added to the campaign's count) and marks the
    /// rows `handed` as being handed to the relay now, durably, before
    /// their final `.` goes out. The two sets are disjoint: a row is handed
    /// over in an earlier commit than its outcome.
    fn commit(
        &self,
        lease: &Lease,
        records: &[Record],
        handed: &[i64],
        now: i64,
    ) -> impl Future<Output = LedgerResult<()>> + Send;

    /// Marks claimed rows as being handed to the relay now ([`Ledger::commit`]
    /// with no outcomes).
    fn hand_over(
        &self,
        lease: &Lease,
        deliveries: &[i64],
        now: i64,
    ) -> impl Future<Output = LedgerResult<()>> + Send {
        self.commit(lease, &[], deliveries, now)
    }

    /// Writes outcomes of claimed rows ([`Ledger::commit`] with nothing
    /// handed over).
    fn record(
        &self,
        lease: &Lease,
        records: &[Record],
        now: i64,
    ) -> impl Future<Output = LedgerResult<()>> + Send {
        self.commit(lease, records, &[], now)
    }

    /// When the earliest deferred row is due (unix ms), if any.
    fn next_due(
        &self,
        campaign: CampaignId,
    ) -> impl Future<Output = LedgerResult<Option<i64>>> + Send;

    /// The deferred rows, grouped by how many times they were tried.
    fn deferred(
        &self,
        campaign: CampaignId,
    ) -> impl Future<Output = LedgerResult<Vec<DeferredGroup>>> + Send;

    /// Writes the run's entry in the campaign's run history (created by
    /// the first note of its token, updated by later ones). Not fenced by
    /// the lease: a run's history is its own.
    fn note_run(&self, note: &RunNote) -> impl Future<Output = LedgerResult<()>> + Send;

    /// Rows per state.
    fn campaign_counts(
        &self,
        campaign: CampaignId,
    ) -> impl Future<Output = LedgerResult<CampaignCounts>> + Send;

    /// The campaign `id`, if it exists.
    fn campaign(
        &self,
        id: CampaignId,
    ) -> impl Future<Output = LedgerResult<Option<Campaign>>> + Send;

    /// Marks the subscribers of these bounce-pending rows `bounced` (with
    /// the reply and the issue in their history): the breaker found no
    /// burst around them. Returns how many subscribers changed.
    fn apply_bounces(
        &self,
        lease: &Lease,
        deliveries: &[i64],
    ) -> impl Future<Output = LedgerResult<u64>> + Send;

    /// Marks the subscribers of every bounce-pending row of the campaign
    /// `bounced` (the run ended without a burst). Returns how many changed.
    fn apply_all_bounces(&self, lease: &Lease) -> impl Future<Output = LedgerResult<u64>> + Send;

    /// Puts every bounce-pending row of the campaign back in the queue
    /// (`deferred`, due now, the attempt given back, the reply kept) and
    /// leaves its subscriber subscribed: the breaker judged the bounces a
    /// relay's fault. Returns how many rows.
    fn release_bounces(&self, lease: &Lease) -> impl Future<Output = LedgerResult<u64>> + Send;

    /// The changes of the issue accepted during the campaign, oldest first.
    fn content_changes(
        &self,
        campaign: CampaignId,
    ) -> impl Future<Output = LedgerResult<Vec<ContentChange>>> + Send;

    /// Every lease on the campaign, live or left by a dead run, oldest
    /// first (with [`Senders::One`], at most one).
    fn live_runs(
        &self,
        campaign: CampaignId,
    ) -> impl Future<Output = LedgerResult<Vec<LeaseRow>>> + Send;

    /// The campaign's (first) lease, if a run holds (or held and died
    /// with) one.
    fn lease(
        &self,
        campaign: CampaignId,
    ) -> impl Future<Output = LedgerResult<Option<LeaseRow>>> + Send {
        async move { Ok(self.live_runs(campaign).await?.into_iter().next()) }
    }

    /// Takes the lease for `owner` under `lease.token`. With
    /// [`Senders::One`]: when `previous` is `None` only if nobody holds it,
    /// else only if `previous` still does. With [`Senders::Many`]: beside
    /// the others (replacing `previous`, if given). Returns whether this run
    /// now holds it.
    fn take_lease(
        &self,
        lease: &Lease,
        owner: &LeaseOwner,
        previous: Option<&str>,
        now: i64,
    ) -> impl Future<Output = LedgerResult<bool>> + Send;

    /// Extends `lease` by its time to live from `now`. Returns false when
    /// another run has taken it over.
    fn renew_lease(
        &self,
        lease: &Lease,
        now: i64,
    ) -> impl Future<Output = LedgerResult<bool>> + Send;

    /// Gives `lease` up (if this run still holds it).
    fn release_lease(&self, lease: &Lease) -> impl Future<Output = LedgerResult<()>> + Send;

    /// Drops another run's lease, found dead (expired, or its process on
    /// this host gone), if it still has `token`; its `sending` rows become
    /// orphans for [`Ledger::requeue_orphans`]. Returns whether it was there.
    fn drop_run(
        &self,
        campaign: CampaignId,
        token: &str,
    ) -> impl Future<Output = LedgerResult<bool>> + Send;
}

/// The current time in unix milliseconds (ledger times).
pub fn now_ms() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}
