//! `mailroom status` for a real list (issue 14): failures grouped by
//! enhanced code with the echoed addresses masked, the campaign's state
//! and the command that resumes it, no campaigns being no error, and
//! `--recipients` in every format.
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::project::{Project, clean_issue, email, stderr};
use crate::common::relay::{Relay, Script};

/// The number in `user{n}@example.com`.
pub fn nth(addr: &str) -> usize {
    addr.trim_start_matches("user")
        .split('@')
        .next()
        .and_then(|d| d.parse().ok())
        .unwrap_or(0)
}

/// A relay that echoes each address, as Postfix does: odd-numbered users
/// are unknown (a hard bounce), even-numbered ones are deferred.
fn echoing_relay() -> Relay {
    Relay::start(Script {
        rcpt: Arc::new(|addr| {
            Some(if nth(addr) % 2 == 1 {
                format!(
                    "550 5.1.1 <{addr}>: Recipient address rejected: User unknown in local \
                     recipient table"
                )
            } else {
                format!("450 4.2.0 <{addr}>: Recipient address rejected: Mailbox busy")
            })
        }),
        ..Script::default()
    })
}

/// A project whose deferred recipients stay deferred for 10 minutes, with
/// the bounce breaker off (half the list really is unknown here).
fn waiting_project(n: usize, port: u16) -> Project {
    let mut p = Project::new(n, port);
    p.set("MAILROOM_SEND__MAX_WAIT_SECS", "0");
    p.set("MAILROOM_SEND__RETRY_BASE_SECS", "600");
    p.set("MAILROOM_SEND__RETRY_MAX_SECS", "600");
    p.set("MAILROOM_SEND__BOUNCE_BREAKER_START", "0");
    p.set("MAILROOM_SEND__BOUNCE_BREAKER_WINDOW", "0");
    p
}

fn stdout(p: &Project, args: &[&str]) -> String {
    let out = p.run(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn five_hundred_echoed_bounces_and_deferrals_read_as_two_groups_with_examples() {
    let relay = echoing_relay();
    let p = waiting_project(1000, relay.port);
    let out = p.send(&[]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));

    let text = stdout(&p, &["status"]);
    let lines = text.lines().count();
    eprintln!("status: {lines} lines for 500 bounces and 500 deferrals");
    assert!(lines <= 16, "{text}");
    assert!(
        text.contains(
            "     500 failed    550 5.1.1 <…>: Recipient address rejected: User unknown in local \
             recipient table"
        ),
        "{text}"
    );
    assert!(
        text.contains("     500 deferred  450 4.2.0 <…>: Recipient address rejected: Mailbox busy"),
        "{text}"
    );
    assert!(
        text.contains("e.g. user1@example.com, user3@example.com, user5@example.com"),
        "{text}"
    );
    assert!(
        text.contains("failed: 500 bounced (never retried)"),
        "{text}"
    );
    // Addresses appear only as the groups' examples.
    assert_eq!(
        text.lines().filter(|l| l.contains('@')).count(),
        2,
        "{text}"
    );

    let json = p.status();
    let groups = json["failures"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{json}");
    assert_eq!(
        (
            &groups[0]["code"],
            &groups[0]["enhanced_code"],
            &groups[0]["count"]
        ),
        (&550.into(), &"5.1.1".into(), &500.into())
    );
    assert_eq!(groups[1]["examples"].as_array().unwrap().len(), 3);
    assert_eq!(
        (&json["failed"]["bounced"], &json["failed"]["retryable"]),
        (&500.into(), &0.into())
    );

    let csv = stdout(&p, &["status", "--format", "csv"]);
    assert_eq!(csv.lines().count(), 3, "a header and two groups: {csv}");
    assert!(csv.starts_with("state,count,code,enhanced_code,reply,examples\n"));
}

#[test]
fn a_waiting_campaign_says_when_it_retries_and_the_command_that_resumes() {
    let relay = echoing_relay();
    let p = waiting_project(6, relay.port);
    assert_eq!(p.send(&[]).status.code(), Some(75));
    let json = p.status();
    assert_eq!(json["state"], "waiting");
    let issue = clean_issue();
    assert_eq!(
        json["resume"],
        format!("mailroom send {}", issue.display()),
        "{json}"
    );
    assert_eq!(json["waiting"]["deferred"], 3);
    let next = json["waiting"]["next_retry_unix_ms"].as_i64().unwrap();
    let give_up = json["waiting"]["give_up_unix_ms"].as_i64().unwrap();
    assert!(give_up > next, "{json}");
    assert_eq!(
        (&json["runs"], &json["last_run_end"]),
        (&1.into(), &"waiting".into())
    );
    let text = stdout(&p, &["status"]);
    assert!(
        text.contains("state: waiting for 3 deferred; next retry at "),
        "{text}"
    );
    assert!(text.contains("; giving up by "), "{text}");
    assert!(text.contains("add `--retry-now`"), "{text}");
}

#[test]
fn a_running_campaign_shows_its_live_run_and_a_killed_one_how_to_resume() {
    let relay = Relay::start(Script {
        final_delay: Duration::from_millis(100),
        ..Script::default()
    });
    let mut p = Project::new(60, relay.port);
    p.set("MAILROOM_SEND__CONCURRENCY", "1");
    let issue = clean_issue();
    let mut child = p.spawn(&["send", issue.to_str().unwrap(), "--yes"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while relay.received().is_empty() {
        assert!(Instant::now() < deadline, "nothing was sent");
        std::thread::sleep(Duration::from_millis(10));
    }
    let running = p.status();
    assert_eq!(running["state"], "running", "{running}");
    assert_eq!(running["live_runs"][0]["pid"], child.id(), "{running}");
    assert_eq!(running["resume"], serde_json::Value::Null);
    let text = stdout(&p, &["status"]);
    assert!(
        text.contains(&format!("state: running: pid {} on host", child.id())),
        "{text}"
    );

    child.kill().expect("kill -9 mailroom");
    child.wait().unwrap();
    let killed = p.status();
    assert_eq!(killed["state"], "interrupted", "{killed}");
    assert_eq!(killed["live_runs"].as_array().unwrap().len(), 0);
    assert_eq!(
        killed["resume"],
        format!("mailroom send {}", issue.display())
    );
    let text = stdout(&p, &["status"]);
    assert!(
        text.contains("the last run stopped without finishing (killed or crashed)"),
        "{text}"
    );

    assert!(p.send(&[]).status.success());
    let done = p.status();
    assert_eq!(
        (&done["state"], &done["resume"], &done["runs"]),
        (&"complete".into(), &serde_json::Value::Null, &2.into())
    );
    assert!(done["first_run_unix_ms"].as_i64() < done["last_run_unix_ms"].as_i64());
    // Sending time and rate are sums over the runs, and agree: their
    // product is the whole number of messages the run history holds (a
    // killed run's last note, every 2 s, may miss its last few).
    let secs = done["sending_secs"].as_f64().unwrap();
    let messages = done["rate_per_sec"].as_f64().unwrap() * secs;
    assert!(
        secs > 0.0 && (messages - messages.round()).abs() < 1e-6,
        "{done}"
    );
    assert!((1.0..=60.0).contains(&messages.round()), "{done}");
}

#[test]
fn a_complete_campaign_with_retryable_failures_says_to_retry_them() {
    let relay = Relay::start(Script {
        rcpt: Arc::new(|addr| {
            (nth(addr) == 2).then(|| "554 5.6.0 Message content rejected".to_owned())
        }),
        ..Script::default()
    });
    let p = Project::new(3, relay.port);
    assert_eq!(p.send(&[]).status.code(), Some(3));
    let json = p.status();
    assert_eq!(json["state"], "complete");
    assert_eq!(
        json["resume"],
        format!("mailroom send {} --retry-failed", clean_issue().display())
    );
    assert_eq!(json["failed"]["retryable"], 1);
}

#[test]
fn no_campaigns_yet_is_no_error_and_says_how_to_start_one() {
    let p = Project::new(2, 25);
    for format in ["table", "json", "csv"] {
        let out = p.run(&["status", "--format", format]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(out.stdout.is_empty());
        assert!(
            stderr(&out).contains("no campaigns yet; `mailroom send ISSUE.md --dry-run`"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn recipients_are_listed_with_their_replies_as_csv_json_and_a_table() {
    let relay = Relay::start(Script {
        rcpt: Arc::new(|addr| {
            (nth(addr) <= 2).then(|| format!("550 5.1.1 <{addr}>: User unknown"))
        }),
        ..Script::default()
    });
    let p = Project::new(5, relay.port);
    assert_eq!(p.send(&[]).status.code(), Some(3));

    let csv = stdout(&p, &["status", "620", "--recipients", "--format", "csv"]);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "email,state,attempts,updated_at,reply,late_bounce");
    assert_eq!(rows.len(), 6, "{csv}");
    assert!(
        rows[1].starts_with(&format!("{},failed,1,", email(1))),
        "{csv}"
    );
    assert!(rows[1].ends_with(&format!("550 5.1.1 <{}>: User unknown,", email(1))));
    assert!(
        rows[5].starts_with(&format!("{},sent,1,", email(5))),
        "{csv}"
    );

    let json = stdout(
        &p,
        &[
            "status",
            "--recipients",
            "--state",
            "failed",
            "--format",
            "json",
        ],
    );
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let failed = json.as_array().unwrap();
    assert_eq!(failed.len(), 2, "{json}");
    assert_eq!(
        (&failed[0]["email"], &failed[0]["state"]),
        (&email(1).into(), &"failed".into())
    );
    assert!(failed[1]["reply"].as_str().unwrap().contains(&email(2)));

    let table = stdout(&p, &["status", "--failed"]);
    assert_eq!(table.lines().count(), 2, "{table}");
    assert!(
        table
            .lines()
            .all(|l| l.contains("failed") && l.contains("User unknown"))
    );
    let none = p.run(&["status", "--recipients", "--state", "deferred"]);
    assert!(stderr(&none).contains("issue 620 has no deferred recipients"));
}

#[test]
fn watch_follows_a_running_send_until_it_completes() {
    let relay = Relay::start(Script::default());
    let mut p = Project::new(60, relay.port);
    p.set("MAILROOM_SEND__RATE_PER_SECOND", "15");
    let issue = clean_issue();
    let mut send = p.spawn(&["send", issue.to_str().unwrap(), "--yes"]);
    crate::common::web_conns::wait_until(Duration::from_secs(30), "the campaign", || {
        !p.run(&["status", "--format", "json"]).stdout.is_empty()
    });

    let text = stdout(&p, &["status", "--watch", "0.5"]);
    let blocks: Vec<&str> = text.split("-- ").filter(|b| !b.is_empty()).collect();
    assert!(blocks.len() >= 2, "one summary per refresh: {text}");
    assert!(blocks[0].contains("state: running: pid "), "{text}");
    let last = blocks.last().unwrap();
    assert!(last.contains("state: complete"), "{last}");
    assert!(last.contains("60 recipients: 60 sent, 0 failed"), "{last}");
    assert!(
        blocks[..blocks.len() - 1]
            .iter()
            .all(|b| !b.contains("state: complete"))
    );
    assert!(send.wait().unwrap().success());

    // A complete campaign is one summary; as JSON, one object on one line.
    let json = stdout(&p, &["status", "--watch", "--format", "json"]);
    assert_eq!(json.lines().count(), 1, "{json}");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["state"], "complete");
    assert_eq!(report["counts"]["sent"], 60);

    for bad in ["0", "0.1", "soon"] {
        let out = p.run(&["status", "--watch", bad]);
        assert_eq!(out.status.code(), Some(2), "--watch {bad}");
        assert!(
            stderr(&out).contains("is not a refresh interval"),
            "{}",
            stderr(&out)
        );
    }
    let out = p.run(&["status", "--watch", "--format", "csv"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not CSV"), "{}", stderr(&out));
}
