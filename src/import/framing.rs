//! Records from lines: where a CSV row begins and ends, decided so that a
//! stray `"` costs one row, never the rest of the file.
//!
//! Why this is hand-written: the csv crate, like RFC 4180, lets a quoted
//! field run across line breaks without limit, so one stray quote makes
//! every later line part of one field (issue 9: 10 of 1,000 rows imported).
//! Fields are still split by csv-core's state machine; this module only
//! decides where a record may end:
//!
//! - A record that ends on the line it starts on is taken as it is.
//! - A quoted field may run across line breaks (Mailchimp's `NOTES` can),
//!   but only when the quote closes within [`MAX_ROW_LINES`] lines and
//!   [`MAX_ROW_BYTES`], before the end of the file, and the layout accepts
//!   the record that makes (the header's column count, and line breaks
//!   only in columns we don't import).
//! - Otherwise the quote that opened on the first line is stray: that line
//!   alone is rejected, and framing starts again on the next line, with the
//!   lines already read ahead. Every other row is read as if the stray
//!   quote were not there.
//!
//! The look-ahead is bounded, so memory stays flat and time linear (at
//! worst [`MAX_ROW_LINES`] times the input, when every line opens a stray
//! quote).
use std::collections::VecDeque;
use std::io::{self, BufRead};

use csv_core::ReadRecordResult;

use super::lines::{Line, Lines};

/// The most bytes one row may hold; a longer row is rejected.
pub const MAX_ROW_BYTES: usize = 256 * 1024;
/// The most bytes one field may hold; a row with a longer one is rejected.
pub const MAX_FIELD_BYTES: usize = 64 * 1024;
/// The most lines a quoted field may run across.
pub const MAX_ROW_LINES: usize = 100;

/// One CSV record: its unquoted fields and the lines it spans.
#[derive(Debug, Default)]
pub(super) struct Record {
    data: Vec<u8>,
    ends: Vec<usize>,
    out: usize,
    fields: usize,
    /// The line the record starts on.
    pub first_line: u64,
    /// The line it ends on.
    pub last_line: u64,
}

impl Record {
    /// The number of fields.
    pub fn len(&self) -> usize {
        self.fields
    }

    /// Field `i`, unquoted.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        (i < self.fields).then(|| {
            let start = if i == 0 { 0 } else { self.ends[i - 1] };
            &self.data[start..self.ends[i]]
        })
    }

    /// The fields, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.fields).filter_map(|i| self.get(i))
    }

    fn start(&mut self, line: u64) {
        self.out = 0;
        self.fields = 0;
        self.first_line = line;
        self.last_line = line;
        if self.data.is_empty() {
            self.data.resize(1024, 0);
            self.ends.resize(64, 0);
        }
    }

    /// The first field over [`MAX_FIELD_BYTES`]: its 1-based number, its size.
    fn oversized_field(&self) -> Option<(usize, usize)> {
        self.iter()
            .enumerate()
            .find(|(_, f)| f.len() > MAX_FIELD_BYTES)
            .map(|(i, f)| (i + 1, f.len()))
    }
}

/// What the framer found next.
pub(super) enum Frame<'a> {
    /// A record.
    Record(&'a Record),
    /// A line that cannot start a valid record; it is skipped.
    Rejected { line: u64, reason: String },
}

/// A line held for reading again after a stray quote.
enum Held {
    Text(Vec<u8>),
    TooLong(u64),
}

/// Splits an input into records; see the module comment for the rules.
pub(super) struct Framer<R> {
    lines: Lines<R>,
    replay: VecDeque<(u64, Held)>,
    slot: Vec<u8>,
    csv: csv_core::Reader,
    record: Record,
}

impl<R: BufRead> Framer<R> {
    pub fn new(input: R) -> Self {
        Self {
            lines: Lines::new(input, MAX_ROW_BYTES),
            replay: VecDeque::new(),
            slot: Vec::new(),
            csv: csv_core::Reader::new(),
            record: Record::default(),
        }
    }

    /// The next record or rejected line; `None` at the end. A record that
    /// spans lines is taken only if `spans_ok` accepts it.
    pub fn next(&mut self, spans_ok: impl Fn(&Record) -> bool) -> io::Result<Option<Frame<'_>>> {
        loop {
            let Some((n, line)) = pull(&mut self.lines, &mut self.replay, &mut self.slot)? else {
                return Ok(None);
            };
            let text = match line {
                Line::TooLong(len) => return Ok(Some(too_long(n, len as usize))),
                Line::Text([]) => continue,
                Line::Text(t) => t,
            };
            self.csv.reset();
            self.record.start(n);
            if parse_line(&mut self.csv, &mut self.record, text) {
                return Ok(Some(match self.record.oversized_field() {
                    Some((i, len)) => Frame::Rejected {
                        line: n,
                        reason: format!(
                            "field {i} holds {} bytes, over the limit of {} KiB",
                            len,
                            MAX_FIELD_BYTES / 1024
                        ),
                    },
                    None => Frame::Record(&self.record),
                }));
            }
            // Line `n` ends inside a quoted field: read on, within bounds.
            let mut span = vec![(n, Held::Text(text.to_vec()))];
            let mut bytes = text.len();
            let mut closed = false;
            while span.len() < MAX_ROW_LINES {
                let Some((m, line)) = pull(&mut self.lines, &mut self.replay, &mut self.slot)?
                else {
                    break;
                };
                let t = match line {
                    Line::Text(t) => t,
                    Line::TooLong(len) => {
                        span.push((m, Held::TooLong(len)));
                        break;
                    }
                };
                bytes += t.len() + 1;
                span.push((m, Held::Text(t.to_vec())));
                if bytes > MAX_ROW_BYTES {
                    break;
                }
                if parse_line(&mut self.csv, &mut self.record, t) {
                    closed = true;
                    break;
                }
            }
            if closed {
                self.record.last_line = span.last().map_or(n, |(m, _)| *m);
                if self.record.oversized_field().is_none() && spans_ok(&self.record) {
                    return Ok(Some(Frame::Record(&self.record)));
                }
            }
            // The quote on line `n` is stray: skip that line alone.
            for held in span.into_iter().skip(1).rev() {
                self.replay.push_front(held);
            }
            return Ok(Some(Frame::Rejected {
                line: n,
                reason: "a quoted field opens on this line and no valid row closes it; \
                         check for a stray `\"`"
                    .to_owned(),
            }));
        }
    }
}

fn too_long(line: u64, len: usize) -> Frame<'static> {
    Frame::Rejected {
        line,
        reason: format!(
            "the line holds {len} bytes, over the limit of {} KiB for a row",
            MAX_ROW_BYTES / 1024
        ),
    }
}

/// The next line: one held for reading again, else the input's next.
fn pull<'a, R: BufRead>(
    lines: &'a mut Lines<R>,
    replay: &mut VecDeque<(u64, Held)>,
    slot: &'a mut Vec<u8>,
) -> io::Result<Option<(u64, Line<'a>)>> {
    match replay.pop_front() {
        Some((n, Held::Text(t))) => {
            *slot = t;
            Ok(Some((n, Line::Text(slot))))
        }
        Some((n, Held::TooLong(len))) => Ok(Some((n, Line::TooLong(len)))),
        None => lines.next_line(),
    }
}

/// Feeds one line and its line break to the parser; `true` when that ends
/// the record (the line did not end inside a quoted field).
fn parse_line(csv: &mut csv_core::Reader, rec: &mut Record, text: &[u8]) -> bool {
    // `text` holds no line break, so it never ends the record by itself.
    feed(csv, rec, text);
    feed(csv, rec, b"\n")
}

fn feed(csv: &mut csv_core::Reader, rec: &mut Record, mut input: &[u8]) -> bool {
    loop {
        let (res, nin, nout, nend) =
            csv.read_record(input, &mut rec.data[rec.out..], &mut rec.ends[rec.fields..]);
        input = &input[nin..];
        rec.out += nout;
        rec.fields += nend;
        match res {
            ReadRecordResult::InputEmpty | ReadRecordResult::End => return false,
            ReadRecordResult::Record => return true,
            ReadRecordResult::OutputFull => {
                let len = rec.data.len() * 2;
                rec.data.resize(len, 0);
            }
            ReadRecordResult::OutputEndsFull => {
                let len = rec.ends.len() * 2;
                rec.ends.resize(len, 0);
            }
        }
    }
}

#[cfg(test)]
mod tests;
