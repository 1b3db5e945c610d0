//! `[web]` and `[database]`: the HTTP service, the token key, and the store.
use std::ops::Deref;
use std::path::{Path, PathBuf};

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use serde::{Deserialize, Serialize};

use super::values::{MailtoAddress, PublicUrl, Secret};

/// The HTTP service (unsubscribe, subscribe) and the token key.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSettings {
    /// Address to listen on.
    pub bind: String,
    /// The base of every link in emails, e.g. `https://newsletter.example.org`.
    pub public_url: PublicUrl,
    /// The mailto address in List-Unsubscribe.
    pub unsubscribe_mailto: MailtoAddress,
    /// A file holding the token-signing secret (relative: to the config file).
    pub secret_file: Option<PathBuf>,
    /// A file with older secrets, one a line, still accepted.
    pub previous_secrets_file: Option<PathBuf>,
    /// The secret itself: only from `MAILROOM_WEB__SECRET`.
    pub secret: Option<Secret>,
    /// Reverse proxies whose `X-Forwarded-For` is believed: when the TCP
    /// peer is one of these, the client is the nearest untrusted address in
    /// that header (for rate limits and consent records).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Days a confirmation link stays valid.
    pub confirm_token_days: u32,
    /// Seconds a connection may take to send a complete request head,
    /// counted from when it opens or its previous answer was sent: slow
    /// header senders and idle kept-alive connections are closed after it.
    pub header_timeout_secs: f64,
    /// Seconds the request body may pause between two pieces.
    pub body_timeout_secs: f64,
    /// Seconds from a request's head to its answer, body included.
    pub request_timeout_secs: f64,
    /// Open connections at most (also kept below the open-file limit).
    pub max_connections: usize,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Confirmation emails waiting to be sent at most; beyond, the form
    /// answers that it cannot send one now.
    pub confirm_queue_max: u32,
    /// Backoff before the first retry of a confirmation, in seconds;
    /// doubles per attempt up to `confirm_retry_max_secs`.
    pub confirm_retry_base_secs: f64,
    /// The longest backoff between confirmation attempts, in seconds.
    pub confirm_retry_max_secs: f64,
    /// Attempts before a confirmation is given up.
    pub confirm_max_attempts: u32,
    /// Whether `serve` keeps Prometheus metrics and answers `/metrics`.
    pub metrics: bool,
    /// A separate address for `/metrics` (e.g. `127.0.0.1:9464`); unset,
    /// `/metrics` is on `bind`.
    pub metrics_bind: Option<String>,
    /// Who may read `/metrics` besides this machine (loopback): addresses
    /// or ranges. Requests a proxy forwarded are refused whatever this says.
    pub metrics_allow: Vec<super::Network>,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".to_owned(),
            public_url: PublicUrl::parse("https://newsletter.this-week-in-rust.org")
                .expect("the default public URL is valid"),
            unsubscribe_mailto: MailtoAddress::parse(
                "unsubscribe@newsletter.this-week-in-rust.org",
            )
            .expect("the default mailto is valid"),
            secret_file: Some(PathBuf::from("mailroom.secret")),
            previous_secrets_file: None,
            secret: None,
            trusted_proxies: vec![
                std::net::Ipv4Addr::LOCALHOST.into(),
                std::net::Ipv6Addr::LOCALHOST.into(),
            ],
            confirm_token_days: 7,
            header_timeout_secs: 10.0,
            body_timeout_secs: 10.0,
            request_timeout_secs: 30.0,
            max_connections: 4096,
            max_body_bytes: 16 * 1024,
            confirm_queue_max: 10_000,
            confirm_retry_base_secs: 30.0,
            confirm_retry_max_secs: 3600.0,
            confirm_max_attempts: 30,
            metrics: true,
            metrics_bind: None,
            metrics_allow: Vec::new(),
        }
    }
}

/// The store.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://mailroom.db` (relative: to the config file) or `postgres://…`.
    pub url: DatabaseUrl,
    /// The PostgreSQL password: only from `MAILROOM_DATABASE__PASSWORD`
    /// (else `PGPASSWORD` or `~/.pgpass`), never from the file.
    pub password: Option<Secret>,
}

/// A store URL, parsed: `sqlite://FILE`, `sqlite::memory:` or `postgres://…`.
/// Derefs to the URL text, which sqlx reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    text: String,
    kind: DatabaseKind,
}

/// Which store a [`DatabaseUrl`] names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseKind {
    /// A SQLite file, and the URL's `?query` (without the `?`), if any.
    SqliteFile(PathBuf, Option<String>),
    /// An in-memory SQLite database (tests).
    SqliteMemory,
    /// A PostgreSQL server.
    Postgres,
}

/// What sqlx percent-decodes in a SQLite path, so what must be encoded.
const PATH_ESCAPES: &AsciiSet = &CONTROLS.add(b'%').add(b'?').add(b'#').add(b' ');

impl DatabaseUrl {
    /// Parses a store URL the way sqlx reads it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let kind = if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            DatabaseKind::Postgres
        } else if let Some(rest) = text.strip_prefix("sqlite:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            let (path, query) = match rest.split_once('?') {
                Some((p, q)) => (p, Some(q.to_owned())),
                None => (rest, None),
            };
            let memory = query.as_deref().is_some_and(|q| q.contains("mode=memory"));
            if path == ":memory:" || memory {
                DatabaseKind::SqliteMemory
            } else if path.is_empty() {
                return Err("names no file; use `sqlite://mailroom.db`".to_owned());
            } else {
                let decoded = percent_decode_str(path)
                    .decode_utf8()
                    .map_err(|_| "is not UTF-8 once percent-decoded".to_owned())?;
                DatabaseKind::SqliteFile(PathBuf::from(decoded.as_ref()), query)
            }
        } else {
            return Err(
                "is not `sqlite://FILE` (e.g. `sqlite://mailroom.db`) or `postgres://…`".to_owned(),
            );
        };
        Ok(Self {
            text: text.to_owned(),
            kind,
        })
    }

    /// A SQLite file URL for `path` (with `query`, if any).
    pub fn sqlite_file(path: &Path, query: Option<&str>) -> Self {
        let encoded = utf8_percent_encode(&path.to_string_lossy(), PATH_ESCAPES).to_string();
        let text = match query {
            Some(q) => format!("sqlite://{encoded}?{q}"),
            None => format!("sqlite://{encoded}"),
        };
        Self {
            text,
            kind: DatabaseKind::SqliteFile(path.to_owned(), query.map(str::to_owned)),
        }
    }

    /// Which store this is.
    pub fn kind(&self) -> &DatabaseKind {
        &self.kind
    }

    /// The SQLite file, if this names one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.kind {
            DatabaseKind::SqliteFile(path, _) => Some(path),
            _ => None,
        }
    }

    /// The same URL with a relative SQLite path joined onto `base`, and
    /// any SQLite path normalised (no `.` or `..`).
    pub fn resolved(&self, base: &Path) -> Self {
        match &self.kind {
            DatabaseKind::SqliteFile(path, query) => {
                let resolved = super::paths::join(base, path);
                if resolved == *path {
                    self.clone()
                } else {
                    Self::sqlite_file(&resolved, query.as_deref())
                }
            }
            _ => self.clone(),
        }
    }

    /// What to call this store in messages: the file, or the URL without
    /// its password.
    pub fn describe(&self) -> String {
        match &self.kind {
            DatabaseKind::SqliteFile(path, _) => path.display().to_string(),
            DatabaseKind::SqliteMemory => "an in-memory SQLite database".to_owned(),
            DatabaseKind::Postgres => match url::Url::parse(&self.text) {
                Ok(mut u) => {
                    if u.password().is_some() {
                        let _ = u.set_password(Some("[redacted]"));
                    }
                    u.to_string()
                }
                Err(_) => "a PostgreSQL server".to_owned(),
            },
        }
    }
}

impl Default for DatabaseUrl {
    fn default() -> Self {
        Self::parse("sqlite://mailroom.db").expect("the default store URL is valid")
    }
}

impl Deref for DatabaseUrl {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Serialize for DatabaseUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.kind {
            DatabaseKind::Postgres => s.serialize_str(&self.describe()),
            _ => s.serialize_str(&self.text),
        }
    }
}

impl<'de> Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}
