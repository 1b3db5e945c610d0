//! Tests for classification order and bounds (the fixtures in
//! `tests/fixtures/bounces/` are checked by `tests/it/inbound_parse.rs`).
use proptest::prelude::*;

use super::*;

fn classify(raw: &str) -> Event {
    parse(raw.as_bytes(), &Context::default())
}

#[test]
fn a_message_over_the_size_limit_is_not_parsed() {
    let mut raw = b"Subject: unsubscribe-1.abc\r\n\r\n".to_vec();
    raw.resize(MAX_MESSAGE_BYTES + 1, b'a');
    assert_eq!(
        parse(&raw, &Context::default()),
        Event::Unrecognised(Unrecognised::TooLarge)
    );
}

#[test]
fn bytes_without_headers_are_not_a_message() {
    assert_eq!(classify(""), Event::Unrecognised(Unrecognised::NotAMessage));
}

#[test]
fn a_report_without_its_status_part_is_a_broken_report() {
    let raw = "From: a@x.org\r\nContent-Type: multipart/report; report-type=delivery-status; \
               boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n";
    assert_eq!(
        classify(raw),
        Event::Unrecognised(Unrecognised::BrokenReport("message/delivery-status"))
    );
}

#[test]
fn an_unsubscribe_subject_wins_over_auto_submitted() {
    let raw =
        "From: a@x.org\r\nAuto-Submitted: auto-generated\r\nSubject: unsubscribe-7.Ab_c\r\n\r\n";
    assert_eq!(
        classify(raw),
        Event::Unsubscribe {
            token: "7.Ab_c".into()
        }
    );
}

#[test]
fn auto_submitted_no_is_a_person_and_a_bounce_subject_is_not_a_vacation() {
    let person = "From: a@x.org\r\nAuto-Submitted: no\r\nSubject: hello\r\n\r\nhi\r\n";
    assert_eq!(classify(person), Event::Unrecognised(Unrecognised::Other));
    let bounce = "From: MAILER-DAEMON@x.org\r\nAuto-Submitted: auto-replied\r\n\
                  Subject: Undelivered Mail Returned to Sender\r\n\r\nsorry\r\n";
    assert!(
        matches!(
            classify(bounce),
            Event::Unrecognised(Unrecognised::BounceWithoutReport(_))
        ),
        "{:?}",
        classify(bounce)
    );
}

#[test]
fn the_unsubscribe_token_is_found_after_unsubscribe_dash() {
    assert_eq!(
        unsubscribe_token("unsubscribe-12.AbC_-d"),
        Some("12.AbC_-d")
    );
    assert_eq!(
        unsubscribe_token("Re: unsubscribe-12.AbC (please)"),
        Some("12.AbC")
    );
    assert_eq!(unsubscribe_token("unsubscribe-"), None);
    assert_eq!(unsubscribe_token("please unsubscribe me"), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Whatever the bytes, parsing ends with an event and never panics.
    #[test]
    fn arbitrary_input_never_panics(
        head in "(Content-Type: multipart/report; report-type=(delivery-status|feedback-report); boundary=b\r\n)?",
        body in proptest::collection::vec(any::<u8>(), 0..2000),
    ) {
        let mut raw = head.into_bytes();
        raw.extend_from_slice(b"\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n");
        raw.extend_from_slice(&body);
        let _ = parse(&raw, &Context::default());
        let _ = parse(&body, &Context::default());
    }
}
