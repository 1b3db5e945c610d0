//! [`CheckContext`]: the `[check]` settings validated and compiled once,
//! so checking an issue never re-parses configuration.
use std::collections::HashSet;
use std::sync::OnceLock;

use regex_automata::meta::{self, Regex};
use regex_automata::util::syntax;

use super::Rule;
use crate::config::CheckSettings;
use crate::model::Severity;

/// A `[check]` setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// `disabled` names a rule that does not exist.
    #[error("`[check] disabled` names unknown rule `{name}`; known rules: {known}")]
    UnknownRule { name: String, known: String },
    /// `--allow` names a rule that does not exist.
    #[error("`--allow {name}`: no such rule; known rules: {known}")]
    UnknownAllowed { name: String, known: String },
    /// A pattern is not a valid regex.
    #[error("`[check] {key}` pattern `{pattern}` is not a valid regex: {source}")]
    BadRegex {
        key: &'static str,
        pattern: String,
        #[source]
        source: Box<regex::Error>,
    },
}

/// Everything a check needs besides the issue: compiled rules settings and
/// the HTML size budget. Build it once with [`CheckContext::new`].
#[derive(Debug, Clone)]
pub struct CheckContext {
    /// Warn when the rendered HTML is larger than this many bytes.
    pub html_size_budget: usize,
    pub(crate) disabled: HashSet<Rule>,
    empty_heading_allow: Vec<String>,
    /// `empty_heading_allow` compiled, on first use: most issues never
    /// report a heading, and compiling the default pattern (its Unicode `.`)
    /// cost ~0.4 ms here, a twentieth of `render`'s run
    /// (`scripts/bench-render`). `new` has already checked the syntax.
    heading_allow: OnceLock<Vec<Regex>>,
    pub(crate) allowed_html_tags: HashSet<String>,
    pub(crate) placeholders: Regex,
    pub(crate) placeholder_comment: Regex,
    pub(crate) standing_text: Regex,
    pub(crate) tracking_params: Vec<String>,
    pub(crate) required_header_fields: Vec<String>,
}

impl CheckContext {
    /// Validates and compiles `settings`; errors name the key and the fix.
    pub fn new(settings: &CheckSettings, html_size_budget: usize) -> Result<Self, ContextError> {
        let disabled = settings
            .disabled
            .iter()
            .map(|name| {
                Rule::from_name(name).ok_or_else(|| ContextError::UnknownRule {
                    name: name.clone(),
                    known: Rule::ALL.map(Rule::name).join(", "),
                })
            })
            .collect::<Result<_, _>>()?;
        for pattern in &settings.empty_heading_allow {
            check_syntax("empty_heading_allow", pattern)?;
        }
        let mut alternatives: Vec<_> = settings
            .placeholders
            .iter()
            .map(|p| format!("(?:{p})"))
            .collect();
        if !settings.template_variables.is_empty() {
            let names: Vec<_> = settings
                .template_variables
                .iter()
                .map(|n| regex::escape(n))
                .collect();
            let names = names.join("|");
            alternatives.push(format!(r"\$(?:\{{(?:{names})\}}|(?:{names})(?-u:\b))"));
        }
        let any_placeholder = if alternatives.is_empty() {
            "[^\\s\\S]".to_owned() // matches nothing
        } else {
            alternatives.join("|")
        };
        Ok(Self {
            html_size_budget,
            disabled,
            empty_heading_allow: settings.empty_heading_allow.clone(),
            heading_allow: OnceLock::new(),
            allowed_html_tags: settings
                .allowed_html_tags
                .iter()
                .map(|t| t.to_ascii_lowercase())
                .collect(),
            placeholders: compile("placeholders", &any_placeholder).map_err(|combined| {
                // Name the configured pattern that is wrong, not the
                // combination (compiled only here, on the error path).
                let bad = settings
                    .placeholders
                    .iter()
                    .find_map(|p| compile("placeholders", p).err());
                bad.unwrap_or(combined)
            })?,
            placeholder_comment: compile("placeholder_comment", &settings.placeholder_comment)?,
            // Matched against a section's blocks: with the default's
            // ASCII `\b`, the lazy DFA runs it to the end on any text, and
            // a literal prefilter saved less search (~40 µs per issue) than
            // it cost to build (~300 µs). A Unicode `\b` in a configured
            // pattern still matches, on a slower engine for non-ASCII text.
            standing_text: compile("standing_text", &settings.standing_text)?,
            tracking_params: settings.tracking_params.clone(),
            required_header_fields: settings.required_header_fields.clone(),
        })
    }

    /// Switches off the rules named in `names` for this run
    /// (`check --allow RULE`); an unknown name is an error listing the rules.
    pub fn allow(&mut self, names: &[String]) -> Result<(), ContextError> {
        for name in names {
            let rule = Rule::from_name(name).ok_or_else(|| ContextError::UnknownAllowed {
                name: name.clone(),
                known: Rule::ALL.map(Rule::name).join(", "),
            })?;
            self.disabled.insert(rule);
        }
        Ok(())
    }

    /// Switches off every warning rule but those in `keep`: for a caller
    /// that needs only the errors (`render`'s note counts them). Findings
    /// are capped per rule, so the errors are exactly those of a full check;
    /// the warning rules' work (the image and tag attribute regexes, the
    /// link and sub-section passes) is skipped.
    pub fn without_warnings_except(mut self, keep: &[Rule]) -> Self {
        for rule in Rule::ALL {
            if rule.severity() == Severity::Warning && !keep.contains(&rule) {
                self.disabled.insert(rule);
            }
        }
        self
    }

    /// Whether `[check] empty_heading_allow` lets the heading line `line`
    /// stand empty. A pattern whose syntax is valid can still fail to
    /// compile past the 10 MB automaton limit; it then allows nothing, so
    /// the heading is reported rather than let through.
    pub(crate) fn heading_allowed(&self, line: &str) -> bool {
        let compiled = self.heading_allow.get_or_init(|| {
            self.empty_heading_allow
                .iter()
                .filter_map(|p| compile_for_short_text("empty_heading_allow", p).ok())
                .collect()
        });
        compiled.iter().any(|re| re.is_match(line))
    }

    /// Whether `rule` is switched on.
    pub fn enabled(&self, rule: Rule) -> bool {
        !self.disabled.contains(&rule)
    }

    /// Whether the query parameter `key` is a tracking parameter.
    pub(crate) fn is_tracking_param(&self, key: &str) -> bool {
        self.tracking_params
            .iter()
            .any(|p| match p.strip_suffix('*') {
                Some(prefix) => key.starts_with(prefix),
                None => key == p,
            })
    }
}

/// Compiles a `[check]` pattern as `regex::Regex::new` would (the same
/// syntax, limits and matches), but without a literal prefilter: these
/// patterns search a heading, a comment, a link target or the ~30 KB issue
/// a few times per process, where building the prefilter cost more than it
/// saved. Measured on this machine: the combined default `placeholders`
/// compiled in ~290 µs with it and ~150 µs without, `placeholder_comment`
/// in ~250 and ~170 µs.
fn compile(key: &'static str, pattern: &str) -> Result<Regex, ContextError> {
    build(key, pattern, meta::Config::new().auto_prefilter(false))
}

/// As [`compile`], for a pattern matched only against a heading's line:
/// without the lazy DFA, which needs a second, reversed compilation of the
/// pattern (with its ~400 KB table for Unicode classes) and pays off only
/// on long text. The matches are the same; the backtracker finds them.
fn compile_for_short_text(key: &'static str, pattern: &str) -> Result<Regex, ContextError> {
    build(key, pattern, short_text())
}

fn short_text() -> meta::Config {
    meta::Config::new()
        .auto_prefilter(false)
        .hybrid(false)
        .dfa(false)
}

/// One of the checker's own patterns, built as [`compile_for_short_text`]
/// builds a configured one: for patterns matched against a tag or a line.
/// Three of them took a third of the checker's time in `render`, built
/// with `regex::Regex::new` (perf, seed 000: 1,608 of 5,137 samples).
pub(crate) fn builtin_for_short_text(pattern: &str) -> Regex {
    meta::Builder::new()
        .configure(short_text())
        .syntax(syntax_config())
        .build(pattern)
        .expect("the checker's own patterns are valid")
}

/// As [`builtin_for_short_text`], for a pattern whose classes match bytes
/// (`(?-u:[^x])`) rather than characters: a negated Unicode class is
/// compiled into a UTF-8 automaton, with a 320 KB table zeroed for it.
/// The two reference-definition and list-manage patterns took 568 µs to
/// build that way in a new process, and 186 µs with byte classes (median
/// of 200 processes each). Every byte class must be delimited by ASCII
/// (or the haystack's end), so that matches still start and end on
/// character boundaries; callers slice with `str::get` all the same.
pub(crate) fn builtin_bytes_for_short_text(pattern: &str) -> Regex {
    meta::Builder::new()
        .configure(short_text().utf8_empty(false))
        .syntax(syntax::Config::new().utf8(false))
        .build(pattern)
        .expect("the checker's own patterns are valid")
}

/// Checks a pattern's syntax as `build` would, without compiling it.
fn check_syntax(key: &'static str, pattern: &str) -> Result<(), ContextError> {
    match syntax::parse_with(pattern, &syntax_config()) {
        Ok(_) => Ok(()),
        Err(_) => Err(bad_regex(key, pattern)),
    }
}

fn syntax_config() -> syntax::Config {
    syntax::Config::new().utf8(true)
}

fn build(key: &'static str, pattern: &str, config: meta::Config) -> Result<Regex, ContextError> {
    let config = config
        .nfa_size_limit(Some(10 * (1 << 20)))
        .hybrid_cache_capacity(2 * (1 << 20))
        .utf8_empty(true);
    meta::Builder::new()
        .configure(config)
        .syntax(syntax_config())
        .build(pattern)
        .map_err(|_| bad_regex(key, pattern))
}

/// The error in the regex crate's words (with its caret under the fault):
/// the same pattern fails there too.
fn bad_regex(key: &'static str, pattern: &str) -> ContextError {
    let source = regex::Regex::new(pattern)
        .err()
        .unwrap_or_else(|| regex::Error::Syntax(format!("`{pattern}` could not be compiled")));
    ContextError::BadRegex {
        key,
        pattern: pattern.to_owned(),
        source: Box::new(source),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_disabled_rule_is_an_error_listing_the_known_ones() {
        let settings = CheckSettings {
            disabled: vec!["mojibak".into()],
            ..CheckSettings::default()
        };
        let err = CheckContext::new(&settings, 1).unwrap_err().to_string();
        assert!(
            err.contains("`mojibak`") && err.contains("mojibake"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_regex_is_an_error_naming_the_key() {
        let settings = CheckSettings {
            empty_heading_allow: vec!["(".into()],
            ..CheckSettings::default()
        };
        let err = CheckContext::new(&settings, 1).unwrap_err().to_string();
        assert!(
            err.contains("empty_heading_allow") && err.contains("`(`"),
            "{err}"
        );
    }

    #[test]
    fn tracking_params_match_exactly_or_by_prefix() {
        let ctx = CheckContext::new(&CheckSettings::default(), 1).unwrap();
        assert!(ctx.is_tracking_param("utm_source"));
        assert!(ctx.is_tracking_param("fbclid"));
        assert!(!ctx.is_tracking_param("fbclid2"));
        assert!(!ctx.is_tracking_param("utm"));
    }

    #[test]
    fn without_warnings_keeps_the_errors_and_the_named_warnings() {
        let ctx = CheckContext::new(&CheckSettings::default(), 1)
            .unwrap()
            .without_warnings_except(&[Rule::HeaderFormat]);
        assert!(ctx.enabled(Rule::Unfinished) && ctx.enabled(Rule::HeaderFormat));
        assert!(!ctx.enabled(Rule::Image) && !ctx.enabled(Rule::EmptySubsection));
    }

    #[test]
    fn disabled_rules_are_switched_off() {
        let settings = CheckSettings {
            disabled: vec!["html-tag".into()],
            ..CheckSettings::default()
        };
        let ctx = CheckContext::new(&settings, 1).unwrap();
        assert!(!ctx.enabled(Rule::HtmlTag));
        assert!(ctx.enabled(Rule::Image));
    }
}

#[cfg(test)]
mod placeholder_tests {
    use super::*;

    #[test]
    fn only_the_configured_template_variables_are_placeholders() {
        let ctx = CheckContext::new(&CheckSettings::default(), 1).unwrap();
        for found in [
            "$number",
            "${title}",
            "$twir_issue_number",
            "INSERT_LINK_HERE",
        ] {
            assert!(ctx.placeholders.is_match(found), "{found}");
        }
        for fine in ["$crate", "$expr", "$numbers", "${crate}", "$HOME"] {
            assert!(!ctx.placeholders.is_match(fine), "{fine}");
        }
    }

    #[test]
    fn allow_switches_a_rule_off_and_refuses_unknown_names() {
        let mut ctx = CheckContext::new(&CheckSettings::default(), 1).unwrap();
        ctx.allow(&["image".into()]).unwrap();
        assert!(!ctx.enabled(Rule::Image));
        let err = ctx.allow(&["imag".into()]).unwrap_err().to_string();
        assert!(
            err.contains("`--allow imag`") && err.contains("image"),
            "{err}"
        );
    }
}
