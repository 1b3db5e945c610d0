//! `mailroom inbound`: the mailto side of List-Unsubscribe. Reads a message
//! an MTA pipes in (or every unread message in a Maildir), finds
//! `unsubscribe-<token>` in its Subject and unsubscribes that subscriber.
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::config::Settings;
use crate::domain::{Source, Status, StatusChange, SubscriberId, now};
use crate::store::{Store, Transition};
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
    /// Nothing usable in it: why.
    Unusable(&'static str),
}

/// Runs `inbound`.
pub fn run(args: Args, settings: &Settings) -> anyhow::Result<ExitCode> {
    let keys = Keyring::load(&settings.web)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let store = match Store::open_durable(&settings.database).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("inbound: {e:#}; the message stays queued");
                return Ok(ExitCode::from(EX_TEMPFAIL));
            }
        };
        let code = match &args.maildir {
            None => from_stdin(&store, &keys).await,
            Some(dir) => from_maildir(&store, &keys, dir).await,
        };
        store.close().await;
        code
    })
}

async fn from_stdin(store: &Store, keys: &Keyring) -> anyhow::Result<ExitCode> {
    let mut raw = Vec::new();
    std::io::stdin()
        .read_to_end(&mut raw)
        .context("cannot read the message from stdin")?;
    match handle(store, keys, &raw).await {
        Ok(outcome) => {
            report("stdin", &outcome);
            Ok(exit_for([&outcome]))
        }
        Err(e) => {
            eprintln!("inbound: stdin: {e:#}; the message stays queued");
            Ok(ExitCode::from(EX_TEMPFAIL))
        }
    }
}

async fn from_maildir(store: &Store, keys: &Keyring, dir: &Path) -> anyhow::Result<ExitCode> {
    let mut outcomes = Vec::new();
    for path in unread(dir)? {
        let raw =
            std::fs::read(&path).with_context(|| format!("cannot read `{}`", path.display()))?;
        let outcome = handle(store, keys, &raw).await?;
        report(&path.display().to_string(), &outcome);
        if !matches!(outcome, Outcome::Unusable(_)) {
            mark_seen(dir, &path)?;
        }
        outcomes.push(outcome);
    }
    eprintln!(
        "inbound: {} message(s) in `{}`",
        outcomes.len(),
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
        Outcome::Unsubscribed(id) => eprintln!("inbound: {what}: unsubscribed subscriber {id}"),
        Outcome::AlreadyDone(id) => {
            eprintln!("inbound: {what}: subscriber {id} was already unsubscribed")
        }
        Outcome::Unusable(why) => eprintln!("inbound: {what}: {why}; left in place"),
    }
}

/// Finds the token in `raw`'s Subject and unsubscribes its subscriber.
pub async fn handle(store: &Store, keys: &Keyring, raw: &[u8]) -> anyhow::Result<Outcome> {
    let Some(message) = mail_parser::MessageParser::default().parse(raw) else {
        return Ok(Outcome::Unusable("not an email message"));
    };
    let Some(token) = message.subject().and_then(token_in) else {
        return Ok(Outcome::Unusable("no `unsubscribe-<token>` in the subject"));
    };
    let Some(id) = keys.verify(Purpose::Unsubscribe, token, now()) else {
        return Ok(Outcome::Unusable(
            "the subject's unsubscribe token does not verify",
        ));
    };
    let change = StatusChange {
        reason: Some("mailto".into()),
        ..StatusChange::now(Status::Unsubscribed, Source::Mailto)
    };
    Ok(match store.unsubscribe_batch(&[(id, change)]).await?[0] {
        Transition::Changed { .. } => Outcome::Unsubscribed(id),
        Transition::Unchanged(_) => Outcome::AlreadyDone(id),
        Transition::NotFound => Outcome::Unusable("the token names no subscriber in this store"),
    })
}

/// The token after `unsubscribe-` in a subject.
pub fn token_in(subject: &str) -> Option<&str> {
    let start = subject.find("unsubscribe-")? + "unsubscribe-".len();
    let rest = &subject[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .unwrap_or(rest.len());
    Some(&rest[..end]).filter(|t| !t.is_empty())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_found_after_unsubscribe_dash_even_in_a_reply() {
        assert_eq!(token_in("unsubscribe-12.AbC_-d"), Some("12.AbC_-d"));
        assert_eq!(token_in("Re: unsubscribe-12.AbC (please)"), Some("12.AbC"));
        assert_eq!(token_in("unsubscribe-"), None);
        assert_eq!(token_in("please unsubscribe me"), None);
    }
}
