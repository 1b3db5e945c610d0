//! RFC 3464 delivery status notifications: per recipient, the action, the
//! status code and the diagnostic; the original Message-ID and our VERP tag.
use std::fmt;

use mail_parser::{Message, MimeHeaders, PartType};

use super::fields::{self, Block};
use super::{Context, Event, Unrecognised};
use crate::domain::EmailAddress;
use crate::token::verp::VerpTag;

/// Recipients kept per DSN (a real one names a handful).
const MAX_RECIPIENTS: usize = 100;

/// A delivery status notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dsn {
    /// `Reporting-MTA`, e.g. `dns; mx.example.net`.
    pub reporting_mta: Option<String>,
    /// One entry per recipient block.
    pub recipients: Vec<DsnRecipient>,
    /// The Message-ID of the message it is about, when the DSN returns
    /// its headers.
    pub original_message_id: Option<String>,
    /// The VERP tag the DSN was addressed to (Delivered-To, X-Original-To,
    /// To), or that the returned message's Return-Path carries.
    pub verp: Option<VerpTag>,
}

/// What happened to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsnRecipient {
    pub action: Action,
    /// `Status`, e.g. 5.1.1.
    pub status: Option<StatusCode>,
    /// `Diagnostic-Code`, on one line, e.g. `smtp; 550 5.1.1 no such user`.
    pub diagnostic: Option<String>,
    /// `Final-Recipient` (the address the failing server saw).
    pub final_recipient: Option<EmailAddress>,
    /// `Original-Recipient` (the address we sent to, when given).
    pub original_recipient: Option<EmailAddress>,
}

/// `Action` (RFC 3464 §2.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Failed,
    Delayed,
    Delivered,
    Relayed,
    Expanded,
    /// Missing or not one of the above.
    Unknown,
}

/// A status code `class.subject.detail` (RFC 3463), e.g. 5.1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusCode {
    /// 2 success, 4 transient, 5 permanent.
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

/// What one recipient's report means for the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Failed with a permanent (5.x.x) status, or failed without a status.
    HardBounce,
    /// Delayed, or failed with a transient (4.x.x) status (given up after
    /// retries): counted, several make a hard bounce.
    SoftBounce,
    /// Delivered, relayed or expanded: not a bounce at all.
    NotABounce,
}

impl DsnRecipient {
    /// What this report means for the subscriber.
    pub fn outcome(&self) -> Outcome {
        let class = self.status.map(|s| s.class);
        match (self.action, class) {
            (Action::Failed, Some(4)) => Outcome::SoftBounce,
            (Action::Failed, _) => Outcome::HardBounce,
            (Action::Delayed, _) => Outcome::SoftBounce,
            (Action::Unknown, Some(5)) => Outcome::HardBounce,
            (Action::Unknown, Some(4)) => Outcome::SoftBounce,
            _ => Outcome::NotABounce,
        }
    }
}

impl StatusCode {
    /// Parses `5.1.1` (with any comment after it ignored).
    pub fn parse(text: &str) -> Option<Self> {
        let code = text.split_whitespace().next()?;
        let mut parts = code.split('.');
        let class: u8 = parts.next()?.parse().ok()?;
        let subject: u16 = parts.next()?.parse().ok()?;
        let detail: u16 = parts.next()?.parse().ok()?;
        let ok = matches!(class, 2 | 4 | 5) && subject <= 999 && detail <= 999;
        (ok && parts.next().is_none()).then_some(Self {
            class,
            subject,
            detail,
        })
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// Reads a `multipart/report; report-type=delivery-status` message.
pub fn parse(msg: &Message, ctx: &Context) -> Event {
    let Some(status) = msg.parts.iter().find(|p| is_status_part(p)) else {
        return Event::Unrecognised(Unrecognised::BrokenReport("message/delivery-status"));
    };
    let blocks = fields::blocks(status.contents());
    let Some((per_message, per_recipient)) = blocks.split_first() else {
        return Event::Unrecognised(Unrecognised::BrokenReport("message/delivery-status"));
    };
    let recipients: Vec<DsnRecipient> = per_recipient
        .iter()
        .take(MAX_RECIPIENTS)
        .map(recipient)
        .collect();
    if recipients.is_empty() {
        return Event::Unrecognised(Unrecognised::BrokenReport("message/delivery-status"));
    }
    let original = super::arf::original_headers(msg);
    let return_path = original
        .as_ref()
        .and_then(|h| fields::get(h, "return-path"))
        .map(fields::addresses)
        .unwrap_or_default();
    let envelope = envelope_recipients(msg);
    let verp = ctx.verp(envelope.iter().chain(&return_path).map(String::as_str));
    Event::Bounce(Dsn {
        reporting_mta: fields::get(per_message, "reporting-mta").map(str::to_owned),
        recipients,
        original_message_id: original
            .as_ref()
            .and_then(|h| fields::get(h, "message-id"))
            .map(str::to_owned),
        verp,
    })
}

fn is_status_part(part: &mail_parser::MessagePart) -> bool {
    part.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("message")
            && ct.subtype().is_some_and(|s| {
                s.eq_ignore_ascii_case("delivery-status")
                    || s.eq_ignore_ascii_case("global-delivery-status")
            })
    }) && !matches!(part.body, PartType::Multipart(_))
}

fn recipient(block: &Block) -> DsnRecipient {
    let action = match fields::get(block, "action")
        .and_then(|a| a.split_whitespace().next())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("failed") => Action::Failed,
        Some("delayed") => Action::Delayed,
        Some("delivered") => Action::Delivered,
        Some("relayed") => Action::Relayed,
        Some("expanded") => Action::Expanded,
        _ => Action::Unknown,
    };
    DsnRecipient {
        action,
        status: fields::get(block, "status").and_then(StatusCode::parse),
        diagnostic: fields::get(block, "diagnostic-code").map(str::to_owned),
        final_recipient: fields::get(block, "final-recipient").and_then(fields::typed_address),
        original_recipient: fields::get(block, "original-recipient")
            .and_then(fields::typed_address),
    }
}

/// Where the report itself was delivered: Delivered-To, X-Original-To, To,
/// in that order (the first two are set by the receiving MTA from the
/// envelope, so they hold the VERP address even when To does not).
pub(super) fn envelope_recipients(msg: &Message) -> Vec<String> {
    let raw: Vec<(&str, &str)> = msg.headers_raw().collect();
    let mut out = Vec::new();
    for name in ["delivered-to", "x-original-to", "to"] {
        for (n, v) in &raw {
            if n.eq_ignore_ascii_case(name) {
                out.extend(fields::addresses(v));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_parse_with_multi_digit_details_and_junk_is_refused() {
        let s = StatusCode::parse("5.1.10 (RESOLVER.ADR.RecipientNotFound)").unwrap();
        assert_eq!((s.class, s.subject, s.detail), (5, 1, 10));
        assert_eq!(s.to_string(), "5.1.10");
        for junk in ["", "5.1", "3.1.1", "5.1.1.1", "a.b.c", "5.1.1000"] {
            assert_eq!(StatusCode::parse(junk), None, "{junk}");
        }
    }

    #[test]
    fn outcomes_follow_the_action_and_the_status_class() {
        let r = |action, status: &str| DsnRecipient {
            action,
            status: StatusCode::parse(status),
            diagnostic: None,
            final_recipient: None,
            original_recipient: None,
        };
        assert_eq!(r(Action::Failed, "5.1.1").outcome(), Outcome::HardBounce);
        assert_eq!(r(Action::Failed, "").outcome(), Outcome::HardBounce);
        assert_eq!(r(Action::Failed, "4.4.7").outcome(), Outcome::SoftBounce);
        assert_eq!(r(Action::Delayed, "4.4.1").outcome(), Outcome::SoftBounce);
        assert_eq!(r(Action::Delivered, "2.0.0").outcome(), Outcome::NotABounce);
        assert_eq!(r(Action::Relayed, "").outcome(), Outcome::NotABounce);
    }
}
