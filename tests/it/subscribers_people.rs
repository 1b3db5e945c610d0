//! Subscribers as people expect: one identity whatever the letter case or
//! the spelling of an internationalised domain (and the migration that
//! merges old duplicates, on a real SQLite file made with the old schema),
//! export → import round trips, header mapping, search.

use crate::support::{Env, summary};

/// A store file with only the migrations before identities (0001–0060),
/// holding `rows` (email, status) with a history entry each.
fn old_store(env: &Env, rows: &[(&str, &str, i64)]) {
    let old = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(crate::support::fixture("../../migrations/sqlite")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.as_str() < "0070" {
            std::fs::copy(&path, old.path().join(name)).unwrap();
        }
    }
    std::fs::remove_file(env.dir.path().join("mailroom.db")).unwrap();
    let url = format!("{}?mode=rwc", env.db_url());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let migrator = sqlx::migrate::Migrator::new(old.path()).await.unwrap();
        migrator.run(&pool).await.unwrap();
        for (email, status, at) in rows {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO subscribers (email, status, created_at, updated_at, \
                 consent_source, consent_at) VALUES ($1, $2, $3, $3, 'cli', $3) RETURNING id",
            )
            .bind(email)
            .bind(status)
            .bind(at)
            .fetch_one(&pool)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO subscriber_history (subscriber_id, status, at, source) \
                 VALUES ($1, $2, $3, 'cli')",
            )
            .bind(id)
            .bind(status)
            .bind(at)
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;
    });
}

#[test]
fn opening_an_old_store_merges_case_and_idn_duplicates_keeping_both_histories() {
    let env = Env::new();
    old_store(
        &env,
        &[
            ("NEW.READER@example.test", "subscribed", 1_700_000_000),
            ("new.reader@example.test", "unsubscribed", 1_700_000_100),
            ("leser@bücher.test", "subscribed", 1_700_000_000),
            ("Leser@xn--bcher-kva.test", "subscribed", 1_700_000_200),
            ("other@example.test", "subscribed", 1_700_000_000),
        ],
    );
    let out = env.run(&["subscribers", "count"]);
    assert!(out.status.success());
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(
        note.contains("store: merged 2 subscribers into the subscriber with the same address"),
        "{note}"
    );
    assert!(
        note.contains("`NEW.READER@example.test` ← `new.reader@example.test`, now `unsubscribed`"),
        "{note}"
    );
    assert!(
        note.contains("`leser@bücher.test` ← `Leser@xn--bcher-kva.test`, now `subscribed`"),
        "{note}"
    );
    let list = env.list();
    assert_eq!(list.len(), 3, "{list:?}");
    let merged = env.show("new.reader@EXAMPLE.test");
    assert_eq!(merged["status"], "unsubscribed");
    let history: Vec<_> = merged["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(history, ["subscribed", "unsubscribed", "unsubscribed"]);
    // Said once: the next command has nothing to merge.
    let again = env.run(&["subscribers", "count"]);
    assert!(!String::from_utf8_lossy(&again.stderr).contains("merged"));
    // New writes use the identity.
    let same = env.ok(&["subscribers", "add", "LESER@BÜCHER.TEST"]);
    assert!(same.contains("already subscribed"), "{same}");
}

#[test]
fn export_then_import_round_trips_in_csv_and_json_with_no_rejections() {
    let source = Env::new();
    source.ok(&[
        "subscribers",
        "add",
        "A.Person@Example.Test",
        "--name",
        "Person, A",
    ]);
    source.ok(&["subscribers", "remove", "a.person@example.test"]);
    source.ok(&["subscribers", "add", "b@bücher.test"]);
    source.ok(&[
        "subscribers",
        "add",
        "c@example.test",
        "--name",
        "Line\nbreak",
    ]);
    let before = source.statuses();
    for format in ["csv", "json"] {
        let exported = source.ok(&["subscribers", "export", "--format", format]);
        let target = Env::new();
        let file = target.write(&format!("export.{format}"), exported.as_bytes());
        let out = target.run(&["subscribers", "import", file.to_str().unwrap()]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(summary(&stdout), [3, 0, 0, 0, 0], "{format}: {stdout}");
        assert_eq!(target.statuses(), before, "{format}");
        let shown = target.show("a.person@example.test");
        assert_eq!(shown["name"], "Person, A");
        assert_eq!(shown["history"].as_array().unwrap().len(), 2, "{format}");
        assert_eq!(target.show("c@example.test")["name"], "Line\nbreak");
        // A second import changes nothing.
        let again = target.ok(&["subscribers", "import", file.to_str().unwrap()]);
        assert_eq!(summary(&again), [0, 0, 3, 0, 0], "{format}: {again}");
    }
}

#[test]
fn a_plain_csv_maps_its_columns_by_header_name() {
    let env = Env::new();
    let file = env.write(
        "people.csv",
        "Phone,First Name,Last Name,E-Mail\n555,Ada,Lovelace,ada@example.test\n,Alan,,alan@example.test\n"
            .as_bytes(),
    );
    let out = env.ok(&["subscribers", "import", file.to_str().unwrap()]);
    assert_eq!(summary(&out), [2, 0, 0, 0, 0], "{out}");
    assert_eq!(env.show("ada@example.test")["name"], "Ada Lovelace");
    assert_eq!(env.show("alan@example.test")["name"], "Alan");

    let file = env.write("list.csv", b"Email Address,name\nbob@example.test,Bob\n");
    let out = env.ok(&["subscribers", "import", file.to_str().unwrap()]);
    assert_eq!(summary(&out), [1, 0, 0, 0, 0], "{out}");

    let file = env.write("contacts.csv", b"who,phone\nbob@example.test,1\n");
    let bad = env.run(&["subscribers", "import", file.to_str().unwrap()]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("`contacts.csv` line 1: no column holds the email address")
            && err.contains("name that column `email`"),
        "{err}"
    );
}

#[test]
fn search_finds_addresses_and_names_in_any_case() {
    let env = Env::new();
    env.ok(&[
        "subscribers",
        "add",
        "ada@example.test",
        "--name",
        "Ada Lövelace",
    ]);
    env.ok(&["subscribers", "add", "Leser@Bücher.Test"]);
    env.ok(&["subscribers", "add", "zed@other.test"]);
    let found = env.ok(&["subscribers", "search", "LÖVE", "--format", "json"]);
    let found: serde_json::Value = serde_json::from_str(&found).unwrap();
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["email"], "ada@example.test");
    let puny = env.ok(&["subscribers", "search", "xn--bcher", "--format", "csv"]);
    assert!(puny.contains("Leser@bücher.test"), "{puny}");
    assert!(!puny.contains("zed@"), "{puny}");
    let table = env.ok(&["subscribers", "search", "EXAMPLE.test"]);
    assert_eq!(table.lines().count(), 2, "{table}");
}
