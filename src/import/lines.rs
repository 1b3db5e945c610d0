//! Physical lines of an import file, numbered as an editor numbers them: a
//! line ends at `\n`, `\r\n` or a lone `\r` (old Mac exports), so CRLF
//! files get the same numbers as LF ones. A line over the row limit is
//! skipped as it streams by, never held in memory.
use std::io::{self, BufRead};

/// One physical line, without its terminator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Line<'a> {
    /// The line's bytes.
    Text(&'a [u8]),
    /// A line over the limit, skipped; it held this many bytes.
    TooLong(u64),
}

/// Reads `input` line by line, each at most `max` bytes.
pub(super) struct Lines<R> {
    input: R,
    buf: Vec<u8>,
    max: usize,
    /// The number of the line last returned (1-based).
    number: u64,
    /// The last line ended at `\r`: a `\n` right after it belongs to it.
    after_cr: bool,
}

impl<R: BufRead> Lines<R> {
    pub fn new(input: R, max: usize) -> Self {
        Self {
            input,
            buf: Vec::new(),
            max,
            number: 0,
            after_cr: false,
        }
    }

    /// The next line and its number; `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>> {
        self.buf.clear();
        let mut len: u64 = 0;
        let mut started = false;
        loop {
            let avail = match self.input.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                if !started {
                    return Ok(None);
                }
                break;
            }
            if std::mem::take(&mut self.after_cr) && avail[0] == b'\n' {
                self.input.consume(1);
                continue;
            }
            started = true;
            let (take, end) = match memchr::memchr2(b'\n', b'\r', avail) {
                Some(i) => (i, Some(avail[i])),
                None => (avail.len(), None),
            };
            len += take as u64;
            if len <= self.max as u64 {
                self.buf.extend_from_slice(&avail[..take]);
            }
            self.input.consume(take + usize::from(end.is_some()));
            if let Some(term) = end {
                self.after_cr = term == b'\r';
                break;
            }
        }
        self.number += 1;
        if len > self.max as u64 {
            return Ok(Some((self.number, Line::TooLong(len))));
        }
        let mut text = &self.buf[..];
        if self.number == 1 {
            text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
        }
        Ok(Some((self.number, Line::Text(text))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], max: usize) -> Vec<(u64, Result<String, u64>)> {
        // A tiny buffer makes terminators straddle refills.
        let mut lines = Lines::new(io::BufReader::with_capacity(3, input), max);
        let mut out = Vec::new();
        while let Some((n, line)) = lines.next_line().unwrap() {
            out.push((
                n,
                match line {
                    Line::Text(t) => Ok(String::from_utf8(t.to_vec()).unwrap()),
                    Line::TooLong(len) => Err(len),
                },
            ));
        }
        out
    }

    fn text(n: u64, s: &str) -> (u64, Result<String, u64>) {
        (n, Ok(s.to_owned()))
    }

    #[test]
    fn lf_crlf_and_lone_cr_files_number_lines_alike() {
        let want = vec![text(1, "a"), text(2, ""), text(3, "b")];
        assert_eq!(all(b"a\n\nb\n", 100), want);
        assert_eq!(all(b"a\r\n\r\nb\r\n", 100), want);
        assert_eq!(all(b"a\r\rb\r", 100), want);
        assert_eq!(all(b"a\n\r\nb", 100), want, "no final terminator");
    }

    #[test]
    fn a_line_over_the_limit_is_skipped_and_reported_with_its_size() {
        assert_eq!(
            all(b"ok\r\n0123456789\r\nnext", 5),
            vec![text(1, "ok"), (2, Err(10)), text(3, "next")]
        );
    }

    #[test]
    fn a_byte_order_mark_on_the_first_line_is_dropped() {
        assert_eq!(
            all(b"\xef\xbb\xbfemail\nx", 100),
            vec![text(1, "email"), text(2, "x")]
        );
    }
}
