//! `subscribers export`: everyone with consent and full history, so a
//! person can have their data and an editor can move elsewhere.
use std::io::Write;
use std::process::ExitCode;

use super::ExportFormat;
use super::output::{JsonArray, Pages, opt_text, subscriber_json, time_text};
use crate::domain::{StatusChange, Subscriber};
use crate::store::Store;

/// The CSV columns: the subscriber's, then one history entry's (what
/// `subscribers import` reads back).
pub(super) const CSV_HEADER: [&str; 16] = crate::import::EXPORT_CSV_HEADER;

/// `subscribers export`.
pub async fn export(store: &Store, format: ExportFormat) -> anyhow::Result<ExitCode> {
    let out = crate::output::stdout();
    let mut pages = Pages::new(store, None);
    match format {
        ExportFormat::Json => {
            let mut array = JsonArray::new(out);
            while let Some(page) = pages.next().await? {
                for (s, history) in with_histories(store, page).await? {
                    array.push(&subscriber_json(&s, &history))?;
                }
            }
            array.finish()?;
        }
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(CSV_HEADER)?;
            while let Some(page) = pages.next().await? {
                for (s, history) in with_histories(store, page).await? {
                    write_csv_rows(&mut w, &s, &history)?;
                }
            }
            w.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Pairs each subscriber of a page with their history (one query a page).
async fn with_histories(
    store: &Store,
    page: Vec<Subscriber>,
) -> anyhow::Result<Vec<(Subscriber, Vec<StatusChange>)>> {
    let (Some(first), Some(last)) = (page.first(), page.last()) else {
        return Ok(Vec::new());
    };
    let mut histories = store
        .histories_between(first.id, last.id)
        .await?
        .into_iter()
        .peekable();
    let mut out = Vec::with_capacity(page.len());
    for s in page {
        let mut history = Vec::new();
        while let Some((_, h)) = histories.next_if(|(id, _)| *id <= s.id) {
            history.push(h);
        }
        out.push((s, history));
    }
    Ok(out)
}

/// One CSV row per history entry of `s` (also `show --format csv`).
pub(super) fn write_csv_rows<W: Write>(
    w: &mut csv::Writer<W>,
    s: &Subscriber,
    history: &[StatusChange],
) -> anyhow::Result<()> {
    let c = &s.consent;
    for h in history {
        w.write_record([
            s.id.to_string(),
            s.email.to_string(),
            s.name.clone().unwrap_or_default(),
            s.status.to_string(),
            time_text(s.created_at),
            time_text(s.updated_at),
            c.source.to_string(),
            time_text(c.at),
            opt_text(c.ip),
            opt_text(c.confirmed_at.map(time_text)),
            opt_text(c.confirm_ip),
            time_text(h.at),
            h.status.to_string(),
            h.source.to_string(),
            opt_text(h.ip),
            opt_text(h.reason.as_deref()),
        ])?;
    }
    Ok(())
}
