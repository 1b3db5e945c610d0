//! Every setting's name, in the order `mailroom config` prints them, and
//! what kind of value it is: a path (resolved against the config file), a
//! secret (environment only), or a plain value. A unit test checks this
//! table against the `Settings` structs, so the two cannot drift apart.

/// What a key holds, where that changes how it is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An ordinary value.
    Value,
    /// A file or directory; relative paths follow the config file.
    Path,
    /// A secret: refused in the file, read from the environment only.
    Secret,
}

/// One setting: `[section] name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub section: &'static str,
    pub name: &'static str,
    pub kind: Kind,
}

impl Key {
    /// `section.name`, the key's path in the settings tree.
    pub fn path(&self) -> String {
        format!("{}.{}", self.section, self.name)
    }

    /// The environment variable that sets it: `MAILROOM_SMTP__PORT`.
    pub fn env_var(&self) -> String {
        env_var(&[self.section, self.name])
    }
}

/// `MAILROOM_` and the path's parts, upper-cased, joined by `__`.
pub fn env_var(parts: &[&str]) -> String {
    let parts: Vec<String> = parts.iter().map(|p| p.to_ascii_uppercase()).collect();
    format!("MAILROOM_{}", parts.join("__"))
}

/// Key names that hold secrets, wherever they appear (compared after
/// lower-casing and turning `-` into `_`).
pub const SECRET_NAMES: &[&str] = &["password", "passwd", "secret", "private_key", "privatekey"];

const fn key(section: &'static str, name: &'static str, kind: Kind) -> Key {
    Key {
        section,
        name,
        kind,
    }
}

use Kind::{Path, Secret, Value};

/// The sections, in order.
pub const SECTIONS: &[&str] = &[
    "newsletter",
    "render",
    "check",
    "web",
    "database",
    "send",
    "outbox",
    "smtp",
    "preview",
    "dkim",
    "bounces",
];

/// Every key, section by section.
pub const KEYS: &[Key] = &[
    key("newsletter", "name", Value),
    key("newsletter", "from", Value),
    key("newsletter", "subject", Value),
    key("newsletter", "web_url", Value),
    key("newsletter", "list_id", Value),
    key("newsletter", "privacy_url", Value),
    key("newsletter", "social", Value),
    key("newsletter", "sample_recipient", Value),
    key("newsletter", "reply_to", Value),
    key("newsletter", "feedback_id", Value),
    key("render", "html_size_budget", Value),
    key("render", "text_width", Value),
    key("check", "disabled", Value),
    key("check", "empty_heading_allow", Value),
    key("check", "allowed_html_tags", Value),
    key("check", "placeholders", Value),
    key("check", "template_variables", Value),
    key("check", "placeholder_comment", Value),
    key("check", "standing_text", Value),
    key("check", "tracking_params", Value),
    key("check", "required_header_fields", Value),
    key("web", "bind", Value),
    key("web", "public_url", Value),
    key("web", "unsubscribe_mailto", Value),
    key("web", "secret_file", Path),
    key("web", "previous_secrets_file", Path),
    key("web", "secret", Secret),
    key("web", "trusted_proxies", Value),
    key("web", "confirm_token_days", Value),
    key("web", "header_timeout_secs", Value),
    key("web", "body_timeout_secs", Value),
    key("web", "request_timeout_secs", Value),
    key("web", "max_connections", Value),
    key("web", "max_body_bytes", Value),
    key("web", "confirm_queue_max", Value),
    key("web", "confirm_retry_base_secs", Value),
    key("web", "confirm_retry_max_secs", Value),
    key("web", "confirm_max_attempts", Value),
    key("web", "metrics", Value),
    key("web", "metrics_bind", Value),
    key("web", "metrics_allow", Value),
    key("database", "url", Path),
    key("database", "password", Secret),
    key("send", "transport", Value),
    key("send", "concurrency", Value),
    key("send", "rate_per_second", Value),
    key("send", "max_attempts", Value),
    key("send", "messages_per_connection", Value),
    key("send", "retry_base_secs", Value),
    key("send", "retry_max_secs", Value),
    key("send", "max_wait_secs", Value),
    key("send", "shutdown_grace_secs", Value),
    key("send", "progress_secs", Value),
    key("send", "lease_secs", Value),
    key("send", "bounce_breaker_start", Value),
    key("send", "bounce_breaker_start_max", Value),
    key("send", "bounce_breaker_window", Value),
    key("send", "bounce_breaker_ratio", Value),
    key("outbox", "dir", Path),
    key("smtp", "host", Value),
    key("smtp", "port", Value),
    key("smtp", "tls", Value),
    key("smtp", "username", Value),
    key("smtp", "password", Secret),
    key("smtp", "allow_insecure", Value),
    key("smtp", "timeout_secs", Value),
    key("smtp", "data_timeout_secs", Value),
    key("smtp", "connect_timeout_secs", Value),
    key("smtp", "ca_file", Path),
    key("preview", "recipients", Value),
    key("dkim", "domain", Value),
    key("dkim", "selector", Value),
    key("dkim", "private_key_file", Path),
    key("dkim", "private_key", Secret),
    key("dkim", "ed25519_selector", Value),
    key("dkim", "ed25519_private_key_file", Path),
    key("dkim", "ed25519_private_key", Secret),
    key("bounces", "address", Value),
    key("bounces", "soft_bounce_limit", Value),
    key("bounces", "soft_bounce_days", Value),
];

/// The key `[section] name`, if there is one.
pub fn find(section: &str, name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.section == section && k.name == name)
}

/// The closest known name to `given` among `candidates`, for "did you
/// mean" hints (Jaro-Winkler similarity, as cargo and clap suggest).
pub fn closest<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(given, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// The hint for an unknown `name` in `section` (`None`: outside any).
pub fn suggestion(section: Option<&str>, name: &str) -> String {
    let here = KEYS
        .iter()
        .filter(|k| Some(k.section) == section)
        .map(|k| k.name);
    if let Some(near) = closest(name, here) {
        return format!("; did you mean `{near}`?");
    }
    if let Some(elsewhere) = KEYS.iter().find(|k| k.name == name) {
        return format!("; it belongs in `[{}]`", elsewhere.section);
    }
    if let Some(near) = closest(name, KEYS.iter().map(|k| k.name)) {
        let k = KEYS.iter().find(|k| k.name == near).expect("a known name");
        return format!("; did you mean `[{}] {near}`?", k.section);
    }
    if let Some(near) = section
        .is_none()
        .then(|| closest(name, SECTIONS.iter().copied()))
        .flatten()
    {
        return format!("; did you mean the section `[{near}]`?");
    }
    String::new()
}
