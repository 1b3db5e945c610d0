//! `mailroom send`: parse, check, render once, snapshot the audience into
//! the campaign ledger, deliver; a rerun resumes.
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::check::{self, CheckContext};
use crate::config::Settings;
use crate::domain::{Campaign, CampaignTransport, EmailAddress, Lease, Ledger};
use crate::model::{Issue, Rendered, Severity};
use crate::output::{note, plural};
use crate::render::{RenderContext, render_issue};
use crate::send::{self, ProgressMode, SendContext};
use crate::store::Store;
use crate::transport::{ConnectError, Transport};

mod content;
mod dry_run;
mod guard;
mod summary;
mod test_send;

/// Deliver ISSUE.md to every subscriber (or, with --test, to the preview inbox).
///
/// Runs the checker first (printing its warnings) and refuses to mail
/// subscribers while any error remains. The first run creates the issue's
/// campaign: one ledger row per subscribed address. Every later run resumes
/// it, so rerun the same command after a crash, Ctrl-C or a relay outage;
/// nothing is sent twice except messages in flight at a crash (at most
/// `[send] concurrency`, counted by `mailroom status`).
///
/// Where messages go is `[send] transport`: "outbox" writes
/// `[outbox] dir/<issue>/<subscriber id>.eml`; "smtp" relays through `[smtp]`
/// (password from MAILROOM_SMTP__PASSWORD). Unsubscribe links are signed
/// with MAILROOM_WEB__SECRET (or `[web] secret_file`). An outbox send is a
/// rehearsal with a campaign of its own: the first SMTP send of the issue
/// still mails everyone (`mailroom campaigns` lists both).
///
/// Before a new SMTP campaign starts, `send` refuses a store with nobody
/// subscribed, refuses an issue number at or below the newest completed
/// campaign's (unless --allow-old-issue), and asks on the terminal:
/// "about to mail 4,507 subscribers `…` through …; type 663 to continue".
/// Without a terminal it refuses unless --yes. Resuming a campaign that
/// already started asks nothing.
///
/// Progress shows this run's rate and ETA: its sent and failed messages
/// over its own sending time (time spent waiting for retries left out),
/// never the campaign's position over this run's time; `status` sums the
/// same figures over runs. While deferred recipients are not due yet, it
/// shows "waiting for N deferred; next retry at …; giving up by …";
/// `--retry-now` makes them due at once.
///
/// Exit status: 0 every recipient sent (or skipped as unsubscribed since),
/// 3 done but some failed (`mailroom status --failed`), 75 deferred
/// messages remain, the campaign was paused (`mailroom campaigns pause`),
/// or the relay is unreachable or answers 4xx at the start (rerun later),
/// 130 after Ctrl-C, 1 on errors (the relay refused us, the bounce breaker
/// tripped, a guard rail refused), 2 when the issue cannot be read or
/// parsed.
///
/// Examples:
///   mailroom send content/2025-11-12-this-week-in-rust.md --test
///   mailroom send content/2025-11-12-this-week-in-rust.md --dry-run
///   mailroom send content/2025-11-12-this-week-in-rust.md
///   mailroom send content/2025-11-12-this-week-in-rust.md --yes   # from a script
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The issue file.
    pub issue: PathBuf,
    /// Send a test to these addresses (default `[preview] recipients`):
    /// subject prefixed `[TEST] `, checker errors allowed, nothing recorded.
    #[arg(long, num_args = 0.., value_name = "ADDR")]
    pub test: Option<Vec<EmailAddress>>,
    /// Show recipients, size and estimated duration; send nothing.
    #[arg(long, conflicts_with = "test")]
    pub dry_run: bool,
    /// Re-queue failed recipients who are still subscribed, then deliver.
    #[arg(long, conflicts_with_all = ["test", "dry_run"])]
    pub retry_failed: bool,
    /// Send the rest of the campaign the issue as it is now, though it
    /// changed (subject, text or HTML) since the campaign started.
    #[arg(long, conflicts_with_all = ["test", "dry_run"])]
    pub accept_changes: bool,
    /// Confirm mailing the list without being asked (for scripts and cron;
    /// without a terminal, a new SMTP campaign needs it).
    #[arg(long, short = 'y', conflicts_with_all = ["test", "dry_run"])]
    pub yes: bool,
    /// Start a campaign for an issue number at or below the newest one
    /// already sent.
    #[arg(long, conflicts_with = "test")]
    pub allow_old_issue: bool,
    /// Make every deferred recipient due now (say, once the relay is
    /// fixed) instead of waiting for their next retry, then deliver.
    #[arg(long, conflicts_with_all = ["test", "dry_run"])]
    pub retry_now: bool,
    /// `table`: a progress bar on a terminal (else a line every `[send]
    /// progress_secs`) and a summary, on stderr. `json`: the same as JSON
    /// lines on stdout, one event each (`start`, `progress`, `waiting`, and
    /// the final `report`); the summary stays on stderr.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// The old spelling of `--format json`.
    #[arg(long, value_enum, value_name = "FORMAT", hide = true)]
    pub report: Option<Format>,
}

/// `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// The issue, rendered once, with its check results.
pub struct Prepared {
    pub issue: Issue,
    pub rendered: Rendered,
    pub diagnostics: Vec<crate::model::Diagnostic>,
}

/// Runs `send`.
pub fn run(args: Args, settings: &Settings) -> anyhow::Result<ExitCode> {
    let prepared = prepare(&args, settings)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    if let Some(to) = &args.test {
        print_diagnostics(&args, &prepared, false);
        return runtime.block_on(test_send::run(&prepared, to, settings));
    }
    refuse_errors(&args, &prepared)?;
    print_diagnostics(&args, &prepared, false);
    runtime.block_on(async {
        let store = Store::open(&settings.database).await?;
        crate::cmd::report_merges(&store);
        let store = store.with_own_writer().await?;
        let result = if args.dry_run {
            dry_run::run(&store, &args, &prepared, settings).await
        } else {
            deliver(&args, &store, &prepared, settings).await
        };
        store.close().await;
        result
    })
}

fn prepare(args: &Args, settings: &Settings) -> anyhow::Result<Prepared> {
    let issue = crate::issue::from_file(&args.issue)?;
    let rendered = render_issue(&issue, &RenderContext::new(settings))
        .with_context(|| format!("cannot render `{}`", args.issue.display()))?;
    let ctx = CheckContext::new(&settings.check, settings.render.html_size_budget)?;
    let diagnostics = check::check_issue(&issue, Some(&rendered), &ctx);
    Ok(Prepared {
        issue,
        rendered,
        diagnostics,
    })
}

fn print_diagnostics(args: &Args, p: &Prepared, errors_only: bool) {
    let shown: Vec<_> = p
        .diagnostics
        .iter()
        .filter(|d| !errors_only || d.severity == Severity::Error)
        .cloned()
        .collect();
    if !shown.is_empty() {
        let file = args.issue.display().to_string();
        anstream::eprint!("{}", check::report::human(&file, &p.issue.source, &shown));
    }
}

fn refuse_errors(args: &Args, p: &Prepared) -> anyhow::Result<()> {
    let (errors, _) = check::count(&p.diagnostics);
    if errors == 0 {
        return Ok(());
    }
    print_diagnostics(args, p, true);
    let mut rules: Vec<&str> = p
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.rule)
        .collect();
    rules.sort_unstable();
    rules.dedup();
    anyhow::bail!(
        "refusing to mail subscribers: `{}` has {} ({}); fix them (`mailroom check {}`), or \
         send a test with `--test`",
        args.issue.display(),
        plural(errors as u64, "checker error"),
        rules.join(", "),
        args.issue.display()
    )
}

/// Where messages for this issue go, checked before anything is claimed
/// (a relay is connected to once). `resume_hint` ends the error when the
/// relay cannot be reached.
pub async fn transport(
    settings: &Settings,
    issue: crate::domain::IssueNumber,
    resume_hint: Option<&str>,
) -> anyhow::Result<Transport> {
    let transport = Transport::from_settings(settings, &issue.to_string())?;
    if let Transport::Smtp(relay) = &transport {
        let probe = relay.connect().await.map_err(|e| {
            let what = match &e {
                ConnectError::Refused(_) => {
                    format!("the relay `{}` refused us; nothing was sent", relay.name())
                }
                ConnectError::Away { .. } => format!(
                    "the relay `{}` is unreachable or turned us away for now; nothing was sent",
                    relay.name()
                ),
            };
            let e = anyhow::Error::from(e);
            match resume_hint {
                Some(hint) => e.context(format!("{what}; {hint}")),
                None => e.context(what),
            }
        })?;
        probe.quit().await;
    }
    Ok(transport)
}

/// What `[send] transport` makes of a campaign.
pub fn campaign_transport(t: crate::config::Transport) -> CampaignTransport {
    match t {
        crate::config::Transport::Smtp => CampaignTransport::Smtp,
        crate::config::Transport::Outbox => CampaignTransport::Outbox,
        crate::config::Transport::Discard => CampaignTransport::Discard,
    }
}

async fn deliver(
    args: &Args,
    store: &Store,
    p: &Prepared,
    settings: &Settings,
) -> anyhow::Result<ExitCode> {
    let number = p.issue.header.number;
    // Refuse early (before the relay probe) without a signing key.
    let secret =
        crate::token::load_secret(&settings.web)?.ok_or_else(crate::token::missing_secret)?;
    let kind = campaign_transport(settings.send.transport);
    let existing = store.find_campaign(number, kind).await?;
    let file = args.issue.display();
    guard::not_paused(existing.as_ref(), &file.to_string())?;
    let hint = match &existing {
        Some(c) => {
            let n = store.campaign_counts(c.id).await?;
            format!(
                "the campaign for issue {number} is intact ({} of {} sent): rerun `mailroom \
                 send {file}` once the relay is reachable and `[smtp]` is right",
                n.sent,
                n.total()
            )
        }
        None => format!(
            "no campaign was created: rerun `mailroom send {file}` once the relay is reachable \
             and `[smtp]` is right"
        ),
    };
    let transport = transport(settings, number, Some(&hint)).await?;
    if existing.is_none() {
        guard::first_send(store, args, p, settings, kind).await?;
    }
    let stop = on_ctrl_c();
    let hash = content::content_hash(&p.rendered);
    let (campaign, created) = store
        .open_campaign(number, kind, &p.rendered.subject, &hash)
        .await?;
    let what = if kind.is_rehearsal() {
        format!("the {kind} rehearsal")
    } else {
        "the campaign".to_owned()
    };
    if created {
        note!(
            "send: created {what} for issue {number} in `{}`",
            settings.database.url
        );
        if kind.is_rehearsal() {
            note!(
                "send: a rehearsal mails nobody; the first send with `[send] transport = \
                 \"smtp\"` starts the real campaign"
            );
        }
    } else {
        note!(
            "send: resuming {what} for issue {number} in `{}`",
            settings.database.url
        );
    }
    let ttl = Duration::from_secs_f64(settings.send.lease_secs.max(1.0));
    let (lease, taken) =
        send::lease::acquire(store, &campaign, &send::lease::this_process(), ttl).await?;
    if let Some(line) = send::lease::describe(&taken) {
        note!("send: {line}");
    }
    let leased = Leased {
        transport,
        campaign,
        lease: lease.clone(),
        secret,
    };
    let result = deliver_leased(args, store, p, settings, leased, stop).await;
    send::lease::release(store, &lease).await;
    result
}

/// Ctrl-C stops taking recipients (the run finishes what is in flight);
/// a second Ctrl-C quits at once. The switch returned is the run's stop,
/// which the run also turns on itself when it must end early.
fn on_ctrl_c() -> tokio::sync::watch::Sender<bool> {
    let (stop, _) = tokio::sync::watch::channel(false);
    let stop_tx = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            note!(
                "\nsend: stopping: no new recipients; finishing the messages in flight \
                 (Ctrl-C again to quit now)"
            );
            stop_tx.send_replace(true);
            if tokio::signal::ctrl_c().await.is_ok() {
                // Rows still `sending` are re-queued (and those handed to
                // the relay counted as possible duplicates) by the next run.
                note!("send: quitting now; resume with the same command");
                std::process::exit(130);
            }
        }
    });
    stop
}

/// What a run holds once it has the campaign: where messages go, the
/// campaign and its lease, and the key that signs unsubscribe links.
struct Leased {
    transport: Transport,
    campaign: Campaign,
    lease: Lease,
    secret: Vec<u8>,
}

async fn deliver_leased(
    args: &Args,
    store: &Store,
    p: &Prepared,
    settings: &Settings,
    leased: Leased,
    stop: tokio::sync::watch::Sender<bool>,
) -> anyhow::Result<ExitCode> {
    let Leased {
        transport,
        campaign,
        lease,
        secret,
    } = leased;
    let (rendered, file) = (&p.rendered, &args.issue);
    content::reconcile(
        store,
        &lease,
        &campaign,
        rendered,
        args.accept_changes,
        file,
    )
    .await?;
    if args.retry_failed {
        let n = store.retry_failed(campaign.id).await?;
        note!("send: re-queued {}", plural(n, "failed recipient"));
    }
    if args.retry_now {
        let n = store
            .retry_deferred_now(campaign.id, crate::domain::now_ms())
            .await?;
        note!(
            "send: {} due now",
            plural(n, ("deferred recipient is", "deferred recipients are"))
        );
    }
    let id = campaign.id;
    let (template, message) = crate::message::prepare(
        &p.rendered,
        settings,
        p.issue.header.number,
        campaign.created_at,
    )?;
    let ctx = SendContext {
        campaign,
        lease,
        template: Arc::new(template),
        message: Arc::new(message),
        secret: Arc::from(secret),
        bounce_address: settings.bounces.mailbox()?,
        settings: settings.send.clone(),
        transport,
        progress: match args.report.unwrap_or(args.format) {
            Format::Json => ProgressMode::Json,
            Format::Table if std::io::stderr().is_terminal() => ProgressMode::Bar,
            Format::Table => ProgressMode::Lines,
        },
        issue_file: std::path::absolute(&args.issue)
            .ok()
            .map(|p| p.display().to_string()),
    };
    let report = send::run(store.clone(), ctx, stop).await?;
    let failed = store.failed_split(id).await?;
    let json = args.report.unwrap_or(args.format) == Format::Json;
    summary::print(&report, &failed, &args.issue, json)
}
