//! Quoted-printable encoding (RFC 2045 §6.7) that knows about per-recipient slots.
//!
//! Hand-written rather than taken from a crate because the template needs two
//! things no QP crate offers: stopping at slot markers so a slot's value can be
//! encoded later, per recipient, and resuming at column 0 after it (a soft line
//! break on each side of a slot keeps every line ≤ 76 octets whatever the
//! value's length). The rules themselves are the standard ones.

/// Longest encoded line, excluding CRLF (RFC 2045 says 76).
pub const MAX_LINE: usize = 76;

/// Incremental encoder: feed text, read CRLF-terminated QP lines.
#[derive(Debug, Default)]
pub struct Encoder {
    col: usize,
}

impl Encoder {
    /// A fresh encoder at column 0.
    pub fn new() -> Self {
        Self { col: 0 }
    }

    /// Encodes `text` (LF or CRLF line breaks) onto `out`.
    pub fn push(&mut self, text: &str, out: &mut Vec<u8>) {
        let mut lines = text.split('\n').peekable();
        while let Some(line) = lines.next() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            self.push_line(line, out);
            if lines.peek().is_some() {
                out.extend_from_slice(b"\r\n");
                self.col = 0;
            }
        }
    }

    /// Ends the current line with a soft break (if it has content), so the
    /// next output starts at column 0 without changing the decoded text.
    pub fn soft_break(&mut self, out: &mut Vec<u8>) {
        if self.col > 0 {
            out.extend_from_slice(b"=\r\n");
            self.col = 0;
        }
    }

    fn push_line(&mut self, line: &str, out: &mut Vec<u8>) {
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            // A run of plain bytes in mid-line (not the line's last byte, no
            // soft break due) is copied at once: the rules below would copy
            // each unchanged. Byte by byte, encoding was the hottest code of
            // `mailroom render` (~0.35 ms of a 75 KB email; ~5x less now).
            let room = (MAX_LINE - 1).saturating_sub(self.col);
            let end = bytes.len().saturating_sub(1).min(i + room);
            let run = if self.col > 0 && i < end {
                bytes[i..end].iter().take_while(|&&b| is_plain(b)).count()
            } else {
                0
            };
            if run > 0 {
                out.extend_from_slice(&bytes[i..i + run]);
                self.col += run;
                i += run;
                continue;
            }
            self.push_byte(bytes[i], i + 1 == bytes.len(), out);
            i += 1;
        }
    }

    /// Encodes one byte by the rules; `last` is whether it ends its line.
    fn push_byte(&mut self, b: u8, last: bool, out: &mut Vec<u8>) {
        let at_line_start = self.col == 0;
        let literal = match b {
            b'=' => false,
            // Trailing whitespace would be stripped in transit.
            b' ' | b'\t' => !last,
            // Guard against dot-stuffing bugs and mbox `From ` mangling.
            b'.' | b'F' if at_line_start => false,
            33..=126 => true,
            _ => false,
        };
        let width = if literal { 1 } else { 3 };
        // Leave room for the soft-break `=`; the last char may use it.
        let limit = if last { MAX_LINE } else { MAX_LINE - 1 };
        if self.col + width > limit {
            out.extend_from_slice(b"=\r\n");
            self.col = 0;
        }
        let at_line_start = self.col == 0;
        if literal && !(at_line_start && matches!(b, b'.' | b'F')) {
            out.push(b);
            self.col += 1;
        } else {
            escape(b, out);
            self.col += 3;
        }
    }
}

/// Printable ASCII other than `=`, a space or a tab: written as itself
/// anywhere but at the start or end of a line.
fn is_plain(b: u8) -> bool {
    matches!(b, b'\t' | 32..=126) && b != b'='
}

fn escape(b: u8, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.extend_from_slice(&[b'=', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
}

/// Encodes a whole text in one go.
pub fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 8);
    Encoder::new().push(text, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> String {
        let s = String::from_utf8(bytes.to_vec())
            .unwrap()
            .replace("=\r\n", "");
        let mut out = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'=' {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap().replace("\r\n", "\n")
    }

    #[test]
    fn every_encoded_line_is_at_most_76_octets() {
        let long = format!(
            "{} é {}\n{}",
            "a".repeat(300),
            "=".repeat(100),
            "ü".repeat(90)
        );
        let enc = encode(&long);
        for line in enc.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            assert!(line.len() <= MAX_LINE, "{} octets", line.len());
        }
        assert_eq!(decode(&enc), long);
    }

    #[test]
    fn equals_signs_and_non_ascii_are_escaped() {
        assert_eq!(encode("a=b ü"), b"a=3Db =C3=BC");
    }

    #[test]
    fn trailing_whitespace_is_escaped_but_inner_spaces_are_kept() {
        assert_eq!(encode("a b \nc\t"), b"a b=20\r\nc=09");
    }

    #[test]
    fn a_leading_dot_or_from_is_escaped() {
        assert_eq!(encode(".\nFrom x"), b"=2E\r\n=46rom x");
    }

    #[test]
    fn an_escape_is_never_split_across_lines() {
        let text = format!("{}é", "a".repeat(74));
        let enc = String::from_utf8(encode(&text)).unwrap();
        assert!(enc.ends_with("=\r\n=C3=A9"), "{enc}");
        assert_eq!(decode(enc.as_bytes()), text);
    }

    #[test]
    fn a_soft_break_resets_the_column_without_changing_the_text() {
        let mut enc = Encoder::new();
        let mut out = Vec::new();
        enc.push("abc", &mut out);
        enc.soft_break(&mut out);
        enc.soft_break(&mut out); // a second one at column 0 adds nothing
        enc.push("def", &mut out);
        assert_eq!(out, b"abc=\r\ndef");
        assert_eq!(decode(&out), "abcdef");
    }

    /// Every byte through the rules one at a time, as the encoder did
    /// before it copied runs of plain bytes whole.
    fn byte_by_byte(text: &str) -> Vec<u8> {
        let (mut enc, mut out) = (Encoder::new(), Vec::new());
        let mut lines = text.split('\n').peekable();
        while let Some(line) = lines.next() {
            let bytes = line.strip_suffix('\r').unwrap_or(line).as_bytes();
            for (i, &b) in bytes.iter().enumerate() {
                enc.push_byte(b, i + 1 == bytes.len(), &mut out);
            }
            if lines.peek().is_some() {
                out.extend_from_slice(b"\r\n");
                enc.col = 0;
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn copying_plain_runs_whole_encodes_exactly_as_byte_by_byte(
            text in "([a-zA-Z .F=\t\n\r]|é|[ -~]|.){0,400}",
            start in 0usize..80,
        ) {
            proptest::prop_assert_eq!(encode(&text), byte_by_byte(&text));
            // From mid-line too, as after a slot.
            let prefix = "x".repeat(start);
            proptest::prop_assert_eq!(encode(&format!("{prefix}{text}")),
                byte_by_byte(&format!("{prefix}{text}")));
        }
    }

    #[test]
    fn a_long_line_of_words_breaks_exactly_as_byte_by_byte() {
        let text = "Rust is fast. ".repeat(40) + "F.=end \n.From here\t\n";
        assert_eq!(encode(&text), byte_by_byte(&text));
        assert_eq!(decode(&encode(&text)), text);
    }
}
