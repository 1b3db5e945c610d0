//! The DATA phase's payload, prepared in one piece.

/// The message as DATA content, dot-stuffed and ending with the
/// end-of-data line, written in one piece through lettre's `command` (a
/// write, then a reply). lettre's own `message` dot-stuffs byte by byte
/// into a fresh buffer and writes the terminator separately, which costs
/// more CPU per message than everything else mailroom does; this scans for
/// line-leading dots with `memchr` (our quoted-printable bodies have none).
/// `None` for a message that is not UTF-8 (then lettre's path is used).
pub struct DataBlock(String);

impl DataBlock {
    /// Prepares `message`; `None` if it is not UTF-8.
    pub fn new(message: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(message).ok()?;
        let mut out = String::with_capacity(text.len() + 8);
        if text.starts_with('.') {
            out.push('.');
        }
        let mut at = 0;
        for i in memchr::memmem::find_iter(message, b"\n.") {
            out.push_str(&text[at..=i]);
            out.push('.');
            at = i + 1;
        }
        out.push_str(&text[at..]);
        out.push_str(if out.ends_with("\r\n") {
            ".\r\n"
        } else {
            "\r\n.\r\n"
        });
        Some(Self(out))
    }
}

impl std::fmt::Display for DataBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_blocks_stuff_leading_dots_and_end_with_the_terminator() {
        let b = DataBlock::new(b".a\r\n.b\r\nc.\r\n").unwrap();
        assert_eq!(b.0, "..a\r\n..b\r\nc.\r\n.\r\n");
        assert_eq!(DataBlock::new(b"x").unwrap().0, "x\r\n.\r\n");
        assert!(DataBlock::new(b"\xff").is_none());
    }
}
