//! RFC 5965 ARF feedback reports (feedback loops: "this is spam" clicks),
//! and the headers of the returned original message that reports carry.
use mail_parser::{Message, MimeHeaders, PartType};

use super::fields::{self, Block};
use super::{Complaint, Context, Event, Unrecognised};

/// Reads a `multipart/report; report-type=feedback-report` message.
pub fn parse(msg: &Message, ctx: &Context) -> Event {
    let report = msg.parts.iter().find(|p| {
        p.content_type().is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("message")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("feedback-report"))
        })
    });
    let Some(report) = report else {
        return Event::Unrecognised(Unrecognised::BrokenReport("message/feedback-report"));
    };
    let block: Block = fields::blocks(report.contents())
        .into_iter()
        .flatten()
        .collect();
    let Some(feedback_type) = fields::get(&block, "feedback-type") else {
        return Event::Unrecognised(Unrecognised::BrokenReport("message/feedback-report"));
    };
    let original = original_headers(msg).unwrap_or_default();
    let mut candidates: Vec<String> = Vec::new();
    for (block, name) in [(&block, "original-mail-from"), (&original, "return-path")] {
        if let Some(v) = fields::get(block, name) {
            candidates.extend(fields::addresses(v));
        }
    }
    candidates.extend(super::dsn::envelope_recipients(msg));
    let token = fields::get(&original, "list-unsubscribe").and_then(fields::list_unsubscribe_token);
    Event::Complaint(Complaint {
        feedback_type: feedback_type.to_ascii_lowercase(),
        user_agent: fields::get(&block, "user-agent").map(str::to_owned),
        original_rcpt_to: fields::get(&block, "original-rcpt-to").and_then(fields::address),
        original_message_id: fields::get(&original, "message-id").map(str::to_owned),
        verp: ctx.verp(candidates.iter().map(String::as_str)),
        unsubscribe: token.and_then(|t| ctx.unsubscribe(t)),
    })
}

/// The header fields of the message a report returns: a `message/rfc822`
/// part, or a `text/rfc822-headers` one (what Postfix returns by default).
pub fn original_headers(msg: &Message) -> Option<Block> {
    msg.parts.iter().find_map(|part| {
        let ct = part.content_type()?;
        let sub = ct.subtype()?.to_ascii_lowercase();
        match (&part.body, sub.as_str()) {
            (PartType::Message(inner), _) => Some(
                inner
                    .headers_raw()
                    .map(|(n, v)| (n.to_ascii_lowercase(), fields::unfold(v)))
                    .collect(),
            ),
            (_, "rfc822-headers") => fields::blocks(part.contents()).into_iter().next(),
            _ => None,
        }
    })
}
