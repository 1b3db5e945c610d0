//! Header values: refuse line breaks, encode non-ASCII (RFC 2047), fold long
//! lines (RFC 5322) so that no header line is longer than 78 characters.
use base64::Engine;

use crate::domain::EmailAddress;

/// A header value that cannot be put in a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// CR, LF or another control character would let the value inject headers.
    #[error(
        "`{header}` header value `{value}` contains a line break or control character; \
         header values must be a single line (check the issue header and config.toml)"
    )]
    ControlCharacter { header: &'static str, value: String },
    /// A mailbox (`Name <addr>`) is malformed.
    #[error(
        "`{header}` header value `{value}` is not `Name <address>` or a bare address: {reason}"
    )]
    BadMailbox {
        header: &'static str,
        value: String,
        reason: String,
    },
    /// A date a `Date:` header cannot carry (RFC 5322 years start at 1900).
    #[error("cannot write the `Date` header for `{value}`: email dates start in the year 1900")]
    Date { value: String },
    /// A configured value that the header cannot carry.
    #[error("`{header}` header value `{value}` is not usable: {reason}")]
    BadValue {
        header: &'static str,
        value: String,
        reason: &'static str,
    },
}

/// The longest header line we write ("SHOULD be no more than 78 characters",
/// RFC 5322 §2.1.1; the hard limit is 998).
pub const MAX_LINE: usize = 78;

/// Refuses values holding CR, LF or other control characters (tab is allowed).
pub fn single_line<'a>(header: &'static str, value: &'a str) -> Result<&'a str, HeaderError> {
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(HeaderError::ControlCharacter {
            header,
            value: value.escape_debug().to_string(),
        });
    }
    Ok(value)
}

/// Encodes unstructured text (Subject) for the header `name`, folded so
/// that every line, `Name: ` included, fits in [`MAX_LINE`]. Plain ASCII is
/// folded at spaces; text that is not ASCII, holds a word too long to fold,
/// or looks like an encoded word (`=?`) becomes RFC 2047 `=?UTF-8?B?…?=`
/// words, one per line.
pub fn encode_unstructured(name: &str, value: &str) -> String {
    let first_room = MAX_LINE.saturating_sub(name.len() + 2);
    if value.is_ascii()
        && !value.contains("=?")
        && let Some(folded) = fold_at_spaces(value, first_room)
    {
        return folded;
    }
    // "=?UTF-8?B?" + "?=" is 12 characters; 42 bytes of text are 56 of
    // base64, so a word is 68 characters: it fits after `Subject: ` and after
    // the continuation line's leading space.
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in value.chars() {
        if chunk.len() + c.len_utf8() > 42 {
            words.push(encoded_word(&chunk));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() || words.is_empty() {
        words.push(encoded_word(&chunk));
    }
    words.join("\r\n ")
}

/// `value` folded before spaces (RFC 5322 §2.2.3: a fold is a CRLF inserted
/// before whitespace), the first line within `first_room` characters and the
/// others within [`MAX_LINE`]; `None` when a word is too long for a line.
fn fold_at_spaces(value: &str, first_room: usize) -> Option<String> {
    let mut out = String::with_capacity(value.len() + 8);
    let mut room = first_room;
    let mut line_len = 0;
    for (i, word) in value.split(' ').enumerate() {
        // A fold never goes before an empty word: it would leave a line of
        // nothing but a space, which RFC 5322 forbids.
        if i == 0 {
            line_len = word.len();
        } else if line_len + 1 + word.len() <= room || word.is_empty() {
            out.push(' ');
            line_len += 1 + word.len();
        } else {
            out.push_str("\r\n ");
            room = MAX_LINE;
            line_len = 1 + word.len();
        }
        out.push_str(word);
        if line_len > room {
            return None;
        }
    }
    Some(out)
}

fn encoded_word(text: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("=?UTF-8?B?{b64}?=")
}

/// Parses `Display Name <addr@example.org>` or a bare address into the form
/// a header needs, quoting or encoding the display name as required.
pub fn mailbox(header: &'static str, value: &str) -> Result<(String, EmailAddress), HeaderError> {
    let value = single_line(header, value)?.trim();
    let bad = |reason: String| HeaderError::BadMailbox {
        header,
        value: value.to_owned(),
        reason,
    };
    let (name, addr) = match value.rsplit_once('<') {
        Some((name, rest)) => {
            let addr = rest
                .strip_suffix('>')
                .ok_or_else(|| bad("missing `>`".into()))?;
            (name.trim().trim_matches('"').trim(), addr)
        }
        None => ("", value),
    };
    let addr = EmailAddress::parse(addr).map_err(|e| bad(e.reason.to_owned()))?;
    let shown = if name.is_empty() {
        addr.to_string()
    } else {
        format!("{} <{addr}>", display_name(name))
    };
    Ok((shown, addr))
}

/// A display name as a header wants it: bare atoms, a quoted string, or RFC 2047.
fn display_name(name: &str) -> String {
    if !name.is_ascii() {
        return encode_unstructured("From", name);
    }
    let atom = |c: char| c.is_ascii_alphanumeric() || " !#$%&'*+-/=?^_`{|}~".contains(c);
    if name.chars().all(atom) {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// Writes `Name: value` + CRLF.
pub fn push(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_in_header_values_are_refused() {
        for v in ["a\r\nBcc: x@evil.test", "a\nb", "a\rb", "a\0b"] {
            assert!(single_line("Subject", v).is_err(), "{v:?}");
        }
        assert!(single_line("Subject", "fine\tvalue").is_ok());
    }

    #[test]
    fn ascii_subjects_pass_through_and_others_are_encoded() {
        assert_eq!(
            encode_unstructured("Subject", "This Week in Rust 625"),
            "This Week in Rust 625"
        );
        let enc = encode_unstructured("Subject", "Zürich ünïcödé");
        assert!(
            enc.starts_with("=?UTF-8?B?") && enc.ends_with("?="),
            "{enc}"
        );
    }

    /// The header as written, `Subject: ` included, split into lines.
    fn lines(value: &str) -> Vec<String> {
        format!("Subject: {}", encode_unstructured("Subject", value))
            .split("\r\n")
            .map(str::to_owned)
            .collect()
    }

    /// What a reader sees: the lines unfolded, encoded words decoded.
    fn decoded(value: &str) -> String {
        let header = format!("Subject: {}\r\n\r\n", encode_unstructured("Subject", value));
        let message = mail_parser::MessageParser::default()
            .parse(header.as_bytes())
            .unwrap();
        message.subject().unwrap().to_owned()
    }

    #[test]
    fn a_long_ascii_subject_is_folded_at_spaces_into_short_lines() {
        let value = "This Week in Rust 625: ".repeat(150);
        let value = value.trim_end();
        let lines = lines(value);
        assert!(lines.len() > 40);
        assert!(lines.iter().all(|l| l.len() <= MAX_LINE), "{lines:#?}");
        assert!(lines[1..].iter().all(|l| l.starts_with(' ')));
        assert_eq!(
            lines.concat(),
            format!("Subject: {value}"),
            "unfolding restores it"
        );
        assert!(!lines.concat().contains("=?"), "no encoding needed");
    }

    #[test]
    fn a_subject_with_a_word_too_long_to_fold_becomes_encoded_words() {
        for value in [
            "x".repeat(3000),
            "ü".repeat(3000),
            format!("a {} b", "-".repeat(90)),
            " ".repeat(3000),
        ] {
            let lines = lines(&value);
            assert!(lines.iter().all(|l| l.len() <= MAX_LINE), "{lines:#?}");
            assert_eq!(decoded(&value), value);
        }
    }

    #[test]
    fn text_that_looks_like_an_encoded_word_is_encoded_so_it_reads_as_written() {
        let value = "=?UTF-8?B?aGk=?= is what it says";
        assert_eq!(decoded(value), value);
    }

    #[test]
    fn mailboxes_are_parsed_and_names_quoted_when_needed() {
        let (shown, addr) = mailbox("From", "This Week in Rust <News@Example.ORG>").unwrap();
        assert_eq!(shown, "This Week in Rust <News@example.org>");
        assert_eq!(addr.domain(), "example.org");
        let (shown, _) = mailbox("From", "Rust, Weekly <a@example.org>").unwrap();
        assert_eq!(shown, "\"Rust, Weekly\" <a@example.org>");
        assert_eq!(mailbox("From", "a@example.org").unwrap().0, "a@example.org");
        assert!(mailbox("From", "Name <not-an-address>").is_err());
        assert!(mailbox("From", "Name <a@example.org>\r\nBcc: x@y.z").is_err());
    }
}
