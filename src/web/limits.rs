//! `serve`'s limits from `[web]`, checked once at startup: timeouts, the
//! body size, and the connection cap, which is kept below the open-file
//! limit (raised towards its hard limit first, as Go's runtime does).
use std::time::Duration;

use crate::config::WebSettings;

/// File descriptors kept back from the connection cap: the SQLite pool
/// (database, WAL and shared-memory files per connection), stdio, the
/// runtime's epoll and signal pipes, the listener, an SMTP connection, an
/// outbox file, and one accepted socket waiting for a slot.
pub const FD_RESERVE: u64 = 32;

/// Fewer connections than this is no service; the fix is `ulimit -n`.
const MIN_CONNECTIONS: u64 = 8;

/// The limits `serve` runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// To receive a whole request head, from the connection's start or
    /// its previous answer (so also the keep-alive idle timeout).
    pub header_timeout: Duration,
    /// The longest pause between two pieces of a request body.
    pub body_timeout: Duration,
    /// From a request's head to its answer.
    pub request_timeout: Duration,
    pub max_body: usize,
    /// hyper's read buffer, which bounds a request head.
    pub max_head_bytes: usize,
    /// The cap in force: `[web] max_connections` or what the open-file
    /// limit allows, whichever is lower.
    pub max_connections: usize,
    /// The open-file limit in force.
    pub open_files: u64,
    /// How long a stop waits for requests in flight.
    pub drain: Duration,
}

impl Limits {
    /// Checks `[web]` and raises the open-file limit as far as the cap
    /// needs (up to the hard limit).
    pub fn from_settings(web: &WebSettings) -> anyhow::Result<Self> {
        let wanted = u64::try_from(web.max_connections).unwrap_or(u64::MAX);
        let open_files = rlimit::increase_nofile_limit(wanted.saturating_add(FD_RESERVE))
            .map_err(|e| anyhow::anyhow!("cannot read the open-file limit: {e}"))?;
        Self::with_open_files(web, open_files)
    }

    /// [`Limits::from_settings`] under a given open-file limit (pure).
    pub fn with_open_files(web: &WebSettings, open_files: u64) -> anyhow::Result<Self> {
        let header_timeout = seconds("header_timeout_secs", web.header_timeout_secs)?;
        let body_timeout = seconds("body_timeout_secs", web.body_timeout_secs)?;
        let request_timeout = seconds("request_timeout_secs", web.request_timeout_secs)?;
        if web.max_body_bytes < 1024 {
            anyhow::bail!(
                "`[web] max_body_bytes` is `{}`: the subscribe form needs at least 1024",
                web.max_body_bytes
            );
        }
        if web.max_connections == 0 {
            anyhow::bail!("`[web] max_connections` is `0`: allow at least 1 (the default is 4096)");
        }
        let allowed = open_files.saturating_sub(FD_RESERVE);
        if allowed < MIN_CONNECTIONS {
            anyhow::bail!(
                "the open-file limit is {open_files}, too low to serve: `serve` keeps {FD_RESERVE} \
                 for itself and needs room for at least {MIN_CONNECTIONS} connections; raise it \
                 with `ulimit -n` (or LimitNOFILE= under systemd)"
            );
        }
        let max_connections = web
            .max_connections
            .min(usize::try_from(allowed).unwrap_or(usize::MAX));
        Ok(Self {
            header_timeout,
            body_timeout,
            request_timeout,
            max_body: web.max_body_bytes,
            max_head_bytes: 64 * 1024,
            max_connections,
            open_files,
            drain: request_timeout + Duration::from_secs(1),
        })
    }

    /// The startup line: what a connection may do, and why the cap is what
    /// it is.
    pub fn describe(&self, configured_cap: usize) -> String {
        let cap = if self.max_connections < configured_cap {
            format!(
                "at most {} connections (`[web] max_connections` is {configured_cap}, \
                 but the open-file limit is {})",
                self.max_connections, self.open_files
            )
        } else {
            format!(
                "at most {} connections (open-file limit {})",
                self.max_connections, self.open_files
            )
        };
        format!(
            "{cap}; request head within {} (also the idle timeout), body pauses up to {}, \
             {} per request, bodies up to {} bytes",
            secs(self.header_timeout),
            secs(self.body_timeout),
            secs(self.request_timeout),
            self.max_body
        )
    }
}

fn seconds(key: &str, value: f64) -> anyhow::Result<Duration> {
    if !(value > 0.0 && value <= 86_400.0) {
        anyhow::bail!("`[web] {key}` is `{value}`: it must be seconds above 0, at most 86400");
    }
    Ok(Duration::from_secs_f64(value))
}

fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web() -> WebSettings {
        let toml = include_str!("../../config.toml");
        crate::config::from_sources(toml, []).unwrap().web
    }

    #[test]
    fn the_cap_stays_below_the_open_file_limit_and_says_why() {
        let l = Limits::with_open_files(&web(), 256).unwrap();
        assert_eq!(l.max_connections, 256 - FD_RESERVE as usize);
        let line = l.describe(web().max_connections);
        assert!(line.contains("open-file limit is 256"), "{line}");
        let roomy = Limits::with_open_files(&web(), 1_000_000).unwrap();
        assert_eq!(roomy.max_connections, web().max_connections);
    }

    #[test]
    fn a_limit_too_low_to_serve_names_the_fix() {
        let err = Limits::with_open_files(&web(), 20).unwrap_err().to_string();
        assert!(err.contains("ulimit -n"), "{err}");
    }

    #[test]
    fn zero_or_negative_timeouts_are_refused_naming_the_key() {
        for bad in [0.0, -1.0, f64::NAN] {
            let mut w = web();
            w.body_timeout_secs = bad;
            let err = Limits::with_open_files(&w, 4096).unwrap_err().to_string();
            assert!(err.contains("`[web] body_timeout_secs`"), "{err}");
        }
    }
}
