//! Tests for MIME assembly: structure, headers, encoding, slots, injection.
use mail_parser::{MessageParser, MimeHeaders};
use time::macros::datetime;

use super::*;
use crate::domain::IssueNumber;
use crate::model::{Rendered, Slot};

fn ctx() -> MessageContext {
    let settings = crate::config::from_sources(include_str!("../../config.toml"), []).unwrap();
    MessageContext::from_settings(&settings, datetime!(2025-11-12 12:00 UTC)).unwrap()
}

fn rendered() -> Rendered {
    let m = Slot::UnsubscribeUrl.marker();
    Rendered {
        subject: "This Week in Rust 625".into(),
        html: format!(
            "<html><body><p style=\"color:#333\">Grüße = {}</p>\n<a href=\"{m}\">unsubscribe</a></body></html>\n",
            "x".repeat(2000)
        ),
        text: format!("Grüße\n\nUnsubscribe:\n{m}\n"),
        links: 1,
        link_urls: vec![],
        web_url: "https://example.org/625".into(),
    }
}

fn slots(addr: &str) -> RecipientSlots {
    let to = crate::domain::EmailAddress::parse(addr).unwrap();
    RecipientSlots::new(&ctx(), IssueNumber::new(625).unwrap(), to, "tok_EN-1").unwrap()
}

#[test]
fn the_message_is_multipart_alternative_with_text_first_and_html_last() {
    let bytes = MessageTemplate::build(&rendered(), &ctx())
        .unwrap()
        .personalize(&slots("a@example.com"));
    let msg = MessageParser::default().parse(&bytes).unwrap();
    let ct = msg.content_type().unwrap();
    assert_eq!(
        (ct.ctype(), ct.subtype()),
        ("multipart", Some("alternative"))
    );
    assert_eq!(msg.parts.len(), 3);
    let text = msg.body_text(0).unwrap();
    let html = msg.body_html(0).unwrap();
    assert!(text.starts_with("Grüße"), "{text}");
    assert!(html.contains("Grüße = xxx"), "{html}");
    // text part is the first sub-part, HTML the last
    let sub: Vec<_> = msg.parts[1..]
        .iter()
        .map(|p| p.content_type().unwrap().subtype().unwrap().to_string())
        .collect();
    assert_eq!(sub, ["plain", "html"]);
}

#[test]
fn both_parts_decode_to_the_rendered_content_with_the_slots_filled() {
    let r = rendered();
    let s = slots("a@example.com");
    let bytes = MessageTemplate::build(&r, &ctx()).unwrap().personalize(&s);
    let msg = MessageParser::default().parse(&bytes).unwrap();
    let m = Slot::UnsubscribeUrl.marker();
    let want_text = r.text.replace(m, &s.unsubscribe_url).replace('\n', "\r\n");
    let want_html = r.html.replace(m, &s.unsubscribe_url).replace('\n', "\r\n");
    assert_eq!(
        msg.body_text(0).unwrap().replace("\r\n", "\n"),
        want_text.replace("\r\n", "\n")
    );
    assert_eq!(
        msg.body_html(0).unwrap().replace("\r\n", "\n"),
        want_html.replace("\r\n", "\n")
    );
}

#[test]
fn the_headers_carry_sender_recipient_and_list_unsubscribe() {
    let s = slots("Reader@Example.com");
    let bytes = MessageTemplate::build(&rendered(), &ctx())
        .unwrap()
        .personalize(&s);
    let msg = MessageParser::default().parse(&bytes).unwrap();
    assert_eq!(msg.subject(), Some("This Week in Rust 625"));
    assert_eq!(
        msg.from().unwrap().first().unwrap().address(),
        Some("newsletter@this-week-in-rust.org")
    );
    assert_eq!(
        msg.to().unwrap().first().unwrap().address(),
        Some("Reader@example.com")
    );
    assert_eq!(
        msg.message_id(),
        Some(s.message_id.trim_matches(['<', '>']))
    );
    assert!(msg.date().is_some());
    let raw = String::from_utf8_lossy(&bytes);
    assert!(raw.contains("MIME-Version: 1.0\r\n"));
    assert!(raw.contains("List-Id: This Week in Rust <newsletter.this-week-in-rust.org>\r\n"));
    assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
    let unsub = msg.header_raw("List-Unsubscribe").unwrap();
    assert!(
        unsub.contains("<https://newsletter.this-week-in-rust.org/unsubscribe/tok_EN-1>"),
        "{unsub}"
    );
    assert!(unsub.contains(
        "<mailto:unsubscribe@newsletter.this-week-in-rust.org?subject=unsubscribe-tok_EN-1>"
    ));
}

#[test]
fn no_line_exceeds_998_octets_and_body_lines_keep_to_76() {
    let bytes = MessageTemplate::build(&rendered(), &ctx())
        .unwrap()
        .personalize(&slots("a@example.com"));
    let text = String::from_utf8(bytes).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.split("\r\n").all(|l| l.len() <= 998));
    for line in body.split("\r\n") {
        assert!(line.len() <= 76, "{} octets: {line}", line.len());
    }
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "bare LF in message"
    );
}

#[test]
fn recipients_differ_only_in_their_slots() {
    let t = MessageTemplate::build(&rendered(), &ctx()).unwrap();
    let (a, b) = (slots("a@example.com"), slots("b@example.com"));
    let strip = |s: &RecipientSlots, bytes: Vec<u8>| {
        String::from_utf8(bytes)
            .unwrap()
            .replace(s.to.as_str(), "TO")
            .replace(&s.message_id, "MID")
    };
    assert_eq!(strip(&a, t.personalize(&a)), strip(&b, t.personalize(&b)));
    assert_ne!(t.personalize(&a), t.personalize(&b));
}

#[test]
fn the_same_issue_and_recipient_always_give_the_same_bytes() {
    let one = MessageTemplate::build(&rendered(), &ctx())
        .unwrap()
        .personalize(&slots("a@example.com"));
    let two = MessageTemplate::build(&rendered(), &ctx())
        .unwrap()
        .personalize(&slots("a@example.com"));
    assert_eq!(one, two);
}

#[test]
fn a_line_break_in_the_subject_is_rejected() {
    let mut r = rendered();
    r.subject = "Issue 625\r\nBcc: everyone@evil.test".into();
    let err = MessageTemplate::build(&r, &ctx()).unwrap_err();
    assert!(
        matches!(
            err,
            HeaderError::ControlCharacter {
                header: "Subject",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_line_break_in_a_configured_header_is_rejected() {
    for (key, value) in [
        (
            "MAILROOM_NEWSLETTER__FROM",
            "News <n@example.org>\nBcc: x@evil.test",
        ),
        (
            "MAILROOM_NEWSLETTER__LIST_ID",
            "News <list.example.org>\r\nX-Evil: 1",
        ),
    ] {
        // The config refuses it at load, before any message is built.
        let err = crate::config::from_sources(
            include_str!("../../config.toml"),
            [(key.to_string(), value.to_string())],
        )
        .unwrap_err();
        assert!(err.to_string().contains("line break"), "{err}");
    }
}

#[test]
fn an_unsafe_token_is_rejected() {
    let to = crate::domain::EmailAddress::parse("a@example.com").unwrap();
    let n = IssueNumber::new(625).unwrap();
    assert!(RecipientSlots::new(&ctx(), n, to.clone(), "a\r\nb").is_err());
    assert!(RecipientSlots::new(&ctx(), n, to, "").is_err());
}

#[test]
fn feedback_id_and_reply_to_are_written_when_configured() {
    let toml = include_str!("../../config.toml").replace(
        "# reply_to = \"TWiR editors <editors@this-week-in-rust.org>\"",
        "reply_to = \"TWiR editors <editors@this-week-in-rust.org>\"",
    );
    let settings = crate::config::from_sources(&toml, []).unwrap();
    let n = IssueNumber::new(625).unwrap();
    let (template, ctx) =
        prepare(&rendered(), &settings, n, datetime!(2025-11-12 12:00 UTC)).unwrap();
    let to = crate::domain::EmailAddress::parse("a@example.com").unwrap();
    let bytes = template.personalize(&RecipientSlots::new(&ctx, n, to, "t1").unwrap());
    let text = String::from_utf8(bytes).unwrap();
    let head = &text[..text.find("\r\n\r\n").unwrap()];
    assert!(
        head.contains("\r\nReply-To: TWiR editors <editors@this-week-in-rust.org>\r\n"),
        "{head}"
    );
    assert!(
        head.contains("\r\nFeedback-ID: 625:newsletter:this-week-in-rust\r\n"),
        "{head}"
    );
}

#[test]
fn a_feedback_id_that_a_header_cannot_carry_is_refused() {
    let n = IssueNumber::new(7).unwrap();
    assert_eq!(feedback_id("{number}:a:b", n).unwrap(), "7:a:b");
    for bad in ["", "with space", "a\r\nBcc: x", &"x".repeat(200)] {
        assert!(feedback_id(bad, n).is_err(), "{bad:?}");
    }
}
