//! `mailroom send` against a misbehaving relay (smtp-sink fault flags):
//! soft and hard rejects, disconnects, a relay that is down or goes away,
//! a slow relay. Nothing is lost; hard bounces suppress the address.

use std::time::Duration;

use crate::common::project::{Project, email, report, stderr};
use crate::common::sink::{Sink, free_port, tally};

const HARD: &str = "550 5.1.1 <x>: Recipient address rejected: User unknown";

/// Groups of (state, reply) from `status --format json`.
fn groups(p: &Project) -> Vec<(String, String, u64)> {
    let s = p.status();
    s["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["state"].as_str().unwrap().to_owned(),
                g["reply"].as_str().unwrap().to_owned(),
                g["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Runs a first pass against a sink with `flags` that must defer every
/// message, then a second against a clean sink, which must deliver every
/// recipient exactly once. Returns the first pass's (state, reply) groups.
fn deferred_then_delivered(flags: &[&str], n: usize) -> Vec<(String, String, u64)> {
    let port = free_port();
    let mut p = Project::new(n, port);
    p.set("MAILROOM_SEND__MAX_WAIT_SECS", "0");
    let mut faulty = Sink::start(p.dir.path(), "faulty", port, flags);
    let out = p.send(&[]);
    assert_eq!(
        out.status.code(),
        Some(75),
        "deferred run: {}",
        stderr(&out)
    );
    let first = groups(&p);
    assert_eq!(p.status()["counts"]["deferred"], n as u64, "{first:?}");
    faulty.stop();

    p.set("MAILROOM_SEND__MAX_WAIT_SECS", "30");
    let clean = Sink::start(p.dir.path(), "clean", port, &[]);
    let out = p.send(&[]);
    assert!(out.status.success(), "resume: {}", stderr(&out));
    let counts = tally([clean.messages().as_slice()]);
    assert_eq!(counts.len(), n, "{counts:?}");
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
    assert_eq!(p.status()["counts"]["sent"], n as u64);
    first
}

#[test]
fn soft_rejects_at_rcpt_are_deferred_and_later_delivered() {
    let first = deferred_then_delivered(&["-r", "RCPT", "-b", "451 4.3.0 Try again later"], 12);
    assert!(
        first
            .iter()
            .all(|(st, r, _)| st == "deferred" && r.starts_with("451")),
        "{first:?}"
    );
}

#[test]
fn soft_rejects_after_the_body_are_deferred_and_later_delivered() {
    let first = deferred_then_delivered(&["-r", "."], 8);
    assert!(
        first
            .iter()
            .all(|(st, r, _)| st == "deferred" && r.starts_with('4')),
        "{first:?}"
    );
}

#[test]
fn a_disconnect_after_rcpt_or_after_data_is_retried() {
    for cmd in ["RCPT", "DATA", "."] {
        let first = deferred_then_delivered(&["-q", cmd], 6);
        assert!(
            first
                .iter()
                .all(|(st, r, _)| st == "deferred" && r.contains("connection lost")),
            "{cmd}: {first:?}"
        );
    }
}

#[test]
fn a_hard_reject_fails_once_with_the_reply_and_bounces_the_subscriber() {
    let port = free_port();
    let p = Project::new(10, port);
    let _sink = Sink::start(p.dir.path(), "dump", port, &["-f", "RCPT", "-B", HARD]);
    let out = p.send(&[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(groups(&p), vec![("failed".to_owned(), HARD.to_owned(), 10)]);

    let count = p.run(&["subscribers", "count"]);
    let count = String::from_utf8_lossy(&count.stdout).into_owned();
    assert!(
        count
            .lines()
            .any(|l| l.contains("bounced") && l.contains("10")),
        "{count}"
    );
    let show = p.run(&["subscribers", "show", &email(3), "--format", "json"]);
    let show = String::from_utf8_lossy(&show.stdout).into_owned();
    assert!(
        show.contains("\"bounced\"") && show.contains("5.1.1"),
        "{show}"
    );

    for extra in [&[][..], &["--retry-failed"][..]] {
        let mut args = vec!["--format", "json"];
        args.extend_from_slice(extra);
        let again = p.send(&args);
        let r = report(&again);
        assert_eq!(r["this_run"]["failed"], 0, "no retry: {}", stderr(&again));
        assert_eq!(r["this_run"]["sent"], 0);
    }
}

#[test]
fn a_hard_reject_without_an_enhanced_code_fails_but_does_not_bounce() {
    let port = free_port();
    let p = Project::new(4, port);
    let _sink = Sink::start(
        p.dir.path(),
        "dump",
        port,
        &["-f", "RCPT", "-B", "550 User unknown"],
    );
    let out = p.send(&[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let count = p.run(&["subscribers", "count"]);
    let count = String::from_utf8_lossy(&count.stdout).into_owned();
    assert!(
        count
            .lines()
            .any(|l| l.contains("subscribed") && l.contains('4')),
        "{count}"
    );
}

#[test]
fn a_relay_down_at_start_is_a_clear_error_and_the_campaign_resumes() {
    let port = free_port();
    let n = 8;
    let mut p = Project::new(n, port);
    p.set("MAILROOM_SEND__MAX_WAIT_SECS", "0");
    let mut first = Sink::start(p.dir.path(), "first", port, &["-r", "RCPT"]);
    assert_eq!(p.send(&[]).status.code(), Some(75));
    first.stop();
    let before = p.status()["counts"].clone();

    let out = p.send(&[]);
    assert_eq!(out.status.code(), Some(75), "EX_TEMPFAIL: rerun later");
    let err = stderr(&out);
    assert!(
        err.contains("unreachable")
            && err.contains("the campaign for issue 620 is intact (0 of 8 sent)"),
        "{err}"
    );
    assert_eq!(p.status()["issue"], 620, "and status agrees that it exists");
    assert_eq!(
        p.status()["counts"],
        before,
        "the failed start changed nothing"
    );

    p.set("MAILROOM_SEND__MAX_WAIT_SECS", "30");
    let sink = Sink::start(p.dir.path(), "second", port, &[]);
    assert!(p.send(&[]).status.success());
    assert_eq!(tally([sink.messages().as_slice()]).len(), n);
}

#[test]
fn a_relay_that_goes_away_mid_send_and_comes_back_gets_every_message() {
    let port = free_port();
    let n = 60;
    let p = Project::new(n, port);
    let mut first = Sink::start(p.dir.path(), "first", port, &["-M", "15"]);
    let child = p.spawn(&[
        "send",
        crate::common::project::clean_issue().to_str().unwrap(),
        "--yes",
    ]);
    first.wait_exit(Duration::from_secs(30));
    let second = Sink::start(p.dir.path(), "second", port, &[]);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let (a, b) = (first.messages(), second.messages());
    let counts = tally([a.as_slice(), b.as_slice()]);
    assert_eq!(counts.len(), n, "every recipient got the issue");
    let dups: usize = counts.values().map(|c| c - 1).sum();
    assert!(
        dups <= 4,
        "at most the in-flight messages (concurrency 4) twice: {dups}"
    );
    assert_eq!(p.status()["counts"]["sent"], n as u64);
}

#[test]
fn a_slow_relay_times_out_and_the_message_is_deferred() {
    let port = free_port();
    let mut p = Project::new(4, port);
    p.set("MAILROOM_SMTP__TIMEOUT_SECS", "1");
    p.set("MAILROOM_SEND__MAX_WAIT_SECS", "0");
    // `-p`: no PIPELINING, because smtp-sink's `-W` delay answers a
    // pipelined DATA before the delayed RCPT (out of order).
    let _sink = Sink::start(p.dir.path(), "dump", port, &["-p", "-W", "RCPT:4"]);
    let out = p.send(&[]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    let g = groups(&p);
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!(g[0].0, "deferred");
    assert!(g[0].1.contains("no reply to RCPT within 1s"), "{g:?}");
    assert_eq!(g[0].2, 4);
}

#[test]
fn a_test_send_to_an_unreachable_relay_names_it_and_mentions_no_campaign() {
    let port = free_port();
    let p = Project::new(2, port);
    let out = p.send(&["--test"]);
    assert_eq!(out.status.code(), Some(75), "EX_TEMPFAIL: try again later");
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "the relay `127.0.0.1:{port}` is unreachable or turned us away for now; nothing was \
             sent"
        )),
        "{err}"
    );
    assert!(
        !err.contains("campaign"),
        "a test send has no campaign: {err}"
    );
}
