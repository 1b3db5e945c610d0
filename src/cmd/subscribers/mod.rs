//! `mailroom subscribers …`: manage the audience in the store.
use std::path::PathBuf;
use std::process::ExitCode;

use crate::cmd::Format;
use crate::config::Settings;
use crate::domain::{EmailAddress, Status};
use crate::import::Format as ImportFormat;
use crate::output::{outln, plural};
use crate::store::Store;

mod erase;
mod export;
mod import;
mod list;
mod manage;
pub(crate) mod output;

use manage::Who;

/// Manage subscribers: add, remove, list, search, count, show, import, export, erase, unbounce.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// The `subscribers` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Subscribe an address (an explicit opt-in, recorded as source `cli`).
    Add {
        /// The address to subscribe.
        email: EmailAddress,
        /// The person's name, as emails greet them.
        #[arg(long)]
        name: Option<String>,
        /// Also re-add an address that bounced or complained.
        #[arg(long)]
        force: bool,
    },
    /// Mark an address unsubscribed; its history is kept.
    Remove {
        /// The address to unsubscribe.
        email: EmailAddress,
    },
    /// List subscribers, by id.
    List {
        /// Only this status: subscribed, unsubscribed, bounced, complained, pending.
        #[arg(long)]
        status: Option<Status>,
        /// `table` for people, `csv` or `json` for programs.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Find subscribers whose address or name contains TEXT (any case).
    ///
    ///   mailroom subscribers search example.com
    ///   mailroom subscribers search "ada lovelace" --format json
    #[command(verbatim_doc_comment)]
    Search {
        /// Part of an address or a name.
        text: String,
        /// `table` for people, `csv` or `json` for programs.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Erase a person on request (GDPR): delete their address, name, IPs,
    /// history and delivery records, keeping only a keyed hash of the
    /// address so that no import, `add` or web form adds them again.
    ///
    /// Asks for confirmation on the terminal; without one it refuses
    /// unless given `--yes`.
    ///
    ///   mailroom subscribers erase reader@example.com
    #[command(verbatim_doc_comment)]
    Erase {
        /// The address to erase (any letter case).
        email: EmailAddress,
        /// Erase without asking (for scripts).
        #[arg(long)]
        yes: bool,
    },
    /// Count subscribers per status.
    Count,
    /// Show one subscriber: status, consent and the full history.
    ///
    ///   mailroom subscribers show reader@example.com
    ///   mailroom subscribers show 42          # the id `subscribers list` prints
    #[command(verbatim_doc_comment)]
    Show {
        /// The subscriber's address, or their id.
        who: Who,
        /// `table` for people; `json`; or `csv`, one row per history entry
        /// (the columns of `export --format csv`).
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Import a Mailchimp export (the zip or its CSVs) or a plain CSV.
    ///
    /// Bad rows are listed with their line and skipped; every other row
    /// imports. Exit status: 0 when every row was applied, 65 when some
    /// were rejected (the rest still imported), 1 on an error. Rows are
    /// committed in short chunks, so `serve` keeps answering; an import
    /// that stops part-way keeps what it did, and running it again
    /// completes it.
    Import {
        /// The Mailchimp zip, one of its CSVs, or a plain CSV.
        file: PathBuf,
        /// The layout; by default a zip, or a CSV with an `Email Address`
        /// header and a status word in its name, is Mailchimp; a JSON
        /// array is mailroom's export; anything else plain (a header maps
        /// columns by name, and mailroom's CSV export is recognised).
        #[arg(long, value_enum)]
        format: Option<ImportFormat>,
        /// Report what would happen; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// The most one CSV in a zip may unpack to, in MiB (a guard
        /// against zip bombs).
        #[arg(long, value_name = "MIB", default_value_t = crate::import::files::MAX_ENTRY_BYTES >> 20)]
        max_unzipped_mib: u64,
    },
    /// Restore the subscribers a campaign marked bounced (e.g. after a relay
    /// problem turned good addresses into "user unknown"): they become
    /// subscribed again, and their history records why. Those who changed
    /// since (unsubscribed, complained) are left alone.
    ///
    ///   mailroom subscribers unbounce --campaign 665
    #[command(verbatim_doc_comment)]
    Unbounce {
        /// The issue number of the campaign whose bounces to undo.
        #[arg(long, value_name = "ISSUE")]
        campaign: crate::domain::IssueNumber,
    },
    /// Export everyone, with consent records and full histories.
    Export {
        /// `json` (one object per subscriber) or `csv` (one row per
        /// history entry).
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
    },
}

/// Output formats of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// One object per subscriber, with a `history` array.
    Json,
    /// One row per history entry, the subscriber's columns repeated.
    Csv,
}

/// Restores the subscribers the campaigns of `issue` bounced.
async fn unbounce(store: &Store, issue: crate::domain::IssueNumber) -> anyhow::Result<ExitCode> {
    if !store.has_campaign(issue).await? {
        anyhow::bail!("no campaign for issue {issue} (`mailroom campaigns` lists them)");
    }
    let done = store.unbounce_campaign(issue).await?;
    outln!(
        "restored {} bounced by the campaign of issue {issue}",
        plural(done.restored, "subscriber")
    )?;
    if done.left > 0 {
        outln!(
            "left {} alone: their status changed since the bounce (`mailroom subscribers show`)",
            done.left
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `subscribers`: builds a runtime, opens the store, dispatches.
/// Only `add` and `import` create a missing store.
pub fn run(args: Args, settings: &Settings) -> anyhow::Result<ExitCode> {
    let creates = matches!(
        args.command,
        Command::Add { .. } | Command::Import { dry_run: false, .. }
    );
    let work = async |store: &Store| dispatch(args.command, store).await;
    if creates {
        crate::cmd::with_new_store(settings, work)
    } else {
        crate::cmd::with_store(settings, work)
    }
}

async fn dispatch(command: Command, store: &Store) -> anyhow::Result<ExitCode> {
    match command {
        Command::Add { email, name, force } => manage::add(store, &email, name, force).await,
        Command::Remove { email } => manage::remove(store, &email).await,
        Command::Count => manage::count(store).await,
        Command::Show { who, format } => manage::show(store, &who, format).await,
        Command::List { status, format } => list::list(store, status, format).await,
        Command::Search { text, format } => list::search(store, &text, format).await,
        Command::Erase { email, yes } => erase::erase(store, &email, yes).await,
        Command::Export { format } => export::export(store, format).await,
        Command::Unbounce { campaign } => unbounce(store, campaign).await,
        Command::Import {
            file,
            format,
            dry_run,
            max_unzipped_mib,
        } => {
            let max_entry = max_unzipped_mib.saturating_mul(1 << 20);
            import::run(store, &file, format, dry_run, max_entry).await
        }
    }
}
