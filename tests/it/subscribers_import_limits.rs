//! `subscribers import` under huge and hostile input (issue 10): zip
//! limits, an import killed mid-way that a rerun completes, and one-click
//! unsubscribes through `mailroom serve` answered while a big import runs.
//! The real binary, real SQLite files, real HTTP on loopback.
use std::process::Stdio;
use std::str::FromStr;
use std::time::{Duration, Instant};

use mailroom::domain::SubscriberId;
use mailroom::token::{self, Purpose};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use crate::common::project::{Project, SECRET, email, stderr};
use crate::common::sink::free_port;
use crate::common::web::{self, Server};
use crate::support::{Env, summary, write_zip};

/// Runs `query` (one integer result) on the store at `url`, read-only;
/// `None` while the file does not exist yet.
fn scalar(url: &str, query: &'static str, bind: Option<&str>) -> Option<i64> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let options = SqliteConnectOptions::from_str(url).ok()?.read_only(true);
        let mut conn = SqliteConnection::connect_with(&options).await.ok()?;
        let mut q = sqlx::query_scalar(query);
        if let Some(b) = bind {
            q = q.bind(b);
        }
        let value = q.fetch_one(&mut conn).await.ok();
        let _ = conn.close().await;
        value
    })
}

fn subscriber_count(url: &str) -> i64 {
    scalar(url, "SELECT COUNT(*) FROM subscribers", None).unwrap_or(0)
}

/// Subscribers whose history is not exactly one entry (a torn row).
fn torn(url: &str) -> i64 {
    scalar(
        url,
        "SELECT COUNT(*) FROM subscribers s WHERE (SELECT COUNT(*) \
         FROM subscriber_history h WHERE h.subscriber_id = s.id) <> 1",
        None,
    )
    .unwrap()
}

/// A plain CSV of `n` addresses, `prefix{i}@example.org`.
fn plain_csv(n: usize, prefix: &str) -> Vec<u8> {
    (1..=n)
        .map(|i| format!("{prefix}{i}@example.org\n"))
        .collect::<String>()
        .into_bytes()
}

fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_zip_entry_over_the_unzipped_limit_is_refused_before_any_row() {
    let env = Env::new();
    let csv = plain_csv(25_000, "reader-with-a-long-local-part-");
    assert!(csv.len() > 1 << 20);
    let path = env.dir.path().join("big.zip");
    write_zip(&path, &[("subscribed_x.csv", csv.clone())]);
    let zip = path.to_str().unwrap();
    let args = [
        "subscribers",
        "import",
        zip,
        "--format",
        "plain",
        "--max-unzipped-mib",
    ];
    let out = env.run(&[&args[..], &["1"]].concat());
    assert_eq!(out.status.code(), Some(1));
    let expected = format!(
        "`big.zip/subscribed_x.csv` unpacks to {} bytes, over the limit of 1 MiB for one \
         file in a zip (is this a zip bomb?)",
        csv.len()
    );
    assert!(stderr(&out).contains(&expected), "{}", stderr(&out));
    assert_eq!(subscriber_count(&env.db_url()), 0);
    let out = env.ok(&[&args[..], &["2"]].concat());
    assert_eq!(
        summary(&out),
        [25_000, 0, 0, 0, 0],
        "a raised limit lets it in"
    );
}

#[test]
fn a_zip_whose_header_understates_an_entry_is_refused_before_writing() {
    let env = Env::new();
    let path = env.dir.path().join("liar.zip");
    write_zip(&path, &[("subscribed_x.csv", plain_csv(20_000, "r"))]);
    // Claim 1,000 bytes unpacked, in the local and the central header.
    let mut bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..4], b"PK\x03\x04");
    bytes[22..26].copy_from_slice(&1000u32.to_le_bytes());
    let central = bytes.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    bytes[central + 24..central + 28].copy_from_slice(&1000u32.to_le_bytes());
    std::fs::write(&path, bytes).unwrap();
    let out = env.run(&["subscribers", "import", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("cannot read `liar.zip/subscribed_x.csv`") && err.contains("declared"),
        "{err}"
    );
    assert_eq!(subscriber_count(&env.db_url()), 0);
}

#[test]
fn a_zip_with_more_entries_than_the_limit_is_refused() {
    let env = Env::new();
    let entries: Vec<(String, Vec<u8>)> = (0..1001)
        .map(|i| (format!("readme_{i}.txt"), b"x".to_vec()))
        .collect();
    let entries: Vec<(&str, Vec<u8>)> = entries
        .iter()
        .map(|(n, b)| (n.as_str(), b.clone()))
        .collect();
    let path = env.dir.path().join("many.zip");
    write_zip(&path, &entries);
    let out = env.run(&["subscribers", "import", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("holds 1001 entries, over the limit of 1000"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_killed_import_leaves_a_consistent_store_and_a_rerun_completes_it() {
    let env = Env::new();
    let n = 60_000;
    let path = env.write("list.csv", &plain_csv(n, "reader"));
    let args = ["subscribers", "import", path.to_str().unwrap()];
    let mut child = env
        .command(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = env.db_url();
    wait_until("the first chunk", || subscriber_count(&url) > 0);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let kept = subscriber_count(&url);
    assert!(kept > 0 && kept < n as i64, "killed mid-way: {kept} of {n}");
    assert_eq!(torn(&url), 0, "every kept subscriber has its history");

    let out = env.ok(&args);
    let kept = kept as u64;
    assert_eq!(summary(&out), [n as u64 - kept, 0, kept, 0, 0]);
    assert_eq!(subscriber_count(&url), n as i64);
    assert_eq!(torn(&url), 0, "no row written twice");
}

#[test]
fn unsubscribes_and_other_writes_are_answered_and_durable_while_a_big_import_runs() {
    let mut p = Project::new(100, free_port());
    let port = web::configure(&mut p);
    let _server = Server::start(&p, port, &[]);
    let url = p
        .env
        .iter()
        .find(|(k, _)| k == "MAILROOM_DATABASE__URL")
        .unwrap()
        .1
        .clone();
    let rows = 200_000;
    std::fs::write(p.path("big.csv"), plain_csv(rows, "import")).unwrap();
    let mut import = p.spawn(&["subscribers", "import", "big.csv"]);
    wait_until("the import's first chunk", || subscriber_count(&url) > 100);

    let id_of = |who: &str| {
        scalar(
            &url,
            "SELECT id FROM subscribers WHERE email = ?",
            Some(who),
        )
        .unwrap()
    };
    let ids: Vec<i64> = (1..=100).map(|i| id_of(&email(i))).collect();
    let answers: Vec<(u16, bool)> = std::thread::scope(|s| {
        let workers: Vec<_> = ids
            .chunks(10)
            .map(|chunk| {
                let url = url.clone();
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|&id| {
                            let tok = token::sign(
                                SECRET.as_bytes(),
                                Purpose::Unsubscribe,
                                SubscriberId::new(id),
                            );
                            let path = format!("/unsubscribe/{tok}");
                            let reply = web::post(port, &path, "List-Unsubscribe=One-Click");
                            let status = scalar(
                                &url,
                                "SELECT CASE status WHEN 'unsubscribed' THEN 1 ELSE 0 END \
                                 FROM subscribers WHERE id = CAST(? AS INTEGER)",
                                Some(&id.to_string()),
                            );
                            (reply.status, status == Some(1))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    // A writer outside the web service (the CLI) gets its turn too.
    let added = p.run(&["subscribers", "add", "late@example.org"]);
    let still_running = import.try_wait().unwrap().is_none();
    assert!(added.status.success(), "{}", stderr(&added));
    assert!(
        answers.iter().all(|&(status, _)| status == 200),
        "{answers:?}"
    );
    assert!(
        answers.iter().all(|&(_, durable)| durable),
        "every answered unsubscribe is in the store at once"
    );
    assert!(
        still_running,
        "the import outlasts the unsubscribes and the add"
    );

    let out = import.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(summary(&stdout), [rows as u64, 0, 0, 0, 0]);
    let unsubscribed = scalar(
        &url,
        "SELECT COUNT(*) FROM subscribers WHERE status = 'unsubscribed'",
        None,
    );
    assert_eq!(unsubscribed, Some(100));
    assert_eq!(subscriber_count(&url), 100 + rows as i64 + 1);
}
