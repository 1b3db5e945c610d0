//! Guard rails on the real send (issue 9, scenario 5): nobody subscribed
//! refuses, naming the store; a new SMTP campaign asks on a terminal and
//! needs `--yes` without one (a resume does not); an issue at or below the
//! newest one sent needs `--allow-old-issue`; `--dry-run` and `send` print
//! the checker's warnings.

use crate::common::project::{Project, clean_issue, stderr};
use crate::common::sink::{Sink, free_port, tally};

#[test]
fn a_store_with_nobody_subscribed_refuses_and_names_the_store() {
    let port = free_port();
    let p = Project::new(0, port);
    let _sink = Sink::start(p.dir.path(), "dump", port, &[]);
    for extra in [&["--yes"][..], &["--dry-run"][..]] {
        let issue = clean_issue();
        let mut args = vec!["send", issue.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = p.run(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {err}");
        assert!(
            err.contains("refusing to send issue 620 to nobody"),
            "{err}"
        );
        assert!(
            err.contains(&p.path("mailroom.db").display().to_string()),
            "names the store: {err}"
        );
        assert!(err.contains("holds no subscribers at all"), "{err}");
    }
    let status = p.run(&["status"]);
    assert_eq!(status.status.code(), Some(0));
    assert!(
        stderr(&status).contains("no campaigns yet"),
        "no campaign was created"
    );
}

#[test]
fn without_a_terminal_a_new_campaign_needs_yes_and_a_resume_does_not() {
    let port = free_port();
    let n = 5;
    let mut p = Project::new(n, port);
    let issue = clean_issue();
    let issue = issue.to_str().unwrap();
    let mut soft = Sink::start(p.dir.path(), "soft", port, &["-r", "RCPT"]);
    let out = p.run(&["send", issue]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("refusing to mail 5 subscribers without a confirmation"),
        "{err}"
    );
    assert!(
        err.contains(&format!("mailroom send {issue} --yes")),
        "{err}"
    );
    assert!(stderr(&p.run(&["status"])).contains("no campaigns yet"));

    // Started with --yes; every recipient deferred (4xx), the run ends waiting.
    p.set("MAILROOM_SEND__MAX_WAIT_SECS", "0");
    let out = p.run(&["send", issue, "--yes"]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    soft.stop();

    // The resume needs no --yes. It waits for the deferred rows: the
    // harness's backoff makes them due up to 100 ms after the first run,
    // and with `max_wait_secs = 0` a resume started sooner would stop
    // waiting instead (the flake CI met at stop 21).
    let sink = Sink::start(p.dir.path(), "dump", port, &[]);
    p.set("MAILROOM_SEND__MAX_WAIT_SECS", "30");
    let out = p.run(&["send", issue]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("resuming the campaign for issue 620"),
        "{}",
        stderr(&out)
    );
    assert_eq!(tally([sink.messages().as_slice()]).len(), n);
}

/// Runs `mailroom send ISSUE` under a pseudo-terminal (util-linux
/// `script`), typing `answer`.
fn on_a_terminal(p: &Project, issue: &str, answer: &str) -> (Option<i32>, String) {
    let out = crate::common::terminal::on_a_terminal(&p.command(&["send", issue]), answer);
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out);
    (out.status.code(), text)
}

#[test]
fn on_a_terminal_the_send_asks_for_the_issue_number_first() {
    let port = free_port();
    let p = Project::new(3, port);
    let sink = Sink::start(p.dir.path(), "dump", port, &[]);
    let issue = clean_issue();
    let issue = issue.to_str().unwrap();
    let (code, text) = on_a_terminal(&p, issue, "621");
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "about to mail 3 subscribers `This Week in Rust 620` through 127.0.0.1:{port} (no \
             TLS); type 620 to continue"
        )),
        "{text}"
    );
    assert!(text.contains("not confirmed"), "{text}");
    assert!(sink.messages().is_empty());

    let (code, text) = on_a_terminal(&p, issue, "620");
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(tally([sink.messages().as_slice()]).len(), 3);
}

#[test]
fn an_issue_at_or_below_the_newest_one_sent_needs_allow_old_issue() {
    let port = free_port();
    let p = Project::new(3, port);
    let sink = Sink::start(p.dir.path(), "dump", port, &[]);
    assert!(p.send(&[]).status.success());
    let old = p.path("619.md");
    let text = std::fs::read_to_string(clean_issue()).unwrap();
    let text = text.replacen("Number: 620", "Number: 619", 1).replacen(
        "This Week in Rust 620",
        "This Week in Rust 619",
        1,
    );
    std::fs::write(&old, text).unwrap();
    let old = old.to_str().unwrap();
    for extra in ["--yes", "--dry-run"] {
        let out = p.run(&["send", old, extra]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{extra}: {err}");
        assert!(
            err.contains("refusing to start issue 619: issue 620 was already sent"),
            "{err}"
        );
        assert!(err.contains("--allow-old-issue"), "{err}");
    }
    assert_eq!(sink.messages().len(), 3);
    let out = p.run(&["send", old, "--yes", "--allow-old-issue"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(sink.messages().len(), 6);
}

#[test]
fn dry_run_and_send_print_the_checkers_warnings() {
    let port = free_port();
    let p = Project::new(2, port);
    let _sink = Sink::start(p.dir.path(), "dump", port, &[]);
    // Issue 620 with one of its links repeated in the same section.
    let text = std::fs::read_to_string(clean_issue()).unwrap();
    let link = text
        .lines()
        .find(|l| l.starts_with("* [") && l.contains("](https://www.sea-ql.org/"))
        .expect("the Seaography item")
        .to_owned();
    let warned = text.replacen(&link, &format!("{link}\n{link}"), 1);
    std::fs::write(p.path("warned.md"), warned).unwrap();
    for extra in ["--dry-run", "--yes"] {
        let out = p.run(&["send", "warned.md", extra]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{extra}: {err}");
        assert!(err.contains("warning[duplicate-link]"), "{extra}: {err}");
    }
}
