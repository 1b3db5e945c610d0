//! `[check]`: the checker's rules and vocabulary, with built-in defaults.
use serde::{Deserialize, Serialize};

/// Checker settings; see `mailroom check --help` for the rules.
///
/// Every key has a built-in default, so `[check]` may be left out.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CheckSettings {
    /// Rules switched off, by name.
    pub disabled: Vec<String>,
    /// Regexes matched against a heading line as written (`### [Rust](…)`);
    /// a matching heading may legitimately have no content of its own.
    pub empty_heading_allow: Vec<String>,
    /// Raw HTML tags that are allowed without a warning.
    pub allowed_html_tags: Vec<String>,
    /// Regexes for leftover placeholders in text and link targets.
    pub placeholders: Vec<String>,
    /// Regex for a template comment that marks where content goes
    /// (`<!-- QOTW goes here -->`).
    pub placeholder_comment: String,
    /// Query parameters that track readers; `*` at the end matches a prefix.
    pub tracking_params: Vec<String>,
    /// Header fields every issue must have.
    pub required_header_fields: Vec<String>,
}

impl Default for CheckSettings {
    fn default() -> Self {
        Self {
            disabled: Vec::new(),
            empty_heading_allow: default_empty_heading_allow(),
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

/// TWiR's "Calls for Testing" sub-headings (`### [RFCs](…)`, `### [Rust](…)`,
/// `### [Rustup](…)`) are link-only headings followed by a sibling.
fn default_empty_heading_allow() -> Vec<String> {
    strings(&[r"^### \[(RFCs|Rust|Rustup)\]\(.*call-for-testing\)$"])
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
