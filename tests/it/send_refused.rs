//! A relay that refuses us (5xx to EHLO, AUTH or MAIL FROM) is a
//! configuration problem: the run stops with a clear error, no recipient is
//! failed or bounced, and the campaign resumes once the relay is fixed. So
//! is a relay that rejects every recipient by policy (`5.7.x`) before it
//! has accepted anything.

use crate::common::project::{Project, stderr};
use crate::common::sink::{Sink, free_port, tally};

const SENDER: &str = "553 5.7.1 <twir@example.com>: Sender address rejected: not owned by user";

/// Runs a send against a sink started with `refusal` (smtp-sink flags):
/// the run must stop with exit 1 and an error holding every `expect`, fail
/// and bounce nobody, and leave a campaign that a rerun against a clean sink
/// completes, each recipient mailed once. Returns the status after the
/// refused run.
fn refused_then_resumed(n: usize, refusal: &[&str], expect: &[&str]) -> serde_json::Value {
    let port = free_port();
    let p = Project::new(n, port);
    let mut refusing = Sink::start(p.dir.path(), "refusing", port, refusal);
    let out = p.send(&[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for e in expect {
        assert!(err.contains(e), "`{e}` missing from: {err}");
    }
    assert!(err.contains("campaign is intact"), "{err}");
    let status = p.status();
    let counts = &status["counts"];
    assert_eq!(
        (&counts["failed"], &counts["sent"], &counts["sending"]),
        (&0.into(), &0.into(), &0.into()),
        "nobody is failed for the relay's refusal: {status}"
    );
    let listed = p.run(&["subscribers", "list", "--status", "bounced"]);
    assert!(!String::from_utf8_lossy(&listed.stdout).contains("@example.com"));
    refusing.stop();

    let clean = Sink::start(p.dir.path(), "clean", port, &[]);
    let out = p.send(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let counts = tally([clean.messages().as_slice()]);
    assert_eq!(counts.len(), n);
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
    status
}

#[test]
fn a_5xx_at_mail_from_stops_the_run_without_failing_anyone_and_it_resumes() {
    let n = 12;
    let status = refused_then_resumed(
        n,
        &["-f", "MAIL", "-B", SENDER],
        &[
            "refused the sender at MAIL FROM",
            "553 5.7.1",
            "nobody was marked failed",
        ],
    );
    assert_eq!(
        status["counts"]["pending"], n as u64,
        "every row is back to pending"
    );
}

#[test]
fn a_5xx_to_ehlo_or_auth_is_a_clear_refusal_not_an_outage() {
    let port = free_port();
    let mut p = Project::new(3, port);
    // EHLO and the HELO fallback both refused.
    let mut sink = Sink::start(p.dir.path(), "ehlo", port, &["-f", "EHLO,HELO"]);
    let out = p.send(&[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("the relay `127.0.0.1:{port}` refused us")) && err.contains("EHLO"),
        "{err}"
    );
    assert!(!err.contains("unreachable"), "{err}");
    sink.stop();

    p.set("MAILROOM_SMTP__USERNAME", "twir");
    p.set("MAILROOM_SMTP__PASSWORD", "wrong");
    let sink = Sink::start(p.dir.path(), "auth", port, &["-f", "AUTH"]);
    let out = p.send(&[]);
    let err = stderr(&out);
    eprintln!("{err}");
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("refused AUTH"), "{err}");
    assert!(err.contains("MAILROOM_SMTP__PASSWORD"), "{err}");
    assert!(sink.messages().is_empty());
}

const RELAY_DENIED: &str = "554 5.7.1 <x@example.com>: Relay access denied";

#[test]
fn a_relay_that_rejects_every_recipient_by_policy_stops_the_run_instead_of_failing_them() {
    refused_then_resumed(
        30,
        &["-f", "RCPT", "-B", RELAY_DENIED],
        &["recipients by policy", "5.7.1"],
    );
}
