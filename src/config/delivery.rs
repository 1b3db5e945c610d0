//! `[send]`, `[outbox]`, `[smtp]` and `[preview]`: where messages go and how.
use std::path::PathBuf;

use serde::Deserialize;

use super::Secret;

/// Where messages go and how fast.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
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
    #[serde(default = "default_retry_base")]
    pub retry_base_secs: f64,
    /// The longest backoff, in seconds.
    #[serde(default = "default_retry_max")]
    pub retry_max_secs: f64,
    /// How long a run waits for deferred messages to fall due before it
    /// exits (a rerun resumes them), in seconds.
    #[serde(default = "default_max_wait")]
    pub max_wait_secs: f64,
    /// After Ctrl-C, how long in-flight messages may take to finish.
    #[serde(default = "default_shutdown_grace")]
    pub shutdown_grace_secs: f64,
    /// Seconds between progress lines when stderr is not a terminal.
    #[serde(default = "default_progress_secs")]
    pub progress_secs: f64,
    /// How long a run's hold on a campaign lasts without renewal, in
    /// seconds; renewed every third of that. Another run takes an expired
    /// lease over (at once if the holder's process on this host is gone).
    #[serde(default = "default_lease_secs")]
    pub lease_secs: f64,
    /// The bounce breaker: a run stops as a relay refusal when more than
    /// `bounce_breaker_start_max` of its first `bounce_breaker_start`
    /// recipients bounce as unknown, or more than `bounce_breaker_ratio` of
    /// any `bounce_breaker_window` in a row (0 turns a rule off).
    #[serde(default = "default_breaker_start")]
    pub bounce_breaker_start: u64,
    #[serde(default = "default_breaker_start_max")]
    pub bounce_breaker_start_max: u64,
    #[serde(default = "default_breaker_window")]
    pub bounce_breaker_window: u64,
    #[serde(default = "default_breaker_ratio")]
    pub bounce_breaker_ratio: f64,
}

fn default_breaker_start() -> u64 {
    200
}

fn default_breaker_start_max() -> u64 {
    20
}

fn default_breaker_window() -> u64 {
    500
}

fn default_breaker_ratio() -> f64 {
    0.1
}

fn default_lease_secs() -> f64 {
    30.0
}

fn default_retry_base() -> f64 {
    60.0
}

fn default_retry_max() -> f64 {
    3600.0
}

fn default_max_wait() -> f64 {
    900.0
}

fn default_shutdown_grace() -> f64 {
    30.0
}

fn default_progress_secs() -> f64 {
    10.0
}

/// The delivery transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Outbox,
    Smtp,
    /// Personalize every message, record it sent, and drop it: for
    /// benchmarks of everything but the network.
    Discard,
}

/// The file outbox.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxSettings {
    pub dir: PathBuf,
}

/// The SMTP relay. The password only comes from `MAILROOM_SMTP__PASSWORD`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: Option<Secret>,
    /// Allow `tls = "none"` to a relay that is not on loopback.
    #[serde(default)]
    pub allow_insecure: bool,
    /// Seconds to wait for each SMTP reply but the last (RFC 5321
    /// §4.5.3.2: 5 minutes for the greeting, MAIL, RCPT; at least 2 for
    /// DATA).
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Seconds to wait for the reply to the final `.` of a message (RFC
    /// 5321: 10 minutes). Giving up sooner turns a slow relay into
    /// duplicates: a message whose reply is lost is sent again.
    #[serde(default = "default_data_timeout")]
    pub data_timeout_secs: u64,
    /// Seconds to wait for the TCP connection (and TLS handshake).
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    /// A PEM file of extra trusted root certificates (a private relay's CA
    /// or self-signed certificate), trusted besides the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_timeout() -> u64 {
    300
}

fn default_data_timeout() -> u64 {
    600
}

fn default_connect_timeout() -> u64 {
    30
}

/// SMTP transport security.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    None,
    Starttls,
    Tls,
}

/// Test sends.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewSettings {
    pub recipients: Vec<String>,
}
