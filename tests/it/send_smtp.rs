//! `mailroom send` through a real SMTP peer (Postfix's smtp-sink on
//! 127.0.0.1): every recipient exactly once, personalized, resumable.

use std::collections::HashSet;

use crate::common::project::{Project, SECRET, email, report, stderr};
use crate::common::sink::{Sink, free_port, tally};
use mail_parser::MessageParser;
use mailroom::token::{self, Purpose};

/// The https unsubscribe URL in a message's List-Unsubscribe header.
fn unsubscribe_url(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let start = text.find("List-Unsubscribe: <").expect("List-Unsubscribe") + 19;
    let end = start + text[start..].find('>').unwrap();
    text[start..end].to_owned()
}

#[test]
fn every_subscriber_gets_exactly_one_personalized_copy_and_a_rerun_sends_nothing() {
    let port = free_port();
    let mut p = Project::new(60, port);
    p.set("MAILROOM_SEND__MESSAGES_PER_CONNECTION", "7");
    let sink = Sink::start(p.dir.path(), "dump", port, &[]);
    let out = p.send(&[]);
    assert!(out.status.success(), "send failed: {}", stderr(&out));

    let got = sink.messages();
    let counts = tally([got.as_slice()]);
    let expected: HashSet<String> = (1..=60).map(email).collect();
    assert_eq!(counts.keys().cloned().collect::<HashSet<_>>(), expected);
    assert!(counts.values().all(|&n| n == 1), "duplicates: {counts:?}");

    let mut texts = HashSet::new();
    let mut htmls = HashSet::new();
    let mut ids = HashSet::new();
    for (rcpt, raw) in &got {
        let msg = MessageParser::default().parse(raw).expect("parses");
        let to = msg
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap();
        assert_eq!(to, rcpt, "the To header names the envelope recipient");
        let url = unsubscribe_url(raw);
        let tok = url.rsplit('/').next().unwrap();
        let id = token::verify(SECRET.as_bytes(), Purpose::Unsubscribe, tok)
            .unwrap_or_else(|| panic!("`{tok}` does not verify"));
        let n: i64 = rcpt
            .trim_start_matches("user")
            .split('@')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(id.get(), n, "the token names the recipient's subscriber id");
        let text = msg.body_text(0).unwrap();
        let html = msg.body_html(0).unwrap();
        assert!(
            text.contains(&url) && html.contains(&url),
            "the body links its own URL"
        );
        texts.insert(text.replace(&url, "URL"));
        htmls.insert(html.replace(&url, "URL"));
        ids.insert(msg.message_id().unwrap().to_owned());
    }
    assert_eq!(
        texts.len(),
        1,
        "text bodies differ beyond the unsubscribe URL"
    );
    assert_eq!(
        htmls.len(),
        1,
        "html bodies differ beyond the unsubscribe URL"
    );
    assert_eq!(ids.len(), 60, "each recipient has its own Message-ID");

    let again = p.send(&["--format", "json"]);
    assert!(again.status.success(), "rerun failed: {}", stderr(&again));
    let report = report(&again);
    assert_eq!(report["this_run"]["sent"], 0);
    assert_eq!(sink.messages().len(), 60, "the rerun resent nothing");
    assert_eq!(p.status()["counts"]["sent"], 60);
}

#[test]
fn the_outbox_transport_writes_one_eml_per_subscriber_and_resumes() {
    let mut p = Project::new(25, free_port());
    p.set("MAILROOM_SEND__TRANSPORT", "outbox");
    let out = p.send(&[]);
    assert!(out.status.success(), "send failed: {}", stderr(&out));
    let dir = p.path("outbox").join("620");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 25, "{files:?}");
    let mut to = HashSet::new();
    for f in &files {
        assert_eq!(f.extension().unwrap(), "eml", "no temporary files are left");
        let raw = std::fs::read(f).unwrap();
        let msg = MessageParser::default().parse(&raw).unwrap();
        to.insert(
            msg.to()
                .unwrap()
                .first()
                .unwrap()
                .address()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(to, (1..=25).map(email).collect());
    let again = p.send(&["--format", "json"]);
    let report = report(&again);
    assert_eq!(report["this_run"]["sent"], 0, "{}", stderr(&again));
    assert_eq!(report["campaign"]["sent"], 25);
}

#[test]
fn a_checker_error_refuses_the_send_and_names_it() {
    let port = free_port();
    let p = Project::new(3, port);
    let issue = crate::common::project::seed_path("003");
    let out = p.run(&["send", issue.to_str().unwrap(), "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("refusing to mail subscribers") && err.contains("empty-section"),
        "{err}"
    );
    let status = p.run(&["status"]);
    assert!(status.status.success(), "{}", stderr(&status));
    assert!(
        stderr(&status).contains("no campaigns yet"),
        "no campaign was created"
    );
}

#[test]
fn a_send_without_a_token_secret_says_how_to_set_one() {
    let port = free_port();
    let mut p = Project::new(3, port);
    p.env.retain(|(k, _)| k != "MAILROOM_WEB__SECRET");
    let config = std::fs::read_to_string(p.path("config.toml")).unwrap();
    let config = config.replace("secret_file = \"mailroom.secret\"", "");
    std::fs::write(p.path("config.toml"), config).unwrap();
    let out = p.send(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("MAILROOM_WEB__SECRET"),
        "{}",
        stderr(&out)
    );
}
