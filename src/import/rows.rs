//! [`CsvRows`]: the streaming row reader shared by both formats.
use std::io::{BufReader, Read};
use std::sync::Arc;

use anyhow::Context;
use time::OffsetDateTime;

use super::framing::{Frame, Framer, Record};
use super::mailchimp::Columns;
use super::{Format, Origin, RejectedRow, Row, plain, status_from_file_name};
use crate::domain::Status;

/// What a row needs to become a record: its file, the status the file gives
/// it, and the time that stands in for missing times.
pub(super) struct RowContext {
    pub file: Arc<str>,
    pub status: Status,
    pub now: OffsetDateTime,
}

impl RowContext {
    /// The origin of the row starting on `line`.
    pub fn origin(&self, line: u64) -> Origin {
        Origin {
            file: self.file.clone(),
            line,
        }
    }

    /// A rejection of the row starting on `line`.
    pub fn reject(&self, line: u64, reason: impl Into<String>) -> Row {
        Row::Rejected(RejectedRow {
            origin: self.origin(line),
            reason: reason.into(),
        })
    }
}

enum Layout {
    Mailchimp(Box<Columns>),
    /// Plain; `true` until the first row has been seen (it may be a header).
    Plain {
        first: bool,
    },
}

impl Layout {
    /// Whether a record that runs across lines is a real row (else the
    /// quote that opened it is stray). A plain file has no column where a
    /// line break belongs.
    fn spans_ok(&self, record: &Record) -> bool {
        match self {
            Layout::Mailchimp(columns) => columns.spans_ok(record),
            Layout::Plain { .. } => false,
        }
    }
}

/// Iterates the rows of one CSV file as [`Row`]s. Fails only on I/O errors.
pub struct CsvRows<R: Read> {
    framer: Framer<BufReader<R>>,
    layout: Layout,
    cx: RowContext,
}

impl<R: Read> CsvRows<R> {
    pub(super) fn new(
        input: R,
        file: &str,
        format: Format,
        now: OffsetDateTime,
    ) -> anyhow::Result<Self> {
        let mut framer = Framer::new(BufReader::with_capacity(64 * 1024, input));
        let (layout, status) = match format {
            Format::Plain => (
                Layout::Plain { first: true },
                status_from_file_name(file).unwrap_or(Status::Subscribed),
            ),
            Format::Mailchimp => {
                let status = status_from_file_name(file).with_context(|| {
                    format!(
                        "cannot tell the status of `{file}`: Mailchimp names its files \
                         `subscribed_*.csv`, `unsubscribed_*.csv` and `cleaned_*.csv`; \
                         rename the file or use `--format plain`"
                    )
                })?;
                let header = framer
                    .next(|_| false)
                    .with_context(|| format!("cannot read `{file}`"))?;
                let columns = match header {
                    Some(Frame::Record(header)) => Columns::from_header(header, file)?,
                    Some(Frame::Rejected { line, reason }) => {
                        anyhow::bail!("`{file}` line {line}: {reason}; expected Mailchimp's header")
                    }
                    None => anyhow::bail!(
                        "`{file}` is empty; a Mailchimp export starts with a header line \
                         naming an `Email Address` column"
                    ),
                };
                (Layout::Mailchimp(Box::new(columns)), status)
            }
        };
        let cx = RowContext {
            file: Arc::from(file),
            status,
            now,
        };
        Ok(Self { framer, layout, cx })
    }
}

impl<R: Read> Iterator for CsvRows<R> {
    type Item = anyhow::Result<Row>;

    fn next(&mut self) -> Option<Self::Item> {
        let Self { framer, layout, cx } = self;
        loop {
            let frame = match framer.next(|r| layout.spans_ok(r)) {
                Ok(Some(frame)) => frame,
                Ok(None) => return None,
                Err(e) => {
                    return Some(
                        Err(anyhow::Error::new(e))
                            .with_context(|| format!("cannot read `{}`", cx.file)),
                    );
                }
            };
            let record = match frame {
                Frame::Record(record) => record,
                Frame::Rejected { line, reason } => return Some(Ok(cx.reject(line, reason))),
            };
            let row = match layout {
                Layout::Mailchimp(columns) => Some(columns.row(record, cx)),
                Layout::Plain { first } => {
                    let header_allowed = std::mem::replace(first, false);
                    plain::row(record, header_allowed, cx)
                }
            };
            if let Some(row) = row {
                return Some(Ok(row));
            }
        }
    }
}

/// The record's fields as UTF-8, or the reason it is not.
pub(super) fn utf8_fields(record: &Record) -> Result<Vec<&str>, String> {
    record
        .iter()
        .enumerate()
        .map(|(i, field)| {
            std::str::from_utf8(field).map_err(|e| {
                format!(
                    "field {} is not valid UTF-8 (bad byte at offset {}); save the file as UTF-8",
                    i + 1,
                    e.valid_up_to()
                )
            })
        })
        .collect()
}
