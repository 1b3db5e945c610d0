//! An import batch in PostgreSQL's binary `COPY` format, encoded before
//! the rows' ids are known (off the async thread, while the ids are being
//! taken from the sequence) and given them after.
use std::io::Write;

use crate::domain::Source;
use crate::import::ImportRecord;
use crate::store::seconds;

/// A batch's `COPY` data for `subscribers` and `subscriber_history`, with
/// room for the ids.
pub(super) struct Encoded {
    pub records: Vec<u8>,
    pub changes: Vec<u8>,
    /// Per row: where its id goes in `records`.
    record_ids: Vec<usize>,
    /// Per history entry: where its subscriber's id goes in `changes`,
    /// and which row it belongs to.
    change_ids: Vec<(usize, usize)>,
}

impl Encoded {
    /// Encodes `rows[i]` for each `i` in `which`, in that order; the rows
    /// are written at `now`.
    pub fn new(rows: &[ImportRecord], which: &[usize], now: i64) -> Self {
        let mut records = BinaryCopy::with_capacity(which.len() * 256);
        let mut changes = BinaryCopy::with_capacity(which.len() * 96);
        let mut record_ids = Vec::with_capacity(which.len());
        let mut change_ids = Vec::with_capacity(which.len());
        let mut sources = SourceText::default();
        for (n, &i) in which.iter().enumerate() {
            let r = &rows[i];
            let c = &r.consent;
            records.row(12);
            record_ids.push(records.int_slot());
            records.text(Some(r.email.as_str()));
            records.text(Some(r.email.key()));
            records.text(r.name.as_deref());
            records.text(Some(r.status().as_str()));
            records.int(now);
            records.int(now);
            records.text(Some(sources.of(&c.source)));
            records.int(seconds(c.at));
            records.display(c.ip);
            records.opt_int(c.confirmed_at.map(seconds));
            records.display(c.confirm_ip);
            for h in &r.history {
                changes.row(6);
                change_ids.push((changes.int_slot(), n));
                changes.text(Some(h.status.as_str()));
                changes.int(seconds(h.at));
                changes.text(Some(sources.of(&h.source)));
                changes.display(h.ip);
                changes.text(h.reason.as_deref());
            }
        }
        Self {
            records: records.finish(),
            changes: changes.finish(),
            record_ids,
            change_ids,
        }
    }

    /// How many rows it holds.
    pub fn rows(&self) -> usize {
        self.record_ids.len()
    }

    /// Writes the rows' ids, `ids[n]` for the `n`th row encoded.
    pub fn patch(&mut self, ids: &[i64]) {
        for (&at, id) in self.record_ids.iter().zip(ids) {
            self.records[at..at + 8].copy_from_slice(&id.to_be_bytes());
        }
        for &(at, n) in &self.change_ids {
            self.changes[at..at + 8].copy_from_slice(&ids[n].to_be_bytes());
        }
    }
}

/// A source's text, kept while rows repeat it (every row of a file has the
/// same): one `to_string` a file instead of two a row.
#[derive(Default)]
struct SourceText {
    last: Option<(Source, String)>,
}

impl SourceText {
    fn of(&mut self, source: &Source) -> &str {
        if self.last.as_ref().is_none_or(|(s, _)| s != source) {
            self.last = Some((source.clone(), source.to_string()));
        }
        self.last.as_ref().map_or("", |(_, text)| text.as_str())
    }
}

/// PostgreSQL's binary `COPY` format, for the columns an import writes
/// (`BIGINT` and `TEXT`): a header, then per row a field count and each
/// field as a length (-1 for NULL) and its bytes, then a trailer. Written
/// by hand because it is this small and sqlx has no encoder for it; text
/// goes as its UTF-8 bytes, so tabs, newlines, quotes and backslashes need
/// no escaping.
struct BinaryCopy {
    buf: Vec<u8>,
}

impl BinaryCopy {
    fn with_capacity(bytes: usize) -> Self {
        let mut buf = Vec::with_capacity(bytes + 32);
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&0i32.to_be_bytes()); // flags: no OIDs
        buf.extend_from_slice(&0i32.to_be_bytes()); // no header extension
        Self { buf }
    }

    fn row(&mut self, fields: i16) {
        self.buf.extend_from_slice(&fields.to_be_bytes());
    }

    fn int(&mut self, v: i64) {
        self.buf.extend_from_slice(&8i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    fn opt_int(&mut self, v: Option<i64>) {
        match v {
            Some(v) => self.int(v),
            None => self.buf.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }

    fn text(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                // A field over 2 GiB cannot reach here: import bounds
                // fields far lower.
                let len = i32::try_from(s.len()).unwrap_or(i32::MAX);
                self.buf.extend_from_slice(&len.to_be_bytes());
                self.buf.extend_from_slice(s.as_bytes());
            }
            None => self.buf.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }

    /// An 8-byte integer to be filled in later ([`Encoded::patch`]):
    /// where its bytes are.
    fn int_slot(&mut self) -> usize {
        self.int(0);
        self.buf.len() - 8
    }

    /// Text written by its `Display`, without a `String` of its own.
    fn display(&mut self, v: Option<impl std::fmt::Display>) {
        let Some(v) = v else {
            return self.text(None);
        };
        let at = self.buf.len();
        self.buf.extend_from_slice(&0i32.to_be_bytes());
        // Writing to a Vec cannot fail.
        let _ = write!(self.buf, "{v}");
        let len = i32::try_from(self.buf.len() - at - 4).unwrap_or(i32::MAX);
        self.buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
    }

    fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::BinaryCopy;

    #[test]
    fn a_patched_slot_and_displayed_text_frame_like_int_and_text() {
        let mut slots = BinaryCopy::with_capacity(0);
        slots.row(2);
        let at = slots.int_slot();
        slots.display(Some("192.0.2.1".parse::<std::net::IpAddr>().unwrap()));
        let mut slots = slots.finish();
        slots[at..at + 8].copy_from_slice(&42i64.to_be_bytes());
        let mut plain = BinaryCopy::with_capacity(0);
        plain.row(2);
        plain.int(42);
        plain.text(Some("192.0.2.1"));
        assert_eq!(slots, plain.finish());
    }

    #[test]
    fn binary_copy_frames_a_null_an_int_and_text_with_its_byte_length() {
        let mut b = BinaryCopy::with_capacity(0);
        b.row(3);
        b.text(None);
        b.int(7);
        b.text(Some("é\t\"\\"));
        let out = b.finish();
        let mut want = b"PGCOPY\n\xff\r\n\0".to_vec();
        want.extend_from_slice(&[0; 8]);
        want.extend_from_slice(&[0, 3]);
        want.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        want.extend_from_slice(&[0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7]);
        want.extend_from_slice(&[0, 0, 0, 5]);
        want.extend_from_slice("é\t\"\\".as_bytes());
        want.extend_from_slice(&[0xff, 0xff]);
        assert_eq!(out, want);
    }
}
