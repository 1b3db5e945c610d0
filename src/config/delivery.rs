//! `[send]`, `[outbox]`, `[smtp]` and `[preview]`: where messages go and how,
//! with safe built-in defaults (the file outbox, a loopback relay).
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Secret;

/// Where messages go and how fast.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SendSettings {
    /// `outbox` (write `.eml` files), `smtp`, or `discard` (benchmarks).
    pub transport: Transport,
    pub concurrency: usize,
    /// Messages per second; 0 means unlimited.
    pub rate_per_second: f64,
    pub max_attempts: u32,
    pub messages_per_connection: usize,
    /// Backoff before the first retry of a deferred message, in seconds;
    /// doubles per attempt (with jitter) up to `retry_max_secs`.
    pub retry_base_secs: f64,
    /// The longest backoff, in seconds.
    pub retry_max_secs: f64,
    /// How long a run waits for deferred messages to fall due before it
    /// exits (a rerun resumes them), in seconds.
    pub max_wait_secs: f64,
    /// After Ctrl-C, how long in-flight messages may take to finish.
    pub shutdown_grace_secs: f64,
    /// Seconds between progress lines when stderr is not a terminal (and
    /// between `send --format json` progress events).
    pub progress_secs: f64,
    /// How long a run's hold on a campaign lasts without renewal, in
    /// seconds; renewed every third of that. Another run takes an expired
    /// lease over (at once if the holder's process on this host is gone).
    pub lease_secs: f64,
    /// The bounce breaker: a run stops as a relay refusal when more than
    /// `bounce_breaker_start_max` of its first `bounce_breaker_start`
    /// recipients bounce as unknown, or more than `bounce_breaker_ratio` of
    /// any `bounce_breaker_window` in a row (0 turns a rule off).
    pub bounce_breaker_start: u64,
    pub bounce_breaker_start_max: u64,
    pub bounce_breaker_window: u64,
    pub bounce_breaker_ratio: f64,
}

impl Default for SendSettings {
    fn default() -> Self {
        Self {
            transport: Transport::Outbox,
            concurrency: 16,
            rate_per_second: 0.0,
            max_attempts: 5,
            messages_per_connection: 100,
            retry_base_secs: 60.0,
            retry_max_secs: 3600.0,
            max_wait_secs: 900.0,
            shutdown_grace_secs: 30.0,
            progress_secs: 10.0,
            lease_secs: 30.0,
            bounce_breaker_start: 200,
            bounce_breaker_start_max: 20,
            bounce_breaker_window: 500,
            bounce_breaker_ratio: 0.1,
        }
    }
}

/// The delivery transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Outbox,
    Smtp,
    /// Personalize every message, record it sent, and drop it: for
    /// benchmarks of everything but the network.
    Discard,
}

/// The file outbox.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboxSettings {
    /// Relative: to the config file.
    pub dir: PathBuf,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("outbox"),
        }
    }
}

/// The SMTP relay. The password only comes from `MAILROOM_SMTP__PASSWORD`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: String,
    pub password: Option<Secret>,
    /// Allow `tls = "none"` to a relay that is not on loopback.
    pub allow_insecure: bool,
    /// Seconds to wait for each SMTP reply but the last (RFC 5321
    /// §4.5.3.2: 5 minutes for the greeting, MAIL, RCPT; at least 2 for
    /// DATA).
    pub timeout_secs: u64,
    /// Seconds to wait for the reply to the final `.` of a message (RFC
    /// 5321: 10 minutes). Giving up sooner turns a slow relay into
    /// duplicates: a message whose reply is lost is sent again.
    pub data_timeout_secs: u64,
    /// Seconds to wait for the TCP connection (and TLS handshake).
    pub connect_timeout_secs: u64,
    /// A PEM file of extra trusted root certificates (a private relay's CA
    /// or self-signed certificate), trusted besides the system's.
    /// Relative: to the config file.
    pub ca_file: Option<PathBuf>,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 25,
            tls: TlsMode::Starttls,
            username: String::new(),
            password: None,
            allow_insecure: false,
            timeout_secs: 300,
            data_timeout_secs: 600,
            connect_timeout_secs: 30,
            ca_file: None,
        }
    }
}

/// Why the SMTP credentials cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    /// A user name without a password (or with an empty one).
    #[error(
        "`[smtp] username` is `{0}` but the password is missing or empty; export \
         MAILROOM_SMTP__PASSWORD (passwords never go in the config file)"
    )]
    NoPassword(String),
    /// A password without a user name.
    #[error(
        "MAILROOM_SMTP__PASSWORD is set but `[smtp] username` is empty; set the user name \
         (or unset the password)"
    )]
    NoUsername,
}

impl SmtpSettings {
    /// The AUTH user name and password, `None` when the relay needs no
    /// login; a name without a non-empty password (or the reverse) is an
    /// error, checked before anything is sent.
    pub fn credentials(&self) -> Result<Option<(&str, &Secret)>, CredentialsError> {
        let password = self.password.as_ref().filter(|p| !p.expose().is_empty());
        match (self.username.trim(), password) {
            ("", None) => Ok(None),
            ("", Some(_)) => Err(CredentialsError::NoUsername),
            (name, None) => Err(CredentialsError::NoPassword(name.to_owned())),
            (name, Some(p)) => Ok(Some((name, p))),
        }
    }
}

/// SMTP transport security.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    None,
    Starttls,
    Tls,
}

/// Test sends.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PreviewSettings {
    pub recipients: Vec<String>,
}

impl Default for PreviewSettings {
    fn default() -> Self {
        Self {
            recipients: vec!["preview@example.com".to_owned()],
        }
    }
}
