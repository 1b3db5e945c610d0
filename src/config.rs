//! One typed [`Settings`] tree: built-in defaults, then `config.toml`
//! (optional), then `MAILROOM_<SECTION>__<KEY>` environment variables.
//!
//! Every key has a default, so a partial file overrides only what it
//! names. Unknown keys and bad values are all reported in one run, with
//! the file's line or the variable's name. Relative paths follow the
//! config file. Secrets never live in the file (refused under any spelling
//! of their key) and never appear in `Debug` output. Values bound for
//! email headers are parsed into types at load ([`Mailbox`], [`PublicUrl`],
//! [`ListId`], [`MailtoAddress`]).
use serde::{Deserialize, Serialize};

mod check;
mod delivery;
mod dkim;
mod env;
mod error;
mod file;
pub mod keys;
mod load;
mod net;
mod newsletter;
mod paths;
mod values;
mod web;

pub use check::CheckSettings;
pub use delivery::{
    CredentialsError, OutboxSettings, PreviewSettings, SendSettings, SmtpSettings, TlsMode,
    Transport,
};
pub use dkim::{BouncesSettings, DkimSettings};
pub use env::CONFIG_VAR;
pub use error::{ConfigError, Problem, Source};
pub use load::{DEFAULT_PATH, Loaded, load, load_from};
pub use net::Network;
pub use newsletter::{Newsletter, RenderSettings, SocialLink};
pub use values::{ListId, Mailbox, MailtoAddress, PublicUrl, Secret};
pub use web::{DatabaseKind, DatabaseSettings, DatabaseUrl, WebSettings};

/// The short, commented `config.toml` that `mailroom init` writes: only
/// the keys an editor must set; everything else keeps its default.
pub const TEMPLATE: &str = include_str!("config/template.toml");

/// Every setting mailroom reads; `Default` is the built-in defaults.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub newsletter: Newsletter,
    pub render: RenderSettings,
    pub check: CheckSettings,
    pub web: WebSettings,
    pub database: DatabaseSettings,
    pub send: SendSettings,
    pub outbox: OutboxSettings,
    pub smtp: SmtpSettings,
    pub preview: PreviewSettings,
    /// DKIM signing; nothing is signed until it names a domain.
    pub dkim: DkimSettings,
    /// The bounce mailbox (VERP).
    pub bounces: BouncesSettings,
}

/// Builds settings from TOML text and environment variables, without a
/// file path (so relative paths stay as written): for tests and examples.
pub fn from_sources(
    toml: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Settings, ConfigError> {
    let cwd = std::path::Path::new("");
    let file = std::path::Path::new("config.toml");
    load_from(Some((file, toml)), env, cwd).map(|l| l.settings)
}

#[cfg(test)]
mod tests;
