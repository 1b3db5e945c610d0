//! `status --recipients`: who got what, with the relay's last reply,
//! streamed a page at a time (a list of a million prints in constant
//! memory) as a table, CSV or a JSON array.
use std::io::Write;

use serde_json::json;

use super::Format;
use crate::cmd::subscribers::output::JsonArray;
use crate::domain::{Campaign, DeliveryState, RecipientRow};
use crate::store::Store;

/// Recipients read per query.
const PAGE: u32 = 1000;

/// Prints the campaign's recipients (only those in `state`, if given).
pub async fn list(
    store: &Store,
    c: &Campaign,
    state: Option<DeliveryState>,
    format: Format,
) -> anyhow::Result<()> {
    let out = crate::output::stdout();
    let mut sink = match format {
        Format::Table => Sink::Table(out),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "email",
                "state",
                "attempts",
                "updated_at",
                "reply",
                "late_bounce",
            ])?;
            Sink::Csv(Box::new(w))
        }
        Format::Json => Sink::Json(JsonArray::new(out)),
    };
    let mut after = 0;
    let mut shown = 0u64;
    loop {
        let page = store.recipients_page(c.id, state, after, PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        after = *last;
        for (_, row) in &page {
            sink.push(row)?;
            shown += 1;
        }
    }
    sink.finish()?;
    if shown == 0 && format == Format::Table {
        let which = state.map_or(String::new(), |s| format!(" {s}"));
        crate::output::note!("status: issue {} has no{which} recipients", c.issue);
    }
    Ok(())
}

enum Sink<W: Write> {
    Table(W),
    Csv(Box<csv::Writer<W>>),
    Json(JsonArray<W>),
}

impl<W: Write> Sink<W> {
    fn push(&mut self, r: &RecipientRow) -> anyhow::Result<()> {
        match self {
            Sink::Table(w) => writeln!(
                w,
                "{:<40} {:<8} {:>2}  {}{}",
                r.email,
                r.state,
                r.attempts,
                r.reply,
                r.late_bounce
                    .as_ref()
                    .map_or(String::new(), |b| format!("; bounced later: {b}"))
            )?,
            Sink::Csv(w) => w.write_record([
                r.email.as_str(),
                r.state.as_str(),
                &r.attempts.to_string(),
                &time_text(r.updated_unix_ms),
                &r.reply,
                r.late_bounce.as_deref().unwrap_or_default(),
            ])?,
            Sink::Json(a) => a.push(&json!({
                "email": r.email,
                "state": r.state,
                "attempts": r.attempts,
                "updated_at": time_text(r.updated_unix_ms),
                "reply": r.reply,
                "late_bounce": r.late_bounce,
            }))?,
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        match self {
            Sink::Table(mut w) => w.flush()?,
            Sink::Csv(mut w) => w.flush()?,
            Sink::Json(a) => a.finish()?,
        }
        Ok(())
    }
}

/// A ledger time (unix ms) as RFC 3339.
fn time_text(unix_ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
        .map(crate::cmd::subscribers::output::time_text)
        .unwrap_or_else(|_| unix_ms.to_string())
}
