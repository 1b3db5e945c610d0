//! The confirmation queue's store calls through the library, against a
//! real SQLite file and a real PostgreSQL database (each test runs on
//! both): one row per subscriber, the cap, claims with a lease, outcomes,
//! a given-up row started afresh by a new request, and two workers claiming
//! at once.
use std::collections::HashSet;
use std::time::Duration;

use crate::both_backends;
use mailroom::domain::{EmailAddress, now};
use mailroom::store::{ConfirmationOutcome, QueueDepth, Store, SubscribeRequest};

fn email(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

const LEASE: Duration = Duration::from_secs(600);

async fn request(store: &Store, who: &str, cap: u32) -> SubscribeRequest {
    store
        .request_subscription(&email(who), None, None, now(), cap)
        .await
        .unwrap()
}

both_backends! {
    async fn a_request_queues_one_confirmation_and_a_repeat_adds_none(db) {
        let store = db.open_durable().await;
        let SubscribeRequest::Confirm(id) = request(&store, "a@example.com", 10).await else {
            panic!("a new address is asked to confirm");
        };
        request(&store, "a@example.com", 10).await;
        let rows = store.confirmation_queue().await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].id, rows[0].attempts, rows[0].failed),
            (id, 0, false)
        );
    }
}

both_backends! {
    async fn a_full_queue_turns_away_every_address_and_records_nothing(db) {
        let store = db.open_durable().await;
        request(&store, "a@example.com", 2).await;
        request(&store, "b@example.com", 2).await;
        assert!(store.confirmation_queue_full(2).await.unwrap());
        for who in ["c@example.com", "a@example.com"] {
            assert_eq!(request(&store, who, 2).await, SubscribeRequest::QueueFull);
        }
        assert!(store.find(&email("c@example.com")).await.unwrap().is_none());
        assert_eq!(store.confirmation_queue().await.unwrap().len(), 2);
        assert_eq!(
            store.confirmation_queue_depth().await.unwrap(),
            QueueDepth { waiting: 2, given_up: 0 }
        );
    }
}

both_backends! {
    async fn a_claim_leases_its_rows_and_a_postponed_row_gets_its_attempt_back(db) {
        let store = db.open_durable().await;
        let SubscribeRequest::Confirm(id) = request(&store, "a@example.com", 10).await else {
            panic!("a new address is asked to confirm");
        };
        let claimed = store.claim_confirmations(now(), LEASE, 16).await.unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].attempts, 1);
        assert_eq!(claimed[0].to, Some(email("a@example.com")));
        let again = store.claim_confirmations(now(), LEASE, 16).await.unwrap();
        assert!(again.is_empty(), "a leased row is not claimed twice");
        let later = now() + LEASE + Duration::from_secs(1);
        let lapsed = store.claim_confirmations(later, LEASE, 16).await.unwrap();
        assert_eq!(
            lapsed.len(),
            1,
            "a lapsed lease (a dead worker) frees the row"
        );
        assert_eq!(lapsed[0].attempts, 2);

        let at = now();
        let postpone = ConfirmationOutcome::Postpone { at };
        store
            .finish_confirmations(&[(id, postpone)], now())
            .await
            .unwrap();
        let rows = store.confirmation_queue().await.unwrap();
        assert_eq!(rows[0].attempts, 1, "an untried claim costs no attempt");
        assert_eq!(
            store
                .next_confirmation_due()
                .await
                .unwrap()
                .map(|t| t.unix_timestamp()),
            Some(at.unix_timestamp())
        );
    }
}

both_backends! {
    async fn a_given_up_confirmation_starts_afresh_when_the_person_asks_again(db) {
        let store = db.open_durable().await;
        let SubscribeRequest::Confirm(id) = request(&store, "a@example.com", 1).await else {
            panic!("a new address is asked to confirm");
        };
        store.claim_confirmations(now(), LEASE, 16).await.unwrap();
        let give_up = ConfirmationOutcome::GiveUp {
            error: "550 5.1.1 no such user".into(),
        };
        store
            .finish_confirmations(&[(id, give_up)], now())
            .await
            .unwrap();
        let row = store.confirmation_queue().await.unwrap()[0].clone();
        assert!(row.failed);
        assert_eq!(
            store.confirmation_queue_depth().await.unwrap(),
            QueueDepth { waiting: 0, given_up: 1 }
        );
        assert_eq!(row.last_error.as_deref(), Some("550 5.1.1 no such user"));
        assert!(
            !store.confirmation_queue_full(1).await.unwrap(),
            "a given-up row does not count against the cap"
        );
        assert_eq!(store.next_confirmation_due().await.unwrap(), None);

        request(&store, "a@example.com", 1).await;
        let row = store.confirmation_queue().await.unwrap()[0].clone();
        assert_eq!((row.failed, row.attempts, row.last_error), (false, 0, None));
    }
}

both_backends! {
    async fn confirming_drops_the_queued_confirmation_even_while_it_is_claimed(db) {
        let store = db.open_durable().await;
        let SubscribeRequest::Confirm(a) = request(&store, "a@example.com", 10).await else {
            panic!("a new address is asked to confirm");
        };
        store.confirm_subscription(a, None, now()).await.unwrap();
        assert!(store.confirmation_queue().await.unwrap().is_empty());

        let SubscribeRequest::Confirm(b) = request(&store, "b@example.com", 10).await else {
            panic!("a new address is asked to confirm");
        };
        let claimed = store.claim_confirmations(now(), LEASE, 16).await.unwrap();
        assert_eq!(claimed[0].id, b);
        // Confirmed through an earlier email while the row was claimed.
        store.confirm_subscription(b, None, now()).await.unwrap();
        request(&store, "c@example.com", 10).await;
        let later = now() + LEASE + Duration::from_secs(1);
        let claimed = store.claim_confirmations(later, LEASE, 16).await.unwrap();
        assert!(
            claimed.iter().all(|c| c.id != b),
            "the confirmed row is gone"
        );
        assert!(claimed.iter().all(|c| c.to.is_some()));
    }
}

both_backends! {
    async fn two_workers_claiming_at_once_never_take_the_same_row(db) {
        let store = db.open_durable().await;
        let mut ids = HashSet::new();
        for i in 0..40 {
            let who = format!("r{i}@example.com");
            let SubscribeRequest::Confirm(id) = request(&store, &who, 100).await else {
                panic!("a new address is asked to confirm");
            };
            ids.insert(id);
        }
        let other = db.open_durable().await;
        let claims = |s: Store| async move {
            let mut got = Vec::new();
            loop {
                let batch = s.claim_confirmations(now(), LEASE, 3).await.unwrap();
                if batch.is_empty() {
                    return got;
                }
                got.extend(batch.into_iter().map(|c| c.id));
            }
        };
        let (a, b) = tokio::join!(
            tokio::spawn(claims(store.clone())),
            tokio::spawn(claims(other))
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let all: Vec<_> = a.iter().chain(&b).copied().collect();
        let distinct: HashSet<_> = all.iter().copied().collect();
        assert_eq!(all.len(), distinct.len(), "a row was claimed twice");
        assert_eq!(distinct, ids, "every row was claimed");
    }
}
