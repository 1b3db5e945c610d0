//! `serve` under hostile clients, over real HTTP against the real binary:
//! 1,000 idle and slowloris connections, the connection cap under a low
//! open-file limit, the header (idle), body and size limits, and a stop
//! that finishes the request in flight.
use std::io::Write;
use std::time::Duration;

use crate::common::project::{Project, SECRET, email};
use crate::common::web::{self, Server, get, post, show};
use crate::common::web_conns::{allow_sockets, closed_by_server, hold_idle, hold_slow, still_open};
use mailroom::domain::SubscriberId;
use mailroom::token::{self, Purpose};

const ONE_CLICK: &str = "List-Unsubscribe=One-Click";

/// A project with `n` subscribers and its web port (no relay is needed).
fn project(n: usize) -> (Project, u16) {
    let mut p = Project::new(n, crate::common::sink::free_port());
    let port = web::configure(&mut p);
    p.set("MAILROOM_SEND__TRANSPORT", "outbox");
    (p, port)
}

fn unsubscribe_path(id: i64) -> String {
    let tok = token::sign(
        SECRET.as_bytes(),
        Purpose::Unsubscribe,
        SubscriberId::new(id),
    );
    format!("/unsubscribe/{tok}")
}

/// Asserts `/healthz` answers and a one-click POST unsubscribes subscriber
/// `id`, durably (another process reads it from the store).
fn healthz_and_one_click_work(p: &Project, port: u16, id: usize) {
    assert_eq!(get(port, "/healthz").status, 200);
    let done = post(port, &unsubscribe_path(id as i64), ONE_CLICK);
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(show(p, &email(id))["status"], "unsubscribed");
}

#[test]
fn healthz_and_one_click_unsubscribe_answer_while_a_thousand_slow_and_idle_connections_are_open() {
    allow_sockets(1100);
    let (mut p, port) = project(2);
    // Long enough that none of them times out during the test.
    p.set("MAILROOM_WEB__HEADER_TIMEOUT_SECS", "300");
    let server = Server::start(&p, port, &[]);
    let idle = hold_idle(port, 500);
    let slow = hold_slow(port, 500);
    healthz_and_one_click_work(&p, port, 1);
    assert_eq!(show(&p, &email(2))["status"], "subscribed");
    let held = idle.iter().chain(&slow).filter(|s| still_open(s)).count();
    assert_eq!(
        held, 1000,
        "the server still holds every hostile connection"
    );
    drop(server);
}

#[test]
fn under_ulimit_256_three_hundred_idle_sockets_make_room_for_healthz_and_unsubscribes() {
    allow_sockets(400);
    let (mut p, port) = project(1);
    p.set("MAILROOM_WEB__HEADER_TIMEOUT_SECS", "300");
    let server = Server::start_with_nofile(&p, port, 256);
    let log = server.log_text();
    assert!(
        log.contains("at most 224 connections (`[web] max_connections` is 4096, but the open-file limit is 256)"),
        "{log}"
    );
    let idle = hold_idle(port, 300);
    healthz_and_one_click_work(&p, port, 1);
    let held = idle.iter().filter(|s| still_open(s)).count();
    assert!(
        (1..=224).contains(&held),
        "the oldest idle connections make room, the newest are kept ({held} held)"
    );
}

/// How long a client waits to see the configured 1 s timeout act: well
/// above it, and below hyper's own default (30 s), so a setting that was
/// not applied fails the test.
const CUT_OFF_WITHIN: Duration = Duration::from_secs(20);

#[test]
fn an_idle_connection_is_closed_after_the_header_timeout_and_so_is_a_kept_alive_one() {
    let (mut p, port) = project(0);
    p.set("MAILROOM_WEB__HEADER_TIMEOUT_SECS", "1");
    let _server = Server::start(&p, port, &[]);
    let mut silent = hold_idle(port, 1).remove(0);
    let (closed, said) = closed_by_server(&mut silent, CUT_OFF_WITHIN);
    assert!(closed, "a silent connection stays open");
    assert_eq!(said, "", "nothing is answered to nothing");

    let mut kept = hold_idle(port, 1).remove(0);
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let (closed, said) = closed_by_server(&mut kept, CUT_OFF_WITHIN);
    assert!(said.starts_with("HTTP/1.1 200 OK"), "{said}");
    assert!(
        closed,
        "a kept-alive connection stays open after its request"
    );
}

#[test]
fn a_slow_header_sender_is_cut_off() {
    let (mut p, port) = project(0);
    p.set("MAILROOM_WEB__HEADER_TIMEOUT_SECS", "1");
    let _server = Server::start(&p, port, &[]);
    let mut s = hold_slow(port, 1).remove(0);
    // One more header line every 100 ms, for up to CUT_OFF_WITHIN.
    let mut cut = false;
    for i in 0..CUT_OFF_WITHIN.as_millis() / 100 {
        std::thread::sleep(Duration::from_millis(100));
        if s.write_all(format!("\r\nX-More-{i}: b").as_bytes())
            .is_err()
        {
            cut = true;
            break;
        }
        if !still_open(&s) {
            cut = true;
            break;
        }
    }
    assert!(cut, "a head trickled in for 20 s was never cut off");
}

#[test]
fn a_stalled_body_gets_408_and_an_oversized_one_413_with_the_services_pages() {
    let (mut p, port) = project(1);
    p.set("MAILROOM_WEB__BODY_TIMEOUT_SECS", "1");
    let _server = Server::start(&p, port, &[]);
    let mut stalled = hold_idle(port, 1).remove(0);
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: 100\r\n\r\nList-Unsub",
        unsubscribe_path(1)
    );
    stalled.write_all(head.as_bytes()).unwrap();
    let (_, said) = closed_by_server(&mut stalled, CUT_OFF_WITHIN);
    assert!(said.starts_with("HTTP/1.1 408"), "{said}");
    assert!(said.contains("That took too long"), "{said}");
    assert_eq!(
        show(&p, &email(1))["status"],
        "subscribed",
        "nothing changed"
    );

    let big = "email=".to_owned() + &"a".repeat(20_000);
    let r = post(port, "/subscribe", &big);
    assert_eq!(r.status, 413);
    assert!(r.body.contains("That was too much to send"), "{}", r.body);
    assert!(r.header("content-security-policy").is_some());
    let r = post(port, &unsubscribe_path(1), &big);
    assert_eq!(r.status, 413);
    assert_eq!(
        show(&p, &email(1))["status"],
        "subscribed",
        "nothing changed"
    );
}

#[test]
fn a_body_trickled_in_past_the_request_timeout_gets_408() {
    let (mut p, port) = project(1);
    p.set("MAILROOM_WEB__REQUEST_TIMEOUT_SECS", "1");
    let _server = Server::start(&p, port, &[]);
    let mut s = hold_idle(port, 1).remove(0);
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n",
        unsubscribe_path(1)
    );
    s.write_all(head.as_bytes()).unwrap();
    // A byte every 100 ms: never a pause as long as the body timeout.
    for _ in 0..CUT_OFF_WITHIN.as_millis() / 100 {
        if s.write_all(b"x").is_err() || !still_open(&s) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, said) = closed_by_server(&mut s, CUT_OFF_WITHIN);
    assert!(said.starts_with("HTTP/1.1 408"), "{said}");
    assert!(said.contains("That took too long"), "{said}");
    assert_eq!(
        show(&p, &email(1))["status"],
        "subscribed",
        "nothing changed"
    );
}

#[test]
fn sigterm_stops_accepting_and_finishes_the_request_in_flight() {
    let (p, port) = project(1);
    let mut server = Server::start(&p, port, &[]);
    let mut in_flight = hold_idle(port, 1).remove(0);
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\nList-",
        unsubscribe_path(1),
        ONE_CLICK.len()
    );
    in_flight.write_all(head.as_bytes()).unwrap();
    // The head is complete, so hyper hands it to the handler at once; the
    // pause only makes sure it has before the signal.
    std::thread::sleep(Duration::from_millis(300));
    let stopper = std::thread::spawn(move || server.stop());
    crate::common::web_conns::wait_until(Duration::from_secs(20), "the listener closes", || {
        web::try_request(port, "GET", "/healthz", None).is_err()
    });
    in_flight.write_all(&ONE_CLICK.as_bytes()[5..]).unwrap();
    let (_, said) = closed_by_server(&mut in_flight, Duration::from_secs(30));
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");
    assert_eq!(stopper.join().unwrap().code(), Some(0));
    assert_eq!(show(&p, &email(1))["status"], "unsubscribed");
}

#[test]
fn the_subscribe_form_names_what_is_wrong_and_stores_nothing() {
    let (p, port) = project(0);
    let _server = Server::start(&p, port, &[]);
    let long_email = format!("email={}%40example.com", "a".repeat(250));
    let long_name = format!("email=x%40example.com&name={}", "n".repeat(201));
    let cases = [
        ("email=&name=A", "Please enter your email address."),
        (
            "email=not-an-address",
            "That does not look like an email address",
        ),
        (long_email.as_str(), "That address is too long"),
        (long_name.as_str(), "at most 200 characters"),
        (
            "email=y%40example.com&name=A%0D%0ABcc",
            "cannot contain line breaks",
        ),
        (
            "email=a%40example.com&email=b%40example.com",
            "The form could not be read",
        ),
    ];
    for (body, says) in cases {
        let r = post(port, "/subscribe", body);
        assert_eq!(r.status, 400, "{body}");
        assert!(r.body.contains(says), "{body}: {}", r.body);
        assert!(r.body.contains("role=\"alert\""), "{body}");
    }
    let json = web::raw(
        port,
        "POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
    );
    assert!(json.starts_with("HTTP/1.1 415"), "{json}");
    assert!(json.contains("application/x-www-form-urlencoded"), "{json}");
    for who in ["x@example.com", "y@example.com"] {
        let out = p.run(&["subscribers", "show", who]);
        assert!(!out.status.success(), "`{who}` was stored");
    }
}
