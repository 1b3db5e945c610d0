//! Campaign leases through the library (on both backends where the rules
//! agree: an expired or dead holder is dropped and can no longer touch the
//! ledger), one sender per campaign on SQLite, and two real `mailroom send`
//! processes on one SQLite campaign.

use std::time::{Duration, Instant};

use crate::both_backends;
use crate::common::db::TestDb;
use crate::common::project::{Project, clean_issue, stderr};
use crate::common::sink::{Sink, free_port, tally};
use mailroom::domain::{Campaign, Lease, LeaseOwner, Ledger, LedgerError, now_ms};
use mailroom::domain::{CampaignTransport, IssueNumber};
use mailroom::send::lease::{self, LeaseHeld, Taken};
use mailroom::store::Store;

const TTL: Duration = Duration::from_secs(30);

async fn campaign(db: &TestDb) -> (Store, Campaign) {
    let store = db.open().await;
    let issue = IssueNumber::new(625).unwrap();
    let (c, _) = store
        .open_campaign(issue, CampaignTransport::Smtp, "TWiR 625", "h1")
        .await
        .unwrap();
    (store, c)
}

fn elsewhere(pid: u32) -> LeaseOwner {
    LeaseOwner {
        host: "other-host.example".into(),
        pid,
        process_start: 7,
    }
}

/// How the lease was taken, the same on both backends: with several
/// senders, the one dead run dropped beside no live one.
fn only(taken: Taken) -> Taken {
    match taken {
        Taken::Beside {
            live: 0,
            mut dropped,
        } if dropped.len() == 1 => dropped.remove(0),
        Taken::Beside { live: 0, dropped } if dropped.is_empty() => Taken::Free,
        other => other,
    }
}

/// Writes a lease for `owner` renewed `ago_ms` before now.
async fn plant(store: &Store, c: &Campaign, owner: &LeaseOwner, ago_ms: i64) -> Lease {
    let lease = Lease {
        campaign: c.id,
        token: format!("planted-{}", owner.pid),
        ttl_ms: 30_000,
    };
    assert!(
        store
            .take_lease(&lease, owner, None, now_ms() - ago_ms)
            .await
            .unwrap()
    );
    lease
}

#[tokio::test]
async fn a_live_lease_elsewhere_is_refused_with_its_owner_and_age() {
    let db = TestDb::sqlite();
    let (store, c) = campaign(&db).await;
    plant(&store, &c, &elsewhere(4242), 3_000).await;
    let err = lease::acquire(&store, &c, &lease::this_process(), TTL)
        .await
        .unwrap_err();
    let held = err.downcast_ref::<LeaseHeld>().expect("a LeaseHeld error");
    assert_eq!((held.pid, held.host.as_str()), (4242, "other-host.example"));
    let text = err.to_string();
    assert!(
        text.contains("issue 625 is being sent by pid 4242 on host `other-host.example`")
            && text.contains("renewed 3 s ago")
            && text.contains("stop it and rerun")
            && text.contains("several senders need PostgreSQL"),
        "{text}"
    );
}

#[tokio::test]
async fn on_postgres_a_live_run_elsewhere_is_joined_beside() {
    let db = TestDb::postgres();
    let (store, c) = campaign(&db).await;
    plant(&store, &c, &elsewhere(4242), 3_000).await;
    let (_, taken) = lease::acquire(&store, &c, &lease::this_process(), TTL)
        .await
        .unwrap();
    assert_eq!(
        taken,
        Taken::Beside {
            live: 1,
            dropped: vec![]
        }
    );
    assert_eq!(store.live_runs(c.id).await.unwrap().len(), 2);
}

both_backends! {
    async fn an_expired_lease_is_taken_over_and_its_old_holder_can_no_longer_claim(db) {
        let (store, c) = campaign(&db).await;
        let old = plant(&store, &c, &elsewhere(4242), 45_000).await;
        let (mine, taken) = lease::acquire(&store, &c, &lease::this_process(), TTL)
            .await
            .unwrap();
        assert_eq!(only(taken), Taken::FromExpired(elsewhere(4242), 45));
        assert!(!store.renew_lease(&old, now_ms()).await.unwrap());
        let err = store.claim(&old, 10, now_ms()).await.unwrap_err();
        assert!(matches!(err, LedgerError::LeaseLost), "{err:#}");
        assert!(matches!(
            store.start_run(&old).await.unwrap_err(),
            LedgerError::LeaseLost
        ));
        assert!(store.renew_lease(&mine, now_ms()).await.unwrap());
        assert_eq!(store.claim(&mine, 10, now_ms()).await.unwrap(), vec![]);
        store.release_lease(&mine).await.unwrap();
        assert_eq!(store.lease(c.id).await.unwrap(), None);
    }
}

both_backends! {
    async fn a_fresh_lease_of_a_dead_process_on_this_host_is_taken_over_at_once(db) {
        let (store, c) = campaign(&db).await;
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let dead = LeaseOwner {
            pid,
            ..lease::this_process()
        };
        plant(&store, &c, &dead, 0).await;
        let (_, taken) = lease::acquire(&store, &c, &lease::this_process(), TTL)
            .await
            .unwrap();
        assert_eq!(only(taken), Taken::FromDeadProcess(dead));
    }
}

#[test]
fn a_second_send_refuses_while_the_first_runs_and_resumes_at_once_after_kill_9() {
    let port = free_port();
    let n = 60;
    let mut p = Project::new(n, port);
    p.set("MAILROOM_SEND__RATE_PER_SECOND", "30");
    let sink = Sink::start(p.dir.path(), "dump", port, &[]);
    let issue = clean_issue();
    let mut first = p.spawn(&["send", issue.to_str().unwrap(), "--yes"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while sink.messages().is_empty() {
        assert!(Instant::now() < deadline, "the first run sent nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = p.send(&[]);
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    let want = format!("issue 620 is being sent by pid {} on host", first.id());
    assert!(stderr(&second).contains(&want), "{}", stderr(&second));
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first run is still sending: the refusal came from the lease"
    );

    first.kill().expect("kill -9 the first run");
    first.wait().unwrap();
    let third = p.send(&[]);
    assert!(third.status.success(), "{}", stderr(&third));
    assert!(
        stderr(&third).contains("which is gone"),
        "{}",
        stderr(&third)
    );
    let counts = tally([sink.messages().as_slice()]);
    assert_eq!(counts.len(), n, "every recipient got the issue");
    let duplicates: u64 = counts.values().map(|&c| c as u64 - 1).sum();
    let possible = p.status()["possible_duplicates"].as_u64().unwrap();
    assert!(duplicates <= possible, "{duplicates} > {possible}");
}

both_backends! {
    async fn a_run_that_lost_its_lease_cannot_record_over_the_new_holders_rows(db) {
        use mailroom::domain::{Consent, EmailAddress, Source, now};
        use mailroom::domain::{DeliveryState, Record};
        let store = db.open().await;
        let reader = EmailAddress::parse("reader@example.com").unwrap();
        store
            .add_subscriber(&reader, None, Consent::new(Source::Cli, now()))
            .await
            .unwrap();
        let issue = IssueNumber::new(625).unwrap();
        let (c, _) = store
        .open_campaign(issue, CampaignTransport::Smtp, "TWiR 625", "h1")
        .await
        .unwrap();

        // The old run claims the row, then stalls past its lease.
        let old = plant(&store, &c, &elsewhere(4242), 0).await;
        let claimed = store.claim(&old, 10, now_ms()).await.unwrap();
        assert_eq!(claimed.len(), 1);
        assert!(store.renew_lease(&old, now_ms() - 45_000).await.unwrap());
        let (mine, _) = lease::acquire(&store, &c, &lease::this_process(), TTL)
            .await
            .unwrap();
        store.start_run(&mine).await.unwrap();
        let reclaimed = store.claim(&mine, 10, now_ms()).await.unwrap();
        assert_eq!(
            reclaimed.len(),
            1,
            "the new holder re-sends the stalled row"
        );

        // The old run wakes up with an outcome for that row: refused.
        let late = Record {
            delivery: claimed[0].delivery,
            state: DeliveryState::Failed,
            reply: Some("550 5.1.1 late outcome".into()),
            next_attempt_at: None,
            refund_attempt: false,
            bounce: None,
            possible_duplicate: false,
        };
        let err = store
            .record(&old, std::slice::from_ref(&late), now_ms())
            .await
            .unwrap_err();
        assert!(matches!(err, LedgerError::LeaseLost), "{err:#}");
        let counts = store.campaign_counts(c.id).await.unwrap();
        assert_eq!((counts.failed, counts.sending), (0, 1), "{counts:?}");

        // The new holder's own outcome is recorded.
        let mine_sent = Record {
            state: DeliveryState::Sent,
            reply: Some("250 ok".into()),
            ..late
        };
        store.record(&mine, &[mine_sent], now_ms()).await.unwrap();
        let counts = store.campaign_counts(c.id).await.unwrap();
        assert_eq!((counts.sent, counts.sending), (1, 0), "{counts:?}");
    }
}
