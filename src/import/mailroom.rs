//! mailroom's own export (`subscribers export`), read back: the CSV (one
//! row per history entry, grouped by subscriber) and the JSON array. An
//! export imports with its consent records and full histories, so moving a
//! list between stores, or restoring one, loses nothing.
use std::io::Read;
use std::net::IpAddr;
use std::str::FromStr;

use anyhow::Context;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::framing::Record;
use super::rows::{RowContext, utf8_fields};
use super::{ImportRecord, Row};
use crate::domain::{Consent, EmailAddress, Status, StatusChange};

/// The header `subscribers export --format csv` writes.
pub const CSV_HEADER: [&str; 16] = [
    "id",
    "email",
    "name",
    "status",
    "created_at",
    "updated_at",
    "consent_source",
    "consent_at",
    "consent_ip",
    "confirmed_at",
    "confirm_ip",
    "event_at",
    "event_status",
    "event_source",
    "event_ip",
    "event_reason",
];

/// The most bytes a JSON export may hold: it is parsed whole (about 2
/// million subscribers with short histories).
pub const MAX_JSON_BYTES: u64 = 1 << 30;

/// Whether a header row is mailroom's export header.
pub(super) fn is_export_header(fields: &[&str]) -> bool {
    fields.len() == CSV_HEADER.len()
        && fields
            .iter()
            .zip(CSV_HEADER)
            .all(|(f, h)| f.trim_start_matches('\u{feff}').trim() == h)
}

/// One CSV row: the subscriber's id in the exporting store and a record
/// whose history is this row's one entry.
pub(super) fn csv_row(
    record: &Record,
    cx: &RowContext,
) -> Result<(String, ImportRecord), Box<Row>> {
    let reject = |line, reason: String| Box::new(cx.reject(line, reason));
    let line = record.first_line;
    if record.len() != CSV_HEADER.len() {
        return Err(reject(
            line,
            format!(
                "wrong column count: {} fields, the header has {}",
                record.len(),
                CSV_HEADER.len()
            ),
        ));
    }
    let f = utf8_fields(record).map_err(|reason| reject(line, reason))?;
    let parsed = (|| -> Result<ImportRecord, String> {
        let consent = Consent {
            source: parse(f[6], "consent_source")?,
            at: time(f[7], "consent_at")?,
            ip: ip(f[8], "consent_ip")?,
            confirmed_at: opt(f[9]).map(|t| time(t, "confirmed_at")).transpose()?,
            confirm_ip: ip(f[10], "confirm_ip")?,
        };
        let event = StatusChange {
            status: parse(f[12], "event_status")?,
            at: time(f[11], "event_at")?,
            source: parse(f[13], "event_source")?,
            ip: ip(f[14], "event_ip")?,
            reason: opt(f[15]).map(str::to_owned),
        };
        Ok(ImportRecord {
            origin: cx.origin(line),
            email: EmailAddress::parse(f[1]).map_err(|e| e.to_string())?,
            name: opt(f[2]).map(str::to_owned),
            consent,
            history: vec![event],
        })
    })();
    let mut record = parsed.map_err(|reason| reject(line, reason))?;
    let status: Status = parse(f[3], "status").map_err(|reason| reject(line, reason))?;
    finish(&mut record, status, cx.now);
    Ok((f[0].to_owned(), record))
}

/// Appends the next row of the same subscriber to `into`.
pub(super) fn extend(into: &mut ImportRecord, row: ImportRecord) {
    let status = into.status();
    into.history
        .pop_if(|h| h.reason.as_deref() == Some(CLOSING));
    into.history.extend(row.history);
    finish(into, status, row.consent.at);
}

/// What the entry added to close a history that does not end in the
/// subscriber's status says.
const CLOSING: &str = "status as exported";

/// Makes the history end in `status` (an export's history always does,
/// unless edited by hand).
fn finish(record: &mut ImportRecord, status: Status, at: OffsetDateTime) {
    if record.history.last().map(|h| h.status) != Some(status) {
        record.history.push(StatusChange {
            status,
            at,
            source: record.consent.source.clone(),
            ip: None,
            reason: Some(CLOSING.to_owned()),
        });
    }
}

/// The JSON export, whole: one record per subscriber, or a rejection
/// naming its position (`item N`, reported as the line).
pub(super) fn json_rows<R: Read>(input: R, cx: &RowContext) -> anyhow::Result<Vec<Row>> {
    let mut text = Vec::new();
    input
        .take(MAX_JSON_BYTES + 1)
        .read_to_end(&mut text)
        .with_context(|| format!("cannot read `{}`", cx.file))?;
    anyhow::ensure!(
        text.len() as u64 <= MAX_JSON_BYTES,
        "`{}` is over {} MiB; export as CSV (`subscribers export --format csv`), which streams",
        cx.file,
        MAX_JSON_BYTES >> 20
    );
    let items: Vec<serde_json::Value> = serde_json::from_slice(&text).with_context(|| {
        format!(
            "`{}` is not a mailroom JSON export (an array of subscribers as \
             `subscribers export --format json` writes)",
            cx.file
        )
    })?;
    drop(text);
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let n = i as u64 + 1;
            match json_record(item, cx, n) {
                Ok(r) => Row::Accepted(r),
                Err(reason) => cx.reject(n, format!("(item {n}) {reason}")),
            }
        })
        .collect())
}

#[derive(Deserialize)]
struct Exported {
    email: String,
    name: Option<String>,
    status: String,
    consent: ExportedConsent,
    #[serde(default)]
    history: Vec<ExportedChange>,
}

#[derive(Deserialize)]
struct ExportedConsent {
    source: String,
    at: String,
    ip: Option<String>,
    confirmed_at: Option<String>,
    confirm_ip: Option<String>,
}

#[derive(Deserialize)]
struct ExportedChange {
    status: String,
    at: String,
    source: String,
    ip: Option<String>,
    reason: Option<String>,
}

fn json_record(item: serde_json::Value, cx: &RowContext, n: u64) -> Result<ImportRecord, String> {
    let e: Exported = serde_json::from_value(item).map_err(|e| e.to_string())?;
    let c = &e.consent;
    let consent = Consent {
        source: parse(&c.source, "consent.source")?,
        at: time(&c.at, "consent.at")?,
        ip: ip(c.ip.as_deref().unwrap_or(""), "consent.ip")?,
        confirmed_at: c
            .confirmed_at
            .as_deref()
            .map(|t| time(t, "consent.confirmed_at"))
            .transpose()?,
        confirm_ip: ip(c.confirm_ip.as_deref().unwrap_or(""), "consent.confirm_ip")?,
    };
    let mut history = Vec::with_capacity(e.history.len());
    for h in &e.history {
        history.push(StatusChange {
            status: parse(&h.status, "history.status")?,
            at: time(&h.at, "history.at")?,
            source: parse(&h.source, "history.source")?,
            ip: ip(h.ip.as_deref().unwrap_or(""), "history.ip")?,
            reason: h.reason.clone(),
        });
    }
    let mut record = ImportRecord {
        origin: cx.origin(n),
        email: EmailAddress::parse(&e.email).map_err(|e| e.to_string())?,
        name: e.name.filter(|n| !n.trim().is_empty()),
        consent,
        history,
    };
    let status = parse(&e.status, "status")?;
    finish(&mut record, status, cx.now);
    Ok(record)
}

fn opt(field: &str) -> Option<&str> {
    Some(field.trim()).filter(|f| !f.is_empty())
}

fn parse<T: FromStr>(field: &str, column: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    field.trim().parse().map_err(|e| format!("`{column}`: {e}"))
}

fn time(field: &str, column: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(field.trim(), &Rfc3339).map_err(|_| {
        format!("`{column}` is `{field}`, expected a time like `2025-06-01T12:00:00Z`")
    })
}

fn ip(field: &str, column: &str) -> Result<Option<IpAddr>, String> {
    opt(field)
        .map(|f| {
            f.parse()
                .map_err(|_| format!("`{column}` is `{f}`, not an IP address"))
        })
        .transpose()
}
