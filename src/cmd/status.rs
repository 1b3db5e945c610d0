//! `mailroom status`: where a campaign stands: counts per state, rate,
//! elapsed time, failures grouped by SMTP reply, possible duplicates.
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use crate::config::Settings;
use crate::domain::{
    Campaign, CampaignCounts, CampaignTransport, ContentChange, FailedRow, FailureGroup,
    IssueNumber, Ledger,
};
use crate::output::{outln, plural};
use crate::store::Store;

/// Show a campaign's delivery status (default: the latest campaign).
///
/// For an issue with both, the real (SMTP) campaign is shown rather than an
/// outbox rehearsal; `mailroom campaigns` lists them all. Prints the
/// transport, counts per state (pending, sending, sent, deferred, failed,
/// skipped), elapsed time and rate, failures grouped by the relay's reply,
/// and the possible duplicates: messages handed to the relay when a run
/// died (at most one per connection) or whose reply was lost, which were
/// sent again and may have arrived twice.
///
/// Examples:
///   mailroom status
///   mailroom status 625 --failed
///   mailroom status content/2025-11-12-this-week-in-rust.md --format json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// An issue file or number; the latest campaign when left out.
    pub issue: Option<String>,
    /// Also list every failed recipient with its last reply.
    #[arg(long)]
    pub failed: bool,
    /// `table` for people or `json` for programs.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Lines for people (`text` works too).
    #[value(alias = "text")]
    Table,
    /// One JSON object.
    Json,
}

/// The status as `--format json` prints it.
#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub issue: u32,
    pub subject: String,
    /// `smtp` (the real send), `outbox` or `discard` (rehearsals).
    pub transport: CampaignTransport,
    pub rehearsal: bool,
    pub runs: u64,
    pub total: u64,
    pub counts: CampaignCounts,
    pub possible_duplicates: u64,
    pub elapsed_secs: f64,
    pub rate_per_sec: f64,
    pub failures: Vec<FailureGroup>,
    /// Changes of the issue accepted mid-campaign, oldest first.
    pub content_changes: Vec<ContentChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<Vec<FailedRow>>,
}

/// Runs `status`.
pub fn run(args: Args, settings: &Settings) -> anyhow::Result<ExitCode> {
    let number = match &args.issue {
        None => None,
        Some(s) => Some(match s.parse::<IssueNumber>() {
            Ok(n) => n,
            Err(_) => {
                crate::issue::from_file(std::path::Path::new(s))?
                    .header
                    .number
            }
        }),
    };
    super::with_store(settings, async |store| status(store, number, &args).await)
}

async fn status(
    store: &Store,
    number: Option<IssueNumber>,
    args: &Args,
) -> anyhow::Result<ExitCode> {
    let campaign = match number {
        Some(n) => match store.live_campaigns(n).await?.into_iter().next() {
            Some(c) => c,
            None if store.has_campaign(n).await? => anyhow::bail!(
                "issue {n} has no live campaign: it was reset (`mailroom campaigns` shows its \
                 history); `mailroom send ISSUE.md` starts a new one"
            ),
            None => {
                anyhow::bail!("no campaign for issue {n} yet; `mailroom send ISSUE.md` creates it")
            }
        },
        None => store
            .latest_campaign()
            .await?
            .context("no campaigns yet; `mailroom send ISSUE.md` creates one")?,
    };
    let report = gather(store, &campaign, args.failed).await?;
    match args.format {
        Format::Json => outln!("{}", serde_json::to_string_pretty(&report)?)?,
        Format::Table => print_text(&report)?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn gather(store: &Store, c: &Campaign, list_failed: bool) -> anyhow::Result<StatusReport> {
    let counts = store.campaign_counts(c.id).await?;
    let timing = store.campaign_timing(c.id).await?;
    let elapsed_secs = match (timing.first_claim, timing.last_update) {
        (Some(a), Some(b)) if b > a => (b - a) as f64 / 1000.0,
        _ => 0.0,
    };
    let failed = if list_failed {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let page = store.failed_rows(c.id, after, 1000).await?;
            let Some((last, _)) = page.last() else { break };
            after = *last;
            all.extend(page.into_iter().map(|(_, r)| r));
        }
        Some(all)
    } else {
        None
    };
    Ok(StatusReport {
        issue: c.issue.get(),
        subject: c.subject.clone(),
        transport: c.transport,
        rehearsal: c.is_rehearsal(),
        runs: c.runs,
        total: counts.total(),
        possible_duplicates: c.possible_duplicates,
        rate_per_sec: if elapsed_secs > 0.0 {
            (counts.sent + counts.failed) as f64 / elapsed_secs
        } else {
            0.0
        },
        elapsed_secs,
        failures: store.failure_groups(c.id).await?,
        content_changes: store.content_changes(c.id).await?,
        counts,
        failed,
    })
}

fn print_text(r: &StatusReport) -> anyhow::Result<()> {
    let c = &r.counts;
    outln!(
        "issue {}: {} ({})",
        r.issue,
        r.subject,
        plural(r.runs, "run")
    )?;
    if r.rehearsal {
        outln!(
            "  transport: {} (a rehearsal: nobody was mailed; the first SMTP send starts the \
             real campaign)",
            r.transport
        )?;
    } else {
        outln!("  transport: {} (the real campaign)", r.transport)?;
    }
    outln!(
        "  {}: sent {}, failed {}, skipped {}, deferred {}, pending {}, sending {}",
        plural(r.total, "recipient"),
        c.sent,
        c.failed,
        c.skipped,
        c.deferred,
        c.pending,
        c.sending
    )?;
    outln!(
        "  elapsed {:.1}s, {:.0} msg/s",
        r.elapsed_secs,
        r.rate_per_sec
    )?;
    outln!(
        "  possible duplicates: {} (handed to the relay when a run died, or whose reply was \
         lost; sent again)",
        r.possible_duplicates
    )?;
    for ch in &r.content_changes {
        outln!(
            "  changed mid-campaign (accepted {}): {} got the earlier version",
            when(ch.changed_at),
            plural(ch.sent_before, "recipient")
        )?;
    }
    if !r.failures.is_empty() {
        outln!("failed and deferred, by reply:")?;
        for g in &r.failures {
            outln!("  {:>6} {:<8}  {}", g.count, g.state, g.reply)?;
        }
    }
    if let Some(rows) = &r.failed {
        outln!("failed recipients:")?;
        for f in rows {
            outln!("  {}  attempts {}  {}", f.email, f.attempts, f.reply)?;
        }
    }
    Ok(())
}

/// A unix time as `YYYY-MM-DD HH:MM UTC`.
fn when(unix: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| unix.to_string())
}
