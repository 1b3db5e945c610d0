//! `mailroom inbound`: what arrives at the bounce and unsubscribe mailboxes.
//! Reads messages (a pipe, a Maildir, or an IMAP mailbox), classifies each
//! with [`crate::inbound`], and has the store apply them exactly once:
//! late bounces, complaints and mailto unsubscribes change subscribers;
//! auto-replies and challenges are ignored; anything else stays where it
//! was and is reported.
mod imap;
mod maildir;
mod report;

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::inbound::{self, MAX_MESSAGE_BYTES, Unrecognised, Verdict};
use crate::output::note;
use crate::store::{Applied, Received, SoftBounceRule, Store};
use crate::token::Keyring;
use report::Tally;

/// sysexits: the message is unusable (the MTA bounces it).
const EX_DATAERR: u8 = 65;
/// sysexits: try again later (the MTA keeps the message queued).
const EX_TEMPFAIL: u8 = 75;

/// Messages applied per store transaction from a Maildir or IMAP.
const BATCH: usize = 500;

/// Apply bounces, complaints and mailto unsubscribes from received mail.
///
/// Without --maildir or --imap, reads one message from stdin, as an MTA
/// pipe delivers it (Postfix, in /etc/aliases:
///   bounces: "|/usr/local/bin/mailroom --config /etc/mailroom/config.toml inbound").
///
/// Each message is classified:
/// - a delivery status notification (RFC 3464) of a campaign: permanent
///   (5.x.x) makes the subscriber `bounced` and notes the status and
///   diagnostic on the campaign's ledger row; transient (4.x.x) or delayed
///   is counted, and `[bounces] soft_bounce_limit` of them within
///   `soft_bounce_days` make a hard bounce;
/// - a feedback-loop complaint (RFC 5965 ARF): the subscriber becomes
///   `complained` (never mailed again);
/// - `unsubscribe-<token>` in the subject: the subscriber is unsubscribed;
/// - auto-replies and challenge-responses: ignored;
/// - anything else, or a report about nobody in the store: left where it
///   was and reported.
///
/// The subscriber is found by the VERP tag of the envelope sender, else by
/// Original-/Final-Recipient with the Message-ID mailroom gave them. Every
/// message is recorded in the store (by its SHA-256) with its effect, so a
/// rerun applies nothing twice.
///
/// With --maildir DIR, handles every unread message (`new/`, and `cur/`
/// without the Seen flag): a used message is marked Seen in `cur/`.
/// With --imap, does the same with the unseen messages of an IMAP mailbox
/// (MAILROOM_IMAP_URL=imaps://host[:port]/MAILBOX, MAILROOM_IMAP_USER,
/// MAILROOM_IMAP_PASSWORD; TLS is required unless the host is loopback).
///
/// Exit status: 0 all used, 65 a message was left in place (from a pipe:
/// the MTA returns it), 75 the store is unavailable (the MTA retries),
/// 1 other errors.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Read every unread message in this Maildir instead of stdin.
    #[arg(long, value_name = "DIR", conflicts_with = "imap")]
    pub maildir: Option<std::path::PathBuf>,
    /// Read the unseen messages of the IMAP mailbox in MAILROOM_IMAP_URL.
    #[arg(long)]
    pub imap: bool,
}

/// What every message needs.
struct Inputs<'a> {
    store: &'a Store,
    ctx: inbound::Context<'a>,
    rule: SoftBounceRule,
}

/// Runs `inbound`.
pub fn run(args: Args, settings: &Settings) -> anyhow::Result<ExitCode> {
    let keys = Keyring::load(&settings.web)?;
    let bounce_address = settings.bounces.mailbox()?;
    let rule = SoftBounceRule {
        limit: settings.bounces.soft_bounce_limit,
        days: settings.bounces.soft_bounce_days,
    };
    let imap = args.imap.then(imap::Account::from_env).transpose()?;
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
        let inputs = Inputs {
            store: &store,
            ctx: inbound::Context {
                keys: Some(&keys),
                bounce_address: bounce_address.as_ref(),
            },
            rule,
        };
        let code = match (&args.maildir, imap) {
            (Some(dir), _) => from_maildir(&inputs, dir).await,
            (None, Some(account)) => imap::sweep(&inputs, &account).await,
            (None, None) => from_stdin(&inputs).await,
        };
        store.close().await;
        code
    })
}

/// The digest and verdict of one message (`None`: too large to read).
fn receive(ctx: &inbound::Context, raw: Option<&[u8]>) -> Received {
    let Some(raw) = raw else {
        return Received {
            digest: String::new(),
            verdict: Verdict::Keep(Unrecognised::TooLarge.to_string()),
        };
    };
    let digest = Sha256::digest(raw)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Received {
        digest,
        verdict: inbound::verdict(inbound::parse(raw, ctx), ctx),
    }
}

/// Applies `batch`; a message too large to read is kept without a record.
async fn apply(inputs: &Inputs<'_>, batch: &[Received]) -> anyhow::Result<Vec<Applied>> {
    let readable: Vec<Received> = batch
        .iter()
        .filter(|r| !r.digest.is_empty())
        .cloned()
        .collect();
    let mut applied = inputs
        .store
        .apply_inbound(&readable, inputs.rule)
        .await?
        .into_iter();
    Ok(batch
        .iter()
        .map(|r| match &r.verdict {
            Verdict::Keep(why) if r.digest.is_empty() => Applied::Kept(why.clone()),
            _ => applied.next().expect("one outcome per readable message"),
        })
        .collect())
}

async fn from_stdin(inputs: &Inputs<'_>) -> anyhow::Result<ExitCode> {
    let mut raw = Vec::new();
    std::io::stdin()
        .take(MAX_MESSAGE_BYTES as u64 + 1)
        .read_to_end(&mut raw)
        .context("cannot read the message from stdin")?;
    let raw = (raw.len() <= MAX_MESSAGE_BYTES).then_some(raw);
    let received = receive(&inputs.ctx, raw.as_deref());
    match apply(inputs, std::slice::from_ref(&received)).await {
        Ok(applied) => {
            report::line("stdin", &applied[0]);
            let kept = applied[0].is_kept();
            Ok(ExitCode::from(if kept { EX_DATAERR } else { 0 }))
        }
        Err(e) => {
            note!("inbound: stdin: {e:#}; the message stays queued");
            Ok(ExitCode::from(EX_TEMPFAIL))
        }
    }
}

async fn from_maildir(inputs: &Inputs<'_>, dir: &Path) -> anyhow::Result<ExitCode> {
    let mut tally = Tally::default();
    for paths in maildir::unread(dir)?.chunks(BATCH) {
        let mut batch = Vec::with_capacity(paths.len());
        for path in paths {
            let raw = maildir::read_bounded(path)?;
            batch.push(receive(&inputs.ctx, raw.as_deref()));
        }
        let applied = apply(inputs, &batch).await?;
        // The store has committed: only now is a message marked read. A
        // crash in between leaves it unread, and the rerun finds it
        // recorded and only marks it.
        for (path, a) in paths.iter().zip(&applied) {
            if !a.is_kept() {
                maildir::mark_seen(dir, path)?;
            }
            tally.add(&path.display().to_string(), a);
        }
    }
    tally.summary(&format!("`{}`", dir.display()));
    Ok(tally.exit())
}
