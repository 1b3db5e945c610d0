//! [`CsvRows`]: the streaming row reader shared by both formats.
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

use anyhow::Context;
use time::OffsetDateTime;

use super::framing::{Frame, Framer, Record};
use super::mailchimp::Columns;
use super::{
    Format, ImportRecord, Origin, RejectedRow, Row, mailroom, plain, status_from_file_name,
};
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
    /// Plain, with its columns (from the header, or positional).
    Plain(plain::Columns),
    /// mailroom's CSV export: rows of one subscriber are gathered into one
    /// record; the one being gathered, with its id.
    Mailroom(Option<(String, ImportRecord)>),
    /// mailroom's JSON export, parsed whole.
    Json(std::vec::IntoIter<Row>),
}

impl Layout {
    /// Whether a record that runs across lines is a real row (else the
    /// quote that opened it is stray). A plain file has no column where a
    /// line break belongs.
    fn spans_ok(&self, record: &Record) -> bool {
        match self {
            Layout::Mailchimp(columns) => columns.spans_ok(record),
            Layout::Plain(_) | Layout::Json(_) => false,
            // Names and reasons may hold line breaks.
            Layout::Mailroom(_) => true,
        }
    }
}

/// Iterates the rows of one CSV file as [`Row`]s. Fails only on I/O errors.
pub struct CsvRows<R: Read> {
    framer: Framer<BufReader<R>>,
    layout: Layout,
    cx: RowContext,
    /// A row read while looking for a header (a plain file without one).
    queued: Option<Row>,
}

impl<R: Read> CsvRows<R> {
    pub(super) fn new(
        input: R,
        file: &str,
        format: Format,
        now: OffsetDateTime,
    ) -> anyhow::Result<Self> {
        let mut input = BufReader::with_capacity(64 * 1024, input);
        let plain_status = || status_from_file_name(file).unwrap_or(Status::Subscribed);
        let cx = |status| RowContext {
            file: Arc::from(file),
            status,
            now,
        };
        if format != Format::Mailchimp && starts_with_bracket(&mut input) {
            let cx = cx(plain_status());
            let rows = mailroom::json_rows(&mut input, &cx)?;
            return Ok(Self {
                framer: Framer::new(input),
                layout: Layout::Json(rows.into_iter()),
                cx,
                queued: None,
            });
        }
        let mut framer = Framer::new(input);
        let mut queued = None;
        let (layout, status) = match format {
            Format::Plain | Format::Mailroom => {
                let cx = cx(plain_status());
                let layout = first_plain(&mut framer, &cx, &mut queued)?;
                if format == Format::Mailroom && !matches!(layout, Layout::Mailroom(_)) {
                    anyhow::bail!(
                        "`{file}` is not a mailroom export: its first line is not the header \
                         `subscribers export --format csv` writes, nor a JSON array"
                    );
                }
                (layout, cx.status)
            }
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
        Ok(Self {
            framer,
            layout,
            cx: cx(status),
            queued,
        })
    }
}

impl<R: Read> Iterator for CsvRows<R> {
    type Item = anyhow::Result<Row>;

    fn next(&mut self) -> Option<Self::Item> {
        let Self {
            framer,
            layout,
            cx,
            queued,
        } = self;
        if let Some(row) = queued.take() {
            return Some(Ok(row));
        }
        if let Layout::Json(rows) = layout {
            return rows.next().map(Ok);
        }
        loop {
            let frame = match framer.next(|r| layout.spans_ok(r)) {
                Ok(Some(frame)) => frame,
                Ok(None) => {
                    if let Layout::Mailroom(gathering) = layout {
                        return gathering.take().map(|(_, r)| Ok(Row::Accepted(r)));
                    }
                    return None;
                }
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
                Layout::Plain(columns) => Some(plain::row(record, columns, cx)),
                Layout::Mailroom(gathering) => gather(gathering, record, cx),
                Layout::Json(_) => None,
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

/// Whether the input's first non-blank byte is `[` (a JSON export).
fn starts_with_bracket<R: Read>(input: &mut BufReader<R>) -> bool {
    let Ok(head) = input.fill_buf() else {
        return false;
    };
    let head = head.strip_prefix("\u{feff}".as_bytes()).unwrap_or(head);
    head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[')
}

/// Reads a plain file's first row: a header (mapped by name, or
/// mailroom's export header), or data (queued, and positional columns).
fn first_plain<R: Read>(
    framer: &mut Framer<BufReader<R>>,
    cx: &RowContext,
    queued: &mut Option<Row>,
) -> anyhow::Result<Layout> {
    let first = framer
        .next(|_| false)
        .with_context(|| format!("cannot read `{}`", cx.file))?;
    let record = match first {
        None => return Ok(Layout::Plain(plain::Columns::positional())),
        Some(Frame::Rejected { line, reason }) => {
            *queued = Some(cx.reject(line, reason));
            return Ok(Layout::Plain(plain::Columns::positional()));
        }
        Some(Frame::Record(record)) => record,
    };
    let fields = match utf8_fields(record) {
        Ok(fields) => fields,
        Err(reason) => {
            *queued = Some(cx.reject(record.first_line, reason));
            return Ok(Layout::Plain(plain::Columns::positional()));
        }
    };
    if mailroom::is_export_header(&fields) {
        return Ok(Layout::Mailroom(None));
    }
    match plain::Columns::from_first(&fields, &cx.file, record.first_line)? {
        Some(columns) => Ok(Layout::Plain(columns)),
        None => {
            let columns = plain::Columns::positional();
            *queued = Some(plain::row(record, &columns, cx));
            Ok(Layout::Plain(columns))
        }
    }
}

/// Adds a row of mailroom's CSV export to the subscriber being gathered;
/// returns the previous subscriber when this row starts another.
fn gather(
    gathering: &mut Option<(String, ImportRecord)>,
    record: &Record,
    cx: &RowContext,
) -> Option<Row> {
    let (id, row) = match mailroom::csv_row(record, cx) {
        Ok(parsed) => parsed,
        Err(rejected) => return Some(*rejected),
    };
    match gathering {
        Some((current, into)) if *current == id && into.email == row.email => {
            mailroom::extend(into, row);
            None
        }
        _ => gathering
            .replace((id, row))
            .map(|(_, done)| Row::Accepted(done)),
    }
}
