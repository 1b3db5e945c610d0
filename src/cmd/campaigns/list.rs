//! `mailroom campaigns` without an action: every campaign, real and
//! rehearsal, live and reset, as a table, JSON or CSV.
use std::process::ExitCode;

use serde::Serialize;

use crate::cmd::Format;
use crate::domain::{CampaignCounts, CampaignTransport};
use crate::output::{self, outln};
use crate::store::Store;

/// One campaign as `--format json` prints it.
#[derive(Debug, Serialize)]
struct Row {
    issue: u32,
    subject: String,
    transport: CampaignTransport,
    /// `done`, `paused`, `in progress`, `not started` or `reset`.
    state: &'static str,
    counts: CampaignCounts,
    possible_duplicates: u64,
    created_at: i64,
    last_run_at: Option<i64>,
    reset_at: Option<i64>,
}

pub async fn list(store: &Store, format: Format) -> anyhow::Result<ExitCode> {
    let rows: Vec<Row> = store
        .campaign_summaries()
        .await?
        .into_iter()
        .map(|s| {
            let c = &s.campaign;
            Row {
                issue: c.issue.get(),
                subject: c.subject.clone(),
                transport: c.transport,
                state: state(c.reset_at.is_some(), c.paused_at.is_some(), &s.counts),
                counts: s.counts,
                possible_duplicates: c.possible_duplicates,
                created_at: c.created_at.unix_timestamp(),
                last_run_at: c.last_run_at.map(|t| t.unix_timestamp()),
                reset_at: c.reset_at.map(|t| t.unix_timestamp()),
            }
        })
        .collect();
    match format {
        Format::Json => outln!("{}", serde_json::to_string_pretty(&rows)?)?,
        Format::Csv => print_csv(&rows)?,
        Format::Table => print_table(&rows)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(rows: &[Row]) -> anyhow::Result<()> {
    if rows.is_empty() {
        outln!("no campaigns yet; `mailroom send ISSUE.md` creates one")?;
        return Ok(());
    }
    outln!(
        "{:>6}  {:<8} {:<12} {:>8} {:>8} {:>7} {:>8}  {:<17} {:<17}",
        "issue",
        "via",
        "state",
        "total",
        "sent",
        "failed",
        "left",
        "created",
        "last run"
    )?;
    for r in rows {
        let c = &r.counts;
        let via = if r.transport.is_rehearsal() {
            format!("{}*", r.transport)
        } else {
            r.transport.to_string()
        };
        outln!(
            "{:>6}  {:<8} {:<12} {:>8} {:>8} {:>7} {:>8}  {:<17} {:<17}",
            r.issue,
            via,
            r.state,
            c.total(),
            c.sent,
            c.failed,
            c.pending + c.sending + c.deferred,
            when(Some(r.created_at)),
            when(r.last_run_at)
        )?;
    }
    if rows.iter().any(|r| r.transport.is_rehearsal()) {
        outln!("* a rehearsal: nobody was mailed")?;
    }
    Ok(())
}

/// One CSV row per campaign; times as unix seconds, empty when absent.
fn print_csv(rows: &[Row]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(output::stdout());
    w.write_record([
        "issue",
        "subject",
        "transport",
        "state",
        "total",
        "sent",
        "failed",
        "skipped",
        "deferred",
        "pending",
        "possible_duplicates",
        "created_at",
        "last_run_at",
        "reset_at",
    ])?;
    let opt = |t: Option<i64>| t.map(|t| t.to_string()).unwrap_or_default();
    for r in rows {
        let c = &r.counts;
        w.write_record([
            r.issue.to_string(),
            r.subject.clone(),
            r.transport.to_string(),
            r.state.to_owned(),
            c.total().to_string(),
            c.sent.to_string(),
            c.failed.to_string(),
            c.skipped.to_string(),
            c.deferred.to_string(),
            (c.pending + c.sending).to_string(),
            r.possible_duplicates.to_string(),
            r.created_at.to_string(),
            opt(r.last_run_at),
            opt(r.reset_at),
        ])?;
    }
    w.flush()?;
    Ok(())
}

fn state(reset: bool, paused: bool, c: &CampaignCounts) -> &'static str {
    if reset {
        "reset"
    } else if c.pending + c.sending + c.deferred == 0 {
        "done"
    } else if paused {
        "paused"
    } else if c.done() + c.deferred == 0 {
        "not started"
    } else {
        "in progress"
    }
}

/// A unix time as `YYYY-MM-DD HH:MM`, or `-`.
fn when(unix: Option<i64>) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    unix.and_then(|u| time::OffsetDateTime::from_unix_timestamp(u).ok())
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| "-".to_owned())
}
