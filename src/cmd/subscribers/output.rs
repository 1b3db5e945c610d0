//! Shared output pieces: times, JSON views, and paging through everyone.
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::domain::{Status, StatusChange, Subscriber, SubscriberId};
use crate::store::Store;

/// Subscribers per page when streaming everyone.
const PAGE: u32 = 1000;

/// A time as RFC 3339 (`2025-06-01T12:00:00Z`).
pub fn time_text(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// An optional value as text, empty when absent.
pub fn opt_text<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// A subscriber's own fields as JSON (what `list --format json` prints).
pub fn summary_json(s: &Subscriber) -> Value {
    json!({
        "id": s.id.get(),
        "email": s.email.as_str(),
        "name": s.name,
        "status": s.status.as_str(),
        "created_at": time_text(s.created_at),
        "updated_at": time_text(s.updated_at),
    })
}

/// A subscriber with consent and history as JSON (what `show --format
/// json` and `export --format json` print).
pub fn subscriber_json(s: &Subscriber, history: &[StatusChange]) -> Value {
    let c = &s.consent;
    let mut v = summary_json(s);
    v["consent"] = json!({
        "source": c.source.to_string(),
        "at": time_text(c.at),
        "ip": c.ip.map(|ip| ip.to_string()),
        "confirmed_at": c.confirmed_at.map(time_text),
        "confirm_ip": c.confirm_ip.map(|ip| ip.to_string()),
    });
    v["history"] = history
        .iter()
        .map(|h| {
            json!({
                "status": h.status.as_str(),
                "at": time_text(h.at),
                "source": h.source.to_string(),
                "ip": h.ip.map(|ip| ip.to_string()),
                "reason": h.reason,
            })
        })
        .collect();
    v
}

/// Every subscriber (optionally of one status), a page at a time, by id;
/// memory stays flat however large the store is.
pub struct Pages<'s> {
    store: &'s Store,
    status: Option<Status>,
    after: Option<SubscriberId>,
    /// Only subscribers whose address or name contains this (lowercased).
    text: Option<String>,
}

impl<'s> Pages<'s> {
    /// Starts before the first subscriber.
    pub fn new(store: &'s Store, status: Option<Status>) -> Self {
        Self {
            store,
            status,
            after: None,
            text: None,
        }
    }

    /// Only the subscribers whose address (as spelled, or its identity,
    /// so punycode finds a Unicode domain) or name contains `text`,
    /// without regard to case.
    pub fn matching(mut self, text: &str) -> Self {
        self.text = Some(text.to_lowercase());
        self
    }

    /// The next page, or `None` after the last. A search filters here, in
    /// Rust: SQLite's `lower()` folds ASCII only, and names are often not.
    pub async fn next(&mut self) -> anyhow::Result<Option<Vec<Subscriber>>> {
        loop {
            let mut page = self.store.list(self.status, self.after, PAGE).await?;
            let Some(last) = page.last() else {
                return Ok(None);
            };
            self.after = Some(last.id);
            if let Some(text) = &self.text {
                page.retain(|s| matches(s, text));
            }
            if !page.is_empty() {
                return Ok(Some(page));
            }
        }
    }
}

/// Whether `s`'s address or name contains `text` (lowercase).
fn matches(s: &Subscriber, text: &str) -> bool {
    s.email.as_str().to_lowercase().contains(text)
        || s.email.key().contains(text)
        || s.name
            .as_deref()
            .is_some_and(|n| n.to_lowercase().contains(text))
}

/// Writes JSON array items one at a time: `[`, items separated by commas, `]`.
pub struct JsonArray<W: std::io::Write> {
    out: W,
    empty: bool,
}

impl<W: std::io::Write> JsonArray<W> {
    /// Starts an array on `out`.
    pub fn new(out: W) -> Self {
        Self { out, empty: true }
    }

    /// Writes one item.
    pub fn push(&mut self, item: &Value) -> anyhow::Result<()> {
        self.out
            .write_all(if self.empty { b"[\n  " } else { b",\n  " })?;
        serde_json::to_writer(&mut self.out, item)?;
        self.empty = false;
        Ok(())
    }

    /// Closes the array and flushes.
    pub fn finish(mut self) -> anyhow::Result<()> {
        self.out
            .write_all(if self.empty { b"[]\n" } else { b"\n]\n" })?;
        self.out.flush()?;
        Ok(())
    }
}
