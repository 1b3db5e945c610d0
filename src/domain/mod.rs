//! Validated domain types: once built, they are known to be well-formed.
pub mod campaign;
mod consent;
mod email_address;
mod issue_number;
pub mod ledger;
mod subscriber;

pub use campaign::{
    Campaign, CampaignCounts, CampaignId, CampaignTransport, ContentChange, DeliveryState,
    FailedRow, FailureGroup, Timing,
};
pub use consent::{Consent, Source, SourceError, StatusChange, now};
pub use email_address::{EmailAddress, EmailAddressError};
pub use issue_number::{IssueNumber, IssueNumberError};
pub use ledger::{
    Claimed, Lease, LeaseOwner, LeaseRow, Ledger, LedgerError, LedgerResult, Record, Senders,
    now_ms,
};
pub use subscriber::{Status, StatusError, Subscriber, SubscriberId};
