//! Mailchimp audience export rows, mapped by header name, never by position.
use std::net::IpAddr;

use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use super::framing::Record;
use super::rows::{RowContext, utf8_fields};
use super::{ImportRecord, Row};
use crate::domain::{Consent, EmailAddress, Source, Status, StatusChange};

/// Where each column we read sits in this file.
#[derive(Debug)]
pub(super) struct Columns {
    len: usize,
    email: usize,
    first_name: Option<usize>,
    last_name: Option<usize>,
    optin_time: Option<usize>,
    optin_ip: Option<usize>,
    confirm_time: Option<usize>,
    confirm_ip: Option<usize>,
    unsub_time: Option<usize>,
    unsub_reason: Option<usize>,
    unsub_reason_other: Option<usize>,
    unsub_campaign: Option<usize>,
    clean_time: Option<usize>,
    clean_campaign: Option<usize>,
}

impl Columns {
    /// Maps the header row; fails when it has no `Email Address` column.
    pub fn from_header(header: &Record, file: &str) -> anyhow::Result<Self> {
        let names: Vec<String> = header
            .iter()
            .map(|f| {
                let s = String::from_utf8_lossy(f);
                s.trim_start_matches('\u{feff}').trim().to_owned()
            })
            .collect();
        let find = |name: &str| names.iter().position(|n| n.eq_ignore_ascii_case(name));
        let email = find("Email Address").ok_or_else(|| {
            anyhow::anyhow!(
                "`{file}` line {}: no `Email Address` column, so this is not a Mailchimp \
                 export; for one address per line use `--format plain`",
                header.first_line
            )
        })?;
        Ok(Self {
            len: names.len(),
            email,
            first_name: find("First Name"),
            last_name: find("Last Name"),
            optin_time: find("OPTIN_TIME"),
            optin_ip: find("OPTIN_IP"),
            confirm_time: find("CONFIRM_TIME"),
            confirm_ip: find("CONFIRM_IP"),
            unsub_time: find("UNSUB_TIME"),
            unsub_reason: find("UNSUB_REASON"),
            unsub_reason_other: find("UNSUB_REASON_OTHER"),
            unsub_campaign: find("UNSUB_CAMPAIGN_TITLE"),
            clean_time: find("CLEAN_TIME"),
            clean_campaign: find("CLEAN_CAMPAIGN_TITLE"),
        })
    }

    /// Whether a record that runs across lines can be a row of this file:
    /// the header's column count, and line breaks only in free-text
    /// columns (`NOTES`, a merge field, the subscriber's own unsubscribe
    /// reason), never in an address, a name, a time or an IP.
    pub fn spans_ok(&self, record: &Record) -> bool {
        let one_line = [
            Some(self.email),
            self.first_name,
            self.last_name,
            self.optin_time,
            self.optin_ip,
            self.confirm_time,
            self.confirm_ip,
            self.unsub_time,
            self.unsub_reason,
            self.unsub_campaign,
            self.clean_time,
            self.clean_campaign,
        ];
        record.len() == self.len
            && one_line
                .into_iter()
                .flatten()
                .all(|i| record.get(i).is_some_and(|f| !f.contains(&b'\n')))
    }

    /// Turns one data row into a record or a rejection.
    pub fn row(&self, record: &Record, cx: &RowContext) -> Row {
        let line = record.first_line;
        if record.len() != self.len {
            return cx.reject(
                line,
                format!(
                    "wrong column count: {} fields, the header has {}",
                    record.len(),
                    self.len
                ),
            );
        }
        let fields = match utf8_fields(record) {
            Ok(f) => f,
            Err(reason) => return cx.reject(line, reason),
        };
        let get = |col: Option<usize>| col.map(|i| fields[i].trim()).filter(|s| !s.is_empty());
        let email = match EmailAddress::parse(fields[self.email]) {
            Ok(e) => e,
            Err(e) => return cx.reject(line, e.to_string()),
        };
        let name = [get(self.first_name), get(self.last_name)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let source = Source::Import(cx.file.to_string());
        let confirmed_at = get(self.confirm_time).and_then(parse_time);
        let consent = Consent {
            source: source.clone(),
            at: get(self.optin_time)
                .and_then(parse_time)
                .or(confirmed_at)
                .unwrap_or(cx.now),
            ip: get(self.optin_ip).and_then(|s| s.parse::<IpAddr>().ok()),
            confirmed_at,
            confirm_ip: get(self.confirm_ip).and_then(|s| s.parse::<IpAddr>().ok()),
        };
        let mut history = vec![StatusChange {
            status: Status::Subscribed,
            at: consent.at,
            source: source.clone(),
            ip: consent.ip,
            reason: None,
        }];
        if cx.status != Status::Subscribed {
            history.push(self.suppression(&get, cx, source));
        }
        Row::Accepted(ImportRecord {
            origin: cx.origin(line),
            email,
            name: (!name.is_empty()).then_some(name),
            consent,
            history,
        })
    }

    /// The change an unsubscribed or cleaned row records.
    fn suppression<'a>(
        &self,
        get: &impl Fn(Option<usize>) -> Option<&'a str>,
        cx: &RowContext,
        source: Source,
    ) -> StatusChange {
        let (time, reason) = if cx.status == Status::Unsubscribed {
            let why = [get(self.unsub_reason), get(self.unsub_reason_other)]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": ");
            let campaign = get(self.unsub_campaign).map(|c| format!("campaign `{c}`"));
            let parts: Vec<String> = [(!why.is_empty()).then_some(why), campaign]
                .into_iter()
                .flatten()
                .collect();
            (
                get(self.unsub_time),
                (!parts.is_empty()).then(|| parts.join("; ")),
            )
        } else {
            let campaign = get(self.clean_campaign)
                .map(|c| format!("cleaned by Mailchimp after campaign `{c}`"))
                .unwrap_or_else(|| "cleaned by Mailchimp".to_owned());
            (get(self.clean_time), Some(campaign))
        };
        StatusChange {
            status: cx.status,
            at: time.and_then(parse_time).unwrap_or(cx.now),
            source,
            ip: None,
            reason,
        }
    }
}

/// Parses Mailchimp's `2014-11-01 20:53:34` (UTC).
fn parse_time(s: &str) -> Option<OffsetDateTime> {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    PrimitiveDateTime::parse(s, fmt)
        .ok()
        .map(|t| t.assume_utc())
}
