//! Validated domain types: once built, they are known to be well-formed.
mod email_address;
mod issue_number;

pub use email_address::{EmailAddress, EmailAddressError};
pub use issue_number::{IssueNumber, IssueNumberError};
