//! Parse an issue: a `Key: value` header up to the first blank line, then Markdown.
//!
//! [`parse`] is pure over a string; [`from_file`] is the only function that
//! touches the disk. Every parsed [`Issue`] is within the bounds of
//! [`limits`]: size and nesting depth.
pub mod clean;
mod error;
mod header;
pub mod limits;
pub mod tags;

use std::io::Read;
use std::path::Path;

pub use error::{IssueError, ParseError};
use header::build_header;
pub use header::{number_in_title, parse_date};

use crate::model::{HeaderField, Issue};

/// Reads and parses an issue file. A file over [`limits::MAX_ISSUE_BYTES`]
/// is refused without reading it into memory.
pub fn from_file(path: &Path) -> Result<Issue, IssueError> {
    let bytes = read(path)?;
    parse_file_lending(path, &bytes, |_| {}).map(|(issue, _)| issue)
}

/// Reads an issue file's bytes, for [`parse_file_lending`]; a file over
/// [`limits::MAX_ISSUE_BYTES`] is refused without reading it into memory.
pub fn read(path: &Path) -> Result<Vec<u8>, IssueError> {
    read_bounded(path)
        .map_err(|source| IssueError::Read {
            path: path.to_owned(),
            source,
        })?
        .map_err(|error| IssueError::Parse {
            path: path.to_owned(),
            error,
        })
}

/// Parses the bytes [`read`] from `path`, as [`parse_lending`].
pub fn parse_file_lending<'s>(
    path: &Path,
    bytes: &'s [u8],
    each: impl FnMut(pulldown_cmark::Event<'s>),
) -> Result<(Issue, bool), IssueError> {
    let parse_error = |error| IssueError::Parse {
        path: path.to_owned(),
        error,
    };
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let text = utf8(bytes).map_err(parse_error)?;
    parse_lending(&name, text, each).map_err(parse_error)
}

/// The file's bytes, or [`ParseError::TooLarge`] as soon as it is known to
/// be over the limit (from its metadata, or while reading a pipe).
fn read_bounded(path: &Path) -> std::io::Result<Result<Vec<u8>, ParseError>> {
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    let limit = limits::MAX_ISSUE_BYTES;
    if size > limit as u64 {
        return Ok(Err(ParseError::TooLarge {
            size: usize::try_from(size).unwrap_or(usize::MAX),
            limit,
        }));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit as u64 + 1).read_to_end(&mut bytes)?;
    Ok(limits::check_size(bytes.len()).map(|()| bytes))
}

/// Parses raw file bytes: checks UTF-8 (naming the first bad byte), then [`parse`].
pub fn parse_bytes(source_name: &str, bytes: &[u8]) -> Result<Issue, ParseError> {
    parse(source_name, utf8(bytes)?)
}

/// The bytes as text, or the offset and line of the first bad byte.
fn utf8(bytes: &[u8]) -> Result<&str, ParseError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        let line = bytes[..offset].iter().filter(|&&b| b == b'\n').count() + 1;
        ParseError::NotUtf8 { offset, line }
    })
}

/// Parses issue text. Accepts a UTF-8 BOM and CRLF line endings.
pub fn parse(source_name: &str, text: &str) -> Result<Issue, ParseError> {
    parse_lending(source_name, text, |_| {}).map(|(issue, _)| issue)
}

/// As [`parse`], handing `each` the events of the body's Markdown that the
/// bounds check parses, borrowed from `text`, when they are the events the
/// renderer would parse: not when the text has CRLF line endings (the
/// issue holds a copy without them) or control characters (the renderer
/// strips them first). Returns the issue and whether `each` saw its whole
/// body; `render` then renders from those events instead of parsing again.
pub fn parse_lending<'s>(
    source_name: &str,
    text: &'s str,
    each: impl FnMut(pulldown_cmark::Event<'s>),
) -> Result<(Issue, bool), ParseError> {
    limits::check_size(text.len())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let crlf = text.contains('\r');
    let source = if crlf {
        text.replace("\r\n", "\n")
    } else {
        text.to_owned()
    };

    let mut fields = Vec::new();
    let mut offset = 0;
    let mut line_no = 0;
    let mut body_offset = source.len();
    let mut blank_line = None;
    for line in source.split_inclusive('\n') {
        line_no += 1;
        let content = line.strip_suffix('\n').unwrap_or(line);
        offset += line.len();
        if content.trim().is_empty() {
            body_offset = offset;
            blank_line = Some(line_no);
            break;
        }
        fields.push(parse_field(content, line_no)?);
    }
    // Missing fields are reported on the header's last line.
    let last_header_line = fields.last().map_or(1, |f| f.line);
    let header = build_header(fields, last_header_line)?;
    let body_line = blank_line.map_or(line_no + 1, |b| b + 1);
    if source[body_offset..].trim().is_empty() {
        return Err(ParseError::EmptyBody {
            line: blank_line.unwrap_or(last_header_line),
        });
    }
    let lent = if crlf {
        limits::check_body(&source, body_offset)?;
        false
    } else {
        // `source` is a copy of `text`: the same body at the same offset.
        limits::check_body_lending(text, body_offset, each)?
    };
    let issue = Issue {
        source_name: source_name.to_owned(),
        source,
        header,
        body_offset,
        body_line,
    };
    Ok((issue, lent))
}

fn parse_field(content: &str, line: usize) -> Result<HeaderField, ParseError> {
    let bad = || ParseError::BadHeaderLine {
        line,
        found: truncate(content, 60),
    };
    let (key, value) = content.split_once(':').ok_or_else(bad)?;
    let key = key.trim();
    if key.is_empty()
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(bad());
    }
    if let Some(c) = value.chars().find(|c| c.is_control() && *c != '\t') {
        return Err(ParseError::ControlInHeader {
            line,
            key: key.to_owned(),
            found: format!("U+{:04X}", c as u32),
        });
    }
    Ok(HeaderField {
        key: key.to_owned(),
        value: value.trim().to_owned(),
        line,
    })
}

/// The Markdown dialect of an issue (what the web edition renders): the
/// renderer and the checker both parse with it, so they agree on what is a
/// table, a footnote or a link.
pub fn markdown_options() -> pulldown_cmark::Options {
    use pulldown_cmark::Options;
    Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

#[cfg(test)]
mod tests;
