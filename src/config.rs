//! One typed [`Settings`] tree: `config.toml`, then `MAILROOM_<SECTION>__<KEY>`
//! environment variables. Unknown keys are errors that name the key.
//! Secrets never live in the file and never appear in `Debug` output.
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

/// Every setting mailroom reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub newsletter: Newsletter,
    pub render: RenderSettings,
    #[serde(default)]
    pub check: CheckSettings,
    pub web: WebSettings,
    pub database: DatabaseSettings,
    pub send: SendSettings,
    pub outbox: OutboxSettings,
    pub smtp: SmtpSettings,
    pub preview: PreviewSettings,
}

/// Who the newsletter is and how its emails are addressed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Newsletter {
    /// Shown in the header and the pages, e.g. `This Week in Rust`.
    pub name: String,
    /// The From header, e.g. `This Week in Rust <newsletter@example.org>`.
    pub from: String,
    /// Subject pattern; `{number}`, `{title}`, `{yyyy}`, `{mm}`, `{dd}`.
    pub subject: String,
    /// The web edition's URL pattern; same placeholders as `subject`.
    pub web_url: String,
    /// The List-Id header value, e.g. `This Week in Rust <twir.example.org>`.
    pub list_id: String,
    /// The privacy policy's URL, linked in the footer.
    pub privacy_url: String,
    /// Social links for the footer.
    #[serde(default)]
    pub social: Vec<SocialLink>,
    /// The sample recipient that `render` addresses its `.eml` to.
    pub sample_recipient: String,
}

/// One footer link.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SocialLink {
    pub name: String,
    pub url: String,
}

/// How the email is rendered.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderSettings {
    /// Warn when the HTML part is larger than this many bytes (Gmail clips
    /// at about 102 KB, and the unsubscribe footer is what disappears).
    pub html_size_budget: usize,
    /// Plain-text wrap column (at most 78).
    pub text_width: usize,
}

/// Checker settings; see `mailroom check --help` for the rules.
///
/// Every key has a built-in default, so `[check]` may be left out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSettings {
    /// Rules switched off, by name.
    #[serde(default)]
    pub disabled: Vec<String>,
    /// Regexes matched against a heading line as written (`### [Rust](…)`);
    /// a matching heading may legitimately have no content of its own.
    #[serde(default)]
    pub empty_heading_allow: Vec<String>,
    /// Raw HTML tags that are allowed without a warning.
    #[serde(default = "default_allowed_html_tags")]
    pub allowed_html_tags: Vec<String>,
    /// Regexes for leftover placeholders in text and link targets.
    #[serde(default = "default_placeholders")]
    pub placeholders: Vec<String>,
    /// Regex for a template comment that marks where content goes
    /// (`<!-- QOTW goes here -->`).
    #[serde(default = "default_placeholder_comment")]
    pub placeholder_comment: String,
    /// Query parameters that track readers; `*` at the end matches a prefix.
    #[serde(default = "default_tracking_params")]
    pub tracking_params: Vec<String>,
    /// Header fields every issue must have.
    #[serde(default = "default_required_header_fields")]
    pub required_header_fields: Vec<String>,
}

impl Default for CheckSettings {
    fn default() -> Self {
        Self {
            disabled: Vec::new(),
            empty_heading_allow: Vec::new(),
            allowed_html_tags: default_allowed_html_tags(),
            placeholders: default_placeholders(),
            placeholder_comment: default_placeholder_comment(),
            tracking_params: default_tracking_params(),
            required_header_fields: default_required_header_fields(),
        }
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn default_allowed_html_tags() -> Vec<String> {
    strings(&[
        "small", "br", "sup", "sub", "em", "strong", "b", "i", "code", "kbd", "abbr", "span",
        "div", "p", "a", "img", "details", "summary", "del", "ins", "mark", "u", "s",
    ])
}

fn default_placeholders() -> Vec<String> {
    strings(&[
        r"(?-u:\b)[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_HERE(?-u:\b)",
        r"\$\{?[a-z_][a-z0-9_]*\}?",
    ])
}

fn default_placeholder_comment() -> String {
    r"(?i)\bgo(?:es)? here\b".to_owned()
}

fn default_tracking_params() -> Vec<String> {
    strings(&["utm_*", "fbclid", "gclid", "mc_cid", "mc_eid"])
}

fn default_required_header_fields() -> Vec<String> {
    strings(&["Title", "Number", "Date", "Category"])
}

/// The HTTP service (unsubscribe, subscribe).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSettings {
    /// Address to listen on.
    pub bind: String,
    /// The base of every link in emails, e.g. `https://newsletter.example.org`.
    pub public_url: String,
    /// The mailto address in List-Unsubscribe.
    pub unsubscribe_mailto: String,
    /// A file holding the token-signing secret.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// A file with older secrets, one a line, still accepted.
    #[serde(default)]
    pub previous_secrets_file: Option<PathBuf>,
    /// The secret itself: only from `MAILROOM_WEB__SECRET`.
    #[serde(default)]
    pub secret: Option<Secret>,
    /// Reverse proxies whose `X-Forwarded-For` is believed: when the TCP
    /// peer is one of these, the client is the nearest untrusted address in
    /// that header (for rate limits and consent records).
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Days a confirmation link stays valid.
    #[serde(default = "default_confirm_days")]
    pub confirm_token_days: u32,
}

fn default_confirm_days() -> u32 {
    7
}

impl fmt::Debug for WebSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSettings")
            .field("bind", &self.bind)
            .field("public_url", &self.public_url)
            .field("unsubscribe_mailto", &self.unsubscribe_mailto)
            .field("secret_file", &self.secret_file)
            .field("previous_secrets_file", &self.previous_secrets_file)
            .field("secret", &self.secret)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("confirm_token_days", &self.confirm_token_days)
            .finish()
    }
}

/// The store.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://mailroom.db` or `postgres://…`.
    pub url: String,
}

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
#[derive(Clone, Deserialize)]
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
    /// Seconds to wait for each SMTP reply.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// A PEM file of extra trusted root certificates (a private relay's CA
    /// or self-signed certificate), trusted besides the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_timeout() -> u64 {
    30
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password)
            .field("allow_insecure", &self.allow_insecure)
            .field("timeout_secs", &self.timeout_secs)
            .field("ca_file", &self.ca_file)
            .finish()
    }
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

/// A secret string: `Debug` and `Display` print `[redacted]`.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The default config file, read when `--config` is not given.
pub const DEFAULT_PATH: &str = "config.toml";

/// Loads settings from `path`, then the process environment.
pub fn load(path: &Path) -> anyhow::Result<Settings> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read config `{}`; run from the project directory or pass `--config PATH`",
            path.display()
        )
    })?;
    from_sources(&text, std::env::vars())
        .with_context(|| format!("invalid config `{}`", path.display()))
}

/// Builds settings from TOML text and environment variables (pure; for tests).
pub fn from_sources(
    toml: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> anyhow::Result<Settings> {
    let env: std::collections::HashMap<String, String> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with("MAILROOM_") && k.contains("__"))
        .collect();
    if toml_mentions_secret(toml) {
        anyhow::bail!(
            "secrets must not be in the config file: remove `password`/`secret` and set \
             `MAILROOM_SMTP__PASSWORD` / `MAILROOM_WEB__SECRET` (or `[web] secret_file`)"
        );
    }
    let settings: Settings = config::Config::builder()
        .add_source(config::File::from_str(toml, config::FileFormat::Toml))
        .add_source(
            config::Environment::with_prefix("MAILROOM")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("preview.recipients")
                .with_list_parse_key("web.trusted_proxies")
                .with_list_parse_key("check.disabled")
                .with_list_parse_key("check.empty_heading_allow")
                .with_list_parse_key("check.allowed_html_tags")
                .with_list_parse_key("check.placeholders")
                .with_list_parse_key("check.tracking_params")
                .with_list_parse_key("check.required_header_fields")
                .source(Some(env)),
        )
        .build()?
        .try_deserialize()?;
    Ok(settings)
}

fn toml_mentions_secret(toml: &str) -> bool {
    toml.lines().any(|l| {
        let key = l.split('=').next().unwrap_or("").trim();
        l.contains('=') && !l.trim_start().starts_with('#') && matches!(key, "password" | "secret")
    })
}

#[cfg(test)]
mod tests;
