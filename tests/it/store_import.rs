//! Imports through the store's API on both backends, at the boundary
//! PostgreSQL's `COPY` adds: what a row holds reaches the store byte for
//! byte, and a batch that mixes new, known, suppressed and repeated
//! addresses follows the same rules as on SQLite, whichever of
//! PostgreSQL's connections a batch goes to.
use std::sync::Arc;

use crate::both_backends;
use mailroom::domain::{Consent, EmailAddress, Source, Status, StatusChange, now};
use mailroom::import::{ImportRecord, Notice, Origin, Row};
use mailroom::store::Store;

fn email(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

/// Adds each `(address, name)` as a subscriber from the command line,
/// before the import under test.
async fn add_known(store: &Store, who: &[(&str, Option<&str>)]) {
    for (address, name) in who {
        let cli = Consent::new(Source::Cli, now());
        store
            .add_subscriber(&email(address), *name, cli)
            .await
            .unwrap();
    }
}

/// A row of `file` at `line` giving `address` the history `changes`.
fn record(
    file: &str,
    line: u64,
    address: &str,
    name: Option<&str>,
    changes: &[StatusChange],
) -> Row {
    Row::Accepted(ImportRecord {
        origin: Origin {
            file: Arc::from(file),
            line,
        },
        email: email(address),
        name: name.map(str::to_owned),
        consent: Consent::new(Source::Import("a.csv".to_owned()), now()),
        history: changes.to_vec(),
    })
}

fn change(status: Status, reason: Option<&str>) -> StatusChange {
    StatusChange {
        reason: reason.map(str::to_owned),
        ip: Some("2001:db8::1".parse().unwrap()),
        ..StatusChange::now(status, Source::Import("a.csv".to_owned()))
    }
}

/// Text a CSV, a `COPY` text or CSV stream, or SQL would each have to
/// escape differently.
const AWKWARD: [&str; 6] = [
    "tab\there",
    "line\nbreak\r\nand carriage",
    "\"quoted\", with 'quotes'",
    "back\\slash \\N \\. end",
    "",
    "Zoë 📬 ünïcode",
];

both_backends! {
    async fn names_and_reasons_with_tabs_newlines_quotes_and_backslashes_arrive_exactly(db) {
        let store = db.open().await;
        let mut import = store.begin_import(false).await.unwrap();
        let rows: Vec<Row> = AWKWARD
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let history = [
                    change(Status::Subscribed, None),
                    change(Status::Unsubscribed, Some(text)),
                ];
                record("a.csv", i as u64 + 2, &format!("r{i}@example.com"), Some(text), &history)
            })
            .collect();
        let notices = import.apply(rows).await.unwrap();
        assert!(notices.is_empty(), "{notices:?}");
        assert_eq!(import.finish().await.unwrap().added, AWKWARD.len() as u64);
        for (i, text) in AWKWARD.iter().enumerate() {
            let s = store.find(&email(&format!("r{i}@example.com"))).await.unwrap().unwrap();
            assert_eq!(s.name.as_deref(), Some(*text));
            assert_eq!(s.status, Status::Unsubscribed);
            let history = store.history(s.id).await.unwrap();
            let got: Vec<_> = history.iter().map(|c| (c.status, c.reason.as_deref())).collect();
            assert_eq!(got, [(Status::Subscribed, None), (Status::Unsubscribed, Some(*text))]);
            assert_eq!(history[1].ip, Some("2001:db8::1".parse().unwrap()));
        }
    }
}

both_backends! {
    async fn one_batch_of_new_known_suppressed_and_repeated_addresses_follows_the_rules(db) {
        let store = db.open().await;
        add_known(&store, &[("known@example.com", Some("Old")), ("gone@example.com", None)]).await;
        store
            .set_status(&email("gone@example.com"), &StatusChange::now(Status::Unsubscribed, Source::Cli))
            .await
            .unwrap();
        let subscribed = [change(Status::Subscribed, None)];
        let mut import = store.begin_import(false).await.unwrap();
        let notices = import
            .apply(vec![
                record("a.csv", 2, "first@example.com", Some("First"), &subscribed),
                record("a.csv", 3, "KNOWN@example.com", Some("New name"), &subscribed),
                record("a.csv", 4, "gone@example.com", None, &subscribed),
                record("a.csv", 5, "second@bücher.example", None, &subscribed),
                record("a.csv", 6, "First@EXAMPLE.com", None, &subscribed),
            ])
            .await
            .unwrap();
        let told: Vec<_> = notices.iter().map(|n| n.origin().line).collect();
        assert_eq!(told, [6], "{notices:?}");
        assert!(matches!(&notices[0], Notice::Rejected(r) if r.reason.contains("duplicate of line 2")));
        // A later batch: the IDNA spelling of an address this import added.
        let later = import
            .apply(vec![record("b.csv", 2, "second@xn--bcher-kva.example", None, &subscribed)])
            .await
            .unwrap();
        assert_eq!(later.len(), 1, "{later:?}");
        let summary = import.finish().await.unwrap();
        assert_eq!(
            (summary.added, summary.updated, summary.suppressed, summary.rejected),
            (2, 1, 1, 2)
        );
        let known = store.find(&email("known@example.com")).await.unwrap().unwrap();
        assert_eq!(known.name.as_deref(), Some("New name"));
        let gone = store.find(&email("gone@example.com")).await.unwrap().unwrap();
        assert_eq!(gone.status, Status::Unsubscribed, "a suppression is never lifted");
        // New addresses take ids in file order, after the known ones.
        let first = store.find(&email("first@example.com")).await.unwrap().unwrap();
        let second = store.find(&email("second@bücher.example")).await.unwrap().unwrap();
        assert!(gone.id < first.id && first.id < second.id);
        assert_eq!(store.history(first.id).await.unwrap().len(), 1);
    }
}

/// Rows `from..to` of `file`, line = index + 2, for `n{i}@example.com`.
fn numbered(file: &str, from: u64, to: u64, status: Status) -> Vec<Row> {
    (from..to)
        .map(|i| {
            record(
                file,
                i + 2,
                &format!("n{i}@example.com"),
                None,
                &[change(status, None)],
            )
        })
        .collect()
}

both_backends! {
    async fn repeats_across_batches_on_any_connection_are_found_in_file_order(db) {
        let store = db.open().await;
        add_known(&store, &[("n5@example.com", Some("Known")), ("n6500@example.com", None)]).await;
        let mut import = store.begin_import(false).await.unwrap();
        // Four batches, as the reader hands them over: on PostgreSQL they
        // go to whichever connection is free.
        let mut told = Vec::new();
        told.extend(import.apply(numbered("a.csv", 0, 3000, Status::Subscribed)).await.unwrap());
        told.extend(import.apply(numbered("a.csv", 2000, 5000, Status::Subscribed)).await.unwrap());
        told.extend(import.apply(numbered("b.csv", 4990, 6000, Status::Unsubscribed)).await.unwrap());
        told.extend(import.apply(numbered("b.csv", 6000, 7000, Status::Unsubscribed)).await.unwrap());
        let summary = import.finish().await.unwrap();
        // 7,000 addresses, two known: one unchanged in the first batch, one
        // unsubscribed in the last, after batches of new addresses only
        // (which PostgreSQL copies without looking them up first). 1,000
        // repeats in a.csv, and b.csv unsubscribes 10 that a.csv
        // subscribed: a conflict, a.csv wins.
        assert_eq!(
            (summary.added, summary.updated, summary.unchanged, summary.rejected),
            (6998, 1, 1 + 10, 1000),
            "{summary:?}"
        );
        let duplicate = told.iter().find(|n| n.origin().line == 2002).unwrap();
        assert!(
            matches!(duplicate, Notice::Rejected(r) if r.reason.contains("duplicate of line 2002")),
            "{duplicate:?}"
        );
        let conflict = told
            .iter()
            .find(|n| matches!(n, Notice::Conflict(c) if c.email.as_str() == "n4995@example.com"))
            .unwrap();
        assert!(conflict.to_string().contains("`a.csv` line 4997"), "{conflict}");
        assert_eq!(told.len(), 1010);
        for i in [0, 2999, 3000, 4995, 5000, 6999] {
            let s = store.find(&email(&format!("n{i}@example.com"))).await.unwrap().unwrap();
            let want = if i < 5000 { Status::Subscribed } else { Status::Unsubscribed };
            assert_eq!(s.status, want, "n{i}");
            assert_eq!(store.history(s.id).await.unwrap().len(), 1, "n{i}");
        }
        let unsubscribed = store.find(&email("n6500@example.com")).await.unwrap().unwrap();
        assert_eq!(unsubscribed.status, Status::Unsubscribed);
        let history = store.history(unsubscribed.id).await.unwrap();
        let got: Vec<_> = history.iter().map(|c| c.status).collect();
        assert_eq!(got, [Status::Subscribed, Status::Unsubscribed]);
        let known = store.find(&email("n5@example.com")).await.unwrap().unwrap();
        assert_eq!(known.name.as_deref(), Some("Known"));
    }
}

/// A subscribe that commits while the import's `COPY` waits on the same
/// address: the `COPY` fails on the unique key, and the batch is looked up
/// again and applied with the address as known.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_added_under_a_postgres_copy_is_taken_as_known() {
    use sqlx::Connection;
    use std::str::FromStr;
    let db = crate::common::db::TestDb::postgres();
    let store = db.open().await;
    let options = sqlx::postgres::PgConnectOptions::from_str(&db.url)
        .unwrap()
        .password(db.password.unwrap());
    let mut other = sqlx::PgConnection::connect_with(&options).await.unwrap();
    sqlx::query("BEGIN").execute(&mut other).await.unwrap();
    sqlx::query(
        "INSERT INTO subscribers (email, email_key, status, created_at, updated_at, \
         consent_source, consent_at) VALUES ('late@example.com', 'late@example.com', \
         'unsubscribed', 1, 1, 'cli', 1)",
    )
    .execute(&mut other)
    .await
    .unwrap();
    let mut import = store.begin_import(false).await.unwrap();
    let subscribed = [change(Status::Subscribed, None)];
    import
        .apply(vec![
            record("a.csv", 2, "early@example.com", None, &subscribed),
            record("a.csv", 3, "late@example.com", None, &subscribed),
        ])
        .await
        .unwrap();
    // Wait until the import's `COPY` waits for the other transaction.
    let mut watch = sqlx::PgConnection::connect_with(&options).await.unwrap();
    let waiting = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY subscribers%' \
                   AND wait_event_type = 'Lock'";
    for _ in 0..500 {
        let n: i64 = sqlx::query_scalar(waiting)
            .fetch_one(&mut watch)
            .await
            .unwrap();
        if n > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let n: i64 = sqlx::query_scalar(waiting)
        .fetch_one(&mut watch)
        .await
        .unwrap();
    assert_eq!(n, 1, "the import's COPY never waited on the other insert");
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    let summary = import.finish().await.unwrap();
    assert_eq!((summary.added, summary.suppressed), (1, 1), "{summary:?}");
    let late = store
        .find(&email("late@example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        late.status,
        Status::Unsubscribed,
        "a suppression is never lifted"
    );
    assert!(
        store
            .find(&email("early@example.com"))
            .await
            .unwrap()
            .is_some()
    );
}
