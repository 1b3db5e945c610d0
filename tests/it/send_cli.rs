//! `mailroom send` options: unsubscribes after the snapshot, `--test`,
//! `--dry-run`.

use crate::common::project::{Project, email, seed_path, stderr};
use crate::common::sink::{Sink, free_port, tally};
use mail_parser::MessageParser;

#[test]
fn an_address_unsubscribed_mid_campaign_is_not_mailed() {
    let port = free_port();
    let mut p = Project::new(10, port);
    p.set("MAILROOM_SEND__MAX_WAIT_SECS", "0");
    let mut first = Sink::start(p.dir.path(), "first", port, &["-r", "RCPT"]);
    assert_eq!(
        p.send(&[]).status.code(),
        Some(75),
        "every message deferred"
    );
    first.stop();
    for i in [3, 7] {
        let out = p.run(&["subscribers", "remove", &email(i)]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    p.set("MAILROOM_SEND__MAX_WAIT_SECS", "30");
    let sink = Sink::start(p.dir.path(), "second", port, &[]);
    let out = p.send(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let counts = tally([sink.messages().as_slice()]);
    assert_eq!(counts.len(), 8);
    assert!(!counts.contains_key(&email(3)) && !counts.contains_key(&email(7)));
    let status = p.status();
    assert_eq!(status["counts"]["skipped"], 2);
    assert_eq!(status["counts"]["sent"], 8);
}

#[test]
fn a_test_send_reaches_only_the_preview_inbox_and_leaves_the_ledger_alone() {
    let port = free_port();
    let p = Project::new(5, port);
    let sink = Sink::start(p.dir.path(), "dump", port, &[]);
    let out = p.send(&["--test"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "preview@preview.test");
    let msg = MessageParser::default().parse(&got[0].1).unwrap();
    assert_eq!(msg.subject(), Some("[TEST] This Week in Rust 620"));
    let test_id = msg.message_id().unwrap().to_owned();
    let status = p.run(&["status"]);
    assert!(status.status.success(), "no campaigns yet is not an error");
    assert!(
        stderr(&status).contains("no campaigns yet"),
        "{}",
        stderr(&status)
    );

    assert!(p.send(&[]).status.success());
    let after = sink.messages();
    assert_eq!(
        tally([after.as_slice()]).len(),
        6,
        "the real send mailed all five"
    );
    for (_, raw) in &after {
        let m = MessageParser::default().parse(raw).unwrap();
        if m.subject() == Some("This Week in Rust 620") {
            assert_ne!(m.message_id().unwrap(), test_id);
        }
    }
}

#[test]
fn a_test_send_goes_to_the_given_addresses_even_for_a_draft_with_errors() {
    let port = free_port();
    let p = Project::new(2, port);
    let sink = Sink::start(p.dir.path(), "dump", port, &[]);
    let draft = seed_path("003");
    let out = p.run(&[
        "send",
        draft.to_str().unwrap(),
        "--test",
        "a@one.test",
        "b@two.test",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("empty-section"),
        "findings are printed"
    );
    let counts = tally([sink.messages().as_slice()]);
    assert_eq!(
        counts.keys().cloned().collect::<Vec<_>>(),
        ["a@one.test", "b@two.test"]
    );
}

#[test]
fn a_dry_run_reports_recipients_and_sends_nothing() {
    let port = free_port();
    let mut p = Project::new(7, port);
    p.set("MAILROOM_SEND__RATE_PER_SECOND", "2");
    let sink = Sink::start(p.dir.path(), "dump", port, &[]);
    let out = p.send(&["--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("recipients: 7"), "{text}");
    assert!(text.contains("estimated duration: 4s"), "{text}");
    assert!(sink.messages().is_empty());
    assert!(
        stderr(&p.run(&["status"])).contains("no campaigns yet"),
        "no campaign was created"
    );
}
