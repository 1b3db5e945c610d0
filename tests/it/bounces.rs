//! Bounces and complaints after the send: every message leaves with its own
//! signed VERP envelope sender (what MAIL FROM `smtp-sink` saw), and DSNs
//! and ARF reports addressed to it, piped or swept from a Maildir, change
//! the subscriber and the ledger exactly once.
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use mailroom::domain::{EmailAddress, IssueNumber, SubscriberId};
use mailroom::token::Keyring;
use mailroom::token::verp::{self, Mailing};

use crate::common::project::{Project, SECRET, clean_issue, stderr};
use crate::common::sink::{Sink, free_port};
use crate::common::web::{self, Server, post_with, show};

const BOUNCES: &str = "bounces@bounces.test";

/// (envelope sender, envelope recipient, message) of every dumped session.
fn envelopes(dump: &Path) -> Vec<(String, String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dump).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let arg = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|a| a.split_whitespace().next())
                .map(|a| a.trim_matches(['<', '>']).to_owned())
        };
        if let (Some(from), Some(to)) = (arg("X-Mail-Args: "), arg("X-Rcpt-Args: ")) {
            out.push((from, to, bytes));
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

fn tag_of(sender: &str) -> Option<verp::VerpTag> {
    let keys = Keyring::new(SECRET.as_bytes().to_vec(), vec![]);
    verp::parse_address(&keys, &EmailAddress::parse(BOUNCES).unwrap(), sender)
}

/// A project of `n` subscribers with `[bounces] address` set, after a send
/// to `smtp-sink`: (project, envelopes by recipient).
pub fn sent(n: usize) -> (Project, Vec<(String, String, Vec<u8>)>) {
    let port = free_port();
    let mut p = Project::new(n, port);
    p.set("MAILROOM_BOUNCES__ADDRESS", BOUNCES);
    let sink = Sink::start(p.dir.path(), "dump", port, &[]);
    let out = p.send(&[]);
    assert!(out.status.success(), "send failed: {}", stderr(&out));
    let got = envelopes(&sink.dump);
    assert_eq!(got.len(), n);
    (p, got)
}

fn id_of(p: &Project, address: &str) -> i64 {
    show(p, address)["id"].as_i64().expect("an id")
}

fn inbound(p: &Project, args: &[&str], message: &[u8]) -> std::process::Output {
    let mut all = vec!["inbound"];
    all.extend_from_slice(args);
    let mut child = p
        .command(&all)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn inbound");
    child.stdin.take().unwrap().write_all(message).unwrap();
    child.wait_with_output().unwrap()
}

/// A Postfix-style DSN delivered to `to`, about `rcpt`, with `status`.
pub fn dsn(to: &str, rcpt: &str, action: &str, status: &str, message_id: &str) -> Vec<u8> {
    format!(
        "From: MAILER-DAEMON@mx.example.com\r\nTo: {to}\r\nSubject: Undelivered Mail\r\n\
         Message-ID: <dsn-{status}-{message_id}@mx>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nsorry\r\n\
         --b\r\nContent-Type: message/delivery-status\r\n\r\n\
         Reporting-MTA: dns; mx.example.com\r\n\r\n\
         Final-Recipient: rfc822; {rcpt}\r\nAction: {action}\r\nStatus: {status}\r\n\
         Diagnostic-Code: smtp; 550 {status} <{rcpt}>: no such user\r\n\r\n\
         --b\r\nContent-Type: text/rfc822-headers\r\n\r\n\
         Message-ID: {message_id}\r\nSubject: This Week in Rust 620\r\n\r\n--b--\r\n"
    )
    .into_bytes()
}

pub fn message_id(raw: &[u8]) -> String {
    let msg = mail_parser::MessageParser::default().parse(raw).unwrap();
    format!("<{}>", msg.message_id().expect("a Message-ID"))
}

fn last_history(p: &Project, address: &str) -> serde_json::Value {
    show(p, address)["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone()
}

#[test]
fn every_campaign_message_leaves_with_a_signed_verp_sender_naming_only_issue_and_subscriber() {
    let (p, got) = sent(3);
    for (from, to, _) in &got {
        assert!(from.starts_with("bounces+620-"), "{from}");
        assert!(from.ends_with("@bounces.test"), "{from}");
        assert!(!from.contains(to.split('@').next().unwrap()), "{from}");
        let tag = tag_of(from).expect("a genuine tag");
        let want = Mailing::Campaign(
            IssueNumber::new(620).unwrap(),
            SubscriberId::new(id_of(&p, to)),
        );
        assert_eq!(tag.mailing(), want, "{from} for {to}");
    }
    let forged = got[0].0.replacen("620-", "621-", 1);
    assert_eq!(
        tag_of(&forged),
        None,
        "another issue in the tag does not verify"
    );

    let port: u16 = p
        .env
        .iter()
        .find(|(k, _)| k == "MAILROOM_SMTP__PORT")
        .unwrap()
        .1
        .parse()
        .unwrap();
    let sink = Sink::start(p.dir.path(), "test-dump", port, &[]);
    let issue = clean_issue();
    let out = p.run(&[
        "send",
        issue.to_str().unwrap(),
        "--test",
        "editor@example.org",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let test = envelopes(&sink.dump);
    let tag = tag_of(&test[0].0).expect("a test send is tagged too");
    assert_eq!(
        tag.mailing(),
        Mailing::TestSend(IssueNumber::new(620).unwrap())
    );
}

#[test]
fn a_confirmation_email_from_serve_leaves_with_its_own_verp_sender() {
    let smtp = free_port();
    let mut p = Project::new(0, smtp);
    p.set("MAILROOM_BOUNCES__ADDRESS", BOUNCES);
    let port = web::configure(&mut p);
    let sink = Sink::start(p.dir.path(), "dump", smtp, &[]);
    let mut server = Server::start(&p, port, &[]);
    let reply = post_with(
        port,
        "/subscribe",
        "email=new%40example.com&name=&website=",
        &[],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while envelopes(&sink.dump).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no confirmation arrived"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server.stop();
    let (from, to, _) = envelopes(&sink.dump).remove(0);
    assert_eq!(to, "new@example.com");
    let id = SubscriberId::new(id_of(&p, "new@example.com"));
    assert_eq!(
        tag_of(&from).expect("a genuine tag").mailing(),
        Mailing::Confirmation(id)
    );
}

#[test]
fn a_late_hard_bounce_marks_the_subscriber_bounced_once_and_shows_on_the_ledger_row() {
    let (p, got) = sent(3);
    let (verp, rcpt, raw) = &got[0];
    let report = dsn(verp, rcpt, "failed", "5.1.1", &message_id(raw));
    let out = inbound(&p, &[], &report);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("marked bounced"), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains(rcpt.as_str()),
        "no address in the report"
    );
    assert_eq!(show(&p, rcpt)["status"], "bounced");
    let last = last_history(&p, rcpt);
    assert_eq!(last["source"], "bounce:620");
    assert!(last["reason"].as_str().unwrap().contains("5.1.1"), "{last}");
    assert_eq!(show(&p, &got[1].1)["status"], "subscribed");

    let rows = p.run(&["status", "620", "--recipients", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_slice(&rows.stdout).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["email"] == rcpt.as_str())
        .unwrap();
    let late = row["late_bounce"]
        .as_str()
        .expect("the DSN on the ledger row");
    assert!(late.starts_with("5.1.1 smtp; 550 5.1.1"), "{late}");

    let again = inbound(&p, &[], &report);
    assert_eq!(again.status.code(), Some(0));
    assert!(
        stderr(&again).contains("already handled"),
        "{}",
        stderr(&again)
    );
    let history = show(&p, rcpt)["history"].as_array().unwrap().len();
    assert_eq!(history, 2, "subscribed, then bounced once");

    let status = p.run(&["status", "620"]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains("1 hard (33.33%)"), "{text}");
    assert!(
        stderr(&status).contains("hard bounces are 33.33%"),
        "{}",
        stderr(&status)
    );
}

#[test]
fn soft_bounces_add_up_to_a_hard_bounce_at_the_configured_limit() {
    let (mut p, got) = sent(2);
    p.set("MAILROOM_BOUNCES__SOFT_BOUNCE_LIMIT", "2");
    let (verp, rcpt, raw) = &got[1];
    let id = message_id(raw);
    let first = inbound(&p, &[], &dsn(verp, rcpt, "delayed", "4.4.1", &id));
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(show(&p, rcpt)["status"], "subscribed");
    let second = inbound(&p, &[], &dsn(verp, rcpt, "failed", "4.2.2", &id));
    assert!(
        stderr(&second).contains("2 soft bounces"),
        "{}",
        stderr(&second)
    );
    assert_eq!(show(&p, rcpt)["status"], "bounced");
    let reason = last_history(&p, rcpt)["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        reason.starts_with("2 soft bounces within 30 days"),
        "{reason}"
    );
    let status = p.status();
    let b = &status["bounces"];
    assert_eq!(
        (b["soft_bounces"].as_u64(), b["hard_bounces"].as_u64()),
        (Some(2), Some(1)),
        "{b}"
    );
}

#[test]
fn a_complaint_suppresses_the_subscriber_and_says_so_in_the_history() {
    let (p, got) = sent(2);
    let (verp, rcpt, raw) = &got[0];
    let arf = format!(
        "From: feedback@fbl.example.net\r\nTo: {BOUNCES}\r\nSubject: abuse report\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nspam report\r\n\
         --b\r\nContent-Type: message/feedback-report\r\n\r\n\
         Feedback-Type: abuse\r\nUser-Agent: test-fbl/1.0\r\nVersion: 1\r\n\
         Original-Mail-From: <{verp}>\r\n\r\n\
         --b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {}\r\n\r\n--b--\r\n",
        message_id(raw)
    );
    let out = inbound(&p, &[], arf.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(show(&p, rcpt)["status"], "complained");
    assert_eq!(last_history(&p, rcpt)["source"], "complaint:620");
    let status = p.run(&["status", "620"]);
    assert!(
        stderr(&status).contains("complaints are 50.00%"),
        "{}",
        stderr(&status)
    );
}

#[test]
fn without_a_tag_the_address_counts_only_with_the_message_id_mailroom_gave_it() {
    let (p, got) = sent(2);
    let (_, rcpt, raw) = &got[0];
    let other_id = message_id(&got[1].2);
    let wrong = inbound(&p, &[], &dsn(BOUNCES, rcpt, "failed", "5.1.1", &other_id));
    assert_eq!(wrong.status.code(), Some(65), "{}", stderr(&wrong));
    assert!(
        stderr(&wrong).contains("left in place"),
        "{}",
        stderr(&wrong)
    );
    assert_eq!(show(&p, rcpt)["status"], "subscribed");
    let right = inbound(
        &p,
        &[],
        &dsn(BOUNCES, rcpt, "failed", "5.1.1", &message_id(raw)),
    );
    assert_eq!(right.status.code(), Some(0), "{}", stderr(&right));
    assert_eq!(show(&p, rcpt)["status"], "bounced");
}

fn maildir(p: &Project) -> std::path::PathBuf {
    let dir = p.path("Maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    dir
}

fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

#[test]
fn a_maildir_sweep_applies_bounces_ignores_vacations_keeps_the_rest_and_a_rerun_applies_nothing() {
    let (p, got) = sent(3);
    let dir = maildir(&p);
    let (verp, rcpt, raw) = &got[0];
    std::fs::write(
        dir.join("new/1.dsn"),
        dsn(verp, rcpt, "failed", "5.1.1", &message_id(raw)),
    )
    .unwrap();
    let vacation =
        "From: a@x.org\r\nAuto-Submitted: auto-replied\r\nSubject: Out of office\r\n\r\naway\r\n";
    std::fs::write(dir.join("new/2.vacation"), vacation).unwrap();
    std::fs::write(
        dir.join("new/3.person"),
        "From: a@x.org\r\nSubject: hello\r\n\r\nthanks!\r\n",
    )
    .unwrap();
    let arg = dir.to_str().unwrap();

    let out = p.run(&["inbound", "--maildir", arg]);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(65),
        "a message was left in place: {err}"
    );
    assert!(err.contains("3 messages in"), "{err}");
    assert!(err.contains("1 hard bounce (1 marked bounced)"), "{err}");
    assert!(err.contains("1 ignored, 1 left in place"), "{err}");
    assert_eq!(show(&p, rcpt)["status"], "bounced");
    assert_eq!(names(&dir.join("cur")), ["1.dsn:2,S", "2.vacation:2,S"]);
    assert_eq!(
        names(&dir.join("new")),
        ["3.person"],
        "never deleted, never moved"
    );

    // A crash after the store committed but before the files were marked:
    // the rerun finds them recorded and only marks them.
    for name in ["1.dsn:2,S", "2.vacation:2,S"] {
        let base = name.split(':').next().unwrap();
        std::fs::rename(dir.join("cur").join(name), dir.join("new").join(base)).unwrap();
    }
    let rerun = p.run(&["inbound", "--maildir", arg]);
    let err = stderr(&rerun);
    assert!(err.contains("0 hard bounces (0 marked bounced)"), "{err}");
    assert!(err.contains("1 left in place, 2 handled before"), "{err}");
    assert_eq!(names(&dir.join("cur")), ["1.dsn:2,S", "2.vacation:2,S"]);
    let history = show(&p, rcpt)["history"].as_array().unwrap().len();
    assert_eq!(history, 2, "the bounce is in the history once");
}

#[test]
fn a_late_bounce_applies_once_and_shows_in_status_on_postgres_too() {
    let port = free_port();
    let mut p = Project::postgres(2, port);
    p.set("MAILROOM_BOUNCES__ADDRESS", BOUNCES);
    let sink = Sink::start(p.dir.path(), "dump", port, &[]);
    let out = p.send(&[]);
    assert!(out.status.success(), "send failed: {}", stderr(&out));
    let got = envelopes(&sink.dump);
    let (verp, rcpt, raw) = &got[0];
    let report = dsn(verp, rcpt, "failed", "5.1.1", &message_id(raw));
    let out = inbound(&p, &[], &report);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(show(&p, rcpt)["status"], "bounced");
    assert_eq!(last_history(&p, rcpt)["source"], "bounce:620");
    let again = inbound(&p, &[], &report);
    assert!(
        stderr(&again).contains("already handled"),
        "{}",
        stderr(&again)
    );
    let status = p.status();
    assert_eq!(
        status["bounces"]["hard_bounces"].as_u64(),
        Some(1),
        "{status}"
    );
    let rows = p.run(&["status", "620", "--recipients", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_slice(&rows.stdout).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["email"] == rcpt.as_str())
        .unwrap();
    assert!(
        row["late_bounce"].as_str().unwrap().starts_with("5.1.1"),
        "{row}"
    );
}
