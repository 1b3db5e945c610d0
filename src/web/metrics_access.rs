//! Who may read `/metrics`, and the page itself.
//!
//! By default `/metrics` is on the public listener (`[web] bind`), and only
//! for a request made on this machine directly: its TCP peer is loopback
//! and it carries no forwarding header. A reverse proxy on the same
//! machine is a loopback peer too, so a request it forwards from the
//! internet is told apart by the headers every proxy adds (`Forwarded`,
//! `X-Forwarded-For`, …), whatever `[web] trusted_proxies` says; everyone
//! else gets the ordinary 404 page, so the route is not even revealed.
//!
//! With `[web] metrics_bind`, `/metrics` moves to a listener of its own,
//! which answers whoever reaches it (the address is the boundary), and the
//! public listener answers 404 for it to everyone. That is the safer choice
//! when a proxy on the same machine might not add forwarding headers.
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
use super::metrics_labels::StoreOp;
use super::{App, conns::Conns, server};
use crate::config::WebSettings;

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

/// Whether a request from `peer` with `headers` may read `/metrics` on the
/// public listener: made on this machine, not relayed by a proxy.
pub fn local_and_direct(peer: IpAddr, headers: &HeaderMap) -> bool {
    peer.to_canonical().is_loopback() && !FORWARDING.iter().any(|h| headers.contains_key(*h))
}

/// GET `/metrics` on the public listener.
pub async fn public(State(app): State<Arc<App>>, req: Request) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>();
    match peer {
        Some(ConnectInfo(peer)) if local_and_direct(peer.ip(), req.headers()) => {
            exposition(&app).await
        }
        _ => super::ops::not_found(State(app)).await,
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
    if app.metrics_here {
        eprintln!(
            "serve: metrics on http://{public}/metrics, for requests made on this machine \
             that no proxy forwarded"
        );
    }
    let Some(listener) = listener else {
        return Ok(None);
    };
    let addr = listener.local_addr()?;
    eprintln!("serve: metrics on http://{addr}/metrics (`[web] metrics_bind`)");
    if !addr.ip().to_canonical().is_loopback() {
        eprintln!(
            "serve: warning: the metrics listener answers anyone who can reach `{addr}`; \
             keep it on a private network or behind a firewall"
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

async fn own_listener(State(app): State<Arc<App>>) -> Response {
    exposition(&app).await
}

/// The metrics, with the confirmation queue's depth read from the store.
async fn exposition(app: &Arc<App>) -> Response {
    let rows = app
        .metrics
        .store(StoreOp::ReadQueue, app.store.confirmation_queue())
        .await;
    match rows {
        Ok(rows) => {
            let given_up = rows.iter().filter(|r| r.failed).count();
            app.metrics.queue_depth(rows.len() - given_up, given_up);
        }
        Err(e) => {
            // The last depth read stays; the scrape still answers.
            tracing::error!(
                error = format!("{e:#}"),
                "cannot read the confirmation queue"
            );
        }
    }
    match app.metrics.render() {
        Some(text) => {
            ([(header::CONTENT_TYPE, super::metrics::CONTENT_TYPE)], text).into_response()
        }
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

    #[test]
    fn only_a_direct_request_from_this_machine_may_read_metrics() {
        let none = headers(&[]);
        for local in ["127.0.0.1", "127.0.0.53", "::1", "::ffff:127.0.0.1"] {
            assert!(local_and_direct(local.parse().unwrap(), &none), "{local}");
        }
        for remote in [
            "198.51.100.9",
            "10.0.0.2",
            "::ffff:203.0.113.7",
            "2001:db8::1",
        ] {
            assert!(
                !local_and_direct(remote.parse().unwrap(), &none),
                "{remote}"
            );
        }
        let proxied = headers(&[("x-forwarded-for", "127.0.0.1")]);
        assert!(!local_and_direct("127.0.0.1".parse().unwrap(), &proxied));
        let proxied = headers(&[("forwarded", "for=\"[::1]\"")]);
        assert!(!local_and_direct("::1".parse().unwrap(), &proxied));
    }
}
