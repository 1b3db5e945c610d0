//! `mailroom campaigns pause` and `resume`: every run sending the campaign
//! stops at its next heartbeat, after recording what was in flight; `send`
//! refuses the campaign while it is paused; after `resume` a rerun
//! finishes it, each recipient mailed once. On SQLite with one sender, and
//! on PostgreSQL with two.
use std::process::Child;
use std::time::Duration;

use crate::common::project::{Project, clean_issue, email, stderr};
use crate::common::relay::{Relay, Script};
use crate::common::web_conns::wait_until;

fn pause_and_resume(mut p: Project, relay: &Relay, n: usize, senders: usize) {
    p.set("MAILROOM_SEND__RATE_PER_SECOND", "30");
    p.set("MAILROOM_SEND__LEASE_SECS", "1.5");
    let issue = clean_issue();
    let file = issue.to_str().unwrap();
    let children: Vec<Child> = (0..senders)
        .map(|_| p.spawn(&["send", file, "--yes"]))
        .collect();
    wait_until(
        Duration::from_secs(30),
        "the senders' first messages",
        || relay.received().len() >= 10,
    );
    let number = p.status()["issue"].to_string();

    let out = p.run(&["campaigns", "pause", &number]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!("paused the smtp campaign of issue {number}")),
        "{said}"
    );
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("paused by `mailroom campaigns pause`"),
            "{}",
            stderr(&out)
        );
    }
    let sent_then = relay.received().len();
    assert!(
        sent_then < n,
        "the pause came after the end: {sent_then} of {n}"
    );
    let status = p.status();
    assert_eq!(status["state"], "paused", "{status}");
    assert_eq!(status["counts"]["sending"], 0, "{status}");
    assert_eq!(status["counts"]["sent"], sent_then as u64, "{status}");
    let resume = status["resume"].as_str().unwrap();
    assert!(resume.starts_with(&format!(
        "mailroom campaigns resume {number}, then mailroom "
    )));

    // While paused, a send refuses and mails nobody; the list shows it.
    let out = p.run(&["send", file, "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("campaign is paused"),
        "{}",
        stderr(&out)
    );
    assert_eq!(relay.received().len(), sent_then);
    let list = String::from_utf8(p.run(&["campaigns"]).stdout).unwrap();
    assert!(list.contains(" paused "), "{list}");
    let dry = String::from_utf8(p.run(&["send", file, "--dry-run"]).stdout).unwrap();
    assert!(
        dry.contains("paused: `mailroom send` refuses the campaign"),
        "{dry}"
    );

    let out = p.run(&["campaigns", "resume", &number]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("resumed the smtp campaign"));
    let again = p.run(&["campaigns", "resume", &number]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("is already not paused"));
    let out = p.send(&[]);
    assert!(out.status.success(), "{}", stderr(&out));

    let mut got = relay.received();
    got.sort();
    let mut want: Vec<String> = (1..=n).map(email).collect();
    want.sort();
    assert_eq!(got, want, "every recipient exactly once");
    let status = p.status();
    assert_eq!(status["state"], "complete");
    assert_eq!(status["possible_duplicates"], 0);
}

#[test]
fn a_paused_campaign_stops_its_sender_and_a_resume_finishes_it_once_each() {
    let relay = Relay::start(Script::default());
    let p = Project::new(120, relay.port);
    pause_and_resume(p, &relay, 120, 1);
}

#[test]
fn a_pause_stops_every_sender_of_a_postgresql_campaign() {
    let relay = Relay::start(Script::default());
    let p = Project::postgres(120, relay.port);
    pause_and_resume(p, &relay, 120, 2);
}

#[test]
fn a_run_waiting_for_deferred_recipients_stops_at_once_when_paused() {
    let relay = Relay::start(Script {
        rcpt: std::sync::Arc::new(|_| Some("450 4.2.0 Mailbox busy".to_owned())),
        ..Script::default()
    });
    let mut p = Project::new(5, relay.port);
    p.set("MAILROOM_SEND__MAX_WAIT_SECS", "600");
    p.set("MAILROOM_SEND__RETRY_BASE_SECS", "300");
    p.set("MAILROOM_SEND__RETRY_MAX_SECS", "300");
    p.set("MAILROOM_SEND__LEASE_SECS", "1.5");
    let issue = clean_issue();
    let child = p.spawn(&["send", issue.to_str().unwrap(), "--yes"]);
    wait_until(
        Duration::from_secs(30),
        "the run waiting for retries",
        || {
            let s = p.run(&["status", "--format", "json"]);
            serde_json::from_slice::<serde_json::Value>(&s.stdout)
                .is_ok_and(|s| s["counts"]["deferred"] == 5 && s["state"] == "running")
        },
    );
    // The run now sleeps until the retries fall due, five minutes away;
    // the pause must wake it, not wait for them.
    let out = p.run(&["campaigns", "pause", &p.status()["issue"].to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Killed on a timeout, so that a failing run does not outlive the test.
    let mut child = child;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the run still slept a minute after the pause");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    assert!(stderr(&out).contains("paused by"), "{}", stderr(&out));
    let status = p.status();
    assert_eq!(status["state"], "paused", "{status}");
    assert_eq!(status["counts"]["deferred"], 5, "{status}");
}
