//! End to end through a real MTA with TLS: `mailroom send --test` over
//! STARTTLS and over implicit TLS to a private Postfix, whose certificate
//! mailroom trusts only through `[smtp] ca_file`; the messages are read
//! back from Dovecot over IMAP. Also: `starttls` never falls back to
//! cleartext, and certificates are verified.

use crate::common::mta::Mta;
use crate::common::project::{Project, clean_issue, stderr};
use crate::common::sink::{Sink, free_port};
use mail_parser::{MessageParser, MimeHeaders};

const PREVIEW: &str = "preview@example.test";

/// The text and HTML bodies of a `multipart/alternative` message, after
/// checking its subject and structure.
fn parts(raw: &[u8]) -> (String, String) {
    let msg = MessageParser::default().parse(raw).expect("a MIME message");
    assert_eq!(msg.subject(), Some("[TEST] This Week in Rust 620"));
    let ct = msg.content_type().expect("a Content-Type");
    assert_eq!(
        (ct.ctype(), ct.subtype()),
        ("multipart", Some("alternative"))
    );
    assert_eq!((msg.text_body_count(), msg.html_body_count()), (1, 1));
    let text = msg.body_text(0).expect("a text part").into_owned();
    let html = msg.body_html(0).expect("an HTML part").into_owned();
    (text, html)
}

fn test_send(p: &Project) -> std::process::Output {
    let issue = clean_issue();
    p.run(&["send", issue.to_str().unwrap(), "--test", PREVIEW])
}

#[test]
fn test_sends_over_starttls_and_implicit_tls_arrive_intact_in_a_real_mailbox() {
    let mta = Mta::start();
    let mut p = Project::new(0, mta.smtp_port);
    p.set("MAILROOM_SMTP__TLS", "starttls");

    let unverified = test_send(&p);
    let err = stderr(&unverified);
    assert_eq!(unverified.status.code(), Some(1), "{err}");
    assert!(
        err.contains("refused STARTTLS") && err.contains("ca_file"),
        "{err}"
    );

    let cert = mta.cert().display().to_string();
    p.set("MAILROOM_SMTP__CA_FILE", &cert);
    let out = test_send(&p);
    assert!(out.status.success(), "starttls: {}", stderr(&out));
    p.set("MAILROOM_SMTP__TLS", "tls");
    p.set("MAILROOM_SMTP__PORT", &mta.smtps_port.to_string());
    let out = test_send(&p);
    assert!(out.status.success(), "tls: {}", stderr(&out));

    mta.wait_for(2);
    let fetched = mta.fetch_all();
    assert_eq!(fetched.len(), 2, "the unverified attempt delivered nothing");

    p.set("MAILROOM_SEND__TRANSPORT", "outbox");
    assert!(test_send(&p).status.success());
    let local = std::fs::read(p.path("outbox/620/test-0.eml")).expect("the outbox copy");
    let (text, html) = parts(&local);
    let html_end = &html[html.len().saturating_sub(80)..];
    assert!(text.contains("This Week in Rust"), "{text:.300}");
    assert!(html_end.contains("</html>"), "{html_end}");
    for raw in &fetched {
        let got = String::from_utf8_lossy(raw);
        assert!(
            got.contains("with ESMTPS"),
            "Received notes TLS: {got:.600}"
        );
        assert_eq!(
            parts(raw),
            (text.clone(), html.clone()),
            "both parts intact"
        );
    }
}

#[test]
fn starttls_against_a_relay_without_it_fails_clearly_and_sends_nothing() {
    let port = free_port();
    let mut p = Project::new(0, port);
    p.set("MAILROOM_SMTP__TLS", "starttls");
    let sink = Sink::start(p.dir.path(), "dump", port, &[]);
    let out = test_send(&p);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("refused STARTTLS: not offered") && err.contains("never falls back"),
        "{err}"
    );
    assert!(sink.messages().is_empty(), "no cleartext downgrade");
}
