//! A real DSN: `mailroom send` to an unknown user of the private Postfix,
//! which accepts the message, fails to deliver it, and bounces it to the
//! message's VERP address; the bounce lands in the bounce Maildir, and
//! `mailroom inbound --maildir` marks the subscriber `bounced`.
use std::time::{Duration, Instant};

use crate::common::mta::Mta;
use crate::common::project::{Project, stderr};
use crate::common::web::show;

const GHOST: &str = "ghost@bounces.test";
const READER: &str = "reader@example.test";

/// The messages in a Maildir's `new/` and `cur/`.
fn count(dir: &std::path::Path) -> usize {
    ["new", "cur"]
        .iter()
        .filter_map(|d| std::fs::read_dir(dir.join(d)).ok())
        .map(|e| e.count())
        .sum()
}

#[test]
fn a_real_postfix_bounce_to_the_verp_address_marks_the_unknown_user_bounced() {
    let mta = Mta::start();
    let mut p = Project::new(0, mta.smtp_port);
    p.set("MAILROOM_BOUNCES__ADDRESS", "bounces@bounces.test");
    for who in [READER, GHOST] {
        let out = p.run(&["subscribers", "add", who]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let out = p.send(&[]);
    assert!(out.status.success(), "send: {}", stderr(&out));
    assert_eq!(
        show(&p, GHOST)["status"],
        "subscribed",
        "Postfix accepted it at RCPT"
    );

    let bounces = mta.bounce_maildir();
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&bounces) == 0 {
        assert!(
            Instant::now() < deadline,
            "no bounce arrived in {}",
            bounces.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    mta.wait_for(1);
    let new = std::fs::read_dir(bounces.join("new"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let raw = String::from_utf8_lossy(&std::fs::read(&new).unwrap()).into_owned();
    assert!(raw.contains("Delivered-To: bounces+620-"), "{raw}");
    assert!(
        raw.contains("report-type=delivery-status"),
        "a real RFC 3464 DSN: {raw}"
    );

    let out = p.run(&["inbound", "--maildir", bounces.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("1 hard bounce (1 marked bounced)"), "{err}");
    assert_eq!(show(&p, GHOST)["status"], "bounced");
    let history = show(&p, GHOST)["history"].as_array().unwrap().clone();
    let last = history.last().unwrap();
    assert_eq!(last["source"], "bounce:620");
    assert!(
        last["reason"].as_str().unwrap().starts_with("5.1.1"),
        "{last}"
    );
    assert_eq!(show(&p, READER)["status"], "subscribed");
    assert_eq!(
        count(&bounces.join("..").join("bounces")),
        1,
        "the bounce is kept, marked read"
    );
}

/// Hands `message` to the private Postfix for `to` (plain SMTP on loopback).
fn deliver(port: u16, to: &str, message: &[u8]) {
    use std::io::{BufRead, BufReader, Write};
    let stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut w = stream;
    let mut reply = |w: &mut std::net::TcpStream, line: Option<String>| {
        if let Some(l) = line {
            w.write_all(l.as_bytes()).unwrap();
        }
        loop {
            let mut got = String::new();
            reader.read_line(&mut got).unwrap();
            assert!(got.starts_with('2') || got.starts_with('3'), "SMTP: {got}");
            if got.as_bytes().get(3) == Some(&b' ') {
                break;
            }
        }
    };
    reply(&mut w, None);
    for cmd in [
        "EHLO test\r\n".into(),
        "MAIL FROM:<>\r\n".into(),
        format!("RCPT TO:<{to}>\r\n"),
        "DATA\r\n".into(),
    ] {
        reply(&mut w, Some(cmd));
    }
    w.write_all(message).unwrap();
    reply(&mut w, Some("\r\n.\r\n".into()));
    reply(&mut w, Some("QUIT\r\n".into()));
}

#[test]
fn an_imap_sweep_applies_the_bounce_ignores_the_vacation_and_leaves_the_rest_unseen() {
    let mta = Mta::start();
    let (mut p, got) = crate::bounces::sent(2);
    let (verp, rcpt, raw) = &got[0];
    let id = crate::bounces::message_id(raw);
    let bounce = crate::bounces::dsn(verp, rcpt, "failed", "5.1.1", &id);
    let vacation =
        b"From: a@x.org\r\nAuto-Submitted: auto-replied\r\nSubject: Away\r\n\r\naway\r\n";
    let person = b"From: a@x.org\r\nSubject: hello\r\n\r\nthanks for the issue\r\n";
    for m in [&bounce[..], vacation, person] {
        deliver(mta.smtp_port, "preview@example.test", m);
    }
    mta.wait_for(3);
    p.set(
        "MAILROOM_IMAP_URL",
        &format!("imap://127.0.0.1:{}/INBOX", mta.imap_port),
    );
    p.set("MAILROOM_IMAP_USER", "preview");
    p.set("MAILROOM_IMAP_PASSWORD", "preview");

    let out = p.run(&["inbound", "--imap"]);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(65),
        "the person's message is kept: {err}"
    );
    assert!(err.contains("3 messages in"), "{err}");
    assert!(err.contains("1 hard bounce (1 marked bounced)"), "{err}");
    assert!(err.contains("1 ignored, 1 left in place"), "{err}");
    assert_eq!(show(&p, rcpt)["status"], "bounced");

    let rerun = p.run(&["inbound", "--imap"]);
    let err = stderr(&rerun);
    assert!(
        err.contains("1 message in"),
        "only the kept one is still unseen: {err}"
    );
    assert!(err.contains("1 left in place"), "{err}");
    // (The harness's FETCH BODY[] marks messages seen: only after the sweeps.)
    assert_eq!(mta.fetch_all().len(), 3, "nothing is deleted");

    p.set("MAILROOM_IMAP_URL", "imap://192.0.2.1/INBOX");
    let refused = p.run(&["inbound", "--imap"]);
    let err = stderr(&refused);
    assert_eq!(refused.status.code(), Some(1), "{err}");
    assert!(
        err.contains("only allowed on loopback") && err.contains("imaps://"),
        "{err}"
    );
}
