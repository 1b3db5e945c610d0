//! Messages that are not reports: challenge-response requests, auto-replies
//! (RFC 3834 and the older conventions), bounces in no standard format,
//! and everything else.
use mail_parser::Message;

use super::{Event, Unrecognised};

/// Subject phrases of challenge-response systems (BoxTrapper, TMDA,
/// SpamArrest, Mailblocks, EarthLink spamBlocker), lowercase.
const CHALLENGE_SUBJECTS: [&str; 6] = [
    "requires verification",
    "please confirm your message",
    "confirm your message",
    "verify#",
    "sender verification",
    "spam blocker",
];

/// Headers that only challenge-response systems set, lowercase.
const CHALLENGE_HEADERS: [&str; 3] = ["x-boxtrapper", "x-challenge", "x-spamarrest"];

/// Subject openings of vacation notices, lowercase.
const VACATION_SUBJECTS: [&str; 9] = [
    "auto:",
    "automatic reply",
    "autoreply",
    "auto-reply",
    "out of office",
    "out of the office",
    "away from",
    "vacation",
    "abwesenheit",
];

/// Subject openings of bounces that are not RFC 3464 reports, lowercase.
const BOUNCE_SUBJECTS: [&str; 6] = [
    "undeliverable",
    "undelivered mail",
    "mail delivery failed",
    "delivery status notification",
    "returned mail",
    "failure notice",
];

/// Classifies a message that is not a report.
pub fn classify(msg: &Message) -> Event {
    let subject = msg.subject().unwrap_or_default().to_lowercase();
    let header = |name: &str| {
        msg.headers_raw()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_ascii_lowercase())
    };
    let delivery_agent = header("x-delivery-agent").unwrap_or_default();
    if let Some(h) = CHALLENGE_HEADERS.iter().find(|h| header(h).is_some()) {
        return challenge(format!("`{h}` header"));
    }
    if delivery_agent.contains("tmda") {
        return challenge("`X-Delivery-Agent: TMDA`".into());
    }
    if let Some(p) = CHALLENGE_SUBJECTS.iter().find(|p| subject.contains(*p)) {
        return challenge(format!("subject says `{p}`"));
    }
    if let Some(v) = header("auto-submitted").filter(|v| !v.starts_with("no")) {
        let is_bounce = BOUNCE_SUBJECTS.iter().any(|p| subject.contains(p));
        if !is_bounce {
            return auto_reply(format!("`Auto-Submitted: {v}`"));
        }
    }
    for name in ["x-autoreply", "x-autorespond", "x-autoresponder"] {
        if header(name).is_some() {
            return auto_reply(format!("`{name}` header"));
        }
    }
    if let Some(p) = header("precedence").filter(|p| p == "auto_reply") {
        return auto_reply(format!("`Precedence: {p}`"));
    }
    if let Some(p) = VACATION_SUBJECTS.iter().find(|p| subject.starts_with(*p)) {
        return auto_reply(format!("subject starts with `{p}`"));
    }
    if let Some(p) = BOUNCE_SUBJECTS.iter().find(|p| subject.contains(*p)) {
        return Event::Unrecognised(Unrecognised::BounceWithoutReport(format!("subject `{p}`")));
    }
    Event::Unrecognised(Unrecognised::Other)
}

fn challenge(reason: String) -> Event {
    Event::Challenge { reason }
}

fn auto_reply(reason: String) -> Event {
    Event::AutoReply { reason }
}
