//! `subscribers import` never swallows rows (issue 9): a stray quote or an
//! oversized field costs its own row only, line numbers hold in CRLF
//! files, conflicts between the files of one export are named as such,
//! and the summary and exit status say what happened. The real binary and
//! a real SQLite file.
use std::process::Output;

use crate::support::{Env, summary, write_zip};

const HEADER: &str = "\"Email Address\",\"First Name\",\"Last Name\",\"OPTIN_TIME\",\"NOTES\"";

/// A Mailchimp row, every field quoted, as Mailchimp writes them.
fn row(i: usize) -> String {
    format!("\"reader{i}@example.org\",\"Reader\",\"{i}\",\"2020-01-02 03:04:05\",\"\"")
}

fn run_import(env: &Env, path: &std::path::Path, extra: &[&str]) -> (Output, String, String) {
    let mut args = vec!["subscribers", "import", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = env.run(&args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

fn warnings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("warning: `"))
        .collect()
}

#[test]
fn a_stray_quote_in_row_10_of_1000_costs_that_row_only() {
    let env = Env::new();
    let mut csv = format!("{HEADER}\n");
    for i in 1..=1000 {
        let mut line = row(i);
        if i == 10 {
            line.pop(); // `…,""` → `…,"`: the NOTES field never closes.
        }
        csv.push_str(&line);
        csv.push('\n');
    }
    let path = env.write("subscribed_members_export_stray.csv", csv.as_bytes());
    let (out, stdout, stderr) = run_import(&env, &path, &[]);
    assert_eq!(out.status.code(), Some(65), "{stderr}");
    assert_eq!(summary(&stdout), [999, 0, 0, 0, 1]);
    assert_eq!(
        warnings(&stderr),
        [
            "warning: `subscribed_members_export_stray.csv` line 11: a quoted field opens on \
          this line and no valid row closes it; check for a stray `\"`; row skipped"
        ]
    );
    let emails: Vec<String> = env.statuses().into_iter().map(|(e, _)| e).collect();
    assert_eq!(emails.len(), 999);
    assert!(!emails.contains(&"reader10@example.org".to_owned()));
    assert!(emails.contains(&"reader11@example.org".to_owned()));
    assert!(emails.contains(&"reader1000@example.org".to_owned()));
}

#[test]
fn a_stray_quote_in_an_unquoted_plain_file_costs_that_row_only() {
    let env = Env::new();
    let mut csv = "email,name\n".to_owned();
    for i in 1..=1000 {
        let quote = if i == 10 { "\"" } else { "" };
        csv.push_str(&format!("reader{i}@example.org,{quote}Reader {i}\n"));
    }
    let path = env.write("list.csv", csv.as_bytes());
    let (out, stdout, stderr) = run_import(&env, &path, &[]);
    assert_eq!(out.status.code(), Some(65), "{stderr}");
    assert_eq!(summary(&stdout), [999, 0, 0, 0, 1]);
    assert_eq!(warnings(&stderr).len(), 1, "{stderr}");
    assert!(warnings(&stderr)[0].contains("`list.csv` line 11: a quoted field"));
    assert_eq!(env.show("reader11@example.org")["name"], "Reader 11");
}

/// A file with a quoted line break in NOTES (lines 3–4) and bad rows
/// after it, in LF or CRLF.
fn mixed_file(newline: &str) -> String {
    let lines = [
        HEADER.to_owned(),
        row(1),
        "\"reader2@example.org\",\"Reader\",\"2\",\"\",\"likes Rust".to_owned(),
        "and crabs\"".to_owned(),
        "\"not-an-address\",\"Bad\",\"\",\"\",\"\"".to_owned(),
        row(6),
        "\"reader7@example.org\",\"Too\",\"Few\"".to_owned(),
        row(8),
    ];
    lines.join(newline) + newline
}

#[test]
fn line_numbers_in_a_crlf_file_are_the_same_as_in_an_lf_file() {
    let mut reports = Vec::new();
    for newline in ["\n", "\r\n"] {
        let env = Env::new();
        let path = env.write("subscribed_x.csv", mixed_file(newline).as_bytes());
        let (out, stdout, stderr) = run_import(&env, &path, &[]);
        assert_eq!(out.status.code(), Some(65), "{stderr}");
        assert_eq!(summary(&stdout), [4, 0, 0, 0, 2], "{newline:?}");
        reports.push(
            warnings(&stderr)
                .into_iter()
                .map(|w| w.split(':').take(3).collect::<Vec<_>>().join(":"))
                .collect::<Vec<_>>(),
        );
        let notes_row = env.show("reader2@example.org");
        assert_eq!(
            notes_row["status"], "subscribed",
            "a quoted line break is kept"
        );
    }
    let expected = [
        "warning: `subscribed_x.csv` line 5: `not-an-address` is not an email address",
        "warning: `subscribed_x.csv` line 7: wrong column count",
    ];
    assert_eq!(reports[0], expected);
    assert_eq!(reports[1], expected, "CRLF numbers lines like LF");
}

#[test]
fn a_field_or_a_line_over_the_limit_costs_that_row_only() {
    let env = Env::new();
    let big_name = "N".repeat(100 * 1024);
    let huge_line = format!("huge@example.org,{}", "x".repeat(1024 * 1024));
    let csv = format!(
        "one@example.org,One\nbig@example.org,{big_name}\n{huge_line}\nfour@example.org,Four\n"
    );
    let path = env.write("list.csv", csv.as_bytes());
    let (out, stdout, stderr) = run_import(&env, &path, &[]);
    assert_eq!(out.status.code(), Some(65), "{stderr}");
    assert_eq!(summary(&stdout), [2, 0, 0, 0, 2]);
    assert_eq!(
        warnings(&stderr),
        [
            "warning: `list.csv` line 2: field 2 holds 102400 bytes, over the limit of \
             64 KiB; row skipped",
            "warning: `list.csv` line 3: the line holds 1048593 bytes, over the limit of \
             256 KiB for a row; row skipped",
        ]
    );
    let emails: Vec<String> = env.statuses().into_iter().map(|(e, _)| e).collect();
    assert_eq!(emails, ["four@example.org", "one@example.org"]);
}

/// A zip whose unsubscribed file holds `gone@` and `twice@`, and whose
/// subscribed file holds them again among others.
fn conflicting_zip(env: &Env) -> std::path::PathBuf {
    let unsub = format!(
        "{HEADER},\"UNSUB_TIME\"\n\
         \"gone@example.org\",\"Gone\",\"\",\"2019-01-01 00:00:00\",\"\",\"2021-01-01 00:00:00\"\n\
         \"twice@example.org\",\"\",\"\",\"2019-01-01 00:00:00\",\"\",\"2021-01-01 00:00:00\"\n"
    );
    let sub = format!(
        "{HEADER}\n{}\n\"gone@example.org\",\"Gone\",\"\",\"2019-01-01 00:00:00\",\"\"\n{}\n\
         \"twice@example.org\",\"\",\"\",\"2019-01-01 00:00:00\",\"\"\n",
        row(1),
        row(2)
    );
    let path = env.dir.path().join("audience.zip");
    write_zip(
        &path,
        &[
            ("subscribed_members_export_1.csv", sub.into_bytes()),
            ("unsubscribed_members_export_1.csv", unsub.into_bytes()),
        ],
    );
    path
}

#[test]
fn a_conflict_between_two_files_of_a_zip_is_named_and_the_suppression_wins() {
    let env = Env::new();
    let path = conflicting_zip(&env);
    let (out, stdout, stderr) = run_import(&env, &path, &[]);
    assert!(
        out.status.success(),
        "a conflict is not a bad row: {stderr}"
    );
    assert_eq!(summary(&stdout), [4, 0, 0, 2, 0]);
    assert_eq!(
        warnings(&stderr),
        [
            "warning: `audience.zip/subscribed_members_export_1.csv` line 3: \
             `gone@example.org` is subscribed here but unsubscribed in \
             `audience.zip/unsubscribed_members_export_1.csv` line 2; the files conflict, \
             and it stays unsubscribed",
            "warning: `audience.zip/subscribed_members_export_1.csv` line 5: \
             `twice@example.org` is subscribed here but unsubscribed in \
             `audience.zip/unsubscribed_members_export_1.csv` line 3; the files conflict, \
             and it stays unsubscribed",
        ]
    );
    assert!(!stderr.contains("duplicate"), "{stderr}");
    let gone = env.show("gone@example.org");
    assert_eq!(gone["status"], "unsubscribed");
    assert_eq!(
        gone["history"].as_array().unwrap().len(),
        2,
        "no third entry"
    );
}

#[test]
fn the_suppressed_count_is_every_row_the_import_left_suppressed() {
    let env = Env::new();
    env.ok(&["subscribers", "add", "reader1@example.org"]);
    env.ok(&["subscribers", "remove", "reader1@example.org"]);
    let path = conflicting_zip(&env);
    let (out, stdout, stderr) = run_import(&env, &path, &["--dry-run"]);
    assert!(out.status.success(), "{stderr}");
    let dry = summary(&stdout);
    let (out, stdout, stderr) = run_import(&env, &path, &[]);
    assert!(out.status.success(), "{stderr}");
    // reader1 is suppressed in the store; gone@ and twice@ by the
    // unsubscribed file. reader2 is new.
    assert_eq!(summary(&stdout), [3, 0, 0, 3, 0]);
    assert_eq!(dry, summary(&stdout), "the dry run counted the same");
    let subscribed_rows = ["reader1", "gone", "reader2", "twice"];
    let left_suppressed = subscribed_rows
        .iter()
        .filter(|who| env.show(&format!("{who}@example.org"))["status"] != "subscribed")
        .count();
    assert_eq!(left_suppressed, 3);
}

#[test]
fn a_dry_run_with_rejected_rows_exits_65_and_writes_nothing() {
    let env = Env::new();
    let path = env.write("list.csv", b"ok@example.org\nnope\n");
    let (out, stdout, stderr) = run_import(&env, &path, &["--dry-run"]);
    assert_eq!(out.status.code(), Some(65), "{stderr}");
    assert_eq!(summary(&stdout), [1, 0, 0, 0, 1]);
    assert!(
        stderr.contains("1 of 2 rows rejected (listed above); the other 1 would be imported"),
        "{stderr}"
    );
    assert!(env.list().is_empty());
    let clean = env.write("clean.csv", b"ok@example.org\n");
    let (out, _, stderr) = run_import(&env, &clean, &[]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}
