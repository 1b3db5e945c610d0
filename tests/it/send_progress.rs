//! Honest progress (issue 14): a resumed run rates its own messages over
//! its own time, deferred counts recipients, a waiting line says when the
//! next retry is and when the run gives up, `--retry-now`, and a final hint
//! that never suggests a retry that re-queues nobody.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::common::project::{Project, events, report, stderr};
use crate::common::relay::{Relay, Script};
use crate::status_report::nth;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Every `progress` event of a run, checked against the definitions:
/// rate = this run's sent and failed over its sending time, ETA = the
/// recipients left at that rate, position = before + this run's outcomes.
fn check_progress(events: &[Value], done_before: u64) -> usize {
    let mut checked = 0;
    for e in events.iter().filter(|e| e["event"] == "progress") {
        let run = &e["this_run"];
        let messages = run["sent"].as_u64().unwrap() + run["failed"].as_u64().unwrap();
        let done = e["done"].as_u64().unwrap();
        let total = e["total"].as_u64().unwrap();
        assert_eq!(
            done,
            done_before + messages + run["skipped"].as_u64().unwrap(),
            "{e}"
        );
        let sending = e["sending_secs"].as_f64().unwrap();
        let rate = e["rate_per_sec"].as_f64().unwrap();
        if messages == 0 {
            assert_eq!((rate, &e["eta_secs"]), (0.0, &Value::Null), "{e}");
            continue;
        }
        assert!(close(rate, messages as f64 / sending), "{e}");
        let eta = e["eta_secs"].as_f64().unwrap();
        assert!(close(eta, (total - done) as f64 / rate), "{e}");
        checked += 1;
    }
    checked
}

#[test]
fn a_resumed_run_rates_its_own_messages_not_the_campaigns_position() {
    // Run 1: 200 of 300 sent, the last 100 deferred for ten minutes.
    let first = Relay::start(Script {
        rcpt: Arc::new(|a| (nth(a) > 200).then(|| "450 4.2.0 Mailbox busy".to_owned())),
        ..Script::default()
    });
    let mut p = Project::new(300, first.port);
    p.set("MAILROOM_SEND__MAX_WAIT_SECS", "0");
    p.set("MAILROOM_SEND__RETRY_BASE_SECS", "600");
    assert_eq!(p.send(&[]).status.code(), Some(75));

    // Run 2 resumes them (due now) at the relay's pace, reporting often.
    let slow = Relay::start(Script {
        final_delay: Duration::from_millis(40),
        ..Script::default()
    });
    p.set("MAILROOM_SMTP__PORT", &slow.port.to_string());
    p.set("MAILROOM_SEND__PROGRESS_SECS", "0.1");
    let out = p.send(&["--retry-now", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let events = events(&out);
    let start = &events[0];
    assert_eq!(start["event"], "start");
    assert_eq!(
        (&start["done"], &start["total"], &start["deferred"]),
        (&200.into(), &300.into(), &100.into())
    );
    let checked = check_progress(&events, 200);
    eprintln!(
        "resumed run: {checked} progress events; last {}",
        events
            .iter()
            .rev()
            .find(|e| e["event"] == "progress")
            .unwrap()
    );
    assert!(checked >= 1, "no progress event while sending: {events:?}");
    let r = report(&out);
    assert_eq!(r["this_run"]["sent"], 100);
    let sending = r["sending_secs"].as_f64().unwrap();
    assert!(
        close(r["rate_per_sec"].as_f64().unwrap(), 100.0 / sending),
        "{r}"
    );
}

/// A relay that defers each address `times` times, then takes it.
fn deferring_relay(times: usize) -> Relay {
    let seen = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
    Relay::start(Script {
        rcpt: Arc::new(move |addr| {
            let mut seen = seen.lock().unwrap();
            let n = seen.entry(addr.to_owned()).or_default();
            *n += 1;
            (*n <= times).then(|| format!("450 4.2.0 <{addr}>: Mailbox busy"))
        }),
        ..Script::default()
    })
}

#[test]
fn deferred_counts_recipients_and_a_waiting_line_says_when_they_retry() {
    for format in ["json", "table"] {
        let relay = deferring_relay(2);
        let mut p = Project::new(3, relay.port);
        p.set("MAILROOM_SEND__RETRY_BASE_SECS", "1");
        p.set("MAILROOM_SEND__MAX_WAIT_SECS", "30");
        p.set("MAILROOM_SEND__PROGRESS_SECS", "0.1");
        let out = p.send(&["--format", format]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert_eq!(relay.received().len(), 3);
        if format == "table" {
            assert!(
                err.contains("send 620: waiting for 3 deferred; next retry at "),
                "{err}"
            );
            assert!(err.contains("; giving up by "), "{err}");
            assert!(err.contains("this run sent 3, failed 0"), "{err}");
            continue;
        }
        let events = events(&out);
        let waits: Vec<_> = events.iter().filter(|e| e["event"] == "waiting").collect();
        assert!(!waits.is_empty(), "{events:?}");
        assert_eq!(waits[0]["deferred"], 3, "recipients, not attempts");
        assert!(waits[0]["give_up_unix_ms"].as_i64() > waits[0]["next_retry_unix_ms"].as_i64());
        for e in events.iter().filter(|e| e["event"] == "progress") {
            assert!(e["deferred"].as_u64().unwrap() <= 3, "{e}");
        }
        let r = report(&out);
        assert_eq!(
            (&r["this_run"]["deferrals"], &r["campaign"]["deferred"]),
            (&6.into(), &0.into()),
            "six deferrals of three recipients, none left deferred"
        );
        // Waiting for retries is not sending time.
        assert!(
            r["sending_secs"].as_f64() < r["elapsed_secs"].as_f64(),
            "{r}"
        );
    }
}

#[test]
fn retry_now_makes_every_deferred_recipient_due_at_once() {
    let busy = deferring_relay(usize::MAX);
    let mut p = Project::new(4, busy.port);
    p.set("MAILROOM_SEND__MAX_WAIT_SECS", "0");
    p.set("MAILROOM_SEND__RETRY_BASE_SECS", "600");
    // The harness caps the backoff at 1 s; the deferred must not come due
    // on their own before the second run.
    p.set("MAILROOM_SEND__RETRY_MAX_SECS", "3600");
    let out = p.send(&[]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("`--retry-now` to try them at once")
            || stderr(&out).contains("--retry-now")
    );

    let fixed = Relay::start(Script::default());
    p.set("MAILROOM_SMTP__PORT", &fixed.port.to_string());
    let later = p.send(&[]);
    assert_eq!(
        later.status.code(),
        Some(75),
        "not due yet: {}",
        stderr(&later)
    );
    assert!(fixed.received().is_empty());

    let now = p.send(&["--retry-now"]);
    assert_eq!(now.status.code(), Some(0), "{}", stderr(&now));
    assert!(stderr(&now).contains("send: 4 deferred recipients are due now"));
    assert_eq!(fixed.received().len(), 4);
}

#[test]
fn the_final_hint_tells_retryable_failures_from_bounces() {
    let relay = Relay::start(Script {
        rcpt: Arc::new(|addr| match nth(addr) {
            1..=4 => Some(format!("550 5.1.1 <{addr}>: User unknown")),
            5 | 6 => Some("554 5.6.0 Message content rejected".to_owned()),
            _ => None,
        }),
        ..Script::default()
    });
    let p = Project::new(10, relay.port);
    let out = p.send(&[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("send: 4 recipients bounced"), "{err}");
    assert!(
        err.contains("send: 2 recipients failed for another reason")
            && err.contains("--retry-failed`"),
        "{err}"
    );
    let again = p.send(&["--retry-failed", "--report", "json"]);
    assert!(
        stderr(&again).contains("send: re-queued 2 failed recipients"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        report(&again)["this_run"]["failed"],
        2,
        "the old --report spelling still works"
    );

    // Only bounces: nothing to retry, so no retry is suggested.
    let bounces = Relay::start(Script {
        rcpt: Arc::new(|addr| {
            (nth(addr) <= 2).then(|| format!("550 5.1.1 <{addr}>: User unknown"))
        }),
        ..Script::default()
    });
    let q = Project::new(5, bounces.port);
    let out = q.send(&[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("send: 2 recipients bounced"), "{err}");
    assert!(!err.contains("--retry-failed"), "{err}");
}

#[test]
fn on_a_terminal_the_bar_shows_the_waiting_line_and_a_dumb_one_gets_lines() {
    for (term, want) in [
        ("xterm", "0/3 waiting for 3 deferred; next retry at "),
        ("dumb", "send 620: waiting for 3 deferred; next retry at "),
    ] {
        let relay = deferring_relay(1);
        let mut p = Project::new(3, relay.port);
        p.set("MAILROOM_SEND__RETRY_BASE_SECS", "2");
        p.set("MAILROOM_SEND__MAX_WAIT_SECS", "30");
        let bin = env!("CARGO_BIN_EXE_mailroom");
        let issue = crate::common::project::clean_issue();
        let out = std::process::Command::new("script")
            .args([
                "-qec",
                &format!("'{bin}' send '{}' --yes", issue.display()),
                "/dev/null",
            ])
            .current_dir(p.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TERM", term)
            .envs(p.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run `script` (util-linux)");
        let screen = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(out.status.code(), Some(0), "{term}: {screen}");
        assert!(screen.contains(want), "{term}: {screen}");
        assert!(
            screen.contains("send: issue 620: this run sent 3"),
            "{screen}"
        );
    }
}
