//! Import: CSV rows → typed [`ImportRecord`]s or [`RejectedRow`]s.
//!
//! Parsing is pure over any `Read` (tests feed byte slices); [`files`] opens
//! a CSV or a Mailchimp zip. Rows stream: nothing here holds more than one row.
use std::fmt;
use std::io::Read;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::domain::{Consent, EmailAddress, Status, StatusChange};

pub mod files;
mod framing;
mod lines;
mod mailchimp;
mod mailroom;
mod plain;
mod rows;

pub use framing::{MAX_FIELD_BYTES, MAX_ROW_BYTES, MAX_ROW_LINES};
pub use mailroom::CSV_HEADER as EXPORT_CSV_HEADER;
pub use rows::CsvRows;

/// The layout of an import file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A Mailchimp audience export: a zip of `subscribed_*.csv`,
    /// `unsubscribed_*.csv` and `cleaned_*.csv`, or one of those files.
    Mailchimp,
    /// A CSV with a header naming its `email` (and `name`) columns, or
    /// one address per line with an optional name. mailroom's own CSV
    /// export is recognised by its header.
    Plain,
    /// mailroom's own export (`subscribers export`), CSV or JSON, with
    /// consent records and histories.
    Mailroom,
}

/// Where a row came from: the file and its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file name (for a zip entry, `export.zip/subscribed_….csv`).
    pub file: Arc<str>,
    /// The line the row starts on.
    pub line: u64,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` line {}", self.file, self.line)
    }
}

/// One valid row, ready for the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRecord {
    /// Where the row came from.
    pub origin: Origin,
    /// The address.
    pub email: EmailAddress,
    /// The name, when the row has one.
    pub name: Option<String>,
    /// The opt-in the row records.
    pub consent: Consent,
    /// The history to write for an address new to the store, oldest first;
    /// never empty. Its last entry is the status the file gives the address.
    pub history: Vec<StatusChange>,
}

impl ImportRecord {
    /// The status the file gives this address.
    pub fn status(&self) -> Status {
        self.last_change().status
    }

    /// The change that brings an existing subscriber to this row's status.
    pub fn last_change(&self) -> &StatusChange {
        self.history.last().expect("an import record has a history")
    }
}

/// A row that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    /// Where the row came from.
    pub origin: Origin,
    /// Why it was skipped.
    pub reason: String,
}

impl fmt::Display for RejectedRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}; row skipped", self.origin, self.reason)
    }
}

/// A row for an address that an earlier row of the same import gave
/// another status (the address is in two files of one export). The earlier
/// row wins; a Mailchimp zip's suppressions are read first, so a
/// suppression always wins over a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// Where the losing row came from.
    pub origin: Origin,
    /// The address.
    pub email: EmailAddress,
    /// The status this row would give it.
    pub status: Status,
    /// The earlier row that decided.
    pub earlier: Origin,
    /// The status the earlier row gave it, which the address keeps.
    pub kept: Status,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: `{}` is {} here but {} in {}; the files conflict, and it stays {}",
            self.origin, self.email, self.status, self.kept, self.earlier, self.kept
        )
    }
}

/// What an import has to tell about a row that was not applied as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A bad row or a duplicate, skipped.
    Rejected(RejectedRow),
    /// A conflict between two files, decided for the earlier row.
    Conflict(Conflict),
}

impl Notice {
    /// Where the row came from.
    pub fn origin(&self) -> &Origin {
        match self {
            Notice::Rejected(r) => &r.origin,
            Notice::Conflict(c) => &c.origin,
        }
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Rejected(r) => r.fmt(f),
            Notice::Conflict(c) => c.fmt(f),
        }
    }
}

/// One row's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    /// A valid row.
    Accepted(ImportRecord),
    /// A bad row, reported and skipped.
    Rejected(RejectedRow),
}

/// The status a file name gives its rows: the first of the words
/// `subscribed`, `unsubscribed`, `cleaned` (→ bounced), `bounced`,
/// `complained` among the name's `_`/`-`/`.`/space-separated words.
pub fn status_from_file_name(name: &str) -> Option<Status> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.split(['_', '-', '.', ' '])
        .find_map(|word| match word.to_ascii_lowercase().as_str() {
            "subscribed" => Some(Status::Subscribed),
            "unsubscribed" => Some(Status::Unsubscribed),
            "cleaned" | "bounced" => Some(Status::Bounced),
            "complained" => Some(Status::Complained),
            _ => None,
        })
}

/// Starts parsing `input`, named `file`, in `format`. `now` stands in for
/// times a row does not give. Fails when the file's layout is unusable (a
/// Mailchimp file without an `Email Address` column or a status word in
/// its name); bad rows come out as [`Row::Rejected`].
pub fn parse<R: Read>(
    input: R,
    file: &str,
    format: Format,
    now: OffsetDateTime,
) -> anyhow::Result<CsvRows<R>> {
    CsvRows::new(input, file, format, now)
}

#[cfg(test)]
mod tests;
