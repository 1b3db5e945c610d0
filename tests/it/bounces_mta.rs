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
