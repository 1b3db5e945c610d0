//! Crash safety: `kill -9` of the real `mailroom send` at random moments,
//! then a rerun. Every recipient gets the issue; duplicates are at most one
//! per connection at each crash, and `status` counts every one of them
//! without over-counting more than twice (`scripts/bench-crash` measures
//! the ratio over 20 kills at 16 connections).

use std::time::Duration;

use crate::common::project::{Project, clean_issue, stderr};
use crate::common::sink::{Sink, free_port, tally};

#[test]
fn kill_9_at_random_moments_loses_nobody_and_status_counts_every_duplicate() {
    let port = free_port();
    let n = 300;
    let concurrency = 4;
    let mut p = Project::new(n, port);
    p.set("MAILROOM_SEND__RATE_PER_SECOND", "400");
    let sink = Sink::start(p.dir.path(), "dump", port, &[]);
    let issue = clean_issue();
    let kills = 3;
    for _ in 0..kills {
        let mut child = p.spawn(&["send", issue.to_str().unwrap(), "--yes"]);
        std::thread::sleep(Duration::from_millis(rand::random_range(50..700)));
        child.kill().expect("kill -9 mailroom");
        child.wait().unwrap();
    }
    let out = p.send(&[]);
    assert!(out.status.success(), "final run: {}", stderr(&out));

    let counts = tally([sink.messages().as_slice()]);
    assert_eq!(counts.len(), n, "every recipient got the issue");
    let duplicates: u64 = counts.values().map(|&c| c as u64 - 1).sum();
    let status = p.status();
    let possible = status["possible_duplicates"].as_u64().unwrap();
    eprintln!(
        "{duplicates} duplicates, {possible} possible, {} runs",
        status["runs"]
    );
    assert!(
        duplicates <= possible,
        "{duplicates} duplicates, status counted {possible}"
    );
    // The count may exceed the real duplicates by what was in flight but
    // never reached the relay: at most one row per connection per kill
    // (below). The issue's 2x ratio holds over many kills
    // (scripts/bench-crash), not for every three: one kill with 4 in
    // flight and 1 delivered rightly counts 4.
    let bound = kills * mailroom::send::in_flight_cap(concurrency);
    assert_eq!(
        bound,
        kills * concurrency as u64,
        "one row in flight per connection"
    );
    assert!(
        possible <= bound,
        "{possible} possible duplicates over the bound {bound}"
    );
    assert_eq!(status["counts"]["sent"], n as u64);
    assert_eq!(status["counts"]["sending"], 0);
}

#[test]
fn ctrl_c_stops_records_everything_and_a_rerun_sends_each_message_once() {
    let port = free_port();
    let n = 40;
    let mut p = Project::new(n, port);
    p.set("MAILROOM_SEND__RATE_PER_SECOND", "40");
    let sink = Sink::start(p.dir.path(), "dump", port, &[]);
    let issue = clean_issue();
    let child = p.spawn(&["send", issue.to_str().unwrap(), "--yes"]);
    // Ctrl-C once delivery is under way (the first message arrived).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while sink.messages().is_empty() {
        assert!(std::time::Instant::now() < deadline, "nothing was sent");
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid = child.id().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(stderr(&out).contains("resume with"), "{}", stderr(&out));
    let status = p.status();
    assert_eq!(status["counts"]["sending"], 0, "every outcome was recorded");
    assert!(
        status["counts"]["sent"].as_u64().unwrap() < n as u64,
        "{status}"
    );

    p.set("MAILROOM_SEND__RATE_PER_SECOND", "0");
    assert!(p.send(&[]).status.success());
    let counts = tally([sink.messages().as_slice()]);
    assert_eq!(counts.len(), n);
    assert!(
        counts.values().all(|&c| c == 1),
        "a graceful stop sends nobody twice"
    );
    assert_eq!(p.status()["possible_duplicates"], 0);
}
