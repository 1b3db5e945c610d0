//! `mailroom preview`'s local server: the exact email as a page (desktop,
//! mobile, dark, plain text, headers, the checker's findings by line), a
//! fresh [`Edition`] whenever a watched file changes, and server-sent
//! events that tell open pages to reload.
//!
//! Bounded like `serve`: loopback only, hyper with a header-read timeout
//! and a connection cap ([`super::server`]), GET only, no request bodies.
mod page;
mod watch;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::Stream;

use super::Limits;
use crate::model::Diagnostic;

/// Connections open at once: a few browser tabs, each with its page, two
/// frames and an event stream.
pub const MAX_CONNECTIONS: usize = 64;

/// One render of the issue, as the page shows it.
#[derive(Debug, Clone)]
pub struct Edition {
    /// The issue file as the editor named it.
    pub file: String,
    /// The text (empty when it could not be read).
    pub source: String,
    /// The email, or why there is none (a parse or render error).
    pub email: Result<Email, Problem>,
    /// The checker's findings.
    pub findings: Vec<Diagnostic>,
}

/// Why an issue could not be rendered, and the line when known.
#[derive(Debug, Clone)]
pub struct Problem {
    pub message: String,
    /// 1-based; 0 when about the whole file.
    pub line: usize,
}

/// The email's parts, personalized for the sample recipient.
#[derive(Debug, Clone)]
pub struct Email {
    pub subject: String,
    pub html: String,
    pub text: String,
    /// The message's header section, unfolded lines as sent.
    pub headers: String,
}

/// What the preview renders and watches.
pub struct Watched {
    /// Makes a fresh edition (reads the files, renders, checks).
    pub build: Box<dyn Fn() -> Edition + Send + Sync>,
    /// Files whose change calls for a fresh edition.
    pub files: Vec<PathBuf>,
    /// The running binary (templates are compiled into it): when it is
    /// rebuilt, the preview restarts itself on the same port.
    pub exe: Option<PathBuf>,
}

struct App {
    edition: RwLock<Arc<(u64, Edition)>>,
    version: tokio::sync::watch::Sender<u64>,
}

impl App {
    fn current(&self) -> Arc<(u64, Edition)> {
        self.edition
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// What ended the preview.
pub enum Ended {
    /// Ctrl-C or SIGTERM.
    Stopped,
    /// The binary was rebuilt; the caller restarts it on `port`.
    Rebuilt { port: u16 },
}

/// Binds 127.0.0.1:`port` (0 picks a free one), calls `ready` with the
/// URL, and serves until stopped or the binary is rebuilt.
pub async fn run(watched: Watched, port: u16, ready: impl FnOnce(&str)) -> anyhow::Result<Ended> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on `{addr}`; choose another `--port`"))?;
    let local = listener.local_addr()?;
    let build = Arc::new(watched.build);
    let first = tokio::task::spawn_blocking({
        let build = build.clone();
        move || build()
    })
    .await?;
    // Versions start at the clock, so a page left open across a restart
    // (a rebuilt binary) sees a new one and reloads.
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| u64::try_from(d.as_millis()).unwrap_or(1));
    let (version, _) = tokio::sync::watch::channel(start);
    let app = Arc::new(App {
        edition: RwLock::new(Arc::new((start, first))),
        version,
    });
    let (changes, rebuilt) = watch::start(&watched.files, watched.exe.as_deref())?;
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let router = router(app.clone());
    let server = tokio::spawn(async move {
        let conns = super::conns::Conns::new(MAX_CONNECTIONS);
        super::server::run(listener, router, conns, limits(), stop).await;
    });
    ready(&format!("http://{local}/"));
    let ended = tokio::select! {
        () = refresh(app, build, changes) => Ended::Stopped,
        () = shutdown_signal() => Ended::Stopped,
        () = rebuilt.notified() => Ended::Rebuilt { port: local.port() },
    };
    let _ = stop_tx.send(true);
    let _ = server.await;
    Ok(ended)
}

/// The server's limits: `serve`'s timeouts, a small connection cap.
fn limits() -> Limits {
    Limits {
        header_timeout: Duration::from_secs(10),
        body_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(30),
        max_body: 0,
        max_head_bytes: 16 * 1024,
        max_connections: MAX_CONNECTIONS,
        open_files: 0,
        drain: Duration::from_millis(500),
    }
}

/// Renders afresh on every change and tells the pages.
async fn refresh(
    app: Arc<App>,
    build: Arc<Box<dyn Fn() -> Edition + Send + Sync>>,
    mut changes: tokio::sync::mpsc::Receiver<()>,
) {
    while changes.recv().await.is_some() {
        let build = build.clone();
        let Ok(edition) = tokio::task::spawn_blocking(move || build()).await else {
            continue;
        };
        let version = app.current().0 + 1;
        *app.edition.write().unwrap_or_else(|e| e.into_inner()) = Arc::new((version, edition));
        app.version.send_replace(version);
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/email.html", get(email_html))
        .route("/email-dark.html", get(email_dark))
        .route("/events", get(events))
        .layer(axum::middleware::from_fn(headers))
        .with_state(app)
}

/// Pages stay out of caches and frames of other origins.
async fn headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

async fn index(State(app): State<Arc<App>>) -> Response {
    let current = app.current();
    html(page::index(current.0, &current.1))
}

async fn email_html(State(app): State<Arc<App>>) -> Response {
    match &app.current().1.email {
        Ok(email) => html(email.html.clone()),
        Err(_) => (StatusCode::NOT_FOUND, "no email: the issue did not render").into_response(),
    }
}

async fn email_dark(State(app): State<Arc<App>>) -> Response {
    match &app.current().1.email {
        Ok(email) => html(page::forced_dark(&email.html)),
        Err(_) => (StatusCode::NOT_FOUND, "no email: the issue did not render").into_response(),
    }
}

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// The edition's version now, then after every change: a page whose
/// version differs reloads itself.
async fn events(
    State(app): State<Arc<App>>,
) -> Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>> {
    let rx = app.version.subscribe();
    let stream = futures_util::stream::unfold((rx, true), |(mut rx, first)| async move {
        if !first {
            rx.changed().await.ok()?;
        }
        let version = *rx.borrow_and_update();
        let event = Event::default().event("version").data(version.to_string());
        Some((Ok(event), (rx, false)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
