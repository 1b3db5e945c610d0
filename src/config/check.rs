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
    /// Template variables: `$name` or `${name}` left in text is a
    /// placeholder only when `name` is listed (so `$crate` passes).
    pub template_variables: Vec<String>,
    /// Regex for a template comment that marks where content goes
    /// (`<!-- QOTW goes here -->`).
    pub placeholder_comment: String,
    /// Regex for a section's standing text, kept every week (`Please submit
    /// your suggestions…`): after a placeholder comment it is not content.
    pub standing_text: String,
    /// Query parameters that track readers; `*` at the end matches a prefix.
    pub tracking_params: Vec<String>,
    /// Header fields every issue must have (the ones the email uses;
    /// `Number:` may come from the title).
    pub required_header_fields: Vec<String>,
}

impl Default for CheckSettings {
    fn default() -> Self {
        Self {
            disabled: Vec::new(),
            empty_heading_allow: default_empty_heading_allow(),
            allowed_html_tags: default_allowed_html_tags(),
            placeholders: default_placeholders(),
            template_variables: default_template_variables(),
            placeholder_comment: default_placeholder_comment(),
            standing_text: default_standing_text(),
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
    strings(&[r"(?-u:\b)[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_HERE(?-u:\b)"])
}

/// The variables of mailroom's own patterns (`[newsletter] subject`,
/// `web_url`) and of TWiR's draft tooling; Rust's `$crate` and `$expr`
/// are not among them.
fn default_template_variables() -> Vec<String> {
    strings(&[
        "number",
        "title",
        "date",
        "yyyy",
        "mm",
        "dd",
        "issue_number",
        "twir_issue_number",
    ])
}

/// TWiR's calls for submissions, and its closing lines (editors, sponsor,
/// discussion link), which sit under the last section.
///
/// This and [`default_placeholder_comment`] match English words, so they are
/// ASCII-only (`(?i-u)`): a Unicode `(?i)` turns `s` into `[sSſ]` and `k`
/// into `[kKK]`, and compiling those classes' UTF-8 automata (forwards and
/// backwards) cost ~0.45 ms per pattern here, a twentieth of `render`'s whole
/// run (`scripts/bench-render`), for letters an issue never holds.
fn default_standing_text() -> String {
    r"(?i-u)\bplease submit\b|\bsubmit your suggestions\b|\bis edited by\b|\blist hosting is sponsored\b|\bdiscuss on\b".to_owned()
}

fn default_placeholder_comment() -> String {
    r"(?i-u)\bgo(?:es)? here\b".to_owned()
}

fn default_tracking_params() -> Vec<String> {
    strings(&["utm_*", "fbclid", "gclid", "mc_cid", "mc_eid"])
}

fn default_required_header_fields() -> Vec<String> {
    strings(&["Title", "Number", "Date"])
}
