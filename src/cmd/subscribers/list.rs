//! `subscribers list` and `search`: everyone (or one status, or those
//! matching a text) as a table, CSV or JSON.
use std::io::Write;
use std::process::ExitCode;

use super::output::{JsonArray, Pages, summary_json, time_text};
use crate::cmd::Format;
use crate::domain::Status;
use crate::output::note;
use crate::store::Store;

/// `subscribers list`.
pub async fn list(
    store: &Store,
    status: Option<Status>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    print(Pages::new(store, status), format).await?;
    Ok(ExitCode::SUCCESS)
}

/// `subscribers search`: by address or name, without regard to case.
pub async fn search(store: &Store, text: &str, format: Format) -> anyhow::Result<ExitCode> {
    if text.trim().is_empty() {
        anyhow::bail!(
            "give some text to search for, e.g. `mailroom subscribers search example.com`"
        );
    }
    let text = text.trim();
    let found = print(Pages::new(store, None).matching(text), format).await?;
    if found == 0 {
        note!("search: no subscriber's address or name contains `{text}`");
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints every page; returns how many subscribers were printed.
async fn print(mut pages: Pages<'_>, format: Format) -> anyhow::Result<u64> {
    let mut printed = 0u64;
    let out = crate::output::stdout();
    match format {
        Format::Table => {
            let mut out = out;
            writeln!(out, "{:>8}  {:<40}  {:<12}  name", "id", "email", "status")?;
            while let Some(page) = pages.next().await? {
                printed += page.len() as u64;
                for s in page {
                    let name = s.name.as_deref().unwrap_or("");
                    writeln!(
                        out,
                        "{:>8}  {:<40}  {:<12}  {name}",
                        s.id,
                        s.email.as_str(),
                        s.status
                    )?;
                }
            }
            out.flush()?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(["id", "email", "name", "status", "created_at", "updated_at"])?;
            while let Some(page) = pages.next().await? {
                printed += page.len() as u64;
                for s in page {
                    w.write_record([
                        s.id.to_string(),
                        s.email.to_string(),
                        s.name.unwrap_or_default(),
                        s.status.to_string(),
                        time_text(s.created_at),
                        time_text(s.updated_at),
                    ])?;
                }
            }
            w.flush()?;
        }
        Format::Json => {
            let mut array = JsonArray::new(out);
            while let Some(page) = pages.next().await? {
                printed += page.len() as u64;
                for s in &page {
                    array.push(&summary_json(s))?;
                }
            }
            array.finish()?;
        }
    }
    Ok(printed)
}
