//! DKIM end to end, checked by Debian's python3-dkim (not our code): every
//! message of a real send, a test send, `render`'s .eml, a confirmation
//! from `serve`, and a message read back over IMAP from a real Postfix +
//! Dovecot; one changed byte fails; `mailroom dkim keygen` and its record.
use std::os::unix::fs::PermissionsExt;

use crate::common::dkim::{self, DOMAIN, assert_verifies, verify};
use crate::common::mta::Mta;
use crate::common::project::{Project, clean_issue, stderr};
use crate::common::sink::{Sink, free_port};
use crate::common::web::{self, Server, post};

/// A project with `n` subscribers signing with the fixture keys, and a sink.
fn signing(n: usize, ed25519: bool) -> (Project, Sink, Vec<(String, String)>) {
    let port = free_port();
    let mut p = Project::new(n, port);
    let records = dkim::configure(&mut p, ed25519);
    let sink = Sink::start(p.dir.path(), "dump", port, &[]);
    (p, sink, records)
}

/// The messages the sink got, with CRLF line ends (its dump files have LF).
fn received(sink: &Sink) -> Vec<(String, Vec<u8>)> {
    sink.messages()
        .into_iter()
        .map(|(r, raw)| {
            let text = String::from_utf8(raw).expect("an ASCII message");
            (
                r,
                text.replace("\r\n", "\n")
                    .replace('\n', "\r\n")
                    .into_bytes(),
            )
        })
        .collect()
}

fn header<'a>(raw: &'a [u8], name: &str) -> &'a str {
    let text = std::str::from_utf8(raw).expect("ASCII headers");
    let head = &text[..text.find("\r\n\r\n").expect("a header block")];
    head.split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} header"))
}

#[test]
fn every_message_of_a_real_send_and_a_test_send_is_signed_twice_and_verifies() {
    let (p, sink, records) = signing(3, true);
    let out = p.send(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let issue = clean_issue();
    let test = p.run(&["send", issue.to_str().unwrap(), "--test"]);
    assert!(test.status.success(), "{}", stderr(&test));
    let got = received(&sink);
    assert_eq!(got.len(), 4);
    for (rcpt, raw) in &got {
        assert_verifies(raw, &records, 2);
        let sig = String::from_utf8_lossy(raw);
        assert!(
            sig.starts_with("DKIM-Signature: v=1; a=rsa-sha256;"),
            "{rcpt}"
        );
    }
    let (test_msgs, real): (Vec<_>, Vec<_>) =
        got.iter().partition(|(r, _)| r == "preview@preview.test");
    assert_eq!(test_msgs.len(), 1);
    assert_eq!(
        header(&test_msgs[0].1, "From"),
        header(&real[0].1, "From"),
        "a test send comes from the same address (and domain) as the real one"
    );
    assert!(header(&real[0].1, "From").ends_with(&format!("@{DOMAIN}>")));
}

#[test]
fn one_changed_byte_in_a_signed_header_or_the_body_fails_verification() {
    let (p, sink, records) = signing(1, false);
    assert!(p.send(&[]).status.success());
    let raw = received(&sink).remove(0).1;
    assert_verifies(&raw, &records, 1);
    let text = String::from_utf8(raw.clone()).unwrap();
    let body_at = text.find("\r\n\r\n").unwrap() + 4;
    let html_at = body_at + text[body_at..].find("<html").expect("an HTML part");
    let edits = [
        ("Subject", text.find("Subject: ").unwrap() + 9),
        ("To", text.find("\nTo: ").unwrap() + 5),
        (
            "List-Unsubscribe",
            text.find("List-Unsubscribe: <").unwrap() + 30,
        ),
        ("List-Unsubscribe-Post", text.find("One-Click").unwrap()),
        (
            "the text part",
            body_at + text[body_at..].find("Rust").unwrap(),
        ),
        ("the HTML part", html_at + 2),
    ];
    for (what, at) in edits {
        let mut bad = raw.clone();
        bad[at] = if bad[at] == b'x' { b'y' } else { b'x' };
        let (ok, report) = verify(&bad, &records);
        assert!(!ok, "a changed byte in {what} still verified: {report}");
    }
    let second_from = text.replacen("From: ", "From: Evil <evil@example.net>\r\nFrom: ", 1);
    let (ok, report) = verify(second_from.as_bytes(), &records);
    assert!(!ok, "an added From (oversigned) still verified: {report}");
}

#[test]
fn the_rendered_eml_is_signed_and_a_wrong_key_is_refused_naming_the_file() {
    let mut p = Project::new(0, free_port());
    let records = dkim::configure(&mut p, false);
    let issue = clean_issue();
    let out = p.run(&["render", issue.to_str().unwrap(), "--out", "out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let eml = std::fs::read_dir(p.path("out"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|f| f.extension().is_some_and(|x| x == "eml"))
        .expect("an .eml");
    assert_verifies(&std::fs::read(eml).unwrap(), &records, 1);

    let ed = dkim::key_path("ed25519.pem").display().to_string();
    p.set("MAILROOM_DKIM__PRIVATE_KEY_FILE", &ed);
    let out = p.run(&["render", issue.to_str().unwrap(), "--out", "out"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("ed25519.pem") && err.contains("Ed25519"),
        "{err}"
    );
    p.set("MAILROOM_DKIM__PRIVATE_KEY_FILE", "missing.pem");
    let err = stderr(&p.run(&["render", issue.to_str().unwrap(), "--out", "out"]));
    assert!(
        err.contains("cannot read `[dkim] private_key_file`") && err.contains("missing.pem`"),
        "{err}"
    );
}

#[test]
fn a_key_written_into_the_config_file_is_refused() {
    let p = Project::new(0, free_port());
    let config = std::fs::read_to_string(p.path("config.toml")).unwrap();
    let with_key = format!(
        "{config}\n[dkim]\ndomain = \"{DOMAIN}\"\nselector = \"rsa\"\nprivate_key = \"-----BEGIN\"\n"
    );
    std::fs::write(p.path("config.toml"), with_key).unwrap();
    let err = stderr(&p.run(&["render", clean_issue().to_str().unwrap()]));
    assert!(err.contains("MAILROOM_DKIM__PRIVATE_KEY"), "{err}");
    assert!(!err.contains("-----BEGIN"), "{err}");
}

#[test]
fn a_test_send_read_back_over_imap_from_postfix_and_dovecot_still_verifies() {
    let mta = Mta::start();
    let mut p = Project::new(0, mta.smtp_port);
    let records = dkim::configure(&mut p, true);
    p.set("MAILROOM_SMTP__TLS", "starttls");
    p.set("MAILROOM_SMTP__CA_FILE", &mta.cert().display().to_string());
    let issue = clean_issue();
    let out = p.run(&[
        "send",
        issue.to_str().unwrap(),
        "--test",
        "preview@example.test",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    mta.wait_for(1);
    let fetched = mta.fetch_all();
    assert_eq!(fetched.len(), 1);
    assert!(String::from_utf8_lossy(&fetched[0]).starts_with("Return-Path:"));
    assert_verifies(&fetched[0], &records, 2);
}

#[test]
fn confirmation_emails_from_serve_are_signed_and_verify() {
    let smtp = free_port();
    let mut p = Project::new(0, smtp);
    let records = dkim::configure(&mut p, false);
    let port = web::configure(&mut p);
    let sink = Sink::start(p.dir.path(), "dump", smtp, &[]);
    let mut server = Server::start(&p, port, &[]);
    let answer = post(port, "/subscribe", "email=new%40example.com&website=");
    assert_eq!(answer.status, 200);
    // Confirmations go out from the store's queue; a stop leaves unsent ones queued.
    crate::common::web_conns::wait_until(
        std::time::Duration::from_secs(30),
        "the confirmation arrives",
        || !received(&sink).is_empty(),
    );
    assert_eq!(server.stop().code(), Some(0));
    let got = received(&sink);
    assert_eq!(got.len(), 1);
    assert!(header(&got[0].1, "Subject").starts_with("Confirm"));
    assert_verifies(&got[0].1, &records, 1);
}

#[test]
fn keygen_writes_an_owner_only_key_never_overwrites_and_its_record_verifies() {
    let mut p = Project::new(0, free_port());
    let keygen = |p: &Project, args: &[&str]| {
        let mut all = vec!["dkim", "keygen", "--domain", DOMAIN];
        all.extend_from_slice(args);
        p.run(&all)
    };
    let out = keygen(&p, &["--selector", "s2025", "--out", "k.pem"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mode = std::fs::metadata(p.path("k.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let zone = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(zone.starts_with(&format!(
        "s2025._domainkey.{DOMAIN}. IN TXT ( \"v=DKIM1; k=rsa; p="
    )));
    let strings: Vec<&str> = zone.split('"').skip(1).step_by(2).collect();
    assert!(
        strings.len() >= 2 && strings.iter().all(|s| s.len() <= 255),
        "{zone}"
    );
    let value: String = strings.concat();
    assert!(stderr(&out).contains("private_key_file = \"k.pem\""));

    let before = std::fs::read(p.path("k.pem")).unwrap();
    let again = keygen(&p, &["--selector", "s2025", "--out", "k.pem"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    assert_eq!(std::fs::read(p.path("k.pem")).unwrap(), before, "untouched");

    let record = p.run(&[
        "dkim",
        "record",
        "--key",
        "k.pem",
        "--selector",
        "s2025",
        "--domain",
        DOMAIN,
    ]);
    assert_eq!(String::from_utf8_lossy(&record.stdout), zone);

    let ed = keygen(&p, &["--selector", "ed", "--algorithm", "ed25519"]);
    assert!(ed.status.success(), "{}", stderr(&ed));
    assert!(String::from_utf8_lossy(&ed.stdout).contains("k=ed25519; p="));
    assert!(p.path("dkim-ed.pem").exists());

    p.set("MAILROOM_DKIM__DOMAIN", DOMAIN);
    p.set("MAILROOM_DKIM__SELECTOR", "s2025");
    let key = p.path("k.pem").display().to_string();
    p.set("MAILROOM_DKIM__PRIVATE_KEY_FILE", &key);
    let issue = clean_issue();
    let out = p.run(&["render", issue.to_str().unwrap(), "--out", "out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let eml = std::fs::read_dir(p.path("out"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|f| f.extension().is_some_and(|x| x == "eml"))
        .unwrap();
    let records = [(format!("s2025._domainkey.{DOMAIN}"), value)];
    assert_verifies(&std::fs::read(eml).unwrap(), &records, 1);
    let from_config = p.run(&["dkim", "record"]);
    assert_eq!(String::from_utf8_lossy(&from_config.stdout), zone);
}
