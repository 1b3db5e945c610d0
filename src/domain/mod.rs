//! Validated domain types: once built, they are known to be well-formed.
mod consent;
mod email_address;
mod issue_number;
mod subscriber;

pub use consent::{Consent, Source, SourceError, StatusChange, now};
pub use email_address::{EmailAddress, EmailAddressError};
pub use issue_number::{IssueNumber, IssueNumberError};
pub use subscriber::{Status, StatusError, Subscriber, SubscriberId};
