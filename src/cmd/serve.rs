//! `mailroom serve`: the HTTP service for unsubscribe, confirm and subscribe.
use std::process::ExitCode;

use anyhow::Context;

use crate::config::Settings;

/// Run the web service: one-click unsubscribe, double opt-in subscribe.
///
/// Listens on `[web] bind` (default 127.0.0.1:8080; put it behind a TLS
/// reverse proxy at `[web] public_url`). Tokens are checked with
/// MAILROOM_WEB__SECRET (or `[web] secret_file`) and every secret in
/// `[web] previous_secrets_file`. Confirmation emails wait in the store
/// and go out through `[send] transport`, like `mailroom send`, retried
/// with backoff while the relay is down, also after a restart. One log line
/// per request at info level, naming the route, never the path.
///
/// Limits (`[web]`, printed at start): a request head within
/// header_timeout_secs (also the idle timeout), body pauses up to
/// body_timeout_secs, request_timeout_secs per request, bodies up to
/// max_body_bytes, at most max_connections open (below `ulimit -n`; the
/// oldest idle one makes room for a new one). SIGTERM or Ctrl-C stops
/// accepting, finishes requests in flight and leaves unsent confirmations
/// queued.
///
/// Routes: GET/POST /subscribe, GET/POST /confirm/{token},
/// GET/POST /unsubscribe/{token} (RFC 8058 one-click), GET/POST
/// /resubscribe/{token} (undo), GET /healthz.
///
/// Example:
///   MAILROOM_WEB__SECRET=$(cat /etc/mailroom/secret) mailroom serve
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {}

/// Runs `serve`.
pub fn run(_args: Args, settings: &Settings) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(crate::web::serve(settings))?;
    Ok(ExitCode::SUCCESS)
}
