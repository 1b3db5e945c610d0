//! `mailroom subscribers add|remove|show|count|list|export` end to end, and
//! two processes writing the same database at once.

use std::process::Stdio;

use crate::support::{Env, summary};

#[test]
fn added_unsubscribed_and_readded_subscriber_keeps_the_whole_history() {
    let env = Env::new();
    assert!(
        env.ok(&["subscribers", "add", "Reader@Example.COM", "--name", "Rea"])
            .contains("added")
    );
    let removed = env.ok(&["subscribers", "remove", "Reader@example.com"]);
    assert!(
        removed.contains("unsubscribed `Reader@example.com`"),
        "{removed}"
    );
    let again = env.ok(&["subscribers", "add", "Reader@example.com"]);
    assert!(
        again.contains("resubscribed `Reader@example.com` (was `unsubscribed`)"),
        "{again}"
    );
    let shown = env.show("Reader@EXAMPLE.com");
    assert_eq!(shown["status"], "subscribed");
    assert_eq!(shown["name"], "Rea");
    let statuses: Vec<_> = shown["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["status"].as_str().unwrap(), h["source"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("subscribed", "cli"),
            ("unsubscribed", "cli"),
            ("subscribed", "cli")
        ]
    );
    let text = env.ok(&["subscribers", "show", "Reader@example.com"]);
    assert_eq!(text.matches("subscribed    cli").count(), 2, "{text}");
}

#[test]
fn an_address_is_one_subscriber_whatever_its_letter_case() {
    let env = Env::new();
    env.ok(&["subscribers", "add", "ann@example.com"]);
    for same in ["ann@EXAMPLE.com", "Ann@example.com"] {
        let out = env.ok(&["subscribers", "add", same]);
        assert!(out.contains("already subscribed"), "{out}");
    }
    assert_eq!(env.list().len(), 1);
    assert_eq!(env.list()[0]["email"], "ann@example.com");
}

#[test]
fn count_reports_every_status_and_the_total() {
    let env = Env::new();
    for e in ["a@example.com", "b@example.com", "c@example.com"] {
        env.ok(&["subscribers", "add", e]);
    }
    env.ok(&["subscribers", "remove", "b@example.com"]);
    let out = env.ok(&["subscribers", "count"]);
    let counts: Vec<(&str, &str)> = out
        .lines()
        .map(|l| l.split_once(char::is_whitespace).unwrap())
        .map(|(k, v)| (k, v.trim()))
        .collect();
    assert_eq!(
        counts,
        [
            ("subscribed", "2"),
            ("unsubscribed", "1"),
            ("bounced", "0"),
            ("complained", "0"),
            ("pending", "0"),
            ("total", "3")
        ]
    );
}

#[test]
fn list_filters_by_status_in_every_format() {
    let env = Env::new();
    env.ok(&[
        "subscribers",
        "add",
        "in@example.com",
        "--name",
        "In, Comma",
    ]);
    env.ok(&["subscribers", "add", "out@example.com"]);
    env.ok(&["subscribers", "remove", "out@example.com"]);
    let table = env.ok(&["subscribers", "list", "--status", "subscribed"]);
    assert!(
        table.contains("in@example.com") && !table.contains("out@example.com"),
        "{table}"
    );
    let csv = env.ok(&[
        "subscribers",
        "list",
        "--status",
        "unsubscribed",
        "--format",
        "csv",
    ]);
    let rows: Vec<_> = csv.lines().collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(
        rows[1].starts_with("2,out@example.com,,unsubscribed,"),
        "{csv}"
    );
    let all = env.ok(&["subscribers", "list", "--format", "csv"]);
    assert!(all.contains("\"In, Comma\""), "{all}");
    let bad = env.run(&["subscribers", "list", "--status", "gone"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("`gone` is not a status"));
}

#[test]
fn remove_and_show_name_an_unknown_address() {
    let env = Env::new();
    for cmd in ["remove", "show"] {
        let out = env.run(&["subscribers", cmd, "nobody@example.com"]);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("no subscriber `nobody@example.com`"),
            "{stderr}"
        );
    }
}

#[test]
fn an_invalid_address_is_refused_at_the_command_line() {
    let env = Env::new();
    let out = env.run(&["subscribers", "add", "not-an-address"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("`not-an-address` is not an email address")
    );
}

#[test]
fn a_bounced_address_is_only_readded_with_force() {
    let env = Env::new();
    env.ok(&[
        "subscribers",
        "import",
        crate::support::fixture("mailchimp/cleaned_members_export_2f9c1a.csv")
            .to_str()
            .unwrap(),
    ]);
    let refused = env.run(&["subscribers", "add", "bounced@example.net"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("`--force`"));
    assert_eq!(env.show("bounced@example.net")["status"], "bounced");
    env.ok(&["subscribers", "add", "bounced@example.net", "--force"]);
    assert_eq!(env.show("bounced@example.net")["status"], "subscribed");
}

#[test]
fn export_includes_consent_and_history_in_json_and_csv() {
    let env = Env::new();
    env.ok(&[
        "subscribers",
        "import",
        crate::support::fixture("mailchimp/unsubscribed_members_export_2f9c1a.csv")
            .to_str()
            .unwrap(),
    ]);
    env.ok(&["subscribers", "add", "new@example.com"]);
    let json: Vec<serde_json::Value> =
        serde_json::from_str(&env.ok(&["subscribers", "export"])).unwrap();
    assert_eq!(json.len(), 3);
    let gone = json
        .iter()
        .find(|s| s["email"] == "gone@example.com")
        .unwrap();
    assert_eq!(gone["consent"]["ip"], "203.0.113.9");
    assert_eq!(gone["history"].as_array().unwrap().len(), 2);
    assert_eq!(gone["history"][1]["status"], "unsubscribed");

    let csv = env.ok(&["subscribers", "export", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5, "one row per history entry:\n{csv}");
    let reasons: Vec<_> = rows
        .iter()
        .filter(|r| &r[col("email")] == "other@example.com")
        .map(|r| r[col("event_reason")].to_owned())
        .collect();
    assert_eq!(reasons[0], "");
    assert!(reasons[1].contains("moving to RSS"), "{reasons:?}");
}

#[test]
fn a_concurrent_add_during_an_import_loses_nothing() {
    let env = Env::new();
    env.ok(&["subscribers", "count"]); // create and migrate the file first
    let rows = 60_000;
    let mut csv = String::with_capacity(rows * 30);
    for i in 0..rows {
        csv.push_str(&format!("bulk{i}@example.org\n"));
    }
    let path = env.write("bulk.csv", csv.as_bytes());
    let mut import = env
        .command(&["subscribers", "import", path.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Start adding once the import is writing (its uncommitted pages reach
    // the WAL), one process at a time until the import has finished, then
    // once more: every add must wait for the lock and succeed.
    let wal = env.dir.path().join("mailroom.db-wal");
    while import.try_wait().unwrap().is_none()
        && std::fs::metadata(&wal).map_or(0, |m| m.len()) == 0
    {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let mut added = Vec::new();
    loop {
        let done = import.try_wait().unwrap().is_some();
        let email = format!("side{}@example.com", added.len());
        env.ok(&["subscribers", "add", &email]);
        added.push(email);
        if done {
            break;
        }
    }
    eprintln!("{} adds ran while the import was running", added.len() - 1);
    let out = import.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        summary(&String::from_utf8_lossy(&out.stdout)),
        [rows as u64, 0, 0, 0, 0]
    );
    let list = env.list();
    assert_eq!(list.len(), rows + added.len());
    for email in &added {
        assert!(
            list.iter().any(|s| s["email"] == email.as_str()),
            "{email} lost"
        );
    }
}

#[test]
fn a_miss_names_the_address_and_the_search_command() {
    let env = Env::new();
    env.ok(&["subscribers", "add", "Ferris@example.com"]);
    for cmd in ["remove", "show"] {
        let out = env.run(&["subscribers", cmd, "nobody@example.com"]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("no subscriber `nobody@example.com`;") && err.contains("search"),
            "{cmd}: {err}"
        );
    }
    assert_eq!(env.show("ferris@EXAMPLE.com")["status"], "subscribed");
}

#[test]
fn show_finds_a_subscriber_by_the_id_that_list_prints() {
    let env = Env::new();
    for email in [
        "first@example.com",
        "second@example.com",
        "third@example.com",
    ] {
        env.ok(&["subscribers", "add", email]);
    }
    env.ok(&["subscribers", "remove", "first@example.com"]);
    let second = env.list()[1].clone();
    assert_eq!(second["email"], "second@example.com");
    let id = second["id"].to_string();
    assert_eq!(
        env.ok(&["subscribers", "show", &id]),
        env.ok(&["subscribers", "show", "second@example.com"])
    );
    let first_id = env.list()[0]["id"].to_string();
    let first = env.ok(&["subscribers", "show", &first_id, "--format", "json"]);
    assert!(first.contains("\"unsubscribed\""), "{first}");

    let out = env.run(&["subscribers", "show", "99"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no subscriber with id 99;"), "{err}");
    let out = env.run(&["subscribers", "show", "12ab"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`12ab` is not an email address") && err.contains("or give the id"),
        "{err}"
    );
    // Only `show` takes an id: a mistyped one must not unsubscribe anybody.
    let out = env.run(&["subscribers", "remove", &id]);
    assert!(!out.status.success());
    assert_eq!(env.show("second@example.com")["status"], "subscribed");
}
