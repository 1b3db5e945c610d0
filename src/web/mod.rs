//! The HTTP service behind the links in every email: one-click unsubscribe
//! (RFC 8058) with undo, and the double opt-in subscribe form.
//!
//! Tokens in paths are checked with [`Keyring`]; every bad token (tampered,
//! truncated, expired, other purpose, unknown secret) gets the same page.
//! GETs never change state (mail scanners prefetch links); POSTs do. Logs
//! name the route pattern, never the path, so no token or address is logged.
mod batch;
mod client_ip;
mod limit;
mod links;
mod mailer;
mod ops;
pub mod pages;
mod subscribe;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::routing::get;

pub use batch::Unsubscriber;
pub use limit::KeyedLimiter;
pub use mailer::Mailer;

use crate::config::Settings;
use crate::domain::EmailAddress;
use crate::store::Store;
use crate::token::Keyring;

/// Everything the handlers share.
pub struct App {
    pub store: Store,
    pub keys: Keyring,
    pub page: pages::PageContext,
    pub unsubscriber: Unsubscriber,
    pub mailer: Mailer,
    /// `[web] public_url`, without a trailing slash.
    pub public_url: String,
    /// How long confirmation and undo links stay valid.
    pub token_life: time::Duration,
    pub per_ip: KeyedLimiter<std::net::IpAddr>,
    pub per_address: KeyedLimiter<EmailAddress>,
    /// `[web] trusted_proxies`.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// The service's routes, with security headers and request logs.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
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
        .layer(axum::middleware::from_fn(ops::log_request))
        .layer(axum::middleware::from_fn(ops::security_headers))
        .layer(axum::extract::DefaultBodyLimit::max(16 * 1024))
        .with_state(app)
}

/// Runs the service on `[web] bind` until SIGTERM or Ctrl-C, then stops
/// accepting, finishes requests in flight, flushes queued unsubscribes and
/// confirmations, and closes the store.
pub async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let keys = Keyring::load(&settings.web)?;
    let store = Store::open_durable(&settings.database).await?;
    let (unsubscriber, writer) = Unsubscriber::start(store.clone());
    let (mailer, mail_task) = Mailer::start(settings)?;
    let app = Arc::new(App {
        store: store.clone(),
        keys,
        page: pages::PageContext {
            name: settings.newsletter.name.clone(),
            privacy_url: settings.newsletter.privacy_url.clone(),
        },
        unsubscriber,
        mailer,
        public_url: settings.web.public_url.trim_end_matches('/').to_owned(),
        token_life: time::Duration::days(i64::from(settings.web.confirm_token_days.max(1))),
        per_ip: KeyedLimiter::new(10, Duration::from_secs(60)),
        per_address: KeyedLimiter::new(3, Duration::from_secs(20 * 60)),
        trusted_proxies: settings.web.trusted_proxies.clone(),
    });
    let listener = tokio::net::TcpListener::bind(&settings.web.bind)
        .await
        .with_context(|| format!("cannot listen on `[web] bind` `{}`", settings.web.bind))?;
    let local = listener.local_addr()?;
    tracing::info!(address = %local, "listening");
    eprintln!("serve: listening on http://{local}");
    axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(ops::shutdown_signal())
    .await
    .context("the HTTP server failed")?;
    // The router (and with it every handle) is gone: the tasks drain and end.
    let drained = tokio::time::timeout(Duration::from_secs(30), async {
        let _ = writer.await;
        let _ = mail_task.await;
    })
    .await;
    if drained.is_err() {
        eprintln!("serve: gave up waiting for queued confirmations after 30 s");
    }
    store.close().await;
    eprintln!("serve: stopped");
    Ok(())
}
