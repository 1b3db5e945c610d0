//! `mailroom serve` over real HTTP on loopback: one-click unsubscribe from
//! a received message's List-Unsubscribe header, undo, bad tokens, the
//! subscribe form's single answer, logs free of tokens and addresses, and
//! a clean stop on SIGTERM.
//! Behind a trusted reverse proxy, rate limits and consent use the forwarded client.

use crate::common::project::{Project, SECRET, email, stderr};
use crate::common::sink::{Sink, free_port};
use crate::common::web::{self, Server, get, list_unsubscribe_url, path_of, post, post_with, show};
use mailroom::domain::SubscriberId;
use mailroom::token::{self, Purpose};
use time::{Duration, OffsetDateTime};

const ONE_CLICK: &str = "List-Unsubscribe=One-Click";

/// A project with `n` subscribers, its web port, and a running SMTP sink.
fn project(n: usize) -> (Project, u16, Sink) {
    let smtp = free_port();
    let mut p = Project::new(n, smtp);
    let port = web::configure(&mut p);
    let sink = Sink::start(p.dir.path(), "dump", smtp, &[]);
    (p, port, sink)
}

fn status(p: &Project, who: &str) -> String {
    show(p, who)["status"].as_str().unwrap().to_owned()
}

#[test]
fn one_click_post_to_the_list_unsubscribe_url_unsubscribes_and_a_get_does_not() {
    let (p, port, sink) = project(3);
    let out = p.send(&[]);
    assert!(out.status.success(), "send failed: {}", stderr(&out));
    let raw = sink
        .messages()
        .into_iter()
        .find(|(rcpt, _)| *rcpt == email(2))
        .expect("user2's copy")
        .1;
    let url = list_unsubscribe_url(&raw);
    assert!(
        url.starts_with(&format!("http://127.0.0.1:{port}/unsubscribe/")),
        "{url}"
    );
    let server = Server::start(&p, port, &[]);

    for _ in 0..3 {
        let page = get(port, &path_of(&url));
        assert_eq!(page.status, 200);
        assert!(page.body.contains("<form method=\"post\""), "{}", page.body);
    }
    assert_eq!(status(&p, &email(2)), "subscribed", "a GET changed state");

    let done = post(port, &path_of(&url), ONE_CLICK);
    assert_eq!(done.status, 200, "{}", done.body);
    let shown = show(&p, &email(2));
    assert_eq!(shown["status"], "unsubscribed");
    let last = shown["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["source"], "web");
    assert_eq!(last["reason"], "one-click");
    assert!(last["at"].as_str().is_some_and(|t| t.ends_with('Z')));

    let again = post(port, &path_of(&url), ONE_CLICK);
    assert_eq!(again.status, 200, "a repeat is idempotent");
    let history = show(&p, &email(2))["history"].as_array().unwrap().len();
    assert_eq!(
        history,
        shown["history"].as_array().unwrap().len(),
        "no second entry"
    );
    assert_eq!(status(&p, &email(1)), "subscribed");
    assert_eq!(status(&p, &email(3)), "subscribed");
    drop(server);
}

#[test]
fn the_undo_button_on_the_unsubscribed_page_resubscribes() {
    let (p, port, _sink) = project(1);
    let _server = Server::start(&p, port, &[]);
    let tok = token::sign(
        SECRET.as_bytes(),
        Purpose::Unsubscribe,
        SubscriberId::new(1),
    );
    let page = post(port, &format!("/unsubscribe/{tok}"), "confirm=yes");
    assert_eq!(status(&p, &email(1)), "unsubscribed");
    let action = page
        .body
        .split("action=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("an undo form")
        .to_owned();
    assert!(action.starts_with("/resubscribe/"), "{action}");
    assert_eq!(get(port, &action).status, 200);
    assert_eq!(
        status(&p, &email(1)),
        "unsubscribed",
        "the undo GET changed state"
    );
    let undone = post(port, &action, "");
    assert_eq!(undone.status, 200);
    assert!(undone.body.contains("You are subscribed"));
    let shown = show(&p, &email(1));
    assert_eq!(shown["status"], "subscribed");
    let last = shown["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["source"].as_str(), last["reason"].as_str()),
        (Some("web"), Some("undo unsubscribe"))
    );
}

/// Every kind of bad token for subscriber 1, by name.
fn bad_tokens() -> Vec<(&'static str, &'static str, String)> {
    let key = SECRET.as_bytes();
    let id = SubscriberId::new(1);
    let good = token::sign(key, Purpose::Unsubscribe, id);
    let (_, mac) = good.split_once('.').unwrap();
    let past = OffsetDateTime::now_utc() - Duration::days(1);
    let future = OffsetDateTime::now_utc() + Duration::days(1);
    let mut flipped = good.clone().into_bytes();
    let i = flipped.len() - 3;
    flipped[i] = if flipped[i] == b'x' { b'y' } else { b'x' };
    vec![
        (
            "tampered",
            "unsubscribe",
            String::from_utf8(flipped).unwrap(),
        ),
        ("other id", "unsubscribe", format!("2.{mac}")),
        (
            "truncated",
            "unsubscribe",
            good[..good.len() - 4].to_owned(),
        ),
        (
            "other secret",
            "unsubscribe",
            token::sign(b"not the server's secret at all", Purpose::Unsubscribe, id),
        ),
        (
            "wrong purpose",
            "unsubscribe",
            token::sign_until(key, Purpose::Confirm, id, future),
        ),
        ("wrong purpose", "confirm", good.clone()),
        (
            "expired",
            "confirm",
            token::sign_until(key, Purpose::Confirm, id, past),
        ),
        (
            "expired",
            "resubscribe",
            token::sign_until(key, Purpose::Resubscribe, id, past),
        ),
        ("percent garbage", "unsubscribe", "%FF%FE".to_owned()),
        ("garbage", "confirm", "hello".to_owned()),
    ]
}

#[test]
fn every_bad_token_gets_the_same_answer_and_changes_nothing() {
    let (p, port, _sink) = project(2);
    assert!(
        p.run(&["subscribers", "remove", &email(2)])
            .status
            .success()
    );
    let _server = Server::start(&p, port, &[]);
    let reference = get(port, "/unsubscribe/x");
    assert_eq!(reference.status, 400);
    for (kind, route, tok) in bad_tokens() {
        for method in ["GET", "POST"] {
            let r = web::request(port, method, &format!("/{route}/{tok}"), Some(ONE_CLICK));
            assert_eq!(
                (r.status, &r.body),
                (reference.status, &reference.body),
                "{kind} token on {method} /{route}"
            );
        }
    }
    assert_eq!(status(&p, &email(1)), "subscribed");
    assert_eq!(status(&p, &email(2)), "unsubscribed");
}

#[test]
fn the_subscribe_form_answers_the_same_whatever_the_address_and_mails_only_who_may_confirm() {
    let (mut p, port, sink) = project(2);
    assert!(
        p.run(&["subscribers", "remove", &email(2)])
            .status
            .success()
    );
    p.set("MAILROOM_SEND__TRANSPORT", "smtp");
    let mut server = Server::start(&p, port, &[]);
    let cases = [
        ("new", "email=new%40example.com&name=New+Reader&website="),
        ("subscribed", "email=user1%40example.com&website="),
        ("unsubscribed", "email=user2%40example.com&website="),
        (
            "honeypot",
            "email=bot%40example.com&website=http%3A%2F%2Fspam",
        ),
    ];
    let answers: Vec<_> = cases
        .iter()
        .map(|(_, body)| post(port, "/subscribe", body))
        .collect();
    for ((kind, _), a) in cases.iter().zip(&answers) {
        assert_eq!(
            (a.status, &a.body),
            (answers[0].status, &answers[0].body),
            "{kind}"
        );
    }
    assert_eq!(answers[0].status, 200);
    crate::common::web_conns::wait_until(
        std::time::Duration::from_secs(30),
        "two confirmations arrive",
        || sink.messages().len() >= 2,
    );
    assert_eq!(server.stop().code(), Some(0), "a clean stop");
    let mut mailed: Vec<String> = sink.messages().into_iter().map(|(r, _)| r).collect();
    mailed.sort();
    assert_eq!(mailed, ["new@example.com", "user2@example.com"]);
    assert_eq!(status(&p, "new@example.com"), "pending");
    assert_eq!(
        status(&p, &email(2)),
        "unsubscribed",
        "unchanged until confirmed"
    );
    let bot = p.run(&["subscribers", "show", "bot@example.com"]);
    assert!(!bot.status.success(), "the honeypot stored nothing");
}

#[test]
fn pages_carry_the_security_headers_and_the_newsletter_name() {
    let (p, port, _sink) = project(0);
    let _server = Server::start(&p, port, &[]);
    for path in ["/subscribe", "/unsubscribe/1.x", "/nowhere"] {
        let r = get(port, path);
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{path}");
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(r.body.contains("<html lang=\"en\">"), "{path}");
        assert!(r.body.contains("name=\"viewport\""), "{path}");
        assert!(r.body.contains("This Week in Rust"), "{path}");
        assert!(
            !r.body.contains("<script") && !r.body.contains("style=\""),
            "{path}"
        );
    }
    let css = get(port, "/style.css");
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
}

#[test]
fn verbose_logs_name_routes_but_never_a_token_or_an_address() {
    let (p, port, _sink) = project(1);
    let mut server = Server::start(&p, port, &["-vv"]);
    let tok = token::sign(
        SECRET.as_bytes(),
        Purpose::Unsubscribe,
        SubscriberId::new(1),
    );
    let path = format!("/unsubscribe/{tok}");
    get(port, &path);
    post(port, &path, ONE_CLICK);
    post(
        port,
        "/subscribe",
        "email=secret.reader%40example.org&name=Secret+Reader",
    );
    get(port, "/confirm/1.2.AAAA");
    get(port, "/no/such/page-with-a-path-secret");
    assert_eq!(server.stop().code(), Some(0), "SIGTERM stops it cleanly");
    let log = server.log_text();
    assert!(log.lines().count() > 20, "trace logging is on:\n{log}");
    assert!(
        log.contains("/unsubscribe/{token}"),
        "route patterns are logged:\n{log}"
    );
    assert!(log.contains("serve: stopped"), "{log}");
    let (_, mac) = tok.split_once('.').unwrap();
    for secret in [
        mac,
        "secret.reader",
        "Secret Reader",
        "example.org",
        "user1",
        "path-secret",
        "AAAA",
    ] {
        assert!(!log.contains(secret), "`{secret}` is in the log:\n{log}");
    }
}

fn subscribe_as(port: u16, who: &str, client: &str) -> u16 {
    let body = format!("email={who}%40example.com&name=&website=");
    post_with(
        port,
        "/subscribe",
        &body,
        &[&format!("X-Forwarded-For: {client}")],
    )
    .status
}

#[test]
fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_rate_limit_and_consent_ip() {
    let (p, port, _sink) = project(0);
    let _server = Server::start(&p, port, &[]);
    // Twelve visitors through the proxy (127.0.0.1, trusted by default): none is limited.
    for i in 0..12 {
        assert_eq!(
            subscribe_as(port, &format!("a{i}"), &format!("203.0.113.{i}")),
            200
        );
    }
    // One visitor posting twelve times: the per-IP limit (10, then 1 a minute) applies to them.
    let mine: Vec<u16> = (0..12)
        .map(|i| subscribe_as(port, &format!("b{i}"), "198.51.100.1"))
        .collect();
    assert!(mine[..10].iter().all(|&s| s == 200), "{mine:?}");
    assert_eq!(mine[10], 429, "{mine:?}");
    // The consent record keeps the visitor's address, not the proxy's.
    let record = show(&p, "a5@example.com");
    assert_eq!(record["consent"]["ip"], "203.0.113.5", "{record}");
}

#[test]
fn an_untrusted_peer_cannot_dodge_the_rate_limit_with_a_forged_header() {
    let (p, port, _sink) = project(0);
    let config = std::fs::read_to_string(p.path("config.toml")).unwrap();
    let config = config.replace(
        "trusted_proxies = [\"127.0.0.1\", \"::1\"]",
        "trusted_proxies = []",
    );
    std::fs::write(p.path("config.toml"), config).unwrap();
    let _server = Server::start(&p, port, &[]);
    let statuses: Vec<u16> = (0..11)
        .map(|i| subscribe_as(port, &format!("c{i}"), &format!("203.0.113.{i}")))
        .collect();
    assert!(statuses[..10].iter().all(|&s| s == 200), "{statuses:?}");
    assert_eq!(
        statuses[10], 429,
        "forged X-Forwarded-For must not reset the limit: {statuses:?}"
    );
    assert_eq!(show(&p, "c1@example.com")["consent"]["ip"], "127.0.0.1");
}

#[test]
fn serve_says_where_it_listens_once_unless_logs_were_asked_for() {
    let (mut p, port, _sink) = project(1);
    let mut server = Server::start(&p, port, &[]);
    server.stop();
    let log = server.log_text();
    let listening: Vec<&str> = log.lines().filter(|l| l.contains("listening")).collect();
    assert_eq!(
        listening,
        [format!("serve: listening on http://127.0.0.1:{port}")],
        "{log}"
    );

    p.set("RUST_LOG", "mailroom=info");
    let port = web::configure(&mut p);
    let mut server = Server::start(&p, port, &[]);
    server.stop();
    let log = server.log_text();
    assert!(
        log.lines()
            .any(|l| l.contains("listening") && l.contains(&format!("address=127.0.0.1:{port}"))),
        "the structured line, asked for with RUST_LOG: {log}"
    );
    assert!(
        log.contains(&format!("serve: listening on http://127.0.0.1:{port}")),
        "{log}"
    );
}
