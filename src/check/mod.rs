//! Lint rules over a parsed issue and its rendered email.
//!
//! [`check_issue`] is pure: `Issue` (+ optional `Rendered`) → sorted
//! [`Diagnostic`]s located by file line and column. The sender runs the same
//! call and refuses to mail subscribers while any error remains.
mod context;
mod doc;
mod header;
mod html;
mod links;
pub mod mojibake;
mod placeholders;
pub mod report;
mod rules;
mod sections;
mod text;

use std::ops::Range;

pub use context::{CheckContext, ContextError};
pub use doc::markdown_options;
pub use rules::{Rule, rules_help};

use crate::model::{Diagnostic, Issue, Rendered, Severity};

/// Checks an issue, and its rendered email when there is one (for the size
/// budget). Diagnostics are sorted by line, then column, then rule.
pub fn check_issue(
    issue: &Issue,
    rendered: Option<&Rendered>,
    ctx: &CheckContext,
) -> Vec<Diagnostic> {
    let doc = doc::Doc::parse(issue);
    let mut em = Emitter::new(issue, ctx);
    placeholders::check(&doc, &mut em);
    sections::check(&doc, &mut em);
    mojibake::check(&mut em);
    text::check(&doc, &mut em);
    header::check(&mut em);
    links::check(&doc, &mut em);
    html::check(&doc, &mut em);
    if let Some(rendered) = rendered {
        check_size(rendered, &mut em);
    }
    let mut out = em.out;
    out.sort_by(|a, b| (a.line, a.column, a.rule).cmp(&(b.line, b.column, b.rule)));
    out
}

/// Counts errors and warnings.
pub fn count(diagnostics: &[Diagnostic]) -> (usize, usize) {
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    (errors, diagnostics.len() - errors)
}

/// Turns every warning into an error (`--deny-warnings`).
pub fn deny_warnings(diagnostics: &mut [Diagnostic]) {
    for d in diagnostics {
        d.severity = Severity::Error;
    }
}

fn check_size(rendered: &Rendered, em: &mut Emitter<'_>) {
    let size = rendered.html.len();
    let budget = em.ctx.html_size_budget;
    if size > budget {
        em.whole(
            Rule::HtmlSize,
            format!("the HTML part is {size} bytes, over the {budget}-byte budget"),
            "Gmail clips larger messages and hides the unsubscribe footer; shorten the issue \
             or raise `[render] html_size_budget`",
        );
    }
}

/// Collects diagnostics for enabled rules, turning byte spans into
/// line, column and length.
pub(crate) struct Emitter<'a> {
    pub issue: &'a Issue,
    pub ctx: &'a CheckContext,
    out: Vec<Diagnostic>,
    /// Byte offset of each line start, so locating a finding is a binary
    /// search rather than a scan from the top of the file.
    line_starts: Vec<usize>,
}

impl<'a> Emitter<'a> {
    fn new(issue: &'a Issue, ctx: &'a CheckContext) -> Self {
        let line_starts = std::iter::once(0)
            .chain(issue.source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            issue,
            ctx,
            out: Vec::new(),
            line_starts,
        }
    }

    /// 1-based (line, column in characters) of a byte offset; the same
    /// answer as [`Issue::line_col`].
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        let end = (start..=offset.min(self.issue.source.len()))
            .rev()
            .find(|&i| self.issue.source.is_char_boundary(i))
            .unwrap_or(start);
        (line, self.issue.source[start..end].chars().count() + 1)
    }

    /// The source text.
    pub fn source(&self) -> &'a str {
        &self.issue.source
    }

    /// Whether `rule` is switched on.
    pub fn enabled(&self, rule: Rule) -> bool {
        self.ctx.enabled(rule)
    }

    /// Reports `rule` at the byte span `span` of the source.
    pub fn at(&mut self, rule: Rule, span: Range<usize>, message: String, fix: impl Into<Fix>) {
        if !self.enabled(rule) {
            return;
        }
        let (line, column) = self.line_col(span.start);
        let text = self.issue.source.get(span).unwrap_or("");
        let len = text.split('\n').next().unwrap_or("").chars().count().max(1);
        self.out.push(Diagnostic {
            rule: rule.name(),
            severity: rule.severity(),
            line,
            column,
            len,
            message,
            fix: fix.into().0,
        });
    }

    /// Reports `rule` about the whole issue (line 0).
    pub fn whole(&mut self, rule: Rule, message: String, fix: &str) {
        if !self.enabled(rule) {
            return;
        }
        self.out.push(Diagnostic {
            rule: rule.name(),
            severity: rule.severity(),
            line: 0,
            column: 0,
            len: 0,
            message,
            fix: Some(fix.to_owned()),
        });
    }
}

/// An optional `help:` text.
pub(crate) struct Fix(Option<String>);

impl From<String> for Fix {
    fn from(s: String) -> Self {
        Fix(Some(s))
    }
}

impl From<&str> for Fix {
    fn from(s: &str) -> Self {
        Fix(Some(s.to_owned()))
    }
}

impl From<Option<String>> for Fix {
    fn from(s: Option<String>) -> Self {
        Fix(s)
    }
}

/// `text` shortened to `max` characters for a message, invisible characters
/// escaped so the reader sees what is there.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() || ('\u{e000}'..='\u{f8ff}').contains(&c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests;
