//! Operations: security headers, request logs, error pages for the limit
//! layers, `/healthz`, the stylesheet, 404, and the shutdown signal.
use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::BytesRejection;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::App;
use super::metrics::Metrics;
use super::metrics_labels::{StoreOp, route_label};

/// Scripts: none. Styles: only `/style.css`. Forms: only back to us.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the headers every response carries. Tokens are in URLs, so no
/// referrer leaves, and nothing is cached.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    resp
}

/// One structured line per request: method, route pattern (never the
/// path, which holds tokens), status and latency; and the same in the
/// metrics, when they are on (one layer for both, so metrics add no layer).
pub async fn log_request(State(metrics): State<Metrics>, req: Request, next: Next) -> Response {
    // A pattern from the fixed list (no allocation per request).
    let route = route_label(req.extensions().get::<MatchedPath>().map(|m| m.as_str()));
    let method = req.method().clone();
    let start = Instant::now();
    let resp = next.run(req).await;
    let took = start.elapsed();
    let status = resp.status().as_u16();
    metrics.request(&method, route, status, took);
    tracing::info!(
        target: "mailroom::web::access",
        method = %method,
        route,
        status,
        micros = took.as_micros() as u64,
        "request"
    );
    resp
}

/// Gives the limit layers' bare answers (408 from the request timeout, 413
/// from the body limit) the service's page.
pub async fn error_pages(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let is_page = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    match resp.status() {
        StatusCode::REQUEST_TIMEOUT if !is_page => {
            (resp.status(), super::pages::too_slow(&app.page)).into_response()
        }
        StatusCode::PAYLOAD_TOO_LARGE if !is_page => {
            (resp.status(), super::pages::too_large(&app.page)).into_response()
        }
        _ => resp,
    }
}

/// The answer to a request body that could not be read: 413 over the size
/// limit, 408 when it paused longer than `[web] body_timeout_secs`, else 400.
pub fn unreadable_body(app: &App, e: &BytesRejection) -> Response {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<tower_http::timeout::TimeoutError>() {
            let page = super::pages::too_slow(&app.page);
            return (StatusCode::REQUEST_TIMEOUT, page).into_response();
        }
        source = err.source();
    }
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return (e.status(), super::pages::too_large(&app.page)).into_response();
    }
    (StatusCode::BAD_REQUEST, super::pages::try_later(&app.page)).into_response()
}

/// `/healthz`: 200 when the store answers, 503 otherwise.
pub async fn healthz(State(app): State<Arc<App>>) -> Response {
    let probe = app.store.status_of(crate::domain::SubscriberId::new(0));
    match app.metrics.store(StoreOp::StatusOf, probe).await {
        Ok(_) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n").into_response()
        }
    }
}

/// `/style.css`.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("style.css"),
    )
        .into_response()
}

/// Anything else.
pub async fn not_found(State(app): State<Arc<App>>) -> Response {
    (StatusCode::NOT_FOUND, super::pages::not_found(&app.page)).into_response()
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    crate::output::note!("serve: stopping: finishing requests in flight");
}
