//! `/metrics` of the real `mailroom serve` over real HTTP: it parses as the
//! Prometheus text format (our strict parser and python3-prometheus-client
//! agree on every sample) and as OpenMetrics for a scraper that asks for it
//! (the Python client's strict parser); the counters move after a one-click
//! unsubscribe, a subscribe and a confirmation delivered to `smtp-sink` (or
//! deferred while the relay is down); no label carries an address, a token
//! or a path; a request a proxy forwarded is refused; `[web] metrics_bind`
//! moves the page to its own listener, `[web] metrics_allow` is checked and
//! announced, and `[web] metrics = false` removes the page.
use std::time::Duration;

use mailroom::domain::SubscriberId;
use mailroom::token::{self, Purpose};
use mailroom::web::metrics_labels::ROUTES;

use crate::common::project::{Project, SECRET, email};
use crate::common::prom::{self, Scrape};
use crate::common::prom_check;
use crate::common::sink::{Sink, free_port};
use crate::common::web::{self, Server, confirm_link, get, get_with, path_of, post};
use crate::common::web_conns::wait_until;

const WAIT: Duration = Duration::from_secs(60);
const ONE_CLICK: &str = "List-Unsubscribe=One-Click";

/// A project with `n` subscribers mailing through SMTP on a port where
/// nothing listens yet; (project, web port, SMTP port).
fn project(n: usize) -> (Project, u16, u16) {
    let smtp = free_port();
    let mut p = Project::new(n, smtp);
    let port = web::configure(&mut p);
    p.set("MAILROOM_WEB__CONFIRM_RETRY_BASE_SECS", "0.2");
    p.set("MAILROOM_WEB__CONFIRM_RETRY_MAX_SECS", "1");
    (p, port, smtp)
}

/// GET `/metrics` (port `port`), checked and parsed; and the raw text.
fn scrape(port: u16) -> (Scrape, String) {
    let r = get(port, "/metrics");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let parsed = prom::parse(&r.body).unwrap_or_else(|e| panic!("{e}\n{}", r.body));
    prom_check::assert_same_samples(&r.body, &parsed);
    (parsed, r.body)
}

fn count(s: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    s.value_or_zero(name, labels)
}

fn requests(s: &Scrape, method: &str, route: &str, status: &str) -> f64 {
    let labels = [("method", method), ("route", route), ("status", status)];
    count(s, "mailroom_http_requests_total", &labels)
}

fn store_calls(s: &Scrape, operation: &str) -> f64 {
    let name = "mailroom_store_operation_duration_seconds_count";
    s.value(name, &[("operation", operation)])
}

#[test]
fn a_one_click_unsubscribe_a_subscribe_and_its_delivered_confirmation_move_the_counters() {
    let (p, port, smtp) = project(2);
    let sink = Sink::start(p.dir.path(), "dump", smtp, &[]);
    let _server = Server::start(&p, port, &[]);
    let (before, _) = scrape(port);
    for via in ["one_click", "form"] {
        assert_eq!(
            before.value("mailroom_unsubscribes_total", &[("via", via)]),
            0.0
        );
    }
    assert_eq!(
        before.value("mailroom_confirmations_total", &[("event", "sent")]),
        0.0
    );

    let tok = token::sign(
        SECRET.as_bytes(),
        Purpose::Unsubscribe,
        SubscriberId::new(2),
    );
    let unsubscribe = format!("/unsubscribe/{tok}");
    assert_eq!(post(port, &unsubscribe, ONE_CLICK).status, 200);
    assert_eq!(post(port, &unsubscribe, ONE_CLICK).status, 200, "a repeat");
    assert_eq!(get(port, "/unsubscribe/not-a-token").status, 400);
    assert_eq!(get(port, "/wp-login.php").status, 404);
    let form = "email=New.Reader%40example.org&name=New+Reader&website=";
    assert_eq!(post(port, "/subscribe", form).status, 200);
    wait_until(WAIT, "the confirmation reaches the sink", || {
        !sink.messages().is_empty()
    });
    wait_until(WAIT, "the worker records it as sent", || {
        scrape(port)
            .0
            .value("mailroom_confirmations_total", &[("event", "sent")])
            == 1.0
    });
    let raw = sink.messages().remove(0).1;
    let confirm = path_of(&confirm_link(&raw));
    assert_eq!(post(port, &confirm, "").status, 200);

    let (after, text) = scrape(port);
    let unsubscribes = |via| after.value("mailroom_unsubscribes_total", &[("via", via)]);
    assert_eq!(unsubscribes("one_click"), 1.0, "the repeat changed nothing");
    assert_eq!(unsubscribes("form"), 0.0);
    assert_eq!(requests(&after, "POST", "/unsubscribe/{token}", "200"), 2.0);
    assert_eq!(requests(&after, "GET", "/unsubscribe/{token}", "400"), 1.0);
    assert_eq!(requests(&after, "GET", "unmatched", "404"), 1.0);
    assert_eq!(requests(&after, "POST", "/subscribe", "200"), 1.0);
    assert_eq!(requests(&after, "POST", "/confirm/{token}", "200"), 1.0);
    let latency = "mailroom_http_request_duration_seconds_count";
    let one_clicks = [("method", "POST"), ("route", "/unsubscribe/{token}")];
    assert_eq!(after.value(latency, &one_clicks), 2.0);
    let outcome = [("outcome", "confirmation_queued")];
    assert_eq!(
        after.value("mailroom_subscribe_requests_total", &outcome),
        1.0
    );
    let event = |e| after.value("mailroom_confirmations_total", &[("event", e)]);
    assert_eq!((event("queued"), event("sent")), (1.0, 1.0));
    assert_eq!((event("retried"), event("given_up")), (0.0, 0.0));
    let depth = after.value("mailroom_confirmation_queue", &[("state", "waiting")]);
    assert_eq!(depth, 0.0);
    assert!(store_calls(&after, "unsubscribe_batch") >= 1.0);
    assert_eq!(store_calls(&after, "request_subscription"), 1.0);
    assert_eq!(store_calls(&after, "confirm_subscription"), 1.0);
    assert!(store_calls(&after, "claim_confirmations") >= 1.0);
    assert!(after.value("mailroom_http_connections_open", &[]) >= 1.0);
    assert_eq!(
        after.value("mailroom_http_connections_evicted_total", &[]),
        0.0
    );

    let confirm_token = confirm.rsplit('/').next().unwrap().to_owned();
    for secret in [
        email(2),
        "user2".to_owned(),
        "new.reader".to_owned(),
        "example".to_owned(),
        tok,
        confirm_token,
        "not-a-token".to_owned(),
        "wp-login".to_owned(),
    ] {
        assert!(
            !text.to_lowercase().contains(&secret.to_lowercase()),
            "`{secret}` in:\n{text}"
        );
    }
    for (name, value) in after.label_values() {
        assert!(
            !value.contains('@') && !value.contains('%'),
            "{name}={value}"
        );
        if name == "route" {
            assert!(
                ROUTES.contains(&value.as_str()) || value == "unmatched",
                "{value}"
            );
        }
    }
}

#[test]
fn while_the_relay_is_down_retries_and_the_queue_depth_show_and_drain_once_it_is_back() {
    let (p, port, smtp) = project(0);
    let _server = Server::start(&p, port, &[]);
    let form = "email=later%40example.org&name=&website=";
    assert_eq!(post(port, "/subscribe", form).status, 200);
    wait_until(WAIT, "a retried confirmation", || {
        let (s, _) = scrape(port);
        s.value("mailroom_confirmations_total", &[("event", "retried")]) >= 1.0
    });
    let (down, _) = scrape(port);
    assert_eq!(
        down.value("mailroom_confirmation_queue", &[("state", "waiting")]),
        1.0
    );
    assert_eq!(
        down.value("mailroom_confirmations_total", &[("event", "sent")]),
        0.0
    );

    let sink = Sink::start(p.dir.path(), "dump", smtp, &[]);
    wait_until(WAIT, "the confirmation is sent", || {
        let (s, _) = scrape(port);
        s.value("mailroom_confirmations_total", &[("event", "sent")]) == 1.0
    });
    let (up, _) = scrape(port);
    assert_eq!(
        up.value("mailroom_confirmation_queue", &[("state", "waiting")]),
        0.0
    );
    assert_eq!(
        up.value("mailroom_confirmations_total", &[("event", "given_up")]),
        0.0
    );
    assert_eq!(sink.messages().len(), 1);
}

#[test]
fn a_request_a_proxy_forwarded_gets_the_not_found_page_even_from_loopback() {
    let (p, port, _) = project(0);
    let _server = Server::start(&p, port, &[]);
    let missing = get(port, "/no-such-page");
    assert_eq!(missing.status, 404);
    for header in [
        "X-Forwarded-For: 203.0.113.7",
        "X-Forwarded-For: 127.0.0.1",
        "Forwarded: for=203.0.113.7;proto=https",
        "X-Real-IP: 203.0.113.7",
        "Via: 1.1 proxy",
    ] {
        let r = get_with(port, "/metrics", &[header]);
        assert_eq!((r.status, &r.body), (404, &missing.body), "with `{header}`");
    }
    let (direct, _) = scrape(port);
    let refused = requests(&direct, "GET", "/metrics", "404");
    assert_eq!(refused, 5.0, "the refusals are counted, not served");
}

#[test]
fn with_metrics_bind_the_metrics_have_their_own_listener_and_the_public_one_has_none() {
    let (mut p, port, _) = project(0);
    let own = free_port();
    p.set("MAILROOM_WEB__METRICS_BIND", &format!("127.0.0.1:{own}"));
    let server = Server::start(&p, port, &[]);
    assert_eq!(
        get(port, "/metrics").status,
        404,
        "not on the public listener"
    );
    get(port, "/healthz");
    let (s, _) = scrape(own);
    assert!(requests(&s, "GET", "/healthz", "200") >= 2.0);
    let forwarded = get_with(own, "/metrics", &["X-Forwarded-For: 203.0.113.7"]);
    assert_eq!(forwarded.status, 403, "a forwarded request, here too");
    assert!(
        forwarded.body.contains("`[web] metrics_allow`"),
        "{}",
        forwarded.body
    );
    assert_eq!(get(own, "/healthz").status, 404);
    let log = server.log_text();
    let line = format!(
        "serve: metrics on http://127.0.0.1:{own}/metrics (`[web] metrics_bind`), \
         for requests from this machine that no proxy forwarded"
    );
    assert!(log.contains(&line), "{log}");
    assert!(!log.contains(&format!("{port}/metrics")), "{log}");
}

#[test]
fn with_metrics_off_there_is_no_metrics_page() {
    let (mut p, port, _) = project(0);
    p.set("MAILROOM_WEB__METRICS", "false");
    let server = Server::start(&p, port, &[]);
    assert_eq!(get(port, "/metrics").status, 404);
    assert!(
        !server.log_text().contains("metrics on"),
        "{}",
        server.log_text()
    );
}

#[test]
fn a_scraper_that_asks_for_openmetrics_gets_it_and_the_strict_parser_reads_it() {
    let (p, port, _) = project(0);
    let _server = Server::start(&p, port, &[]);
    get(port, "/healthz");
    // What Prometheus 2.x and 3.x send.
    let accept = "Accept: application/openmetrics-text;version=1.0.0,\
                  application/openmetrics-text;version=0.0.1;q=0.75,\
                  text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let r = get_with(port, "/metrics", &[accept]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert!(r.body.ends_with("# EOF\n"), "{}", r.body);
    let open = prom_check::read(&r.body, "openmetrics");
    let (ours, text) = scrape(port);
    let classic = prom_check::read(&text, "text");
    assert_eq!(
        open.types(),
        classic.types(),
        "the same families in both formats"
    );
    let healthz = [("method", "GET"), ("route", "/healthz"), ("status", "200")];
    let total = "mailroom_http_requests_total";
    assert!(
        open.value(total, &healthz) >= 2.0,
        "the harness's probe and ours"
    );
    assert_eq!(open.value(total, &healthz), ours.value(total, &healthz));
    for (family, kind) in ["counter", "gauge", "histogram"].map(|k| {
        let found = classic.families.iter().find(|(_, t)| t == k);
        (found.map(|f| f.0.clone()), k)
    }) {
        assert!(family.is_some(), "no {kind} family in:\n{text}");
    }
}

#[test]
fn metrics_allow_is_checked_at_start_and_announced() {
    let (mut p, port, _) = project(0);
    p.set("MAILROOM_WEB__METRICS_ALLOW", "10.0.0.1/8");
    let out = p.run(&["serve"]);
    assert!(!out.status.success());
    let err = crate::common::project::stderr(&out);
    assert!(err.contains("[web] metrics_allow"), "{err}");
    assert!(err.contains("the range is `10.0.0.0/8`"), "{err}");

    p.set("MAILROOM_WEB__METRICS_ALLOW", "10.0.0.0/8, 2001:db8::7");
    let server = Server::start(&p, port, &[]);
    let log = server.log_text();
    let line = format!(
        "serve: metrics on http://127.0.0.1:{port}/metrics, for requests from this machine \
         and from 10.0.0.0/8, 2001:db8::7 that no proxy forwarded"
    );
    assert!(log.contains(&line), "{log}");
    scrape(port);
}
