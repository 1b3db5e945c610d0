//! The plain data types that pipeline stages exchange, defined in one place.
//!
//! issue file ─parse─▶ [`Issue`] ─check─▶ [`Diagnostic`]s
//!                         └──render─▶ [`Rendered`] ─message─▶ MIME template
use time::Date;

use crate::domain::IssueNumber;

/// A parsed issue: its header fields and its Markdown body.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// The file name the issue came from, for messages (`issue.md`).
    pub source_name: String,
    /// The whole source after BOM removal and CRLF → LF normalization.
    /// Line numbers in it match the file's.
    pub source: String,
    /// The header fields.
    pub header: Header,
    /// Byte offset of the Markdown body within `source`.
    pub body_offset: usize,
    /// 1-based line number of the body's first line.
    pub body_line: usize,
}

impl Issue {
    /// The Markdown body.
    pub fn body(&self) -> &str {
        &self.source[self.body_offset..]
    }

    /// 1-based (line, column) of a byte offset into `source`; the column
    /// counts characters, as editors do.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        line_col(&self.source, offset)
    }
}

/// 1-based (line, column in characters) of a byte offset into `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The `Key: value` header of an issue.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// `Title:`, e.g. `This Week in Rust 625`.
    pub title: String,
    /// `Number:`.
    pub number: IssueNumber,
    /// `Date:` (YYYY-MM-DD).
    pub date: Date,
    /// `Category:`, when present.
    pub category: Option<String>,
    /// Every field in file order, including the ones above, with its line.
    pub fields: Vec<HeaderField>,
    /// Forms the parser accepted but normalized (Pelican accepts them);
    /// the checker reports each as a warning.
    pub lenient: Vec<Leniency>,
}

/// A header written in a form the parser accepted and normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leniency {
    /// `Date: 2020-12-2`: a month or day without its leading zero.
    UnpaddedDate { line: usize, found: String },
    /// No `Number:` field; the number was taken from the end of `Title:`.
    NumberFromTitle { line: usize },
}

impl Header {
    /// The first field named `key` (case-insensitive).
    pub fn field(&self, key: &str) -> Option<&HeaderField> {
        self.fields.iter().find(|f| f.key.eq_ignore_ascii_case(key))
    }
}

/// One `Key: value` header line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderField {
    /// The key as written.
    pub key: String,
    /// The value, trimmed.
    pub value: String,
    /// 1-based line number.
    pub line: usize,
}

/// The email for one issue, rendered once and shared by every recipient.
///
/// `html` and `text` contain [`Slot`] markers where per-recipient values go.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The Subject header value.
    pub subject: String,
    /// The complete HTML part, CSS inlined.
    pub html: String,
    /// The complete plain-text part.
    pub text: String,
    /// How many links the Markdown body holds.
    pub links: usize,
    /// Every link target in the Markdown body, in order (duplicates kept).
    pub link_urls: Vec<String>,
    /// The web edition's URL.
    pub web_url: String,
}

/// A per-recipient value inside otherwise shared message bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    /// The recipient's one-click https unsubscribe URL.
    UnsubscribeUrl,
}

impl Slot {
    /// The marker text that stands for this slot inside rendered parts.
    /// It is plain ASCII without `=` or spaces, so it survives HTML escaping,
    /// wrapping and quoted-printable encoding unchanged.
    pub const fn marker(self) -> &'static str {
        match self {
            Slot::UnsubscribeUrl => "%%MAILROOM_UNSUBSCRIBE_URL%%",
        }
    }

    /// Every slot kind.
    pub const ALL: [Slot; 1] = [Slot::UnsubscribeUrl];
}

/// How serious a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look; does not block a send.
    Warning,
    /// Blocks a send to subscribers.
    Error,
}

/// One finding of the checker, located in the issue's source file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// The rule's short stable name, e.g. `placeholder`.
    pub rule: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// 1-based line; 0 when the finding is about the whole issue.
    pub line: usize,
    /// 1-based column in characters; 0 when not tied to a column.
    pub column: usize,
    /// Length of the span in characters (for the caret line).
    pub len: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when known.
    pub fix: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_lines_and_characters() {
        let text = "ab\nçd\nxyz";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        assert_eq!(line_col(text, 5), (2, 2)); // after the two-byte `ç`
        assert_eq!(line_col(text, 9), (3, 3));
    }
}
