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
    let parse_error = |error| IssueError::Parse {
        path: path.to_owned(),
        error,
    };
    let bytes = read_bounded(path).map_err(|source| IssueError::Read {
        path: path.to_owned(),
        source,
    })?;
    let bytes = bytes.map_err(parse_error)?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    parse_bytes(&name, &bytes).map_err(parse_error)
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
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(source_name, text),
        Err(e) => {
            let offset = e.valid_up_to();
            let line = bytes[..offset].iter().filter(|&&b| b == b'\n').count() + 1;
            Err(ParseError::NotUtf8 { offset, line })
        }
    }
}

/// Parses issue text. Accepts a UTF-8 BOM and CRLF line endings.
pub fn parse(source_name: &str, text: &str) -> Result<Issue, ParseError> {
    limits::check_size(text.len())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let source = if text.contains('\r') {
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
    limits::check_body(&source, body_offset)?;
    Ok(Issue {
        source_name: source_name.to_owned(),
        source,
        header,
        body_offset,
        body_line,
    })
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
