//! Inbound mail: one raw message → one typed [`Event`]. Pure (no store, no
//! I/O): `mailroom inbound` reads the message and applies the event.
//!
//! Recognised, in this order:
//! - RFC 3464 delivery status notifications (`multipart/report;
//!   report-type=delivery-status`): [`Event::Bounce`], per recipient;
//! - RFC 5965 ARF feedback reports (`report-type=feedback-report`):
//!   [`Event::Complaint`];
//! - a mailto unsubscribe (`unsubscribe-<token>` in the Subject):
//!   [`Event::Unsubscribe`];
//! - challenge-response requests: [`Event::Challenge`];
//! - auto-replies (RFC 3834 `Auto-Submitted`, vacation notices,
//!   `X-Autoreply`, `Precedence: auto_reply`): [`Event::AutoReply`];
//! - anything else: [`Event::Unrecognised`], which callers keep.
//!
//! Parsing uses `mail-parser`; the report fields (`Final-Recipient: …`)
//! are header-like blocks, read with its header parser.
mod arf;
mod auto;
mod dsn;
pub mod effect;
mod fields;

use crate::domain::{EmailAddress, SubscriberId};
use crate::token::Keyring;
use crate::token::verp::VerpTag;

pub use dsn::{Action, Dsn, DsnRecipient, Outcome, StatusCode};
pub use effect::{Effect, Verdict, Who, verdict};

/// Larger messages are not parsed (a DSN that quotes our ~100 KB issue is
/// far below this).
pub const MAX_MESSAGE_BYTES: usize = 8 << 20;

/// What a message is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A delivery status notification.
    Bounce(Dsn),
    /// A feedback-loop complaint.
    Complaint(Complaint),
    /// A mailto unsubscribe request: the token from the Subject, unverified.
    Unsubscribe { token: String },
    /// A challenge-response system asking the sender to prove itself.
    Challenge { reason: String },
    /// A vacation notice or other automatic reply: not a bounce.
    AutoReply { reason: String },
    /// None of the above: kept for a person to read.
    Unrecognised(Unrecognised),
}

/// Why a message was not recognised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unrecognised {
    #[error("larger than {max} bytes", max = MAX_MESSAGE_BYTES)]
    TooLarge,
    #[error("not an email message")]
    NotAMessage,
    #[error("a `multipart/report` without a readable `{0}` part")]
    BrokenReport(&'static str),
    #[error("looks like a bounce (`{0}`) but is not an RFC 3464 report")]
    BounceWithoutReport(String),
    #[error("not a bounce, complaint, auto-reply or unsubscribe request")]
    Other,
}

/// An ARF (RFC 5965) report about one message of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Complaint {
    /// `Feedback-Type`: `abuse`, `fraud`, `not-spam`, …
    pub feedback_type: String,
    /// `User-Agent`: who reported (e.g. `Yahoo!-Mail-Feedback/2.0`).
    pub user_agent: Option<String>,
    /// `Original-Rcpt-To`, when the reporter did not redact it.
    pub original_rcpt_to: Option<EmailAddress>,
    /// The reported message's Message-ID, when it is included.
    pub original_message_id: Option<String>,
    /// The VERP tag from `Original-Mail-From`, the reported message's
    /// Return-Path or the report's own recipient headers.
    pub verp: Option<VerpTag>,
    /// The subscriber whose unsubscribe token is in the reported message's
    /// List-Unsubscribe header (verified).
    pub unsubscribe: Option<SubscriberId>,
}

/// What parsing needs to recognise our own tags.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// The token secrets (VERP tags and unsubscribe tokens are checked
    /// against them); without them no tag is reported.
    pub keys: Option<&'a Keyring>,
    /// `[bounces] address`, whose `+<tag>` variants carry VERP tags.
    pub bounce_address: Option<&'a EmailAddress>,
}

impl Context<'_> {
    /// The first genuine VERP tag among `addresses`.
    fn verp<'s>(&self, addresses: impl IntoIterator<Item = &'s str>) -> Option<VerpTag> {
        let (keys, bounce) = (self.keys?, self.bounce_address?);
        addresses
            .into_iter()
            .find_map(|a| crate::token::verp::parse_address(keys, bounce, a))
    }

    /// The subscriber an unsubscribe token was signed for.
    fn unsubscribe(&self, token: &str) -> Option<SubscriberId> {
        let purpose = crate::token::Purpose::Unsubscribe;
        self.keys?
            .verify(purpose, token, time::OffsetDateTime::UNIX_EPOCH)
    }
}

/// Classifies one raw message.
pub fn parse(raw: &[u8], ctx: &Context) -> Event {
    if raw.len() > MAX_MESSAGE_BYTES {
        return Event::Unrecognised(Unrecognised::TooLarge);
    }
    let Some(msg) = mail_parser::MessageParser::default().parse(raw) else {
        return Event::Unrecognised(Unrecognised::NotAMessage);
    };
    if msg.parts.is_empty() || msg.headers().is_empty() {
        return Event::Unrecognised(Unrecognised::NotAMessage);
    }
    match report_type(&msg).as_deref() {
        Some("delivery-status") => return dsn::parse(&msg, ctx),
        Some("feedback-report") => return arf::parse(&msg, ctx),
        _ => {}
    }
    if let Some(token) = msg.subject().and_then(unsubscribe_token) {
        return Event::Unsubscribe {
            token: token.to_owned(),
        };
    }
    auto::classify(&msg)
}

/// The report type: the `report-type` of a top-level `multipart/report`,
/// or the kind of report part found anywhere (some senders omit it).
fn report_type(msg: &mail_parser::Message) -> Option<String> {
    use mail_parser::MimeHeaders;
    let ct = msg.content_type()?;
    let is_report = ct.ctype().eq_ignore_ascii_case("multipart")
        && ct
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"));
    if let Some(t) = ct.attribute("report-type").filter(|_| is_report) {
        return Some(t.to_ascii_lowercase());
    }
    msg.parts.iter().find_map(|p| {
        let ct = p.content_type()?;
        let sub = ct.subtype()?.to_ascii_lowercase();
        let is_message = ct.ctype().eq_ignore_ascii_case("message");
        match sub.as_str() {
            "delivery-status" | "global-delivery-status" if is_message => {
                Some("delivery-status".into())
            }
            "feedback-report" if is_message => Some("feedback-report".into()),
            _ => None,
        }
    })
}

/// The token after `unsubscribe-` in a subject (replies like
/// `Re: unsubscribe-…` work too).
pub fn unsubscribe_token(subject: &str) -> Option<&str> {
    let start = subject.find("unsubscribe-")? + "unsubscribe-".len();
    let rest = &subject[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .unwrap_or(rest.len());
    Some(&rest[..end]).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests;
