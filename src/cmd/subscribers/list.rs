//! `subscribers list`: everyone (or one status) as a table, CSV or JSON.
use std::io::Write;
use std::process::ExitCode;

use super::output::{JsonArray, Pages, summary_json, time_text};
use crate::cmd::Format;
use crate::domain::Status;
use crate::store::Store;

/// `subscribers list`.
pub async fn list(
    store: &Store,
    status: Option<Status>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let out = crate::output::stdout();
    let mut pages = Pages::new(store, status);
    match format {
        Format::Table => {
            let mut out = out;
            writeln!(out, "{:>8}  {:<40}  {:<12}  name", "id", "email", "status")?;
            while let Some(page) = pages.next().await? {
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
                for s in &page {
                    array.push(&summary_json(s))?;
                }
            }
            array.finish()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
