//! Header values: refuse line breaks, encode non-ASCII (RFC 2047), fold long lines.
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
    /// A configured value that the header cannot carry.
    #[error("`{header}` header value `{value}` is not usable: {reason}")]
    BadValue {
        header: &'static str,
        value: String,
        reason: &'static str,
    },
}

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

/// Encodes unstructured text (Subject): ASCII as is, otherwise RFC 2047
/// `=?UTF-8?B?…?=` words of at most 75 characters, one per folded line.
pub fn encode_unstructured(value: &str) -> String {
    if value.is_ascii() {
        return value.to_owned();
    }
    // 75 max per word; "=?UTF-8?B?" + "?=" is 12, leaving 63 → 45 bytes of input.
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in value.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(encoded_word(&chunk));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(encoded_word(&chunk));
    }
    words.join("\r\n ")
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
        return encode_unstructured(name);
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
            encode_unstructured("This Week in Rust 625"),
            "This Week in Rust 625"
        );
        let enc = encode_unstructured("Zürich ünïcödé");
        assert!(
            enc.starts_with("=?UTF-8?B?") && enc.ends_with("?="),
            "{enc}"
        );
    }

    #[test]
    fn long_non_ascii_subjects_are_split_into_short_words() {
        let enc = encode_unstructured(&"ü".repeat(100));
        for line in enc.split("\r\n") {
            assert!(line.trim_start().len() <= 75, "{line}");
        }
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
