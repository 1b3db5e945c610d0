//! The DATA phase's payload, prepared in one piece.

use std::string::FromUtf8Error;

/// The message as DATA content, dot-stuffed and ending with the
/// end-of-data line, written in one piece through lettre's `command` (a
/// write, then a reply). lettre's own `message` dot-stuffs byte by byte
/// into a fresh buffer and writes the terminator separately, which costs
/// more CPU per message than everything else mailroom does; this scans for
/// line-leading dots with `memchr` (our quoted-printable bodies have none)
/// and, when there are none, works in the message's own buffer: no copy of
/// an ~80 KB message per recipient (perf on a 20,000-message send: the copy
/// was 2.5% of mailroom's CPU).
pub struct DataBlock(String);

impl DataBlock {
    /// Prepares `message`, taking its buffer; gives it back unchanged if it
    /// is not UTF-8 (then lettre's path is used).
    pub fn new(message: Vec<u8>) -> Result<Self, Vec<u8>> {
        let mut text = String::from_utf8(message).map_err(FromUtf8Error::into_bytes)?;
        if text.starts_with('.') || memchr::memmem::find(text.as_bytes(), b"\n.").is_some() {
            text = stuffed(&text);
        }
        text.push_str(if text.ends_with("\r\n") {
            ".\r\n"
        } else {
            "\r\n.\r\n"
        });
        Ok(Self(text))
    }

    /// The buffer back (as sent: dot-stuffed, with the end-of-data line),
    /// to reuse for the next message.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0.into_bytes()
    }
}

/// `text` with a dot added before every line-leading dot.
fn stuffed(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    if text.starts_with('.') {
        out.push('.');
    }
    let mut at = 0;
    for i in memchr::memmem::find_iter(text.as_bytes(), b"\n.") {
        out.push_str(&text[at..=i]);
        out.push('.');
        at = i + 1;
    }
    out.push_str(&text[at..]);
    out
}

impl std::fmt::Display for DataBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(m: &[u8]) -> Result<String, Vec<u8>> {
        DataBlock::new(m.to_vec()).map(|b| String::from_utf8(b.into_bytes()).unwrap())
    }

    #[test]
    fn data_blocks_stuff_leading_dots_and_end_with_the_terminator() {
        assert_eq!(
            block(b".a\r\n.b\r\nc.\r\n").unwrap(),
            "..a\r\n..b\r\nc.\r\n.\r\n"
        );
        assert_eq!(block(b"a\r\nb.\r\n").unwrap(), "a\r\nb.\r\n.\r\n");
        assert_eq!(block(b"x").unwrap(), "x\r\n.\r\n");
    }

    #[test]
    fn a_message_that_is_not_utf8_comes_back_unchanged() {
        assert_eq!(block(b"a\r\n.\xff").unwrap_err(), b"a\r\n.\xff");
    }
}
