//! `mailroom inbound`: the mailto side of List-Unsubscribe. Reads a message
//! an MTA pipes in (or every unread message in a Maildir), classifies it
//! with [`crate::inbound::parse`], and unsubscribes the subscriber of an
//! `unsubscribe-<token>` request. Bounces, complaints and auto-replies are
//! recognised and reported, and left in place (applying them is next).
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::config::Settings;
use crate::domain::{Source, Status, StatusChange, SubscriberId, now};
use crate::inbound::{self, Event, MAX_MESSAGE_BYTES, Unrecognised};
use crate::output::{note, plural};
use crate::store::{Store, Transition};
use crate::token::verp::VerpTag;
use crate::token::{Keyring, Purpose};

/// sysexits: the message is unusable (the MTA bounces it).
const EX_DATAERR: u8 = 65;
/// sysexits: try again later (the MTA keeps the message queued).
const EX_TEMPFAIL: u8 = 75;

/// Unsubscribe from mails sent to the List-Unsubscribe mailto address.
///
/// Without --maildir, reads one message from stdin, as an MTA pipe delivers
/// it (Postfix: `unsubscribe: "|/usr/local/bin/mailroom --config
/// /etc/mailroom/config.toml inbound"` in /etc/aliases). The subject must
/// hold `unsubscribe-<token>` as `mailroom send` wrote it; replies
/// (`Re: unsubscribe-…`) work too.
///
/// With --maildir DIR, handles every unread message (`new/`, and `cur/`
/// without the Seen flag): a used message is marked Seen in `cur/`;
/// anything unusable is reported and left where it is.
///
/// Exit status: 0 all used, 65 a message was unusable (a pipe's MTA bounces
/// it), 75 the store is unavailable (the MTA retries), 1 other errors.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Read every unread message in this Maildir instead of stdin.
    #[arg(long, value_name = "DIR")]
    pub maildir: Option<PathBuf>,
}

/// What one message led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The subscriber is unsubscribed now.
    Unsubscribed(SubscriberId),
    /// Already unsubscribed (or otherwise suppressed): nothing to do.
    AlreadyDone(SubscriberId),
    /// Nothing usable in it (or nothing applied yet): why.
    Unusable(String),
}

/// Runs `inbound`.
pub fn run(args: Args, settings: &Settings) -> anyhow::Result<ExitCode> {
    let keys = Keyring::load(&settings.web)?;
    let bounce_address = match &settings.bounces.address {
        Some(a) => Some(
            crate::domain::EmailAddress::parse(a).context("`[bounces] address` in the config")?,
        ),
        None => None,
    };
    let ctx = inbound::Context {
        keys: Some(&keys),
        bounce_address: bounce_address.as_ref(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let store = match Store::open_durable(&settings.database).await {
            Ok(s) => {
                crate::cmd::report_merges(&s);
                s
            }
            Err(e) => {
                note!("inbound: {e:#}; the message stays queued");
                return Ok(ExitCode::from(EX_TEMPFAIL));
            }
        };
        let code = match &args.maildir {
            None => from_stdin(&store, &ctx).await,
            Some(dir) => from_maildir(&store, &ctx, dir).await,
        };
        store.close().await;
        code
    })
}

async fn from_stdin(store: &Store, ctx: &inbound::Context<'_>) -> anyhow::Result<ExitCode> {
    let mut raw = Vec::new();
    std::io::stdin()
        .take(MAX_MESSAGE_BYTES as u64 + 1)
        .read_to_end(&mut raw)
        .context("cannot read the message from stdin")?;
    match handle(store, ctx, &raw).await {
        Ok(outcome) => {
            report("stdin", &outcome);
            Ok(exit_for([&outcome]))
        }
        Err(e) => {
            note!("inbound: stdin: {e:#}; the message stays queued");
            Ok(ExitCode::from(EX_TEMPFAIL))
        }
    }
}

async fn from_maildir(
    store: &Store,
    ctx: &inbound::Context<'_>,
    dir: &Path,
) -> anyhow::Result<ExitCode> {
    let mut outcomes = Vec::new();
    for path in unread(dir)? {
        let outcome = match read_bounded(&path)? {
            Some(raw) => handle(store, ctx, &raw).await?,
            None => Outcome::Unusable(Unrecognised::TooLarge.to_string()),
        };
        report(&path.display().to_string(), &outcome);
        if !matches!(outcome, Outcome::Unusable(_)) {
            mark_seen(dir, &path)?;
        }
        outcomes.push(outcome);
    }
    note!(
        "inbound: {} in `{}`",
        plural(outcomes.len() as u64, "message"),
        dir.display()
    );
    Ok(exit_for(&outcomes))
}

fn exit_for<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> ExitCode {
    if outcomes
        .into_iter()
        .any(|o| matches!(o, Outcome::Unusable(_)))
    {
        ExitCode::from(EX_DATAERR)
    } else {
        ExitCode::SUCCESS
    }
}

/// Reports an outcome by subscriber id: never the token or the address.
fn report(what: &str, outcome: &Outcome) {
    match outcome {
        Outcome::Unsubscribed(id) => note!("inbound: {what}: unsubscribed subscriber {id}"),
        Outcome::AlreadyDone(id) => {
            note!("inbound: {what}: subscriber {id} was already unsubscribed")
        }
        Outcome::Unusable(why) => note!("inbound: {what}: {why}; left in place"),
    }
}

/// A file's bytes, or `None` when it is larger than a message may be.
fn read_bounded(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    let mut raw = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_MESSAGE_BYTES as u64 + 1).read_to_end(&mut raw))
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    Ok((raw.len() <= MAX_MESSAGE_BYTES).then_some(raw))
}

/// Classifies `raw` and, for an unsubscribe request, unsubscribes.
pub async fn handle(
    store: &Store,
    ctx: &inbound::Context<'_>,
    raw: &[u8],
) -> anyhow::Result<Outcome> {
    let token = match inbound::parse(raw, ctx) {
        Event::Unsubscribe { token } => token,
        Event::Unrecognised(Unrecognised::Other) => {
            return Ok(Outcome::Unusable(
                "no `unsubscribe-<token>` in the subject".into(),
            ));
        }
        other => return Ok(Outcome::Unusable(describe(&other))),
    };
    let keys = ctx.keys.expect("inbound always has the token secrets");
    let Some(id) = keys.verify(Purpose::Unsubscribe, &token, now()) else {
        return Ok(Outcome::Unusable(
            "the subject's unsubscribe token does not verify".into(),
        ));
    };
    let change = StatusChange {
        reason: Some("mailto".into()),
        ..StatusChange::now(Status::Unsubscribed, Source::Mailto)
    };
    Ok(match store.unsubscribe_batch(&[(id, change)]).await?[0] {
        Transition::Changed { .. } => Outcome::Unsubscribed(id),
        Transition::Unchanged(_) => Outcome::AlreadyDone(id),
        Transition::NotFound => {
            Outcome::Unusable("the token names no subscriber in this store".into())
        }
    })
}

/// What a message that is not an unsubscribe request was recognised as,
/// by subscriber id and status code, never by address.
fn describe(event: &Event) -> String {
    let who = |tag: Option<VerpTag>| match tag {
        Some(t) => format!(" for subscriber {} (issue {})", t.subscriber, t.issue),
        None => " (no VERP tag of ours)".into(),
    };
    let applied = "not applied yet (bounce and complaint processing is not wired)";
    match event {
        Event::Bounce(dsn) => {
            let codes: Vec<String> = dsn
                .recipients
                .iter()
                .map(|r| r.status.map_or("no status".into(), |s| s.to_string()))
                .collect();
            format!(
                "a delivery status notification{} ({}); {applied}",
                who(dsn.verp),
                codes.join(", ")
            )
        }
        Event::Complaint(c) => format!(
            "a complaint (`{}`){}; {applied}",
            c.feedback_type,
            who(c.verp)
        ),
        Event::AutoReply { reason } => format!("an auto-reply ({reason}), not a bounce"),
        Event::Challenge { reason } => format!("a challenge-response request ({reason})"),
        Event::Unrecognised(why) => why.to_string(),
        Event::Unsubscribe { .. } => "an unsubscribe request".into(),
    }
}

/// `new/*` and the `cur/*` messages without the Seen flag, by name.
fn unread(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        let d = dir.join(sub);
        let entries = std::fs::read_dir(&d).with_context(|| {
            format!(
                "cannot read `{}`; is `{}` a Maildir (new/, cur/, tmp/)?",
                d.display(),
                dir.display()
            )
        })?;
        for entry in entries {
            let path = entry
                .with_context(|| format!("cannot list `{}`", d.display()))?
                .path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let seen = name
                .rsplit_once(":2,")
                .is_some_and(|(_, flags)| flags.contains('S'));
            if path.is_file() && !name.starts_with('.') && !(sub == "cur" && seen) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Moves a message to `cur/` with the Seen flag (Maildir's "read").
fn mark_seen(dir: &Path, path: &Path) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (base, flags) = name.rsplit_once(":2,").unwrap_or((&name, ""));
    let mut flags: Vec<char> = flags.chars().chain(['S']).collect();
    flags.sort_unstable();
    flags.dedup();
    let target = dir
        .join("cur")
        .join(format!("{base}:2,{}", flags.iter().collect::<String>()));
    std::fs::rename(path, &target)
        .with_context(|| format!("cannot move `{}` to `{}`", path.display(), target.display()))
}
