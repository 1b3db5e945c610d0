//! The store through its library API, against a real SQLite file and a
//! real PostgreSQL database (each test runs on both).
use crate::both_backends;
use mailroom::domain::{Consent, EmailAddress, Source, Status, StatusChange, now};
use mailroom::import::{Format, Notice, Row};
use mailroom::store::{AddOutcome, Transition};

fn email(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

fn rows(csv: &str, file: &str) -> Vec<Row> {
    mailroom::import::parse(csv.as_bytes(), file, Format::Plain, now())
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

both_backends! {
    async fn a_new_file_is_created_and_migrated_and_reopens(db) {
        let store = db.open().await;
        let cli = Consent::new(Source::Cli, now());
        store
            .add_subscriber(&email("a@example.com"), None, cli)
            .await
            .unwrap();
        store.close().await;
        let again = db.open().await;
        let found = again.find(&email("a@EXAMPLE.com")).await.unwrap().unwrap();
        assert_eq!(found.status, Status::Subscribed);
        assert_eq!(found.consent.source, Source::Cli);
    }
}

both_backends! {
    async fn added_unsubscribed_and_readded_is_three_history_entries(db) {
        let store = db.open().await;
        let addr = email("r@example.com");
        let added = store
            .add_subscriber(&addr, Some("R"), Consent::new(Source::Cli, now()))
            .await
            .unwrap();
        let AddOutcome::Added(id) = added else {
            panic!("{added:?}")
        };
        let web = StatusChange {
            reason: Some("one-click".into()),
            ..StatusChange::now(Status::Unsubscribed, Source::Web)
        };
        assert_eq!(
            store.set_status(&addr, &web).await.unwrap(),
            Transition::Changed {
                id,
                from: Status::Subscribed
            }
        );
        assert_eq!(
            store.set_status(&addr, &web).await.unwrap(),
            Transition::Unchanged(id)
        );
        let readded = store
            .add_subscriber(&addr, None, Consent::new(Source::Web, now()))
            .await
            .unwrap();
        assert_eq!(
            readded,
            AddOutcome::Resubscribed {
                id,
                was: Status::Unsubscribed
            }
        );
        let history = store.history(id).await.unwrap();
        let steps: Vec<_> = history
            .iter()
            .map(|h| (h.status, h.source.clone()))
            .collect();
        assert_eq!(
            steps,
            [
                (Status::Subscribed, Source::Cli),
                (Status::Unsubscribed, Source::Web),
                (Status::Subscribed, Source::Web)
            ]
        );
        assert_eq!(history[1].reason.as_deref(), Some("one-click"));
        let now_sub = store.find(&addr).await.unwrap().unwrap();
        assert_eq!(now_sub.consent.source, Source::Web);
        assert_eq!(now_sub.name.as_deref(), Some("R"));
        let missing = store
            .set_status(&email("x@example.com"), &web)
            .await
            .unwrap();
        assert_eq!(missing, Transition::NotFound);
    }
}

both_backends! {
    async fn duplicates_are_found_across_batches_and_known_addresses(db) {
        let store = db.open().await;
        store
            .add_subscriber(
                &email("old@example.com"),
                None,
                Consent::new(Source::Cli, now()),
            )
            .await
            .unwrap();
        let mut import = store.begin_import(false).await.unwrap();
        let first = import
            .apply(rows("new@example.com\nold@example.com\n", "a.csv"))
            .await
            .unwrap();
        assert!(first.is_empty(), "{first:?}");
        let second = import
            .apply(rows(
                "x@example.com\nnew@example.com\nold@example.com\n",
                "b.csv",
            ))
            .await
            .unwrap();
        let reasons: Vec<_> = second
            .iter()
            .map(|n| match n {
                Notice::Rejected(r) => (r.origin.line, r.reason.as_str()),
                Notice::Conflict(c) => panic!("{c}"),
            })
            .collect();
        assert_eq!(
            reasons,
            [
                (2, "duplicate of `a.csv` line 1 (`new@example.com`)"),
                (3, "duplicate of `a.csv` line 2 (`old@example.com`)"),
            ]
        );
        let summary = import.finish().await.unwrap();
        assert_eq!(
            (summary.added, summary.unchanged, summary.rejected),
            (2, 1, 2)
        );
    }
}

both_backends! {
    async fn a_dry_run_counts_what_an_import_would_do_and_leaves_nothing_behind(db) {
        let store = db.open().await;
        let mut import = store.begin_import(true).await.unwrap();
        import
            .apply(rows("a@example.com\nb@example.com\n", "a.csv"))
            .await
            .unwrap();
        let repeat = import
            .apply(rows("a@example.com\n", "b.csv"))
            .await
            .unwrap();
        assert_eq!(repeat.len(), 1, "a dry run finds duplicates across batches");
        let summary = import.finish().await.unwrap();
        assert_eq!((summary.added, summary.rejected), (2, 1));
        let counts = store.counts().await.unwrap();
        assert!(counts.iter().all(|&(_, n)| n == 0), "{counts:?}");
        // A real import on the same pool starts cleanly.
        let mut again = store.begin_import(false).await.unwrap();
        assert!(
            again
                .apply(rows("a@example.com\n", "a.csv"))
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(again.finish().await.unwrap().added, 1);
    }
}

both_backends! {
    async fn list_pages_by_id_and_filters_by_status(db) {
        let store = db.open().await;
        let mut import = store.begin_import(false).await.unwrap();
        let csv: String = (0..25).map(|i| format!("p{i}@example.com\n")).collect();
        import.apply(rows(&csv, "p.csv")).await.unwrap();
        import.finish().await.unwrap();
        store
            .set_status(
                &email("p3@example.com"),
                &StatusChange::now(Status::Bounced, Source::Sender),
            )
            .await
            .unwrap();
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .list(Some(Status::Subscribed), after, 10)
                .await
                .unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            seen.extend(page.into_iter().map(|s| s.email.to_string()));
        }
        assert_eq!(seen.len(), 24);
        assert!(!seen.contains(&"p3@example.com".to_owned()));
        let bounced = store.list(Some(Status::Bounced), None, 10).await.unwrap();
        assert_eq!(bounced.len(), 1);
    }
}
