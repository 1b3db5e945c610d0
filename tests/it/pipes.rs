//! Pipes and scripts: a command whose reader goes away (`mailroom status |
//! head`) ends quietly with exit 141, as `cat` or `git` would in the same
//! pipeline: no panic, no error text. A stdout that fails otherwise (a full
//! disk) is still an error.
use std::io::{BufRead, BufReader};
use std::process::{Output, Stdio};

use crate::common::project::{Project, clean_issue, email, seed_path, stderr};
use crate::common::sink::free_port;

/// Runs mailroom with stdout on a pipe whose reading end is already closed.
fn into_closed_pipe(p: &Project, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    p.command(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("run mailroom")
}

/// A project with a finished outbox rehearsal of the clean issue.
fn project_with_a_campaign(n: usize) -> Project {
    let mut p = Project::new(n, free_port());
    p.set("MAILROOM_SEND__TRANSPORT", "outbox");
    let out = p.send(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    p
}

fn assert_quiet_end(args: &[&str], out: &Output) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(141), "`{}`: {err}", args.join(" "));
    for leak in ["error", "panicked", "Broken pipe", "os error"] {
        assert!(
            !err.contains(leak),
            "`{}` printed {leak:?}: {err}",
            args.join(" ")
        );
    }
}

#[test]
fn every_printing_command_ends_quietly_with_141_when_its_reader_is_gone() {
    let p = project_with_a_campaign(20);
    let issue = clean_issue();
    let issue = issue.to_str().unwrap();
    // A draft with checker findings, so that `check` has something to say.
    let draft = seed_path("002");
    let draft = draft.to_str().unwrap();
    let out_dir = p.path("rendered");
    let out_dir = out_dir.to_str().unwrap();
    let commands: Vec<Vec<&str>> = vec![
        vec!["status"],
        vec!["status", "--format", "json"],
        vec!["campaigns"],
        vec!["campaigns", "--format", "json"],
        vec!["campaigns", "--format", "csv"],
        vec!["subscribers", "list"],
        vec!["subscribers", "list", "--format", "csv"],
        vec!["subscribers", "list", "--format", "json"],
        vec!["subscribers", "export"],
        vec!["subscribers", "export", "--format", "csv"],
        vec!["subscribers", "count"],
        vec!["subscribers", "show", "user1@example.com"],
        vec![
            "subscribers",
            "show",
            "user1@example.com",
            "--format",
            "csv",
        ],
        vec!["subscribers", "add", "new.reader@example.com"],
        vec!["subscribers", "import", "subscribers.csv"],
        vec!["config"],
        vec!["config", "--format", "json"],
        vec!["check", draft],
        vec!["check", draft, "--format", "json"],
        vec!["render", issue, "--out", out_dir],
        vec!["send", issue, "--dry-run"],
        vec!["completions", "bash"],
        vec!["man"],
    ];
    for args in &commands {
        assert_quiet_end(args, &into_closed_pipe(&p, args));
    }
}

#[test]
fn a_reader_that_takes_one_line_and_leaves_ends_a_long_listing_quietly() {
    // 3,000 rows of a table or an export are far more than a pipe holds,
    // so the writer meets the closed pipe mid-listing, as with `| head -1`.
    let p = Project::new(3000, free_port());
    for args in [
        &["subscribers", "list"][..],
        &["subscribers", "export", "--format", "csv"][..],
    ] {
        let mut child = p
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn mailroom");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty(), "a first line");
        let out = child.wait_with_output().unwrap();
        assert_quiet_end(args, &out);
    }
    assert!(email(3000).starts_with("user3000"));
}

#[test]
fn a_full_disk_on_stdout_is_an_error_that_says_so() {
    let p = Project::new(3, free_port());
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = p
        .command(&["subscribers", "list"])
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.starts_with("error: cannot write to stdout"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
