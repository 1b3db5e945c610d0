//! Plain CSV rows: an address, then optionally a name; an optional header.
use super::framing::Record;
use super::rows::{RowContext, utf8_fields};
use super::{ImportRecord, Row};
use crate::domain::{Consent, EmailAddress, Source, StatusChange};

/// Turns one row into a record or a rejection; `None` for a header row
/// (only the first row may be one: its first field mentions `mail`).
pub(super) fn row(record: &Record, header_allowed: bool, cx: &RowContext) -> Option<Row> {
    let line = record.first_line;
    if record.len() > 2 {
        return Some(cx.reject(
            line,
            format!(
                "wrong column count: {} fields, expected an address and optionally a name",
                record.len()
            ),
        ));
    }
    let fields = match utf8_fields(record) {
        Ok(f) => f,
        Err(reason) => return Some(cx.reject(line, reason)),
    };
    let email = match EmailAddress::parse(fields[0]) {
        Ok(e) => e,
        Err(_) if header_allowed && fields[0].to_ascii_lowercase().contains("mail") => {
            return None;
        }
        Err(e) => return Some(cx.reject(line, e.to_string())),
    };
    let name = fields.get(1).map(|s| s.trim()).filter(|s| !s.is_empty());
    let source = Source::Import(cx.file.to_string());
    let consent = Consent::new(source.clone(), cx.now);
    // A plain file records no earlier opt-in: its one event is its status.
    let history = vec![StatusChange {
        status: cx.status,
        at: cx.now,
        source,
        ip: None,
        reason: None,
    }];
    Some(Row::Accepted(ImportRecord {
        origin: cx.origin(line),
        email,
        name: name.map(str::to_owned),
        consent,
        history,
    }))
}
