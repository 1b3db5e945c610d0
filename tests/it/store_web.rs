//! The web service's store calls (double opt-in, batched unsubscribes, undo)
//! through the library API, against a real SQLite file and a real
//! PostgreSQL database (each test runs on both).
use std::net::IpAddr;

use crate::both_backends;
use mailroom::domain::{Consent, EmailAddress, Source, Status, StatusChange, SubscriberId, now};
use mailroom::store::{Confirmation, Store, SubscribeRequest, Transition};

fn email(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

fn unsubscribe() -> StatusChange {
    StatusChange::now(Status::Unsubscribed, Source::Web)
}

async fn add(store: &Store, who: &str) -> SubscriberId {
    store
        .add_subscriber(&email(who), None, Consent::new(Source::Cli, now()))
        .await
        .unwrap();
    store.find(&email(who)).await.unwrap().unwrap().id
}

both_backends! {
    async fn a_request_is_pending_until_confirmed_and_the_consent_keeps_both_ips(db) {
        let store = db.open_durable().await;
        let asked: IpAddr = "192.0.2.1".parse().unwrap();
        let confirmed: IpAddr = "192.0.2.2".parse().unwrap();
        let a = email("new@example.com");
        let SubscribeRequest::Confirm(id) = store
            .request_subscription(&a, Some("New"), Some(asked), now(), 100)
            .await
            .unwrap()
        else {
            panic!("a new address is asked to confirm");
        };
        assert_eq!(store.status_of(id).await.unwrap(), Some(Status::Pending));
        let outcome = store.confirm_subscription(id, Some(confirmed), now()).await;
        assert_eq!(outcome.unwrap(), Confirmation::Confirmed);
        let s = store.find(&a).await.unwrap().unwrap();
        assert_eq!(
            (s.status, s.name.as_deref()),
            (Status::Subscribed, Some("New"))
        );
        assert_eq!((s.consent.source, s.consent.ip), (Source::Web, Some(asked)));
        assert_eq!(s.consent.confirm_ip, Some(confirmed));
        let again = store.confirm_subscription(id, None, now()).await.unwrap();
        assert_eq!(again, Confirmation::AlreadySubscribed);
        let statuses: Vec<Status> = store
            .history(id)
            .await
            .unwrap()
            .iter()
            .map(|h| h.status)
            .collect();
        assert_eq!(statuses, [Status::Pending, Status::Subscribed]);
    }
}

both_backends! {
    async fn an_old_confirmation_cannot_resubscribe_someone_who_left_since(db) {
        let store = db.open_durable().await;
        let a = email("leaver@example.com");
        let SubscribeRequest::Confirm(id) = store
            .request_subscription(&a, None, None, now(), 100)
            .await
            .unwrap()
        else {
            panic!("asked to confirm");
        };
        store.confirm_subscription(id, None, now()).await.unwrap();
        store
            .unsubscribe_batch(&[(id, unsubscribe())])
            .await
            .unwrap();
        let replay = store.confirm_subscription(id, None, now()).await.unwrap();
        assert_eq!(replay, Confirmation::NoRequest);
        assert_eq!(
            store.status_of(id).await.unwrap(),
            Some(Status::Unsubscribed)
        );
    }
}

both_backends! {
    async fn subscribed_and_suppressed_addresses_are_not_asked_to_confirm(db) {
        let store = db.open_durable().await;
        let on = add(&store, "on@example.com").await;
        let gone = add(&store, "gone@example.com").await;
        let bounce = StatusChange::now(Status::Bounced, Source::Sender);
        store
            .set_status(&email("gone@example.com"), &bounce)
            .await
            .unwrap();
        let on_addr = email("on@example.com");
        let r = store.request_subscription(&on_addr, None, None, now(), 100);
        assert_eq!(r.await.unwrap(), SubscribeRequest::AlreadySubscribed(on));
        let gone_addr = email("gone@example.com");
        let r = store.request_subscription(&gone_addr, None, None, now(), 100);
        assert_eq!(r.await.unwrap(), SubscribeRequest::Suppressed(gone));
    }
}

both_backends! {
    async fn a_batch_changes_each_subscriber_once_and_leaves_suppressions_alone(db) {
        let store = db.open_durable().await;
        let a = add(&store, "a@example.com").await;
        let b = add(&store, "b@example.com").await;
        let bounce = StatusChange::now(Status::Bounced, Source::Sender);
        store
            .set_status(&email("b@example.com"), &bounce)
            .await
            .unwrap();
        let missing = SubscriberId::new(999);
        let batch = [
            (a, unsubscribe()),
            (a, unsubscribe()),
            (b, unsubscribe()),
            (missing, unsubscribe()),
        ];
        let out = store.unsubscribe_batch(&batch).await.unwrap();
        assert_eq!(
            out,
            [
                Transition::Changed {
                    id: a,
                    from: Status::Subscribed
                },
                Transition::Unchanged(a),
                Transition::Unchanged(b),
                Transition::NotFound,
            ]
        );
        assert_eq!(store.status_of(b).await.unwrap(), Some(Status::Bounced));
        let entries = store.history(a).await.unwrap();
        assert_eq!(
            entries
                .iter()
                .filter(|h| h.status == Status::Unsubscribed)
                .count(),
            1
        );

        let undo = StatusChange::now(Status::Subscribed, Source::Web);
        let undone = store.undo_unsubscribe(a, &undo).await.unwrap();
        assert_eq!(
            undone,
            Transition::Changed {
                id: a,
                from: Status::Unsubscribed
            }
        );
        assert_eq!(
            store.undo_unsubscribe(b, &undo).await.unwrap(),
            Transition::Unchanged(b)
        );
    }
}
