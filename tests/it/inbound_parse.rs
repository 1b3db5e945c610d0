//! `inbound::parse` over hand-written messages in the published formats
//! (`tests/fixtures/bounces/`): each fixture's event, field by field.
use mailroom::domain::{EmailAddress, IssueNumber, SubscriberId};
use mailroom::inbound::{self, Action, Context, Event, Outcome, Unrecognised};
use mailroom::token::Keyring;
use mailroom::token::verp::VerpTag;

use crate::common::project::SECRET;

fn parse(name: &str) -> Event {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bounces")
        .join(name);
    let raw = std::fs::read(&path).expect("fixture");
    let keys = Keyring::new(SECRET.as_bytes().to_vec(), vec![]);
    let bounce = EmailAddress::parse("bounces@bounces.this-week-in-rust.org").unwrap();
    let ctx = Context {
        keys: Some(&keys),
        bounce_address: Some(&bounce),
    };
    inbound::parse(&raw, &ctx)
}

fn tag(subscriber: i64) -> Option<VerpTag> {
    Some(VerpTag {
        issue: IssueNumber::new(620),
        subscriber: SubscriberId::new(subscriber),
    })
}

fn addr(s: &str) -> Option<EmailAddress> {
    Some(EmailAddress::parse(s).unwrap())
}

/// The DSN of a fixture, with exactly one recipient.
fn bounce(name: &str) -> (inbound::Dsn, inbound::DsnRecipient) {
    match parse(name) {
        Event::Bounce(dsn) => {
            assert_eq!(dsn.recipients.len(), 1, "{name}: {dsn:?}");
            let r = dsn.recipients[0].clone();
            (dsn, r)
        }
        other => panic!("{name}: expected a bounce, got {other:?}"),
    }
}

#[test]
fn a_postfix_bounce_is_a_hard_bounce_for_the_tagged_subscriber() {
    let (dsn, r) = bounce("postfix-dsn.eml");
    assert_eq!(dsn.verp, tag(1));
    assert_eq!(
        dsn.reporting_mta.as_deref(),
        Some("dns; mail.this-week-in-rust.org")
    );
    assert_eq!(
        dsn.original_message_id.as_deref(),
        Some("<issue-620.5d1f4a3f0c2e9b7a81c6d4e2@this-week-in-rust.org>")
    );
    assert_eq!(r.action, Action::Failed);
    assert_eq!(r.status.unwrap().to_string(), "5.1.1");
    assert_eq!(r.outcome(), Outcome::HardBounce);
    assert_eq!(r.final_recipient, addr("user1@example.com"));
    assert_eq!(r.original_recipient, addr("user1@example.com"));
    assert_eq!(
        r.diagnostic.as_deref(),
        Some(
            "smtp; 550 5.1.1 <user1@example.com>: Recipient address rejected: \
             User unknown in virtual mailbox table"
        )
    );
}

#[test]
fn a_postfix_delay_warning_is_a_soft_bounce() {
    let (dsn, r) = bounce("postfix-delayed.eml");
    assert_eq!(dsn.verp, tag(2), "from X-Original-To");
    assert_eq!(
        (r.action, r.outcome()),
        (Action::Delayed, Outcome::SoftBounce)
    );
    assert_eq!(r.status.unwrap().to_string(), "4.4.1");
    assert!(r.diagnostic.unwrap().starts_with("X-Postfix; connect to"));
}

#[test]
fn an_exim_bounce_reads_its_returned_message() {
    let (dsn, r) = bounce("exim-dsn.eml");
    assert_eq!(dsn.verp, tag(3));
    assert_eq!(
        dsn.original_message_id.as_deref(),
        Some("<issue-620.77aa88bb99cc00dd11ee22ff@this-week-in-rust.org>")
    );
    assert_eq!(r.status.unwrap().to_string(), "5.0.0");
    assert_eq!(r.outcome(), Outcome::HardBounce);
    assert_eq!(r.final_recipient, addr("reader3@example.net"));
    assert_eq!(r.original_recipient, None);
    assert_eq!(
        r.diagnostic.as_deref(),
        Some("smtp; 552 5.2.2 mailbox is full")
    );
}

#[test]
fn an_exchange_ndr_keeps_its_multi_digit_status_and_original_recipient() {
    let (dsn, r) = bounce("exchange-dsn.eml");
    assert_eq!(dsn.verp, tag(4));
    assert_eq!(r.status.unwrap().to_string(), "5.1.10");
    assert_eq!(r.original_recipient, addr("Reader4@contoso.example"));
    assert_eq!(r.final_recipient, addr("reader4@contoso.example"));
    assert!(
        r.diagnostic.unwrap().contains(
            "RESOLVER.ADR.RecipientNotFound; Recipient reader4@contoso.example not found"
        )
    );
    assert_eq!(
        dsn.original_message_id.as_deref(),
        Some("<issue-620.1f2e3d4c5b6a798877665544@this-week-in-rust.org>")
    );
}

#[test]
fn a_gmail_bounce_unfolds_its_long_diagnostic() {
    let (dsn, r) = bounce("gmail-dsn.eml");
    assert_eq!(dsn.verp, tag(5));
    assert_eq!(r.outcome(), Outcome::HardBounce);
    assert_eq!(r.final_recipient, addr("no.such.reader@gmail.com"));
    let diag = r.diagnostic.unwrap();
    assert!(
        diag.starts_with("smtp; 550-5.1.1 The email account"),
        "{diag}"
    );
    assert!(diag.contains("?p=NoSuchUser"), "{diag}");
    assert!(!diag.contains('\n'));
}

#[test]
fn a_bounce_with_a_forged_tag_names_nobody() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bounces/postfix-dsn.eml");
    let raw = std::fs::read_to_string(path)
        .unwrap()
        .replace("620-1-0904", "620-2-0904");
    let keys = Keyring::new(SECRET.as_bytes().to_vec(), vec![]);
    let bounce = EmailAddress::parse("bounces@bounces.this-week-in-rust.org").unwrap();
    let ctx = Context {
        keys: Some(&keys),
        bounce_address: Some(&bounce),
    };
    match inbound::parse(raw.as_bytes(), &ctx) {
        Event::Bounce(dsn) => assert_eq!(dsn.verp, None),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_arf_report_is_a_complaint_naming_the_subscriber_twice_over() {
    let Event::Complaint(c) = parse("arf.eml") else {
        panic!("expected a complaint")
    };
    assert_eq!(c.feedback_type, "abuse");
    assert_eq!(c.user_agent.as_deref(), Some("Yahoo!-Mail-Feedback/2.0"));
    assert_eq!(c.verp, tag(3));
    assert_eq!(c.unsubscribe, Some(SubscriberId::new(3)));
    assert_eq!(c.original_rcpt_to, addr("user3@yahoo.example"));
    assert_eq!(
        c.original_message_id.as_deref(),
        Some("<issue-620.33445566778899aabbccddee@this-week-in-rust.org>")
    );
}

#[test]
fn a_redacted_arf_report_is_matched_by_the_returned_return_path() {
    let Event::Complaint(c) = parse("arf-redacted.eml") else {
        panic!("expected a complaint")
    };
    assert_eq!(c.verp, tag(2));
    assert_eq!(c.unsubscribe, Some(SubscriberId::new(2)));
    assert_eq!(c.original_rcpt_to, None);
    assert_eq!(c.user_agent.as_deref(), Some("AOL SComp"));
}

#[test]
fn vacation_replies_are_auto_replies_not_bounces() {
    for (name, why) in [
        ("vacation.eml", "Auto-Submitted: auto-replied (vacation)"),
        ("vacation-legacy.eml", "x-autoreply"),
    ] {
        match parse(name) {
            Event::AutoReply { reason } => assert!(reason.contains(why), "{name}: {reason}"),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn a_challenge_response_request_is_recognised_before_its_auto_submitted() {
    match parse("challenge.eml") {
        Event::Challenge { reason } => assert!(reason.contains("x-boxtrapper"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_mailto_unsubscribe_carries_its_token() {
    assert_eq!(
        parse("unsubscribe.eml"),
        Event::Unsubscribe {
            token: "1.LsU9h3RN0-XqJPxcf_XO-g".into()
        }
    );
}

#[test]
fn a_persons_reply_and_a_bounce_in_no_standard_format_are_unrecognised() {
    assert_eq!(parse("reply.eml"), Event::Unrecognised(Unrecognised::Other));
    assert_eq!(
        parse("plain-bounce.eml"),
        Event::Unrecognised(Unrecognised::BounceWithoutReport(
            "subject `failure notice`".into()
        ))
    );
}

#[test]
fn bounces_about_subscribers_the_store_lacks_are_reported_and_left_in_place() {
    let mut p = crate::common::project::Project::new(0, crate::common::sink::free_port());
    p.set(
        "MAILROOM_BOUNCES__ADDRESS",
        "bounces@bounces.this-week-in-rust.org",
    );
    let dir = p.path("Maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bounces");
    for name in ["postfix-dsn.eml", "arf.eml", "vacation.eml"] {
        std::fs::copy(fixtures.join(name), dir.join("new").join(name)).unwrap();
    }
    let out = p.run(&["inbound", "--maildir", dir.to_str().unwrap()]);
    let err = crate::common::project::stderr(&out);
    assert_eq!(out.status.code(), Some(65), "{err}");
    assert_eq!(
        err.matches("about no subscriber or campaign in this store; left in place")
            .count(),
        2,
        "the bounce and the complaint name subscribers this store lacks: {err}"
    );
    assert!(err.contains("1 ignored"), "the vacation reply: {err}");
    assert!(
        !err.contains("user1@example.com"),
        "no address in the report: {err}"
    );
    assert_eq!(
        std::fs::read_dir(dir.join("new")).unwrap().count(),
        2,
        "the bounce and the complaint are kept"
    );
}
