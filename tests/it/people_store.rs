//! Subscribers' identities and erasure at the store, on both backends: one
//! subscriber whatever the letter case or the spelling of an
//! internationalised domain (on add, import and the merge when a store is
//! opened, which on PostgreSQL two senders may do at once), and an erased
//! address that nothing brings back.
use std::str::FromStr;

use crate::both_backends;
use crate::common::db::TestDb;
use mailroom::domain::{Consent, EmailAddress, Source, Status, now};
use mailroom::import::{Format, Row};
use mailroom::store::{AddOutcome, EraseOutcome, SubscribeRequest};
use mailroom::token::Keyring;

fn email(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

fn rows(csv: &str, file: &str) -> Vec<Row> {
    mailroom::import::parse(csv.as_bytes(), file, Format::Plain, now())
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn keyring() -> Keyring {
    Keyring::new(b"0123456789abcdef0123456789abcdef".to_vec(), vec![])
}

/// Adds subscribers as a version before identities did: no `email_key`,
/// one history entry each.
async fn add_unkeyed(db: &TestDb, emails: &[&str]) {
    const INSERT: &str = "INSERT INTO subscribers (email, status, created_at, updated_at, \
         consent_source, consent_at) VALUES ($1, 'subscribed', $2, $2, 'cli', $2) RETURNING id";
    const HISTORY: &str = "INSERT INTO subscriber_history (subscriber_id, status, at, source) \
         VALUES ($1, 'subscribed', $2, 'cli')";
    for (at, e) in (1_700_000_000_i64..).zip(emails) {
        if db.is_postgres() {
            let options = sqlx::postgres::PgConnectOptions::from_str(&db.url)
                .unwrap()
                .password(db.password.unwrap());
            let pool = sqlx::PgPool::connect_with(options).await.unwrap();
            let id: i64 = sqlx::query_scalar(INSERT)
                .bind(e)
                .bind(at)
                .fetch_one(&pool)
                .await
                .unwrap();
            sqlx::query(HISTORY)
                .bind(id)
                .bind(at)
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        } else {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            let id: i64 = sqlx::query_scalar(INSERT)
                .bind(e)
                .bind(at)
                .fetch_one(&pool)
                .await
                .unwrap();
            sqlx::query(HISTORY)
                .bind(id)
                .bind(at)
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
    }
}

both_backends! {
    async fn case_and_idn_spellings_are_one_subscriber_on_add_and_import(db) {
        let store = db.open().await;
        let cli = Consent::new(Source::Cli, now());
        let AddOutcome::Added(id) = store
            .add_subscriber(&email("Reader@Bücher.Example"), None, cli.clone())
            .await
            .unwrap()
        else {
            panic!("not added")
        };
        assert_eq!(
            store
                .add_subscriber(&email("reader@xn--bcher-kva.example"), None, cli)
                .await
                .unwrap(),
            AddOutcome::AlreadySubscribed(id)
        );
        let mut import = store.begin_import(false).await.unwrap();
        let notices = import
            .apply(rows(
                "READER@BÜCHER.example\nNew@Example.org\nnew@EXAMPLE.org\n",
                "a.csv",
            ))
            .await
            .unwrap();
        assert_eq!(notices.len(), 1, "the second spelling of new@ is a duplicate");
        let summary = import.finish().await.unwrap();
        assert_eq!((summary.added, summary.unchanged), (1, 1));
        let all = store.list(None, None, 10).await.unwrap();
        let stored: Vec<String> = all.iter().map(|s| s.email.to_string()).collect();
        assert_eq!(stored.len(), 2, "{stored:?}");
        let found = store.find(&email("NEW@example.ORG")).await.unwrap().unwrap();
        assert_eq!(found.email.as_str(), "New@example.org");
        assert_eq!(store.find(&email("reader@bücher.example")).await.unwrap().unwrap().id, id);
    }
}

both_backends! {
    async fn an_erased_address_is_refused_by_add_import_and_the_web_form(db) {
        let store = db.open().await.with_erasure_keys(&keyring());
        let cli = Consent::new(Source::Cli, now());
        store
            .add_subscriber(&email("Gone@Example.com"), Some("G"), cli.clone())
            .await
            .unwrap();
        let EraseOutcome::Erased(erased) = store.erase(&email("gone@example.COM")).await.unwrap()
        else {
            panic!("not erased")
        };
        assert_eq!((erased.email.as_str(), erased.had_name, erased.history), ("Gone@example.com", true, 1));
        assert!(store.find(&email("gone@example.com")).await.unwrap().is_none());
        assert_eq!(
            store.add_subscriber(&email("GONE@example.com"), None, cli).await.unwrap(),
            AddOutcome::Erased
        );
        let asked = store
            .request_subscription(&email("gone@example.com"), None, None, now(), 100)
            .await
            .unwrap();
        assert_eq!(asked, SubscribeRequest::Erased);
        let mut import = store.begin_import(false).await.unwrap();
        import
            .apply(rows("gone@Example.com\nstays@example.com\n", "b.csv"))
            .await
            .unwrap();
        let summary = import.finish().await.unwrap();
        assert_eq!((summary.added, summary.suppressed), (1, 1));
        assert_eq!(store.erase(&email("Gone@example.com")).await.unwrap(), EraseOutcome::AlreadyErased);
        assert_eq!(store.erase(&email("never@example.com")).await.unwrap(), EraseOutcome::NotFound);
        store.close().await;
        // Without the secret, the store refuses rather than re-add.
        let bare = db.open().await;
        let err = bare
            .add_subscriber(&email("gone@example.com"), None, Consent::new(Source::Cli, now()))
            .await
            .unwrap_err();
        assert!(format!("{err:#}").contains("MAILROOM_WEB__SECRET"), "{err:#}");
    }
}

both_backends! {
    async fn opening_a_store_merges_unkeyed_duplicates_once_keeping_both_histories(db) {
        db.open().await.close().await;
        add_unkeyed(&db, &["Reader@Example.com", "reader@example.COM", "other@example.com"]).await;
        // Two processes open the store at once: one merges, the other
        // finds the identities settled.
        let (a, b) = tokio::join!(db.open(), db.open());
        let merges: Vec<_> = a.merged().iter().chain(b.merged()).cloned().collect();
        assert_eq!(merges.len(), 1, "{merges:?}");
        assert_eq!(merges[0].kept, "Reader@Example.com");
        assert_eq!(merges[0].merged, ["reader@example.COM"]);
        assert_eq!(merges[0].status, Status::Subscribed);
        let kept = a.find(&email("READER@example.com")).await.unwrap().unwrap();
        assert_eq!(kept.email.as_str(), "Reader@example.com");
        assert_eq!(a.history(kept.id).await.unwrap().len(), 3, "two entries and the merge");
        assert_eq!(a.list(None, None, 10).await.unwrap().len(), 2);
        b.close().await;
        a.close().await;
        assert!(db.open().await.merged().is_empty(), "a merge happens once");
    }
}
