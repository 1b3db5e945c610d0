//! One voice: users see `warning: …` and `error: …` lines in words, never
//! Rust `Debug` output, a cause repeated inside another, or a tracing
//! line with a level and a module path; `--log-format json` makes every
//! stderr line a JSON object.
use crate::common::mta::Mta;
use crate::common::project::{Project, clean_issue, stderr};
use crate::common::sink::{Sink, free_port};

/// Marks of text that was never meant for people.
fn assert_no_leaks(err: &str) {
    for leak in [
        "Failed {",
        "bounce:",
        "(None)",
        "Some(",
        "_id: [",
        " WARN ",
        " ERROR ",
        "mailroom::",
        "rustls",
        "Connection error: Connection error",
    ] {
        assert!(!err.contains(leak), "{leak:?} reached the user: {err}");
    }
    let causes: Vec<&str> = err
        .lines()
        .filter_map(|l| l.trim().strip_prefix("caused by: "))
        .collect();
    for pair in causes.windows(2) {
        assert!(!pair[0].ends_with(pair[1]), "a cause said twice: {err}");
    }
}

#[test]
fn a_refused_test_message_is_reported_in_words() {
    let port = free_port();
    let p = Project::new(1, port);
    let _sink = Sink::start(p.dir.path(), "dump", port, &["-f", "RCPT"]);
    let out = p.send(&["--test"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("test: not sent to `preview@preview.test`: refused: 5"),
        "{err}"
    );
    assert_no_leaks(&err);

    let dry = p.send(&["--dry-run"]);
    let text = String::from_utf8_lossy(&dry.stdout);
    assert!(
        text.contains(&format!("transport: smtp 127.0.0.1:{port} (no TLS")),
        "{text}"
    );
    assert_no_leaks(&text);
}

#[test]
fn an_unreachable_relay_names_each_cause_once() {
    let mut p = Project::new(1, free_port());
    // Implicit TLS goes through lettre's own connect, which wraps its
    // cause twice.
    p.set("MAILROOM_SMTP__HOST", "localhost");
    p.set("MAILROOM_SMTP__TLS", "tls");
    let out = p.send(&["--test"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(75), "{err}");
    assert!(err.starts_with("error: the relay `localhost:"), "{err}");
    assert_eq!(err.matches("Connection refused").count(), 1, "{err}");
    assert_no_leaks(&err);
}

#[test]
fn an_untrusted_relay_certificate_is_named_in_words_without_tracing_lines() {
    let mta = Mta::start();
    let mut p = Project::new(1, mta.smtp_port);
    p.set("MAILROOM_SMTP__TLS", "starttls");
    let out = p.send(&["--test", "preview@example.test"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "the relay's certificate is not signed by a certificate authority this \
             machine trusts"
        ),
        "{err}"
    );
    assert!(err.contains("`[smtp] ca_file`"), "the fix: {err}");
    assert_no_leaks(&err);
}

#[test]
fn json_logs_make_every_stderr_line_a_json_object() {
    let port = free_port();
    let p = Project::new(1, port);
    let _sink = Sink::start(p.dir.path(), "dump", port, &[]);
    let issue = clean_issue();
    let out = p.run(&[
        "--log-format",
        "json",
        "send",
        issue.to_str().unwrap(),
        "--test",
    ]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let lines: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect();
    let sent = lines
        .iter()
        .find(|l| {
            l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("test: sent to `preview@preview.test`"))
        })
        .unwrap_or_else(|| panic!("the note as JSON: {err}"));
    assert_eq!(sent["level"], "INFO");
    assert!(sent["timestamp"].is_string(), "{sent}");
}
