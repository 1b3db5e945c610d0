//! Validated domain types: once built, they are known to be well-formed.
pub mod campaign;
mod consent;
mod email_address;
pub mod failures;
mod issue_number;
pub mod ledger;
pub mod run;
mod subscriber;

pub use campaign::{
    Campaign, CampaignCounts, CampaignId, CampaignTransport, ContentChange, DeliveryState,
    FailedSplit, RecipientRow,
};
pub use consent::{Consent, Source, SourceError, StatusChange, now};
pub use email_address::{EmailAddress, EmailAddressError};
pub use failures::{FailureGroup, FailureGroups};
pub use issue_number::{IssueNumber, IssueNumberError};
pub use ledger::{
    Claimed, Lease, LeaseOwner, LeaseRow, Ledger, LedgerError, LedgerResult, Record, Senders,
    now_ms,
};
pub use run::{DeferredGroup, Pace, RunCounts, RunEntry, RunHistory, RunNote, Waiting};
pub use subscriber::{Status, StatusError, Subscriber, SubscriberId};
