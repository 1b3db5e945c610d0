//! `SubscriberId` and `Status`: who a subscriber is in the store, and whether
//! they may be mailed.
use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;

use super::{Consent, EmailAddress};

/// A subscriber's id in the store. Only the store makes these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubscriberId(i64);

impl SubscriberId {
    /// Wraps a raw id read from the store.
    pub fn new(raw: i64) -> Self {
        Self(raw)
    }

    /// The raw id, for binding in queries.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for SubscriberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a subscriber stands. Adding a state (e.g. `Pending` for double
/// opt-in) means one variant here plus its line in [`Status::ALL`] and
/// [`Status::as_str`]; the store keeps the word, not a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Opted in; receives the newsletter.
    Subscribed,
    /// Asked to stop. A suppression.
    Unsubscribed,
    /// The address hard-bounced (or Mailchimp "cleaned" it). A suppression.
    Bounced,
    /// Reported a message as spam. A suppression.
    Complained,
    /// Asked to subscribe on the web; not mailed until they confirm
    /// (double opt-in). Neither mailable nor a suppression.
    Pending,
}

/// Why a word is not a [`Status`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a status, expected one of `subscribed`, `unsubscribed`, `bounced`, `complained`, `pending`"
)]
pub struct StatusError(pub String);

impl Status {
    /// Every status, in display order.
    pub const ALL: [Status; 5] = [
        Status::Subscribed,
        Status::Unsubscribed,
        Status::Bounced,
        Status::Complained,
        Status::Pending,
    ];

    /// The word stored in the database and shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Subscribed => "subscribed",
            Status::Unsubscribed => "unsubscribed",
            Status::Bounced => "bounced",
            Status::Complained => "complained",
            Status::Pending => "pending",
        }
    }

    /// Whether the newsletter may be sent to this address.
    pub fn is_mailable(self) -> bool {
        matches!(self, Status::Subscribed)
    }

    /// Whether the address must never be mailed again unless the person
    /// opts in anew (an import never lifts a suppression).
    pub fn is_suppression(self) -> bool {
        matches!(
            self,
            Status::Unsubscribed | Status::Bounced | Status::Complained
        )
    }
}

impl FromStr for Status {
    type Err = StatusError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| StatusError(s.to_owned()))
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A subscriber as the store holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    /// The store's id.
    pub id: SubscriberId,
    /// The address (domain lowercased).
    pub email: EmailAddress,
    /// Their name, when known.
    pub name: Option<String>,
    /// Where they stand now (the last entry of their history).
    pub status: Status,
    /// When the store first saw them.
    pub created_at: OffsetDateTime,
    /// When their row last changed.
    pub updated_at: OffsetDateTime,
    /// Their latest opt-in.
    pub consent: Consent,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_word() {
        for st in Status::ALL {
            assert_eq!(st.as_str().parse::<Status>().unwrap(), st);
        }
        assert!("Subscribed".parse::<Status>().is_err());
        assert!("cleaned".parse::<Status>().is_err());
    }

    #[test]
    fn only_subscribed_is_mailable_and_the_rest_are_suppressions() {
        for st in Status::ALL {
            assert_eq!(st.is_mailable(), st == Status::Subscribed);
            let suppression = !matches!(st, Status::Subscribed | Status::Pending);
            assert_eq!(st.is_suppression(), suppression);
        }
    }
}
