//! Who may read `/metrics`, and the page itself.
//!
//! `/metrics` answers a request made from this machine (a loopback TCP
//! peer) or from one of `[web] metrics_allow` (addresses or ranges; empty
//! by default), and only when it carries no forwarding header. A reverse
//! proxy on the same machine is a loopback peer too, so a request it
//! forwards from the internet is told apart by the headers every proxy adds
//! (`Forwarded`, `X-Forwarded-For`, …), whatever `[web] trusted_proxies`
//! says. On the public listener (`[web] bind`) everyone else gets the
//! ordinary 404 page, so the route is not even revealed.
//!
//! With `[web] metrics_bind`, `/metrics` moves to a listener of its own
//! (the same rule applies there; a refusal is a 403 that names the key),
//! and the public listener answers 404 for it to everyone. That is the
//! safer choice when a proxy on the same machine might not add forwarding
//! headers, and the way for a Prometheus server on another machine to
//! scrape without going through the public proxy.
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::limits::Limits;
use super::metrics::Format;
use super::metrics_labels::StoreOp;
use super::{App, conns::Conns, server};
use crate::config::{Network, WebSettings};
use crate::output::{note, warning};

/// Connections the metrics listener holds at once (a scraper needs one).
const METRICS_CONNECTIONS: usize = 16;

/// Headers that mark a request as relayed by a proxy.
const FORWARDING: [&str; 6] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "via",
];

/// Whether a request from `peer` with `headers` may read `/metrics`: from
/// this machine or from `allow`, and not relayed by a proxy.
pub fn may_read(peer: IpAddr, headers: &HeaderMap, allow: &[Network]) -> bool {
    let peer = peer.to_canonical();
    let known = peer.is_loopback() || allow.iter().any(|net| net.contains(peer));
    known && !FORWARDING.iter().any(|h| headers.contains_key(*h))
}

/// Whether `req` may read `/metrics` under `app`'s `[web] metrics_allow`.
fn allowed(app: &App, req: &Request) -> bool {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>();
    peer.is_some_and(|ConnectInfo(p)| may_read(p.ip(), req.headers(), &app.metrics_allow))
}

/// The format `req`'s `Accept` header asks for.
fn format_for(req: &Request) -> Format {
    let accept = req.headers().get(header::ACCEPT);
    Format::from_accept(accept.and_then(|a| a.to_str().ok()))
}

/// GET `/metrics` on the public listener.
pub async fn public(State(app): State<Arc<App>>, req: Request) -> Response {
    match allowed(&app, &req) {
        true => exposition(&app, format_for(&req)).await,
        false => super::ops::not_found(State(app)).await,
    }
}

/// Binds `[web] metrics_bind`, when metrics are on and it is set.
pub async fn bind(web: &WebSettings) -> anyhow::Result<Option<TcpListener>> {
    let Some(addr) = web.metrics_bind.as_deref().filter(|_| web.metrics) else {
        return Ok(None);
    };
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on `[web] metrics_bind` `{addr}`"))?;
    Ok(Some(listener))
}

/// Says where the metrics are, and serves `listener` (from [`bind`]), if
/// any, until `stop`.
pub fn start(
    listener: Option<TcpListener>,
    app: &Arc<App>,
    public: SocketAddr,
    limits: &Limits,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Option<JoinHandle<()>>> {
    let readers = readers(&app.metrics_allow);
    if app.metrics_here {
        note!("serve: metrics on http://{public}/metrics, for {readers}");
    }
    let Some(listener) = listener else {
        return Ok(None);
    };
    let addr = listener.local_addr()?;
    note!("serve: metrics on http://{addr}/metrics (`[web] metrics_bind`), for {readers}");
    if !addr.ip().to_canonical().is_loopback() && app.metrics_allow.is_empty() {
        warning!(
            "`[web] metrics_bind` `{addr}` is reachable from other machines, \
             but only this machine may read it; list the scraper in `[web] metrics_allow`"
        );
    }
    let conns = Conns::new(METRICS_CONNECTIONS);
    let task = server::run(listener, router(app.clone()), conns, limits.clone(), stop);
    Ok(Some(tokio::spawn(task)))
}

/// The router of the separate metrics listener (`[web] metrics_bind`).
fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/metrics", get(own_listener))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found: try /metrics\n") })
        .with_state(app)
}

async fn own_listener(State(app): State<Arc<App>>, req: Request) -> Response {
    match allowed(&app, &req) {
        true => exposition(&app, format_for(&req)).await,
        false => (StatusCode::FORBIDDEN, REFUSED).into_response(),
    }
}

/// The metrics listener's answer to a reader it does not know.
const REFUSED: &str = "forbidden: `/metrics` answers requests from this machine and from \
                       `[web] metrics_allow`, never ones a proxy forwarded\n";

/// Who may read, for the startup line: `requests from this machine and
/// from 10.0.0.0/8, 192.0.2.7 that no proxy forwarded`.
fn readers(allow: &[Network]) -> String {
    let also = match allow {
        [] => String::new(),
        nets => {
            let list: Vec<String> = nets.iter().map(ToString::to_string).collect();
            format!(" and from {}", list.join(", "))
        }
    };
    format!("requests from this machine{also} that no proxy forwarded")
}

/// The metrics, with the confirmation queue's depth read from the store.
async fn exposition(app: &Arc<App>, format: Format) -> Response {
    let depth = app
        .metrics
        .store(StoreOp::ReadQueue, app.store.confirmation_queue_depth())
        .await;
    match depth {
        Ok(depth) => app.metrics.queue_depth(depth.waiting, depth.given_up),
        Err(e) => {
            // The last depth read stays; the scrape still answers.
            tracing::error!(
                error = format!("{e:#}"),
                "cannot read the confirmation queue"
            );
        }
    }
    match app.metrics.render(format) {
        Some(text) => ([(header::CONTENT_TYPE, format.content_type())], text).into_response(),
        // The route exists only when metrics are on.
        None => super::ops::not_found(State(app.clone())).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(lines: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in lines {
            h.insert(*name, value.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn by_default_only_a_direct_request_from_this_machine_may_read_metrics() {
        let none = headers(&[]);
        for local in ["127.0.0.1", "127.0.0.53", "::1", "::ffff:127.0.0.1"] {
            assert!(may_read(ip(local), &none, &[]), "{local}");
        }
        for remote in [
            "198.51.100.9",
            "10.0.0.2",
            "::ffff:203.0.113.7",
            "2001:db8::1",
        ] {
            assert!(!may_read(ip(remote), &none, &[]), "{remote}");
        }
        let proxied = headers(&[("x-forwarded-for", "127.0.0.1")]);
        assert!(!may_read(ip("127.0.0.1"), &proxied, &[]));
        let proxied = headers(&[("forwarded", "for=\"[::1]\"")]);
        assert!(!may_read(ip("::1"), &proxied, &[]));
    }

    #[test]
    fn metrics_allow_admits_its_addresses_and_ranges_but_never_a_forwarded_request() {
        let allow = [
            Network::parse("10.0.0.0/8").unwrap(),
            Network::parse("2001:db8::7").unwrap(),
        ];
        let none = headers(&[]);
        for reader in ["10.1.2.3", "::ffff:10.9.9.9", "2001:db8::7", "127.0.0.1"] {
            assert!(may_read(ip(reader), &none, &allow), "{reader}");
        }
        for other in ["11.0.0.1", "2001:db8::8", "192.0.2.1"] {
            assert!(!may_read(ip(other), &none, &allow), "{other}");
        }
        let proxied = headers(&[("x-real-ip", "10.1.2.3")]);
        assert!(!may_read(ip("10.1.2.3"), &proxied, &allow));
        assert_eq!(
            readers(&allow),
            "requests from this machine and from 10.0.0.0/8, 2001:db8::7 that no proxy forwarded"
        );
    }
}
