//! `mailroom status`: where a campaign stands: its state (running,
//! interrupted, waiting, complete) and the command that resumes it, its
//! runs, counts per state, elapsed time and rate, failures grouped by the
//! relay's reply with addresses masked, possible duplicates; or, with
//! `--recipients`, who got what.
use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;

use crate::config::Loaded;
use crate::domain::{
    Campaign, CampaignCounts, CampaignTransport, ContentChange, DeliveryState, FailedSplit,
    FailureGroup, IssueNumber, Waiting,
};
use crate::store::Store;

mod bounces;
mod gather;
mod recipients;
mod text;
mod watch;

/// Show where a campaign stands (default: the latest campaign).
///
/// For an issue with both, the real (SMTP) campaign is shown rather than an
/// outbox rehearsal; `mailroom campaigns` lists them all. Prints:
///   - the state: running (with the live run), interrupted, paused, waiting
///     for deferred recipients (next retry, giving up by), or complete; and the
///     exact command that resumes it, or retries what can be retried;
///   - the transport, the number of runs, the first and the last;
///   - counts per state (pending, sending, sent, deferred, failed, skipped),
///     and how many failed recipients a retry can reach;
///   - sending time and rate, summed over runs: sent and failed messages
///     divided by the time runs spent sending (time waiting for retries left
///     out), the same definition as `send`'s progress and summary;
///   - failed and deferred recipients grouped by the relay's reply (code,
///     enhanced code and text, addresses masked), with a few examples each;
///   - possible duplicates: messages handed to the relay when a run died
///     (at most one per connection) or whose reply was lost, sent again.
///
/// With --recipients, lists the recipients instead (optionally one
/// --state), with their attempts and the relay's last reply, streamed.
///
/// With --watch, prints the summary again every 2 seconds (or every SECS)
/// until the campaign is complete, redrawn in place on a terminal; Ctrl-C
/// stops watching, not the send. Another terminal, or another machine on
/// the same PostgreSQL store, can watch a send this way.
///
/// Examples:
///   mailroom status
///   mailroom status --watch
///   mailroom status 625 --format json
///   mailroom status content/2025-11-12-this-week-in-rust.md --recipients --state failed
///   mailroom status 625 --recipients --format csv > recipients-625.csv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// An issue file or number; the latest campaign when left out.
    pub issue: Option<String>,
    /// List the recipients (who got what, with the relay's replies) instead
    /// of the summary.
    #[arg(long)]
    pub recipients: bool,
    /// With --recipients: only those in this state.
    #[arg(long, value_parser = state_parser(), requires = "recipients", value_name = "STATE")]
    pub state: Option<DeliveryState>,
    /// Shorthand for `--recipients --state failed`.
    #[arg(long, conflicts_with_all = ["recipients", "state"])]
    pub failed: bool,
    /// Print the summary again every SECS seconds (default 2) until the
    /// campaign is complete; with `--format json`, one JSON object per line.
    #[arg(
        long,
        value_name = "SECS",
        num_args = 0..=1,
        default_missing_value = "2",
        value_parser = every_parser,
        conflicts_with_all = ["recipients", "state", "failed"]
    )]
    pub watch: Option<f64>,
    /// `table` for people; `json` (the whole summary, or an array of
    /// recipients); `csv` (the failure groups, or the recipients).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[value(alias = "text")]
    Table,
    Json,
    Csv,
}

/// `--state`: one of the ledger's states.
fn state_parser() -> impl clap::builder::TypedValueParser<Value = DeliveryState> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(DeliveryState::ALL.map(DeliveryState::as_str))
        .try_map(|s| s.parse::<DeliveryState>())
}

/// `--watch SECS`: a number of seconds, at least [`watch::MIN_EVERY_SECS`].
fn every_parser(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(secs) if (watch::MIN_EVERY_SECS..=3600.0).contains(&secs) => Ok(secs),
        _ => Err(format!(
            "`{s}` is not a refresh interval: give seconds from {} to 3600, like `--watch 5`",
            watch::MIN_EVERY_SECS
        )),
    }
}

/// Where a campaign stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// A run holds the campaign now.
    Running,
    /// Recipients are pending and no run is sending them (Ctrl-C, a crash,
    /// the relay went away).
    Interrupted,
    /// Only deferred recipients are left, waiting for their next retry.
    Waiting,
    /// `mailroom campaigns pause` holds it, and no run is sending it.
    Paused,
    /// Every recipient has a final outcome.
    Complete,
}

/// The status as `--format json` prints it.
#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub issue: u32,
    pub subject: String,
    /// `smtp` (the real send), `outbox` or `discard` (rehearsals).
    pub transport: CampaignTransport,
    pub rehearsal: bool,
    pub state: State,
    /// The command that resumes the campaign (or retries its retryable
    /// failures); `null` when there is nothing to do.
    pub resume: Option<String>,
    /// The runs sending it now.
    pub live_runs: Vec<LiveRun>,
    pub runs: u64,
    pub first_run_unix_ms: Option<i64>,
    pub last_run_unix_ms: Option<i64>,
    /// How the last run ended (`complete`, `waiting`, `interrupted`, …);
    /// `null` while it runs or if it died.
    pub last_run_end: Option<String>,
    pub total: u64,
    pub counts: CampaignCounts,
    /// Failed recipients by whether `--retry-failed` can reach them.
    pub failed: FailedSplit,
    /// While recipients are deferred: the next retry and the give-up time.
    pub waiting: Option<Waiting>,
    pub possible_duplicates: u64,
    /// Summed over runs: wall time, time sending (waits for retries left
    /// out), and sent-or-failed messages per second of sending time.
    pub elapsed_secs: f64,
    pub sending_secs: f64,
    pub rate_per_sec: f64,
    /// Failed and deferred recipients by reply, failed first, largest first.
    pub failures: Vec<FailureGroup>,
    /// Changes of the issue accepted mid-campaign, oldest first.
    pub content_changes: Vec<ContentChange>,
    /// Hard and soft bounces and complaints (late ones included).
    pub bounces: bounces::BounceReport,
}

/// A run sending the campaign now.
#[derive(Debug, Serialize)]
pub struct LiveRun {
    pub host: String,
    pub pid: u32,
    pub started_unix_ms: i64,
    /// Seconds since its last heartbeat.
    pub renewed_secs_ago: f64,
    /// Sent or failed so far, per its last note (every 2 s).
    pub messages: u64,
    pub rate_per_sec: f64,
}

/// Runs `status`.
pub fn run(args: Args, loaded: &Loaded) -> anyhow::Result<ExitCode> {
    let settings = &loaded.settings;
    let number = match &args.issue {
        None => None,
        Some(s) => Some(match s.parse::<IssueNumber>() {
            Ok(n) => n,
            Err(_) => crate::issue::from_file(Path::new(s))?.header.number,
        }),
    };
    super::with_store(settings, async |store| {
        let Some(campaign) = find(store, number).await? else {
            return Ok(ExitCode::SUCCESS);
        };
        if args.recipients || args.failed {
            let state = if args.failed {
                Some(DeliveryState::Failed)
            } else {
                args.state
            };
            recipients::list(store, &campaign, state, args.format).await?;
            return Ok(ExitCode::SUCCESS);
        }
        if let Some(secs) = args.watch {
            if args.format == Format::Csv {
                anyhow::bail!("--watch prints the summary as a table or as JSON lines, not CSV");
            }
            let every = std::time::Duration::from_secs_f64(secs);
            return watch::watch(store, campaign, &args, loaded, every).await;
        }
        let resume = gather::Resume::new(&args, loaded);
        let report = gather::gather(store, &campaign, settings, &resume).await?;
        match args.format {
            Format::Json => crate::output::outln!("{}", serde_json::to_string_pretty(&report)?)?,
            Format::Csv => text::print_csv(&report)?,
            Format::Table => text::print(&report)?,
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The campaign to show, or `None` (said on stderr) when there is none yet.
async fn find(store: &Store, number: Option<IssueNumber>) -> anyhow::Result<Option<Campaign>> {
    let Some(n) = number else {
        let latest = store.latest_campaign().await?;
        if latest.is_none() {
            crate::output::note!(
                "status: no campaigns yet; `mailroom send ISSUE.md --dry-run` shows what a send \
                 would do, `mailroom send ISSUE.md` starts one"
            );
        }
        return Ok(latest);
    };
    if let Some(c) = store.live_campaigns(n).await?.into_iter().next() {
        return Ok(Some(c));
    }
    if store.has_campaign(n).await? {
        anyhow::bail!(
            "issue {n} has no live campaign: it was reset (`mailroom campaigns` shows its \
             history); `mailroom send ISSUE.md` starts a new one"
        )
    }
    anyhow::bail!("no campaign for issue {n} yet; `mailroom send ISSUE.md` creates it")
}
