//! `mailroom inbound`: the mailto side of List-Unsubscribe, from a pipe and
//! from a Maildir, with messages taken from a real send.

use std::io::Write;
use std::process::Stdio;

use crate::common::project::{Project, email, stderr};
use crate::common::sink::{Sink, free_port};
use crate::common::web::show;

/// A reply to the List-Unsubscribe mailto of `raw`, as a mail client writes it.
fn mailto_reply(raw: &[u8], from: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(raw);
    let start = text.find("?subject=").expect("a mailto subject") + "?subject=".len();
    let subject: String = text[start..].chars().take_while(|c| *c != '>').collect();
    format!(
        "From: {from}\r\nTo: unsubscribe@newsletter.this-week-in-rust.org\r\n\
         Subject: {subject}\r\nMessage-ID: <x@{from}>\r\n\r\nplease\r\n"
    )
    .into_bytes()
}

fn sent(n: usize) -> (Project, Vec<(String, Vec<u8>)>) {
    let port = free_port();
    let p = Project::new(n, port);
    let sink = Sink::start(p.dir.path(), "dump", port, &[]);
    let out = p.send(&[]);
    assert!(out.status.success(), "send failed: {}", stderr(&out));
    let mut got = sink.messages();
    got.sort();
    (p, got)
}

fn pipe(p: &Project, message: &[u8]) -> std::process::Output {
    let mut child = p
        .command(&["inbound"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn inbound");
    child.stdin.take().unwrap().write_all(message).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_piped_mailto_reply_unsubscribes_its_sender_once() {
    let (p, got) = sent(2);
    let (rcpt, raw) = &got[0];
    let reply = mailto_reply(raw, rcpt);
    let out = pipe(&p, &reply);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shown = show(&p, rcpt);
    assert_eq!(shown["status"], "unsubscribed");
    let last = shown["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["source"], "mailto");
    let other = &got[1].0;
    assert_eq!(show(&p, other)["status"], "subscribed");

    let again = pipe(&p, &reply);
    assert_eq!(again.status.code(), Some(0), "a repeat is harmless");
    assert!(
        stderr(&again).contains("already handled by an earlier run (unsubscribe)"),
        "{}",
        stderr(&again)
    );
    let log = stderr(&out) + &stderr(&again);
    assert!(
        !log.contains(rcpt.as_str()),
        "no address in the report: {log}"
    );
}

#[test]
fn a_piped_message_without_a_valid_token_is_refused_as_data_error() {
    let (p, got) = sent(1);
    let mut forged = mailto_reply(&got[0].1, &email(1));
    let text = String::from_utf8(forged.clone()).unwrap();
    let at = text.find("unsubscribe-").unwrap() + "unsubscribe-".len();
    forged[at] = if forged[at] == b'2' { b'3' } else { b'2' };
    for junk in [forged, b"Subject: hello\r\n\r\nunsubscribe me\r\n".to_vec()] {
        let out = pipe(&p, &junk);
        assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
        assert!(stderr(&out).contains("left in place"));
    }
    assert_eq!(show(&p, &email(1))["status"], "subscribed");
}

#[test]
fn a_maildir_run_uses_what_it_can_and_leaves_the_rest_in_new() {
    let (p, got) = sent(3);
    let dir = p.path("Maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    std::fs::write(dir.join("new/1.a.host"), mailto_reply(&got[0].1, &got[0].0)).unwrap();
    std::fs::write(
        dir.join("cur/2.b.host:2,"),
        mailto_reply(&got[1].1, &got[1].0),
    )
    .unwrap();
    std::fs::write(
        dir.join("new/3.c.host"),
        b"Subject: out of office\r\n\r\naway\r\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("new/4.d.host"),
        b"Subject: hello\r\n\r\nthanks\r\n",
    )
    .unwrap();
    let out = p.run(&["inbound", "--maildir", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert_eq!(show(&p, &got[0].0)["status"], "unsubscribed");
    assert_eq!(show(&p, &got[1].0)["status"], "unsubscribed");
    assert_eq!(show(&p, &got[2].0)["status"], "subscribed");
    let mut cur: Vec<String> = std::fs::read_dir(dir.join("cur"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    cur.sort();
    assert_eq!(cur, ["1.a.host:2,S", "2.b.host:2,S", "3.c.host:2,S"]);
    assert!(
        dir.join("new/4.d.host").exists(),
        "the unusable message stays"
    );

    let rerun = p.run(&["inbound", "--maildir", dir.to_str().unwrap()]);
    assert_eq!(rerun.status.code(), Some(65));
    assert!(
        stderr(&rerun).contains("1 message in"),
        "{}",
        stderr(&rerun)
    );
}
