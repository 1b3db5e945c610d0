//! The bounce breaker (issue 9, scenario 3): a relay that says "user
//! unknown" to everyone stops the run and marks nobody bounced; real dead
//! addresses are bounced once the breaker has judged them, and `subscribers
//! unbounce --campaign` restores what a campaign bounced.
use std::sync::Arc;

use crate::common::project::{Project, email, stderr};
use crate::common::relay::{Relay, Script};
use crate::common::sink::{Sink, free_port};

const UNKNOWN: &str = "550 5.1.1 <x@example.com>: Recipient address rejected: User unknown";

fn bounced(p: &Project) -> usize {
    let out = p.run(&[
        "subscribers",
        "list",
        "--status",
        "bounced",
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("@example.com"))
        .count()
}

#[test]
fn a_relay_that_rejects_all_20000_as_unknown_marks_nobody_bounced() {
    let port = free_port();
    let n = 20_000;
    let mut p = Project::new(n, port);
    p.set("MAILROOM_SEND__CONCURRENCY", "16");
    let _sink = Sink::start(p.dir.path(), "dump", port, &["-f", "RCPT", "-B", UNKNOWN]);
    let out = p.send(&[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("the bounce breaker tripped"), "{err}");
    assert!(err.contains("of the first"), "{err}");
    assert!(err.contains("nobody was marked bounced"), "{err}");
    let marked = bounced(&p);
    eprintln!("bounced after a relay that rejects everyone: {marked} of {n}");
    assert_eq!(marked, 0, "nobody is bounced for the relay's burst");
    let status = p.status();
    let c = &status["counts"];
    assert_eq!(
        (&c["failed"], &c["sent"]),
        (&0.into(), &0.into()),
        "{status}"
    );
    let queued = c["deferred"].as_u64().unwrap();
    assert!(
        (21..=40).contains(&queued),
        "the burst went back to the queue: {status}"
    );
    let failures = status["failures"].to_string();
    assert!(
        failures.contains("550 5.1.1"),
        "the reply is kept: {failures}"
    );
}

#[test]
fn a_burst_goes_back_to_the_queue_and_a_rerun_through_a_good_relay_mails_everyone_once() {
    let n = 300;
    let rejecting = Relay::start(Script {
        rcpt: Arc::new(|_| Some(UNKNOWN.to_owned())),
        ..Script::default()
    });
    let mut p = Project::new(n, rejecting.port);
    let out = p.send(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(bounced(&p), 0);
    drop(rejecting);

    let good = Relay::start(Script::default());
    p.set("MAILROOM_SMTP__PORT", &good.port.to_string());
    let out = p.run(&[
        "send",
        crate::common::project::clean_issue().to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a resume needs no --yes: {}",
        stderr(&out)
    );
    let mut got = good.received();
    got.sort();
    got.dedup();
    assert_eq!((got.len(), good.received().len()), (n, n), "everyone, once");
    assert_eq!(bounced(&p), 0);
}

#[test]
fn dead_addresses_are_bounced_after_the_run_and_unbounce_restores_them() {
    let n = 400;
    // One in twenty is unknown: 5%, which the breaker lets through.
    let relay = Relay::start(Script {
        rcpt: Arc::new(|to| {
            let i: usize = to
                .trim_start_matches("user")
                .split('@')
                .next()?
                .parse()
                .ok()?;
            i.is_multiple_of(20).then(|| UNKNOWN.to_owned())
        }),
        ..Script::default()
    });
    let p = Project::new(n, relay.port);
    let out = p.send(&[]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "done, some failed: {}",
        stderr(&out)
    );
    assert_eq!(bounced(&p), n / 20);
    let history = p.run(&["subscribers", "show", &email(20), "--format", "json"]);
    assert!(String::from_utf8_lossy(&history.stdout).contains("issue 620: 550 5.1.1"));

    let out = p.run(&["subscribers", "unbounce", "--campaign", "620"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("restored 20 subscribers"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(bounced(&p), 0);
    let history = p.run(&["subscribers", "show", &email(20), "--format", "json"]);
    let history = String::from_utf8_lossy(&history.stdout);
    assert!(
        history.contains("unbounced: the bounce came from the campaign of issue 620"),
        "{history}"
    );
    let out = p.run(&["subscribers", "unbounce", "--campaign", "619"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no campaign for issue 619"));
}
