//! Durable confirmation emails, with real processes: `serve` with the relay
//! down (nothing listening), then an `smtp-sink` started on its port; a
//! restart in between; a flood beyond the queue's cap; 4xx and 5xx replies.
use std::collections::BTreeSet;
use std::time::Duration;

use crate::common::project::Project;
use crate::common::sink::{Sink, free_port};
use crate::common::web::{self, Reply, Server, confirm_link, path_of, post, post_with, show};
use crate::common::web_conns::{queue, wait_until};

const WAIT: Duration = Duration::from_secs(60);

/// A project mailing through SMTP on a port where nothing listens yet,
/// with confirmation retries every 0.2–1 s; (project, web port, SMTP port).
fn project() -> (Project, u16, u16) {
    let smtp = free_port();
    let mut p = Project::new(0, smtp);
    let port = web::configure(&mut p);
    p.set("MAILROOM_WEB__CONFIRM_RETRY_BASE_SECS", "0.2");
    p.set("MAILROOM_WEB__CONFIRM_RETRY_MAX_SECS", "1");
    (p, port, smtp)
}

/// POST `/subscribe` for `who`, as the visitor at `client` behind the
/// (trusted, loopback) proxy, so each has its own rate limit.
fn subscribe(port: u16, who: &str, client: &str) -> Reply {
    let body = format!("email={}&name=&website=", who.replace('@', "%40"));
    post_with(
        port,
        "/subscribe",
        &body,
        &[&format!("X-Forwarded-For: {client}")],
    )
}

fn recipients(sink: &Sink) -> Vec<String> {
    let mut r: Vec<String> = sink.messages().into_iter().map(|(to, _)| to).collect();
    r.sort();
    r
}

#[test]
fn with_the_relay_down_confirmations_stay_queued_across_a_restart_and_arrive_when_it_is_back() {
    let (p, port, smtp) = project();
    let mut server = Server::start(&p, port, &[]);
    assert_eq!(
        subscribe(port, "new@example.com", "203.0.113.1").status,
        200
    );
    wait_until(WAIT, "a failed attempt on record", || {
        queue(&p)
            .first()
            .is_some_and(|r| r.attempts >= 1 && r.last_error.is_some())
    });
    let row = queue(&p)[0].clone();
    assert!(!row.failed, "an unreachable relay is retried: {row:?}");
    assert!(
        row.last_error
            .as_deref()
            .unwrap_or("")
            .contains("cannot connect"),
        "{row:?}"
    );
    let later = subscribe(port, "later@example.com", "203.0.113.2");
    assert_eq!(later.status, 200);
    assert!(
        later.body.contains("your request is saved"),
        "the visitor is told it may take a while: {}",
        later.body
    );
    assert_eq!(server.stop().code(), Some(0));
    assert_eq!(queue(&p).len(), 2, "both wait in the store after the stop");
    let log = server.log_text();
    assert!(
        log.contains("2 confirmations left queued for the next start"),
        "{log}"
    );

    let sink = Sink::start(p.dir.path(), "dump", smtp, &[]);
    let restarted = Server::start(&p, port, &[]);
    wait_until(WAIT, "the queue empties", || queue(&p).is_empty());
    assert_eq!(
        recipients(&sink),
        ["later@example.com", "new@example.com"],
        "each confirmation arrives once, with no new request"
    );
    let raw = sink
        .messages()
        .into_iter()
        .find(|(to, _)| to == "new@example.com")
        .unwrap()
        .1;
    let confirmed = post(port, &path_of(&confirm_link(&raw)), "");
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert_eq!(show(&p, "new@example.com")["status"], "subscribed");
    let log = restarted.log_text();
    assert!(log.contains("2 confirmations queued from before"), "{log}");
}

#[test]
fn a_flood_beyond_the_queue_cap_is_told_so_and_every_accepted_confirmation_arrives() {
    let (mut p, port, smtp) = project();
    p.set("MAILROOM_WEB__CONFIRM_QUEUE_MAX", "20");
    let _server = Server::start(&p, port, &[]);
    let mut accepted = BTreeSet::new();
    for i in 0..60 {
        let who = format!("flood{i:02}@example.com");
        let r = subscribe(port, &who, &format!("198.51.100.{i}"));
        match r.status {
            200 => {
                accepted.insert(who);
            }
            503 => {
                assert!(
                    r.body
                        .contains("We can&#39;t send confirmation emails right now")
                        || r.body
                            .contains("We can't send confirmation emails right now"),
                    "{}",
                    r.body
                );
                assert_eq!(r.header("retry-after"), Some("600"));
                let out = p.run(&["subscribers", "show", &who]);
                assert!(!out.status.success(), "`{who}` was turned away but stored");
            }
            other => panic!("`{who}` got {other}: {}", r.body),
        }
    }
    assert_eq!(accepted.len(), 20, "exactly the cap is accepted");

    let sink = Sink::start(p.dir.path(), "dump", smtp, &[]);
    wait_until(WAIT, "every accepted confirmation arrives", || {
        sink.messages().len() >= 20
    });
    wait_until(WAIT, "the queue empties", || queue(&p).is_empty());
    let got: BTreeSet<String> = recipients(&sink).into_iter().collect();
    assert_eq!(got, accepted, "no accepted request was dropped");
    assert_eq!(sink.messages().len(), 20, "none was sent twice");
    let again = subscribe(port, "after@example.com", "198.51.100.200");
    assert_eq!(again.status, 200, "a drained queue accepts again");
}

#[test]
fn a_4xx_is_retried_and_a_5xx_gives_the_confirmation_up_with_the_reply_on_record() {
    let (p, port, smtp) = project();
    let mut soft = Sink::start(p.dir.path(), "soft", smtp, &["-r", "RCPT"]);
    let _server = Server::start(&p, port, &[]);
    assert_eq!(
        subscribe(port, "who@example.com", "203.0.113.9").status,
        200
    );
    wait_until(WAIT, "two deferred attempts", || {
        queue(&p).first().is_some_and(|r| r.attempts >= 2)
    });
    let row = queue(&p)[0].clone();
    assert!(!row.failed, "{row:?}");
    assert!(
        row.last_error.as_deref().unwrap_or("").starts_with('4'),
        "{row:?}"
    );
    soft.stop();

    let hard = Sink::start(
        p.dir.path(),
        "hard",
        smtp,
        &["-f", "RCPT", "-B", "550 5.1.1 No such user"],
    );
    wait_until(WAIT, "the row is given up", || {
        queue(&p).first().is_some_and(|r| r.failed)
    });
    let row = queue(&p)[0].clone();
    assert!(
        row.last_error.as_deref().unwrap_or("").contains("550"),
        "{row:?}"
    );
    assert!(hard.messages().is_empty() && soft.messages().is_empty());
    assert_eq!(show(&p, "who@example.com")["status"], "pending");
}
