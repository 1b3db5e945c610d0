//! [`CsvRows`]: the streaming row reader shared by both formats.
use std::io::Read;
use std::sync::Arc;

use anyhow::Context;
use csv::ByteRecord;
use time::OffsetDateTime;

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

/// Iterates the rows of one CSV file as [`Row`]s. Fails only on I/O errors.
pub struct CsvRows<R: Read> {
    reader: csv::Reader<R>,
    record: ByteRecord,
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
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(input);
        let mut record = ByteRecord::new();
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
                reader
                    .read_byte_record(&mut record)
                    .with_context(|| format!("cannot read `{file}`"))?;
                (
                    Layout::Mailchimp(Box::new(Columns::from_header(&record, file)?)),
                    status,
                )
            }
        };
        let cx = RowContext {
            file: Arc::from(file),
            status,
            now,
        };
        Ok(Self {
            reader,
            record,
            layout,
            cx,
        })
    }
}

impl<R: Read> Iterator for CsvRows<R> {
    type Item = anyhow::Result<Row>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {}
                Err(e) => {
                    return Some(Err(e).with_context(|| format!("cannot read `{}`", self.cx.file)));
                }
            }
            let line = self.record.position().map_or(0, |p| p.line());
            let row = match &mut self.layout {
                Layout::Mailchimp(columns) => Some(columns.row(&self.record, line, &self.cx)),
                Layout::Plain { first } => {
                    let header_allowed = std::mem::replace(first, false);
                    plain::row(&self.record, line, header_allowed, &self.cx)
                }
            };
            if let Some(row) = row {
                return Some(Ok(row));
            }
        }
    }
}

/// The record's fields as UTF-8, or the reason it is not.
pub(super) fn utf8_fields(record: &ByteRecord) -> Result<Vec<&str>, String> {
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
