//! The HTTP server under the router: hyper's HTTP/1.1 connections with a
//! header-read timeout, the connection cap of [`Conns`] kept below the
//! open-file limit, accept errors that back off instead of spinning, and a
//! graceful stop.
//!
//! Not `axum::serve`: it gives hyper no timer, so there is no header-read
//! timeout, and it has no connection cap (issue 10). The accept loop is
//! hand-written for the cap; each connection is hyper's own. HTTP/1.1 only:
//! hyper's header-read timeout does not cover HTTP/2, and the reverse
//! proxy in front of `serve` speaks HTTP/1.1 to it.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use super::conns::{Admitted, Busy, Conns};
use super::limits::Limits;

/// Serves `router` on `listener` until `stop` turns true; then stops
/// accepting, lets requests in flight finish (idle connections close at
/// once), and after `limits.drain` closes whatever is left.
pub async fn run(
    listener: TcpListener,
    router: Router,
    conns: Arc<Conns>,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_head_bytes)
        .keep_alive(true);
    let mut accept_errors = AcceptErrors::default();
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = stop.wait_for(|s| *s) => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                accept_errors.handle(&e, &conns).await;
                continue;
            }
        };
        let admitted = tokio::select! {
            a = conns.admit() => a,
            _ = stop.wait_for(|s| *s) => break,
        };
        let conn = Connection {
            admitted,
            peer,
            router: router.clone(),
            http: http.clone(),
            stop: stop.clone(),
        };
        tokio::spawn(conn.serve(stream));
    }
    drop(listener);
    if tokio::time::timeout(limits.drain, conns.all_closed())
        .await
        .is_err()
    {
        tracing::warn!(
            open = conns.len(),
            "closing connections still open after the shutdown grace"
        );
        conns.close_all();
        conns.all_closed().await;
    }
}

/// One accepted connection and what serving it needs.
struct Connection {
    admitted: Admitted,
    peer: SocketAddr,
    router: Router,
    http: hyper::server::conn::http1::Builder,
    stop: watch::Receiver<bool>,
}

impl Connection {
    async fn serve(mut self, stream: tokio::net::TcpStream) {
        let (peer, router, busy) = (self.peer, self.router, self.admitted.busy.clone());
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            let in_handler = Busy::enter(&busy);
            req.extensions_mut().insert(ConnectInfo(peer));
            let call = router.clone().oneshot(req.map(Body::new));
            async move {
                let resp = call.await;
                drop(in_handler);
                resp
            }
        });
        let conn = self.http.serve_connection(TokioIo::new(stream), service);
        tokio::pin!(conn);
        let close = self.admitted.close.clone();
        let mut stopping = false;
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        // Timeouts and resets; no path or address in it.
                        tracing::debug!(error = %e, "connection ended");
                    }
                    break;
                }
                () = close.notified() => break,
                _ = self.stop.wait_for(|s| *s), if !stopping => {
                    stopping = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
        drop(self.admitted);
    }
}

/// What to do when `accept` fails.
#[derive(Default)]
struct AcceptErrors {
    last_logged: Option<Instant>,
}

impl AcceptErrors {
    /// A connection reset before it was accepted is nothing; anything else
    /// (EMFILE, ENFILE, ENOBUFS) gets an idle connection closed to free a
    /// descriptor and a short pause, so the loop neither spins nor dies;
    /// logged at most once a second.
    async fn handle(&mut self, e: &std::io::Error, conns: &Conns) {
        use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
        if matches!(
            e.kind(),
            ConnectionAborted | ConnectionRefused | ConnectionReset
        ) {
            return;
        }
        if self
            .last_logged
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
        {
            self.last_logged = Some(Instant::now());
            tracing::error!(error = %e, open = conns.len(), "cannot accept a connection; retrying");
            crate::output::note!("serve: cannot accept a connection ({e}); retrying");
        }
        conns.close_oldest_idle();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn running_out_of_descriptors_closes_an_idle_connection_and_a_reset_does_not() {
        let conns = Conns::new(4);
        let idle = conns.admit().await;
        let mut errors = AcceptErrors::default();
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionAborted);
        errors.handle(&reset, &conns).await;
        assert!(errors.last_logged.is_none(), "a reset is not worth a line");
        assert!(conns.close_oldest_idle(), "the idle connection was kept");
        let idle2 = conns.admit().await;
        let emfile = std::io::Error::from_raw_os_error(24);
        errors.handle(&emfile, &conns).await;
        idle2.close.notified().await;
        let logged = errors.last_logged;
        assert!(logged.is_some());
        errors.handle(&emfile, &conns).await;
        assert_eq!(errors.last_logged, logged, "at most one line a second");
        drop((idle, idle2));
    }
}
