//! One typed [`Settings`] tree: `config.toml`, then `MAILROOM_<SECTION>__<KEY>`
//! environment variables. Unknown keys are errors that name the key.
//! Secrets never live in the file and never appear in `Debug` output.
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

mod check;
mod delivery;

pub use check::CheckSettings;
pub use delivery::{
    OutboxSettings, PreviewSettings, SendSettings, SmtpSettings, TlsMode, Transport,
};

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

/// The HTTP service (unsubscribe, subscribe).
#[derive(Debug, Clone, Deserialize)]
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

/// The store.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://mailroom.db` or `postgres://USER@HOST/DATABASE`.
    pub url: String,
    /// The PostgreSQL password: only from `MAILROOM_DATABASE__PASSWORD`
    /// (else `PGPASSWORD` or `~/.pgpass`), never in the file or the URL there.
    #[serde(default)]
    pub password: Option<Secret>,
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
    if toml_url_has_password(toml) {
        anyhow::bail!(
            "secrets must not be in the config file: `[database] url` holds a password; remove \
             it from the URL and set `MAILROOM_DATABASE__PASSWORD` (or PGPASSWORD, or ~/.pgpass)"
        );
    }
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

/// Whether a `url = "…"` line in the file carries `user:password@`.
fn toml_url_has_password(toml: &str) -> bool {
    toml.lines().any(|l| {
        let Some((key, value)) = l.split_once('=') else {
            return false;
        };
        if l.trim_start().starts_with('#') || key.trim().trim_matches('"') != "url" {
            return false;
        }
        let value = value.trim().trim_matches(['"', '\'']);
        let Some((_, rest)) = value.split_once("://") else {
            return false;
        };
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        authority
            .rsplit_once('@')
            .is_some_and(|(userinfo, _)| userinfo.contains(':'))
    })
}

fn toml_mentions_secret(toml: &str) -> bool {
    toml.lines().any(|l| {
        let key = l.split('=').next().unwrap_or("").trim();
        l.contains('=') && !l.trim_start().starts_with('#') && matches!(key, "password" | "secret")
    })
}

#[cfg(test)]
mod tests;
