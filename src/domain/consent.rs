//! The consent record: how and when a person opted in, and every later
//! status change, so "when and how did this person unsubscribe?" has an answer.
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use time::OffsetDateTime;

use super::Status;

/// Where an opt-in or a status change came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    /// `mailroom subscribers …` on the command line.
    Cli,
    /// The HTTP service (subscribe form, unsubscribe link).
    Web,
    /// An imported file, by name (`import:subscribed_members_export.csv`).
    Import(String),
    /// The sender, from an SMTP reply or a feedback report.
    Sender,
    /// A mail to the List-Unsubscribe mailto address (`mailroom inbound`).
    Mailto,
    /// A bounce (DSN) of this issue that arrived later (`mailroom inbound`).
    Bounce(super::IssueNumber),
    /// A feedback-loop complaint about this issue (`mailroom inbound`).
    Complaint(super::IssueNumber),
}

/// Why a word is not a [`Source`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a source, expected `cli`, `web`, `sender`, `mailto`, `import:<file>`, \
     `bounce:<issue>` or `complaint:<issue>`"
)]
pub struct SourceError(pub String);

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Cli => f.write_str("cli"),
            Source::Web => f.write_str("web"),
            Source::Sender => f.write_str("sender"),
            Source::Mailto => f.write_str("mailto"),
            Source::Import(file) => write!(f, "import:{file}"),
            Source::Bounce(issue) => write!(f, "bounce:{issue}"),
            Source::Complaint(issue) => write!(f, "complaint:{issue}"),
        }
    }
}

impl FromStr for Source {
    type Err = SourceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cli" => Ok(Source::Cli),
            "web" => Ok(Source::Web),
            "sender" => Ok(Source::Sender),
            "mailto" => Ok(Source::Mailto),
            _ => {
                let issue = |prefix: &str| s.strip_prefix(prefix)?.parse().ok();
                if let Some(file) = s.strip_prefix("import:").filter(|f| !f.is_empty()) {
                    Ok(Source::Import(file.to_owned()))
                } else if let Some(n) = issue("bounce:") {
                    Ok(Source::Bounce(n))
                } else if let Some(n) = issue("complaint:") {
                    Ok(Source::Complaint(n))
                } else {
                    Err(SourceError(s.to_owned()))
                }
            }
        }
    }
}

/// How a subscriber opted in: the current consent on record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// Where the opt-in came from.
    pub source: Source,
    /// When they opted in.
    pub at: OffsetDateTime,
    /// The address they opted in from, when known.
    pub ip: Option<IpAddr>,
    /// When they confirmed (double opt-in), when known.
    pub confirmed_at: Option<OffsetDateTime>,
    /// The address they confirmed from, when known.
    pub confirm_ip: Option<IpAddr>,
}

impl Consent {
    /// A single opt-in from `source` at `at`, with no IP and no confirmation.
    pub fn new(source: Source, at: OffsetDateTime) -> Self {
        Self {
            source,
            at,
            ip: None,
            confirmed_at: None,
            confirm_ip: None,
        }
    }
}

/// One entry of a subscriber's append-only history: the status they moved
/// to, when, where the change came from, and why when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// The status after the change.
    pub status: Status,
    /// When it happened (for imports: the time in the file).
    pub at: OffsetDateTime,
    /// Where the change came from.
    pub source: Source,
    /// The IP the change was made from, when known.
    pub ip: Option<IpAddr>,
    /// Why, when known (an unsubscribe reason, an SMTP reply).
    pub reason: Option<String>,
}

impl StatusChange {
    /// A change to `status` from `source`, now.
    pub fn now(status: Status, source: Source) -> Self {
        Self {
            status,
            at: now(),
            source,
            ip: None,
            reason: None,
        }
    }
}

/// The current time in UTC, to the second (what the store keeps).
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(0).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_round_trip_through_their_words() {
        for s in [
            Source::Cli,
            Source::Web,
            Source::Sender,
            Source::Mailto,
            Source::Import("a.csv".into()),
            Source::Bounce(super::super::IssueNumber::new(625).unwrap()),
            Source::Complaint(super::super::IssueNumber::new(7).unwrap()),
        ] {
            assert_eq!(s.to_string().parse::<Source>().unwrap(), s);
        }
        assert!("import:".parse::<Source>().is_err());
        assert!("mailchimp".parse::<Source>().is_err());
        assert!("bounce:0".parse::<Source>().is_err());
        assert!("complaint:".parse::<Source>().is_err());
    }
}
