//! `mailroom campaigns`: every campaign, real and rehearsal, live and reset;
//! `mailroom campaigns reset ISSUE` retires one so the issue can start over;
//! `pause` and `resume` hold a campaign and let it go on.
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::Context;

use crate::cmd::Format;
use crate::config::Settings;
use crate::domain::{Campaign, CampaignTransport, IssueNumber, Ledger, now_ms};
use crate::output::{self, outln};
use crate::send::lease;
use crate::store::Store;

mod list;
mod pause;

/// List campaigns (issue, transport, state, counts, created and last run),
/// or pause, resume or reset one.
///
/// Each issue has at most one live campaign per transport: the real one
/// (`smtp`) and rehearsals (`outbox`, `discard`), which mail nobody and
/// never stand in the way of the real send.
///
/// Examples:
///   mailroom campaigns
///   mailroom campaigns --format json
///   mailroom campaigns --format csv > campaigns.csv
///   mailroom campaigns pause 663                 # every sender stops within lease_secs / 3
///   mailroom campaigns resume 663                # then rerun `mailroom send` on each
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
    /// Hold an issue's live campaign until `mailroom campaigns resume`.
    ///
    /// Every run sending it, on any machine, stops taking recipients at its
    /// next heartbeat (within a third of `[send] lease_secs`, 10 s by
    /// default), finishes and records the messages in flight, and exits 75;
    /// `mailroom send` refuses to start it until it is resumed. Nothing is
    /// lost or sent twice.
    Pause {
        /// The issue number whose campaign to pause.
        issue: IssueNumber,
        /// Only this transport's campaign (default: every live one of the issue).
        #[arg(long, value_enum)]
        transport: Option<TransportArg>,
    },
    /// Let a paused campaign go on.
    ///
    /// Then rerun `mailroom send ISSUE.md` (on each machine that sent it)
    /// to carry on where it stopped.
    Resume {
        /// The issue number whose campaign to resume.
        issue: IssueNumber,
        /// Only this transport's campaign (default: every live one of the issue).
        #[arg(long, value_enum)]
        transport: Option<TransportArg>,
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

/// Runs `campaigns`.
pub fn run(args: Args, settings: &Settings) -> anyhow::Result<ExitCode> {
    super::with_store(settings, async |store| match args.action {
        None => list::list(store, args.format).await,
        Some(Action::Reset {
            issue,
            transport,
            yes,
        }) => reset(store, issue, transport, yes).await,
        Some(Action::Pause { issue, transport }) => pause::set(store, issue, transport, true).await,
        Some(Action::Resume { issue, transport }) => {
            pause::set(store, issue, transport, false).await
        }
    })
}

async fn reset(
    store: &Store,
    issue: IssueNumber,
    only: Option<TransportArg>,
    yes: bool,
) -> anyhow::Result<ExitCode> {
    let live = live(store, issue, only, "reset").await?;
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

/// The live campaigns of `issue` (only through `only`, if given); an error
/// naming `action` when there is none.
async fn live(
    store: &Store,
    issue: IssueNumber,
    only: Option<TransportArg>,
    action: &str,
) -> anyhow::Result<Vec<Campaign>> {
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
        anyhow::bail!("issue {issue} has no live campaign to {action} (`mailroom campaigns`)");
    }
    Ok(live)
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
