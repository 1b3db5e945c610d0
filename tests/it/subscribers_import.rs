//! `mailroom subscribers import` end to end: the real binary, a real SQLite
//! file in a temp dir, the Mailchimp fixtures and a plain CSV.

use crate::support::{Env, MAILCHIMP_CSVS, fixture, summary, write_zip};

/// Imports `path`, asserting that every row was applied (exit status 0).
fn import(env: &Env, path: &std::path::Path) -> (String, String) {
    let out = env.run(&["subscribers", "import", path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn mailchimp_zip(env: &Env) -> std::path::PathBuf {
    let entries: Vec<(&str, Vec<u8>)> = MAILCHIMP_CSVS
        .iter()
        .map(|rel| {
            (
                rel.rsplit('/').next().unwrap(),
                std::fs::read(fixture(rel)).unwrap(),
            )
        })
        .collect();
    let path = env.dir.path().join("audience_export.zip");
    write_zip(&path, &entries);
    path
}

#[test]
fn mailchimp_csv_files_import_with_their_statuses_and_consent() {
    let env = Env::new();
    for rel in MAILCHIMP_CSVS {
        import(&env, &fixture(rel));
    }
    let expected = [
        ("bounced@example.net", "bounced"),
        ("carol@example.org", "subscribed"),
        ("corro@example.com", "subscribed"),
        ("ferris@rust-lang.org", "subscribed"),
        ("gone@example.com", "unsubscribed"),
        ("other@example.com", "unsubscribed"),
    ];
    assert_eq!(
        env.statuses(),
        expected.map(|(e, s)| (e.to_owned(), s.to_owned()))
    );

    let ferris = env.show("ferris@Rust-Lang.org");
    assert_eq!(ferris["name"], "Ferris Crab");
    assert_eq!(ferris["consent"]["at"], "2014-11-01T20:53:34Z");
    assert_eq!(ferris["consent"]["ip"], "192.0.2.7");
    assert_eq!(ferris["consent"]["confirmed_at"], "2014-11-01T20:55:02Z");
    assert_eq!(
        ferris["consent"]["source"],
        "import:subscribed_members_export_2f9c1a.csv"
    );
    // No OPTIN_TIME: the confirmation time stands in.
    assert_eq!(
        env.show("carol@example.org")["consent"]["at"],
        "2019-01-02T03:04:05Z"
    );
}

#[test]
fn unsubscribed_and_cleaned_rows_keep_their_time_and_reason_in_the_history() {
    let env = Env::new();
    import(&env, &fixture(MAILCHIMP_CSVS[1]));
    import(&env, &fixture(MAILCHIMP_CSVS[2]));
    let other = env.show("other@example.com");
    let history = other["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["status"], "subscribed");
    assert_eq!(history[0]["at"], "2018-02-03T04:05:06Z");
    assert_eq!(history[1]["status"], "unsubscribed");
    assert_eq!(history[1]["at"], "2022-01-01T00:00:00Z");
    let reason = history[1]["reason"].as_str().unwrap();
    assert!(
        reason.contains("moving to RSS") && reason.contains("This Week in Rust 424"),
        "{reason}"
    );

    let bounced = env.show("bounced@example.net");
    assert_eq!(bounced["status"], "bounced");
    assert_eq!(bounced["history"][1]["at"], "2023-07-08T09:10:11Z");
}

#[test]
fn the_mailchimp_zip_imports_like_its_csv_files() {
    let from_csvs = Env::new();
    for rel in MAILCHIMP_CSVS {
        import(&from_csvs, &fixture(rel));
    }
    let from_zip = Env::new();
    let (stdout, _) = import(&from_zip, &mailchimp_zip(&from_zip));
    assert_eq!(summary(&stdout), [6, 0, 0, 0, 0]);
    assert_eq!(from_zip.statuses(), from_csvs.statuses());
    assert_eq!(
        from_zip.show("gone@example.com")["consent"]["source"],
        "import:audience_export.zip/unsubscribed_members_export_2f9c1a.csv"
    );
}

#[test]
fn every_bad_row_kind_is_reported_with_file_and_line_and_the_rest_imports() {
    let env = Env::new();
    let path = fixture("mailchimp/bad/subscribed_members_export_bad.csv");
    let out = env.run(&["subscribers", "import", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(65), "rejected rows: exit status 65");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(summary(&stdout), [2, 0, 0, 0, 5]);
    assert!(
        stderr.contains("warning: 5 of 7 rows rejected (listed above); the other 2 were imported"),
        "{stderr}"
    );
    let file = "`subscribed_members_export_bad.csv`";
    for (line, reason) in [
        (3, "`not an address` is not an email address"),
        (4, "wrong column count: 4 fields, the header has 19"),
        (5, "field 2 is not valid UTF-8"),
        (6, "duplicate of line 2 (`GOOD1@example.com`)"),
        (7, "duplicate of line 2 (`good1@example.com`)"),
    ] {
        let expected = format!("{file} line {line}: {reason}");
        assert!(
            stderr.contains(&expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    let emails: Vec<_> = env.statuses().into_iter().map(|(e, _)| e).collect();
    // One identity whatever the case: `GOOD1@` is the same person.
    assert_eq!(emails, ["good1@example.com", "good2@example.com"]);
}

#[test]
fn reimporting_the_same_file_changes_nothing() {
    let env = Env::new();
    let zip = mailchimp_zip(&env);
    import(&env, &zip);
    let before = env.ok(&["subscribers", "export", "--format", "json"]);
    let (stdout, _) = import(&env, &zip);
    assert_eq!(summary(&stdout), [0, 0, 6, 0, 0]);
    let after = env.ok(&["subscribers", "export", "--format", "json"]);
    assert_eq!(before, after);
}

#[test]
fn a_suppressed_address_is_not_resubscribed_by_an_import() {
    let env = Env::new();
    env.ok(&["subscribers", "add", "corro@example.com"]);
    env.ok(&["subscribers", "remove", "corro@example.com"]);
    import(
        &env,
        &fixture("mailchimp/cleaned_members_export_2f9c1a.csv"),
    );
    let (stdout, _) = import(&env, &mailchimp_zip(&env));
    // corro is suppressed; bounced@ was already bounced (unchanged).
    assert_eq!(summary(&stdout), [4, 0, 1, 1, 0]);
    let corro = env.show("corro@example.com");
    assert_eq!(corro["status"], "unsubscribed");
    assert_eq!(corro["history"].as_array().unwrap().len(), 2);
}

#[test]
fn an_unsubscribed_row_suppresses_a_subscribed_address() {
    let env = Env::new();
    env.ok(&["subscribers", "add", "gone@example.com"]);
    let (stdout, _) = import(&env, &fixture(MAILCHIMP_CSVS[1]));
    assert_eq!(summary(&stdout), [1, 1, 0, 0, 0]);
    let gone = env.show("gone@example.com");
    assert_eq!(gone["status"], "unsubscribed");
    let history = gone["history"].as_array().unwrap();
    assert_eq!(history.last().unwrap()["at"], "2021-05-06T07:08:09Z");
}

#[test]
fn a_dry_run_reports_the_summary_and_writes_nothing() {
    let env = Env::new();
    let zip = mailchimp_zip(&env);
    let out = env.ok(&["subscribers", "import", zip.to_str().unwrap(), "--dry-run"]);
    assert_eq!(summary(&out), [6, 0, 0, 0, 0]);
    assert!(out.contains("dry run: nothing was written"));
    assert!(env.list().is_empty());
}

#[test]
fn a_zip_with_an_unusable_file_is_refused_before_anything_is_written() {
    let env = Env::new();
    env.ok(&["subscribers", "add", "kept@example.com"]);
    // Suppressions are read first, so the unsubscribed rows would be
    // applied before the subscribed file turns out to be unusable, were
    // every header not checked first.
    let unsub = std::fs::read(fixture(MAILCHIMP_CSVS[1])).unwrap();
    let broken = b"\"Mail\",\"Name\"\n\"x@example.com\",\"X\"\n".to_vec();
    let path = env.dir.path().join("broken.zip");
    crate::support::write_zip(
        &path,
        &[
            ("subscribed_members_export_1.csv", broken),
            ("unsubscribed_members_export_1.csv", unsub),
        ],
    );
    let out = env.run(&["subscribers", "import", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no `Email Address` column"), "{stderr}");
    assert_eq!(
        env.statuses(),
        [("kept@example.com".to_owned(), "subscribed".to_owned())]
    );
}

#[test]
fn a_plain_csv_imports_addresses_and_names() {
    let env = Env::new();
    let (stdout, _) = import(&env, &fixture("plain/list.csv"));
    assert_eq!(summary(&stdout), [2, 0, 0, 0, 0]);
    assert_eq!(env.show("plain1@example.com")["name"], "Plain One");
    assert_eq!(
        env.show("plain2@example.com")["consent"]["source"],
        "import:list.csv"
    );
}
