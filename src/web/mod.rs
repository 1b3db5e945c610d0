//! The HTTP service behind the links in every email: one-click unsubscribe
//! (RFC 8058) with undo, and the double opt-in subscribe form.
//!
//! Tokens in paths are checked with [`Keyring`]; every bad token (tampered,
//! truncated, expired, other purpose, unknown secret) gets the same page.
//! GETs never change state (mail scanners prefetch links); POSTs do. Logs
//! name the route pattern, never the path, so no token or address is logged.
mod batch;
mod client_ip;
mod confirmations;
mod conns;
mod limit;
mod limits;
mod links;
mod mailer;
mod metrics;
mod metrics_access;
pub mod metrics_labels;
mod ops;
pub mod pages;
pub mod preview;
mod server;
mod subscribe;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

pub use batch::Unsubscriber;
pub use confirmations::Backoff;
pub use limit::KeyedLimiter;
pub use limits::Limits;
pub use mailer::Mailer;
pub use metrics::Metrics;

use crate::config::Settings;
use crate::domain::EmailAddress;
use crate::store::{QueueDepth, Store};
use crate::token::Keyring;

/// Everything the handlers share.
pub struct App {
    pub store: Store,
    pub keys: Keyring,
    pub page: pages::PageContext,
    pub unsubscriber: Unsubscriber,
    /// The durable confirmation queue's handle.
    pub confirmations: confirmations::Queue,
    pub token_life: time::Duration,
    pub per_ip: KeyedLimiter<std::net::IpAddr>,
    pub per_address: KeyedLimiter<EmailAddress>,
    /// `[web] trusted_proxies`.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub limits: Limits,
    /// Prometheus metrics (a no-op handle when `[web] metrics` is off).
    pub metrics: Metrics,
    /// Whether `/metrics` is on this listener (metrics on, no `metrics_bind`).
    pub metrics_here: bool,
    /// `[web] metrics_allow`: who may read `/metrics` besides loopback.
    pub metrics_allow: Vec<crate::config::Network>,
}

/// The service's routes, with security headers, request logs, and the
/// request limits (body size, body pauses, time per request).
pub fn router(app: Arc<App>) -> Router {
    let l = &app.limits;
    let mut routes = Router::new();
    if app.metrics_here {
        routes = routes.route("/metrics", get(metrics_access::public));
    }
    routes
        .route("/", get(subscribe::form))
        .route("/subscribe", get(subscribe::form).post(subscribe::submit))
        .route(
            "/confirm/{token}",
            get(links::confirm_ask).post(links::confirm),
        )
        .route(
            "/unsubscribe/{token}",
            get(links::unsubscribe_ask).post(links::unsubscribe),
        )
        .route(
            "/resubscribe/{token}",
            get(links::resubscribe_ask).post(links::resubscribe),
        )
        .route("/healthz", get(ops::healthz))
        .route("/style.css", get(ops::stylesheet))
        .fallback(ops::not_found)
        .layer(RequestBodyTimeoutLayer::new(l.body_timeout))
        .layer(RequestBodyLimitLayer::new(l.max_body))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            l.request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            ops::error_pages,
        ))
        .layer(axum::middleware::from_fn_with_state(
            app.metrics.clone(),
            ops::log_request,
        ))
        .layer(axum::middleware::from_fn(ops::security_headers))
        .with_state(app)
}

/// Runs the service on `[web] bind` until SIGTERM or Ctrl-C, then stops
/// accepting, finishes requests in flight, flushes queued unsubscribes,
/// and leaves unsent confirmations queued in the store for the next start.
pub async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let limits = Limits::from_settings(&settings.web)?;
    let backoff = Backoff::from_settings(settings)?;
    let keys = Keyring::load(&settings.web)?;
    let store = Store::open_durable(&settings.database)
        .await?
        .with_erasure_keys(&keys);
    crate::cmd::report_merges(&store);
    let conns = conns::Conns::new(limits.max_connections);
    let metrics = match settings.web.metrics {
        true => Metrics::new(conns.clone()),
        false => Metrics::off(),
    };
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let (unsubscriber, writer) = Unsubscriber::start(store.clone(), metrics.clone());
    let public_url = settings.web.public_url.trim_end_matches('/').to_owned();
    let token_life = time::Duration::days(i64::from(settings.web.confirm_token_days.max(1)));
    let worker = confirmations::Worker {
        store: store.clone(),
        mailer: Mailer::new(settings)?,
        keys: keys.clone(),
        public_url,
        token_life,
        backoff,
        grace: Duration::from_secs_f64(settings.send.shutdown_grace_secs.clamp(0.0, 3600.0)),
        metrics: metrics.clone(),
    };
    let listener = tokio::net::TcpListener::bind(&settings.web.bind)
        .await
        .with_context(|| format!("cannot listen on `[web] bind` `{}`", settings.web.bind))?;
    let local = listener.local_addr()?;
    let metrics_listener = metrics_access::bind(&settings.web).await?;
    let (queue, worker) = worker.start(settings.web.confirm_queue_max, stop.clone());
    report_queue(&store, "queued from before, to send now").await;
    let app = Arc::new(App {
        store: store.clone(),
        keys,
        page: pages::PageContext {
            name: settings.newsletter.name.clone(),
            privacy_url: settings.newsletter.privacy_url.clone(),
        },
        unsubscriber,
        confirmations: queue,
        token_life,
        per_ip: KeyedLimiter::new(10, Duration::from_secs(60)),
        per_address: KeyedLimiter::new(3, Duration::from_secs(20 * 60)),
        trusted_proxies: settings.web.trusted_proxies.clone(),
        limits: limits.clone(),
        metrics_here: metrics.is_on() && metrics_listener.is_none(),
        metrics_allow: settings.web.metrics_allow.clone(),
        metrics,
    });
    let described = limits.describe(settings.web.max_connections);
    // The note says it for people; the event is for logs when asked for.
    if crate::output::logs_asked() {
        tracing::info!(
            address = %local,
            max_connections = limits.max_connections,
            open_files = limits.open_files,
            "listening"
        );
    }
    crate::output::note!("serve: listening on http://{local}");
    crate::output::note!("serve: {described}");
    let metrics_server =
        metrics_access::start(metrics_listener, &app, local, &limits, stop.clone())?;
    tokio::spawn(async move {
        ops::shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    server::run(listener, router(app), conns, limits, stop).await;
    if let Some(task) = metrics_server {
        let _ = task.await;
    }
    // Every connection is closed, so every handle to the writer is gone.
    let _ = writer.await;
    let _ = worker.await;
    report_queue(&store, "left queued for the next start").await;
    store.close().await;
    crate::output::note!("serve: stopped");
    Ok(())
}

/// One line about confirmations in the store (at start and at stop).
async fn report_queue(store: &Store, waiting_means: &str) {
    let Ok(QueueDepth { waiting, given_up }) = store.confirmation_queue_depth().await else {
        return;
    };
    if waiting + given_up > 0 {
        crate::output::note!(
            "serve: {} {waiting_means}; {given_up} given up (see \
             `confirmation_queue.last_error`)",
            crate::output::plural(waiting, "confirmation")
        );
    }
}
