//! Why an issue file could not be parsed, with the line and the fix.
use std::path::PathBuf;

/// A parse failure inside the issue text. Display gives `line N: … ; fix`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The bytes are not UTF-8.
    #[error("line {line}: not valid UTF-8 at byte offset {offset}; re-save the file as UTF-8")]
    NotUtf8 { offset: usize, line: usize },
    /// A header line is not `Key: value`.
    #[error(
        "line {line}: expected a `Key: value` header line, found `{found}`; \
         the header ends at the first blank line, so add one before the Markdown"
    )]
    BadHeaderLine { line: usize, found: String },
    /// A required field is missing.
    #[error("line {line}: the header has no `{key}:` field; add a line like `{example}`")]
    MissingField {
        line: usize,
        key: &'static str,
        example: &'static str,
    },
    /// A required field is present but empty.
    #[error("line {line}: `{key}:` is empty; give it a value like `{example}`")]
    EmptyField {
        line: usize,
        key: &'static str,
        example: &'static str,
    },
    /// `Date:` is not a YYYY-MM-DD calendar date.
    #[error("line {line}: `Date:` is `{found}`, expected YYYY-MM-DD, like `2025-11-12`")]
    BadDate { line: usize, found: String },
    /// `Number:` is not a positive whole number.
    #[error("line {line}: `Number:` is `{found}`, expected a whole number, like `625`")]
    BadNumber { line: usize, found: String },
    /// A header field value holds a control character (CR, NUL, …).
    #[error(
        "line {line}: `{key}:` contains a control character ({found}); \
         header values must be a single line of text"
    )]
    ControlInHeader {
        line: usize,
        key: String,
        found: String,
    },
    /// `Date:` is a calendar date an email's `Date:` header cannot carry.
    #[error(
        "line {line}: `Date:` is `{found}`, before 1900, which an email's Date header \
         cannot carry; use the issue's publication date, like `2025-11-12`"
    )]
    DateOutOfRange { line: usize, found: String },
    /// The file is larger than any issue could be.
    #[error(
        "is {size} bytes ({}), over the {} limit for an issue (real issues are \
         under 100 KB); check that this is the right file",
        megabytes(*size),
        megabytes(*limit)
    )]
    TooLarge { size: usize, limit: usize },
    /// Lists, quotes or HTML elements are nested deeper than the limit.
    #[error(
        "line {line}: more than {limit} levels of nesting here ({what} inside the others); \
         flatten the lists, quotes or HTML tags, or close the tags you open"
    )]
    TooDeep {
        line: usize,
        limit: usize,
        what: String,
    },
    /// The body holds more elements or pieces than any issue could.
    #[error(
        "line {line}: more than {limit} {what} in the issue; a real issue has a few \
         thousand, so check that this is the right file"
    )]
    TooMany {
        line: usize,
        limit: usize,
        what: &'static str,
    },
    /// There is no Markdown after the header.
    #[error(
        "line {line}: the issue has no body; write the Markdown after the blank line \
         that ends the header"
    )]
    EmptyBody { line: usize },
}

impl ParseError {
    /// The 1-based line the error points at; 0 when it is about the whole file.
    pub fn line(&self) -> usize {
        match self {
            ParseError::NotUtf8 { line, .. }
            | ParseError::BadHeaderLine { line, .. }
            | ParseError::MissingField { line, .. }
            | ParseError::EmptyField { line, .. }
            | ParseError::BadDate { line, .. }
            | ParseError::BadNumber { line, .. }
            | ParseError::ControlInHeader { line, .. }
            | ParseError::DateOutOfRange { line, .. }
            | ParseError::TooDeep { line, .. }
            | ParseError::TooMany { line, .. }
            | ParseError::EmptyBody { line } => *line,
            ParseError::TooLarge { .. } => 0,
        }
    }
}

/// `52451600` → `50.0 MB` (MiB, as `ls -lh` counts).
fn megabytes(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

/// An issue file that could not be loaded: which file, and why.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The file could not be read at all.
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file was read but is not a valid issue. The message already
    /// holds the parse error, so it is not repeated as a cause.
    #[error("`{}` {error}", path.display())]
    Parse { path: PathBuf, error: ParseError },
}
