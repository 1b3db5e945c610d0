//! Several senders on one campaign (PostgreSQL): per-row claims with
//! `FOR UPDATE SKIP LOCKED` through the library, and real `mailroom send`
//! processes sharing a campaign against a real SMTP sink, one of them
//! killed with `kill -9`.
use std::collections::HashSet;
use std::process::Child;
use std::time::{Duration, Instant};

use crate::common::db::TestDb;
use crate::common::project::{Project, clean_issue, email, report, stderr};
use crate::common::sink::{Sink, free_port, tally};
use mailroom::domain::{
    Campaign, CampaignTransport, Consent, DeliveryState, EmailAddress, IssueNumber, Lease,
    LeaseOwner, Ledger, LedgerError, Record, Source, now, now_ms,
};
use mailroom::store::Store;

/// A campaign of `n` recipients in a fresh PostgreSQL database.
async fn campaign(db: &TestDb, n: usize) -> (Store, Campaign) {
    let store = db.open().await;
    for i in 1..=n {
        let who = EmailAddress::parse(&email(i)).unwrap();
        store
            .add_subscriber(&who, None, Consent::new(Source::Cli, now()))
            .await
            .unwrap();
    }
    let issue = IssueNumber::new(625).unwrap();
    let (c, _) = store
        .open_campaign(issue, CampaignTransport::Smtp, "TWiR 625", "h1")
        .await
        .unwrap();
    (store, c)
}

/// Registers a run from pid `pid` on another host, renewed `ago_ms` ago.
async fn run_from(store: &Store, c: &Campaign, pid: u32, ago_ms: i64) -> Lease {
    let lease = Lease {
        campaign: c.id,
        token: format!("run-{pid}"),
        ttl_ms: 30_000,
    };
    let owner = LeaseOwner {
        host: format!("sender-{pid}.example"),
        pid,
        process_start: 1,
    };
    assert!(
        store
            .take_lease(&lease, &owner, None, now_ms() - ago_ms)
            .await
            .unwrap()
    );
    lease
}

fn sent(claimed: &[mailroom::domain::Claimed]) -> Vec<Record> {
    claimed
        .iter()
        .map(|c| Record {
            delivery: c.delivery,
            state: DeliveryState::Sent,
            reply: Some("250 ok".into()),
            next_attempt_at: None,
            refund_attempt: false,
            bounce: None,
            possible_duplicate: false,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_on_postgres_take_disjoint_rows_until_none_is_left() {
    let db = TestDb::postgres();
    let (store, c) = campaign(&db, 400).await;
    let mut tasks = Vec::new();
    // Every run holds a first claim before any goes on, so all four claim
    // side by side.
    let together = std::sync::Arc::new(tokio::sync::Barrier::new(4));
    for pid in 1..=4 {
        let lease = run_from(&store, &c, pid, 0).await;
        let store = store.clone();
        let together = together.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            let first = store.claim(&lease, 7, now_ms()).await.unwrap();
            together.wait().await;
            store.record(&lease, &sent(&first), now_ms()).await.unwrap();
            mine.extend(first.into_iter().map(|c| c.delivery));
            loop {
                let claimed = store.claim(&lease, 7, now_ms()).await.unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                store
                    .record(&lease, &sent(&claimed), now_ms())
                    .await
                    .unwrap();
                mine.extend(claimed.into_iter().map(|c| c.delivery));
            }
        }));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for t in tasks {
        let mine = t.await.unwrap();
        assert!(mine.len() >= 7, "every run got rows");
        total += mine.len();
        seen.extend(mine);
    }
    assert_eq!((total, seen.len()), (400, 400), "each row claimed once");
    let counts = store.campaign_counts(c.id).await.unwrap();
    assert_eq!((counts.sent, counts.sending), (400, 0));
    let handed: u64 = store
        .live_runs(c.id)
        .await
        .unwrap()
        .iter()
        .map(|r| r.handed)
        .sum();
    assert_eq!(handed, 400, "each run counts what it recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_runs_rows_go_back_to_the_queue_and_only_they_count_as_possible_duplicates() {
    let db = TestDb::postgres();
    let (store, c) = campaign(&db, 20).await;
    let dead = run_from(&store, &c, 1, 0).await;
    let live = run_from(&store, &c, 2, 0).await;
    let dead_rows = store.claim(&dead, 5, now_ms()).await.unwrap();
    let live_rows = store.claim(&live, 3, now_ms()).await.unwrap();
    assert_eq!((dead_rows.len(), live_rows.len()), (5, 3));
    // The dead run had begun handing two of its messages to the relay.
    let handed: Vec<i64> = dead_rows[..2].iter().map(|c| c.delivery).collect();
    store.hand_over(&dead, &handed, now_ms()).await.unwrap();

    // Nobody is orphaned while both runs are registered.
    assert_eq!(store.requeue_orphans(c.id).await.unwrap(), 0);
    // The dead run stops renewing; a third run starting finds it expired.
    assert!(store.renew_lease(&dead, now_ms() - 45_000).await.unwrap());
    let me = mailroom::send::lease::this_process();
    let ttl = Duration::from_secs(30);
    let (mine, taken) = mailroom::send::lease::acquire(&store, &c, &me, ttl)
        .await
        .unwrap();
    let mailroom::send::lease::Taken::Beside { live: 1, dropped } = taken else {
        panic!("{taken:?}")
    };
    assert_eq!(dropped.len(), 1, "the expired run was dropped");
    assert_eq!(
        store.start_run(&mine).await.unwrap(),
        2,
        "only its rows handed to the relay may have arrived"
    );
    let after = store.campaign(c.id).await.unwrap().unwrap();
    assert_eq!(after.possible_duplicates, 2);
    let counts = store.campaign_counts(c.id).await.unwrap();
    assert_eq!(
        (counts.sending, counts.pending),
        (3, 17),
        "the live run keeps its rows; all five of the dead run's are queued again"
    );

    // The dead run wakes up: it can neither record nor claim.
    let err = store.record(&dead, &sent(&dead_rows), now_ms()).await;
    assert!(matches!(err, Err(LedgerError::LeaseLost)), "{err:?}");
    let err = store.claim(&dead, 5, now_ms()).await;
    assert!(matches!(err, Err(LedgerError::LeaseLost)), "{err:?}");
    // The live run records its own rows as ever.
    store
        .record(&live, &sent(&live_rows), now_ms())
        .await
        .unwrap();
    let counts = store.campaign_counts(c.id).await.unwrap();
    assert_eq!((counts.sent, counts.sending, counts.pending), (3, 0, 17));
}

/// Polls `mailroom status` until `want` runs are live, or every child ended.
fn saw_live_runs(p: &Project, children: &mut [Child], want: usize) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let out = p.run(&["status", "--format", "json"]);
        // Before the first run opens the campaign, there is nothing to show.
        if out.status.success() && !out.stdout.is_empty() {
            let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let live = status["live_runs"].as_array().map_or(0, Vec::len);
            if live >= want {
                return true;
            }
        }
        if children.iter_mut().all(|c| c.try_wait().unwrap().is_some()) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn senders(p: &Project, n: usize) -> Vec<Child> {
    let issue = clean_issue();
    (0..n)
        .map(|_| p.spawn(&["send", issue.to_str().unwrap(), "--yes", "--format", "json"]))
        .collect()
}

/// A PostgreSQL project of `n` subscribers and its sink, paced so that
/// several senders overlap: the campaign's rate, shared by the runs, makes
/// 300 recipients take about 5 s in all however slowly the runs start;
/// a short lease lets a dead run's rows come back within the test.
fn overlapping_senders_project(n: usize) -> (Project, Sink) {
    let port = free_port();
    let mut p = Project::postgres(n, port);
    p.set("MAILROOM_SEND__RATE_PER_SECOND", "60");
    p.set("MAILROOM_SEND__LEASE_SECS", "6");
    let sink = Sink::start(p.dir.path(), "dump", port, &[]);
    (p, sink)
}

#[test]
fn three_senders_on_postgres_share_one_campaign_and_mail_everyone_once() {
    let n = 300;
    let (p, sink) = overlapping_senders_project(n);
    let began = Instant::now();
    let mut children = senders(&p, 3);
    assert!(
        saw_live_runs(&p, &mut children, 3),
        "`status` never listed 3 live runs"
    );
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let report = report(&out);
        assert!(
            report["this_run"]["sent"].as_u64().unwrap() > 0,
            "every run sent some: {report}"
        );
    }
    let wall = began.elapsed().as_secs_f64();
    let counts = tally([sink.messages().as_slice()]);
    assert_eq!(counts.len(), n, "every recipient got the issue");
    assert!(counts.values().all(|&c| c == 1), "nobody got it twice");
    let status = p.status();
    assert_eq!(status["counts"]["sent"], n as u64);
    assert_eq!(status["runs"], 3);
    // The runs overlapped: the campaign's time counts their shared time
    // once, so it fits in the time the three took together.
    let elapsed = status["elapsed_secs"].as_f64().unwrap();
    assert!(elapsed > 0.0 && elapsed <= wall, "{elapsed} s of {wall} s");
    assert_eq!(status["possible_duplicates"], 0);
    assert_eq!(status["live_runs"].as_array().unwrap().len(), 0);
}

#[test]
fn kill_9_of_one_of_three_senders_loses_nobody_and_its_rows_are_sent_by_the_others() {
    let n = 300;
    let (p, sink) = overlapping_senders_project(n);
    let mut children = senders(&p, 3);
    assert!(
        saw_live_runs(&p, &mut children, 3),
        "3 runs never lived at once"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while sink.messages().len() < 60 {
        assert!(Instant::now() < deadline, "the senders sent too little");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut victim = children.remove(0);
    victim.kill().expect("kill -9 one sender");
    victim.wait().unwrap();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "a survivor: {}", stderr(&out));
    }
    let counts = tally([sink.messages().as_slice()]);
    assert_eq!(counts.len(), n, "every recipient got the issue");
    let duplicates: u64 = counts.values().map(|&c| c as u64 - 1).sum();
    let status = p.status();
    let possible = status["possible_duplicates"].as_u64().unwrap();
    assert!(duplicates <= possible, "{duplicates} > {possible}");
    let bound = mailroom::send::in_flight_cap(4);
    assert!(
        possible <= bound,
        "{possible} over one run's in-flight bound {bound}"
    );
    assert_eq!(status["counts"]["sent"], n as u64);
    assert_eq!(status["counts"]["sending"], 0);
}

#[test]
fn a_sender_whose_run_is_dropped_as_dead_stops_at_once_and_a_rerun_finishes() {
    let port = free_port();
    let n = 200;
    let mut p = Project::postgres(n, port);
    p.set("MAILROOM_SEND__RATE_PER_SECOND", "40");
    p.set("MAILROOM_SEND__LEASE_SECS", "2");
    let sink = Sink::start(p.dir.path(), "dump", port, &[]);
    let child = senders(&p, 1).remove(0);
    let deadline = Instant::now() + Duration::from_secs(30);
    while sink.messages().len() < 10 {
        assert!(Instant::now() < deadline, "the sender sent nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Another machine judged this run dead (say, its heartbeats stopped
    // reaching the database) and dropped it.
    let url = p
        .env
        .iter()
        .find(|(k, _)| k == "MAILROOM_DATABASE__URL")
        .unwrap()
        .1
        .clone();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open(mailroom::store::Location {
            url: &url,
            password: Some(crate::common::pg::PASSWORD),
        })
        .await
        .unwrap();
        let c = store.latest_campaign().await.unwrap().unwrap();
        for run in store.live_runs(c.id).await.unwrap() {
            assert!(store.drop_run(c.id, &run.token).await.unwrap());
        }
        store.close().await;
    });
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("another run took this campaign over"),
        "{}",
        stderr(&out)
    );
    p.set("MAILROOM_SEND__RATE_PER_SECOND", "0");
    let rerun = p.send(&[]);
    assert!(rerun.status.success(), "{}", stderr(&rerun));
    let counts = tally([sink.messages().as_slice()]);
    assert_eq!(counts.len(), n, "every recipient got the issue");
    let duplicates: u64 = counts.values().map(|&c| c as u64 - 1).sum();
    let possible = p.status()["possible_duplicates"].as_u64().unwrap();
    assert!(duplicates <= possible, "{duplicates} > {possible}");
}
