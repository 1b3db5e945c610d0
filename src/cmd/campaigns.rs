//! `mailroom campaigns`: every campaign, real and rehearsal, live and reset;
//! `mailroom campaigns reset ISSUE` retires one so the issue can start over.
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use crate::cmd::Format;
use crate::config::Settings;
use crate::domain::{CampaignCounts, CampaignTransport, IssueNumber, Ledger, now_ms};
use crate::output::{self, outln};
use crate::send::lease;
use crate::store::Store;

/// List campaigns (issue, transport, state, counts, created and last run),
/// or reset one.
///
/// Each issue has at most one live campaign per transport: the real one
/// (`smtp`) and rehearsals (`outbox`, `discard`), which mail nobody and
/// never stand in the way of the real send.
///
/// Examples:
///   mailroom campaigns
///   mailroom campaigns --format json
///   mailroom campaigns --format csv > campaigns.csv
///   mailroom campaigns reset 663                 # asks; --yes in scripts
///   mailroom campaigns reset 663 --transport outbox
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<Action>,
    /// `table` for people, `json` or `csv` for programs.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// What to do with campaigns.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Retire an issue's live campaign: its ledger stays in the history
    /// (`mailroom campaigns` shows it as reset), and the next `mailroom send`
    /// of the issue starts a new campaign that mails everyone subscribed
    /// then, including those the old one reached. For a campaign started
    /// against the wrong store or list, or a rehearsal to run again.
    Reset {
        /// The issue number whose campaign to reset.
        issue: IssueNumber,
        /// Only this transport's campaign (default: every live one of the issue).
        #[arg(long, value_enum)]
        transport: Option<TransportArg>,
        /// Do not ask (for scripts).
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

/// `--transport` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TransportArg {
    /// The real campaign.
    Smtp,
    /// The outbox rehearsal.
    Outbox,
    /// The discard rehearsal.
    Discard,
}

/// One campaign as `--format json` prints it.
#[derive(Debug, Serialize)]
struct Row {
    issue: u32,
    subject: String,
    transport: CampaignTransport,
    /// `done`, `in progress`, `not started` or `reset`.
    state: &'static str,
    counts: CampaignCounts,
    possible_duplicates: u64,
    created_at: i64,
    last_run_at: Option<i64>,
    reset_at: Option<i64>,
}

/// Runs `campaigns`.
pub fn run(args: Args, settings: &Settings) -> anyhow::Result<ExitCode> {
    super::with_store(settings, async |store| match args.action {
        None => list(store, args.format).await,
        Some(Action::Reset {
            issue,
            transport,
            yes,
        }) => reset(store, issue, transport, yes).await,
    })
}

async fn list(store: &Store, format: Format) -> anyhow::Result<ExitCode> {
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
                state: state(c.reset_at.is_some(), &s.counts),
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

fn state(reset: bool, c: &CampaignCounts) -> &'static str {
    if reset {
        "reset"
    } else if c.pending + c.sending + c.deferred == 0 {
        "done"
    } else if c.done() + c.deferred == 0 {
        "not started"
    } else {
        "in progress"
    }
}

async fn reset(
    store: &Store,
    issue: IssueNumber,
    only: Option<TransportArg>,
    yes: bool,
) -> anyhow::Result<ExitCode> {
    let wanted = only.map(|t| match t {
        TransportArg::Smtp => CampaignTransport::Smtp,
        TransportArg::Outbox => CampaignTransport::Outbox,
        TransportArg::Discard => CampaignTransport::Discard,
    });
    let live: Vec<_> = store
        .live_campaigns(issue)
        .await?
        .into_iter()
        .filter(|c| wanted.is_none_or(|t| c.transport == t))
        .collect();
    if live.is_empty() {
        anyhow::bail!("issue {issue} has no live campaign to reset (`mailroom campaigns`)");
    }
    let me = lease::this_process();
    let mut lines = Vec::new();
    for c in &live {
        if let Some(row) = store.lease(c.id).await?
            && lease::judge(&row, &me, now_ms()).is_none()
        {
            anyhow::bail!(
                "issue {issue} is being sent by pid {} on host `{}`; stop that run before \
                 resetting its campaign",
                row.owner.pid,
                row.owner.host
            );
        }
        let n = store.campaign_counts(c.id).await?;
        lines.push(format!(
            "the {} campaign ({}, {} sent)",
            c.transport,
            output::plural(n.total(), "recipient"),
            n.sent
        ));
    }
    let what = lines.join(" and ");
    if !yes {
        confirm(
            &format!(
                "reset {what} of issue {issue}? The ledger stays in the history, and the next \
             `mailroom send` starts over, mailing everyone subscribed then, including those \
             already sent; type {issue} to continue"
            ),
            issue,
        )?;
    }
    for c in &live {
        store.reset_campaign(c.id).await?;
    }
    outln!("reset {what} of issue {issue}; `mailroom campaigns` keeps it in the history")?;
    Ok(ExitCode::SUCCESS)
}

/// Asks on the terminal for the issue number; refuses without one.
fn confirm(question: &str, issue: IssueNumber) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "refusing to reset without a confirmation: there is no terminal to ask on; add \
             `--yes` to confirm in a script"
        );
    }
    output::prompt(question);
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("cannot read the confirmation")?;
    if answer.trim() != issue.to_string() {
        anyhow::bail!("not confirmed; nothing was reset");
    }
    Ok(())
}

/// A unix time as `YYYY-MM-DD HH:MM`, or `-`.
fn when(unix: Option<i64>) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    unix.and_then(|u| time::OffsetDateTime::from_unix_timestamp(u).ok())
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| "-".to_owned())
}
