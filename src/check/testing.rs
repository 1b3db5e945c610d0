//! Test helpers: check a minimal issue built from a Markdown body.
use super::*;
use crate::config::CheckSettings;

/// The header every test issue starts with (4 lines, then a blank line,
/// so the body starts on line 6).
pub const HEADER: &str =
    "Title: This Week in Rust 625\nNumber: 625\nDate: 2025-11-12\nCategory: This Week in Rust\n\n";

/// Checks `body` under the default settings; `(rule, line, column)` of each finding.
pub fn findings(body: &str) -> Vec<(&'static str, usize, usize)> {
    findings_with(body, &CheckSettings::default())
}

/// Like [`findings`], with `settings`.
pub fn findings_with(body: &str, settings: &CheckSettings) -> Vec<(&'static str, usize, usize)> {
    diagnostics_with(body, settings)
        .into_iter()
        .map(|d| (d.rule, d.line, d.column))
        .collect()
}

/// The full diagnostics for `body` under `settings`.
pub fn diagnostics_with(body: &str, settings: &CheckSettings) -> Vec<Diagnostic> {
    let issue = crate::issue::parse("issue.md", &format!("{HEADER}{body}")).unwrap();
    let ctx = CheckContext::new(settings, 104_448).unwrap();
    check_issue(&issue, None, &ctx)
}

/// The diagnostics for `body` under the default settings.
pub fn diagnostics(body: &str) -> Vec<Diagnostic> {
    diagnostics_with(body, &CheckSettings::default())
}

/// Only the findings of `rule`.
pub fn only(rule: &str, body: &str) -> Vec<(usize, usize)> {
    findings(body)
        .into_iter()
        .filter(|f| f.0 == rule)
        .map(|f| (f.1, f.2))
        .collect()
}
