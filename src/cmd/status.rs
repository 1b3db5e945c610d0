//! `mailroom status`: where a campaign stands: counts per state, rate,
//! elapsed time, failures grouped by SMTP reply, possible duplicates.
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use crate::config::Settings;
use crate::domain::{
    Campaign, CampaignCounts, CampaignTransport, ContentChange, FailedRow, FailureGroup,
    IssueNumber, Ledger, now_ms,
};
use crate::store::Store;

/// Show a campaign's delivery status (default: the latest campaign).
///
/// For an issue with both, the real (SMTP) campaign is shown rather than an
/// outbox rehearsal; `mailroom campaigns` lists them all. Prints the
/// transport, counts per state (pending, sending, sent, deferred, failed,
/// skipped), elapsed time and rate, the runs sending it now (with
/// PostgreSQL, any number, on any machines) with their rates, failures
/// grouped by the relay's reply, and the possible duplicates: messages
/// handed to the relay when a run died (at most one per connection) or
/// whose reply was lost, which were sent again and may have arrived twice.
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
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
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
    /// The runs sending the campaign now (their leases are live).
    pub live_runs: Vec<LiveRun>,
    pub failures: Vec<FailureGroup>,
    /// Changes of the issue accepted mid-campaign, oldest first.
    pub content_changes: Vec<ContentChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<Vec<FailedRow>>,
}

/// One run sending the campaign now.
#[derive(Debug, Serialize)]
pub struct LiveRun {
    pub host: String,
    pub pid: u32,
    /// When it started (unix ms).
    pub started_unix_ms: i64,
    /// Seconds since its last heartbeat.
    pub renewed_secs_ago: f64,
    /// Outcomes (sent or failed) it has recorded.
    pub handed: u64,
    /// Its messages per second since it started.
    pub rate_per_sec: f64,
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
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Text => print_text(&report),
    }
    Ok(ExitCode::SUCCESS)
}

async fn gather(store: &Store, c: &Campaign, list_failed: bool) -> anyhow::Result<StatusReport> {
    let counts = store.campaign_counts(c.id).await?;
    let now = now_ms();
    let live_runs = store
        .runs(c.id)
        .await?
        .into_iter()
        .filter(|r| r.expires_at > now)
        .map(|r| LiveRun {
            rate_per_sec: r.rate_per_sec(),
            host: r.owner.host,
            pid: r.owner.pid,
            started_unix_ms: r.acquired_at,
            renewed_secs_ago: (now - r.renewed_at).max(0) as f64 / 1000.0,
            handed: r.handed,
        })
        .collect();
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
        live_runs,
        failures: store.failure_groups(c.id).await?,
        content_changes: store.content_changes(c.id).await?,
        counts,
        failed,
    })
}

fn print_text(r: &StatusReport) {
    let c = &r.counts;
    println!("issue {}: {} ({} run(s))", r.issue, r.subject, r.runs);
    if r.rehearsal {
        println!(
            "  transport: {} (a rehearsal: nobody was mailed; the first SMTP send starts the \
             real campaign)",
            r.transport
        );
    } else {
        println!("  transport: {} (the real campaign)", r.transport);
    }
    println!(
        "  {} recipients: sent {}, failed {}, skipped {}, deferred {}, pending {}, sending {}",
        r.total, c.sent, c.failed, c.skipped, c.deferred, c.pending, c.sending
    );
    println!(
        "  elapsed {:.1}s, {:.0} msg/s",
        r.elapsed_secs, r.rate_per_sec
    );
    for run in &r.live_runs {
        println!(
            "  sending: pid {} on host `{}`, {} sent or failed, {:.0} msg/s (heartbeat {:.0} s ago)",
            run.pid, run.host, run.handed, run.rate_per_sec, run.renewed_secs_ago
        );
    }
    println!(
        "  possible duplicates: {} (handed to the relay when a run died, or whose reply was \
         lost; sent again)",
        r.possible_duplicates
    );
    for ch in &r.content_changes {
        println!(
            "  changed mid-campaign (accepted {}): {} recipient(s) got the earlier version",
            when(ch.changed_at),
            ch.sent_before
        );
    }
    if !r.failures.is_empty() {
        println!("failed and deferred, by reply:");
        for g in &r.failures {
            println!("  {:>6} {:<8}  {}", g.count, g.state, g.reply);
        }
    }
    if let Some(rows) = &r.failed {
        println!("failed recipients:");
        for f in rows {
            println!("  {}  attempts {}  {}", f.email, f.attempts, f.reply);
        }
    }
}

/// A unix time as `YYYY-MM-DD HH:MM UTC`.
fn when(unix: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| unix.to_string())
}
