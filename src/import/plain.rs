//! Plain CSV rows. With a header, columns are mapped by name (`email`,
//! `name`, `first name`, `last name` and their common spellings, in any
//! order, other columns ignored); without one, the address comes first,
//! then optionally a name.
use super::framing::Record;
use super::rows::{RowContext, utf8_fields};
use super::{ImportRecord, Row};
use crate::domain::{Consent, EmailAddress, Source, StatusChange};

/// Header spellings, compared on their letters and digits only, lowercased
/// (`E-Mail Address` → `emailaddress`).
const EMAIL: &[&str] = &[
    "email",
    "emailaddress",
    "mail",
    "mailaddress",
    "address",
    "emails",
    "subscriberemail",
];
const NAME: &[&str] = &["name", "fullname", "displayname", "subscribername"];
const FIRST: &[&str] = &["firstname", "givenname", "fname", "forename", "first"];
const LAST: &[&str] = &["lastname", "surname", "familyname", "lname", "last"];

/// Where the columns sit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Columns {
    email: usize,
    name: Option<usize>,
    first: Option<usize>,
    last: Option<usize>,
    /// With a header: rows may have any number of fields. Without: at
    /// most two.
    header: bool,
}

impl Columns {
    /// No header: the address, then optionally a name.
    pub fn positional() -> Self {
        Self {
            email: 0,
            name: Some(1),
            first: None,
            last: None,
            header: false,
        }
    }

    /// Maps a header row; `Ok(None)` when the row is data (its first field
    /// is an address); an error naming the file and the fix when it is a
    /// header without an address column.
    pub fn from_first(fields: &[&str], file: &str, line: u64) -> anyhow::Result<Option<Self>> {
        if fields
            .first()
            .is_some_and(|f| EmailAddress::parse(f).is_ok())
        {
            return Ok(None);
        }
        let keys: Vec<String> = fields
            .iter()
            .map(|f| {
                f.chars()
                    .filter(|c| c.is_alphanumeric())
                    .flat_map(char::to_lowercase)
                    .collect()
            })
            .collect();
        let find = |names: &[&str]| keys.iter().position(|k| names.contains(&k.as_str()));
        let Some(email) = find(EMAIL) else {
            let shown = fields
                .iter()
                .map(|f| format!("`{}`", f.trim_start_matches('\u{feff}').trim()))
                .collect::<Vec<_>>()
                .join(", ");
            anyhow::bail!(
                "`{file}` line {line}: no column holds the email address (the header is \
                 {shown}); name that column `email` (or `e-mail`, `Email Address`), or remove \
                 the header and put the address first"
            );
        };
        Ok(Some(Self {
            email,
            name: find(NAME),
            first: find(FIRST),
            last: find(LAST),
            header: true,
        }))
    }

    /// The name from the name column, else first and last name joined.
    fn name(&self, fields: &[&str]) -> Option<String> {
        let get = |i: Option<usize>| {
            i.and_then(|i| fields.get(i))
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
        };
        if let Some(name) = get(self.name) {
            return Some(name.to_owned());
        }
        let parts: Vec<&str> = [get(self.first), get(self.last)]
            .into_iter()
            .flatten()
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// Turns one data row into a record or a rejection.
pub(super) fn row(record: &Record, columns: &Columns, cx: &RowContext) -> Row {
    let line = record.first_line;
    if !columns.header && record.len() > 2 {
        return cx.reject(
            line,
            format!(
                "wrong column count: {} fields, expected an address and optionally a name \
                 (or give the file a header naming its `email` column)",
                record.len()
            ),
        );
    }
    let fields = match utf8_fields(record) {
        Ok(f) => f,
        Err(reason) => return cx.reject(line, reason),
    };
    let Some(email_field) = fields.get(columns.email) else {
        return cx.reject(line, "the row has no email column");
    };
    let email = match EmailAddress::parse(email_field) {
        Ok(e) => e,
        Err(e) => return cx.reject(line, e.to_string()),
    };
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
    Row::Accepted(ImportRecord {
        origin: cx.origin(line),
        email,
        name: columns.name(&fields),
        consent,
        history,
    })
}
