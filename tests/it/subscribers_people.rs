//! Subscribers as people expect: one identity whatever the letter case or
//! the spelling of an internationalised domain (and the migration that
//! merges old duplicates, on a real SQLite file made with the old schema),
//! erasure and its suppression, export → import round trips, header
//! mapping, search.
use std::process::Stdio;

use crate::support::{Env, summary};

const SECRET: &str = "0123456789abcdef0123456789abcdef";

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
    assert!(note.contains("merged 2 subscriber(s)"), "{note}");
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
fn erase_asks_refuses_without_a_terminal_and_blocks_every_way_back() {
    let env = Env::new();
    let run = |args: &[&str]| {
        env.command(args)
            .env("MAILROOM_WEB__SECRET", SECRET)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    assert!(
        run(&["subscribers", "add", "Gone@Example.test", "--name", "Ann"])
            .status
            .success()
    );
    let refused = run(&["subscribers", "erase", "gone@example.test"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("no terminal") && err.contains("--yes"),
        "{err}"
    );
    assert_eq!(env.list().len(), 1, "refused, yet something changed");

    let done = run(&["subscribers", "erase", "gone@example.test", "--yes"]);
    let said = String::from_utf8_lossy(&done.stdout);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(said.contains("erased `Gone@example.test`"), "{said}");
    assert!(
        said.contains("the name") && said.contains("1 history entry"),
        "{said}"
    );
    assert!(said.contains("kept:    a keyed hash"), "{said}");
    assert!(env.list().is_empty());

    // The store holds no trace of the address in any spelling.
    let db = std::fs::read(env.dir.path().join("mailroom.db")).unwrap();
    let text = String::from_utf8_lossy(&db).to_lowercase();
    assert!(!text.contains("gone@example.test"));

    let add = run(&["subscribers", "add", "GONE@example.test"]);
    assert!(!add.status.success());
    assert!(String::from_utf8_lossy(&add.stderr).contains("erased on request"));
    let file = env.write(
        "again.csv",
        b"email,name\ngone@EXAMPLE.test,Ann\nnew@example.test,\n",
    );
    let import = run(&["subscribers", "import", file.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&import.stdout);
    assert_eq!(summary(&out), [1, 0, 0, 1, 0], "{out}");
    let list = env.list();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["email"], "new@example.test");

    // Without the secret, the store cannot tell, so it refuses to add.
    let blind = env.run(&["subscribers", "add", "someone@example.test"]);
    assert!(!blind.status.success());
    assert!(String::from_utf8_lossy(&blind.stderr).contains("MAILROOM_WEB__SECRET"));
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

/// Runs `mailroom subscribers erase EMAIL` under a pseudo-terminal
/// (util-linux `script`), typing `answer`.
fn erase_on_a_terminal(env: &Env, email: &str, answer: &str) -> (bool, String) {
    let cmd = env.command(&["subscribers", "erase", email]);
    let args: Vec<String> = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| format!("'{}'", a.to_string_lossy()))
        .collect();
    let mut child = std::process::Command::new("script")
        .args(["-qec", &args.join(" "), "/dev/null"])
        .current_dir(env.dir.path())
        .env("MAILROOM_DATABASE__URL", env.db_url())
        .env("MAILROOM_WEB__SECRET", SECRET)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run `script` (util-linux)");
    use std::io::Write;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{answer}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn on_a_terminal_erase_asks_and_only_yes_erases() {
    let env = Env::new();
    env.ok(&["subscribers", "add", "ann@example.test"]);
    let (ok, text) = erase_on_a_terminal(&env, "ann@example.test", "no");
    assert!(!ok, "{text}");
    assert!(text.contains("erase `ann@example.test`?"), "{text}");
    assert!(text.contains("nothing erased"), "{text}");
    assert_eq!(env.list().len(), 1);
    let (ok, text) = erase_on_a_terminal(&env, "ann@example.test", "yes");
    assert!(ok, "{text}");
    assert!(text.contains("erased `ann@example.test`"), "{text}");
    assert!(env.list().is_empty());
}

#[test]
fn an_erased_address_is_refused_by_the_web_form_and_after_a_secret_rotation() {
    use mailroom::domain::{Consent, EmailAddress, Source};
    use mailroom::store::{AddOutcome, EraseOutcome, Store, SubscribeRequest};
    use mailroom::token::Keyring;
    let env = Env::new();
    let old = Keyring::new(SECRET.as_bytes().to_vec(), vec![]);
    let rotated = Keyring::new(
        b"fedcba9876543210fedcba9876543210".to_vec(),
        vec![SECRET.as_bytes().to_vec()],
    );
    let email = EmailAddress::parse("Web.Reader@Bücher.test").unwrap();
    let now = mailroom::domain::now();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = Store::open(&env.db_url())
            .await
            .unwrap()
            .with_erasure_keys(&old);
        let consent = Consent::new(Source::Cli, now);
        store
            .add_subscriber(&email, None, consent.clone())
            .await
            .unwrap();
        assert!(matches!(
            store.erase(&email).await.unwrap(),
            EraseOutcome::Erased(_)
        ));
        store.close().await;

        let store = Store::open_durable(&env.db_url())
            .await
            .unwrap()
            .with_erasure_keys(&rotated);
        let puny = EmailAddress::parse("web.reader@xn--bcher-kva.test").unwrap();
        let asked = store
            .request_subscription(&puny, Some("W"), None, now, 100)
            .await
            .unwrap();
        assert_eq!(asked, SubscribeRequest::Erased);
        assert_eq!(
            store.add_subscriber(&puny, None, consent).await.unwrap(),
            AddOutcome::Erased
        );
        assert_eq!(
            store.erase(&puny).await.unwrap(),
            EraseOutcome::AlreadyErased
        );
        assert!(store.confirmation_queue().await.unwrap().is_empty());
        assert!(store.list(None, None, 10).await.unwrap().is_empty());
        store.close().await;
    });
}
