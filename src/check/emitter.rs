//! [`Emitter`]: collects the rules' findings as located [`Diagnostic`]s,
//! keeping the output in proportion to the issue, not to its findings:
//! at most [`MAX_PER_LINE`] findings of one rule on one line and
//! [`MAX_PER_RULE`] of one rule in all, then one "and N more" line.
use std::collections::HashMap;
use std::ops::Range;

use super::{CheckContext, Rule};
use crate::model::{Diagnostic, Issue};

/// Findings of one rule shown per line; the rest are counted.
pub const MAX_PER_LINE: usize = 5;
/// Findings of one rule shown per issue; the rest are counted.
pub const MAX_PER_RULE: usize = 100;

/// Collects diagnostics for enabled rules, turning byte spans into
/// line, column and length.
pub(crate) struct Emitter<'a> {
    pub issue: &'a Issue,
    pub ctx: &'a CheckContext,
    out: Vec<Diagnostic>,
    /// Byte offset of each line start, so locating a finding is a binary
    /// search rather than a scan from the top of the file.
    line_starts: Vec<usize>,
    /// Findings shown per rule, and per (rule, line).
    shown: HashMap<Rule, usize>,
    shown_on_line: HashMap<(Rule, usize), usize>,
    /// Findings left out: beyond a line's cap, and beyond the rule's.
    left_on_line: HashMap<(Rule, usize), usize>,
    left: HashMap<Rule, usize>,
    /// Inline `mailroom: allow` comments: findings they cover are dropped.
    allows: Vec<super::allow::Allow>,
}

impl<'a> Emitter<'a> {
    pub fn new(issue: &'a Issue, ctx: &'a CheckContext) -> Self {
        let line_starts = std::iter::once(0)
            .chain(issue.source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            issue,
            ctx,
            out: Vec::new(),
            line_starts,
            shown: HashMap::new(),
            shown_on_line: HashMap::new(),
            left_on_line: HashMap::new(),
            left: HashMap::new(),
            allows: Vec::new(),
        }
    }

    /// The 1-based line of a byte offset (a binary search).
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset)
    }

    /// The byte range of the line holding `offset`, without its line break.
    pub fn line_span(&self, offset: usize) -> std::ops::Range<usize> {
        let line = self.line_of(offset);
        let end = self
            .line_starts
            .get(line)
            .map_or(self.issue.source.len(), |next| next - 1);
        self.line_starts[line - 1]..end
    }

    /// 1-based (line, column in characters) of a byte offset; the same
    /// answer as [`Issue::line_col`]. The column costs a scan of the line.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = self.line_of(offset);
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

    /// The inline allows found in the issue.
    pub fn set_allows(&mut self, allows: Vec<super::allow::Allow>) {
        self.allows = allows;
    }

    /// Whether an inline allow covers `rule` on `line`.
    fn allowed(&self, rule: Rule, line: usize) -> bool {
        self.allows
            .iter()
            .any(|a| a.rule == rule && a.lines.contains(&line))
    }

    /// Whether `rule` is switched on.
    pub fn enabled(&self, rule: Rule) -> bool {
        self.ctx.enabled(rule)
    }

    /// Reports `rule` at the byte span `span` of the source, unless the
    /// rule already has its share of findings on that line or in all.
    pub fn at(&mut self, rule: Rule, span: Range<usize>, message: String, fix: impl Into<Fix>) {
        if !self.enabled(rule) || self.allowed(rule, self.line_of(span.start)) {
            return;
        }
        if self.shown.get(&rule).copied().unwrap_or(0) >= MAX_PER_RULE {
            *self.left.entry(rule).or_default() += 1;
            return;
        }
        let line = self.line_of(span.start);
        let on_line = self.shown_on_line.entry((rule, line)).or_default();
        if *on_line >= MAX_PER_LINE {
            *self.left_on_line.entry((rule, line)).or_default() += 1;
            return;
        }
        *on_line += 1;
        *self.shown.entry(rule).or_default() += 1;
        let (line, column) = self.line_col(span.start);
        let text = self.issue.source.get(span).unwrap_or("");
        let first_line = text.split('\n').next().unwrap_or("");
        self.out.push(Diagnostic {
            rule: rule.name(),
            severity: rule.severity(),
            line,
            column,
            len: first_line.chars().count().max(1),
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

    /// The diagnostics, each count of left-out findings as one more
    /// diagnostic of its rule (column 0).
    pub fn finish(mut self) -> Vec<Diagnostic> {
        let counted = |rule: Rule, line: usize, message: String| Diagnostic {
            rule: rule.name(),
            severity: rule.severity(),
            line,
            column: 0,
            len: 0,
            message,
            fix: None,
        };
        let plural = |n: usize| if n == 1 { "finding" } else { "findings" };
        for ((rule, line), n) in std::mem::take(&mut self.left_on_line) {
            let message = format!("and {n} more `{}` {} on this line", rule.name(), plural(n));
            self.out.push(counted(rule, line, message));
        }
        for (rule, n) in std::mem::take(&mut self.left) {
            let message = format!(
                "and {n} more `{}` {} in the issue (the first {MAX_PER_RULE} are shown)",
                rule.name(),
                plural(n)
            );
            self.out.push(counted(rule, 0, message));
        }
        self.out
    }
}

/// An optional `help:` text.
pub(crate) struct Fix(pub Option<String>);

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
