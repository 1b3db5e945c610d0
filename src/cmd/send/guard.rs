//! Guard rails before a campaign starts: a send that would mail nobody, an
//! old issue, or the whole list without a yes refuses or asks. A resume of
//! a campaign that already started passes (it was confirmed when it
//! started, and cron must be able to rerun it after a crash), unless the
//! campaign is paused.
use std::io::{BufRead, IsTerminal};

use anyhow::Context;

use super::{Args, Prepared};
use crate::config::{Settings, TlsMode};
use crate::domain::{Campaign, CampaignTransport, IssueNumber, Status};
use crate::store::Store;

/// Refuses to run a campaign that `mailroom campaigns pause` holds.
pub fn not_paused(existing: Option<&Campaign>, file: &str) -> anyhow::Result<()> {
    let Some(c) = existing else { return Ok(()) };
    let Some(at) = c.paused_at else { return Ok(()) };
    anyhow::bail!(
        "issue {}'s campaign is paused (since {}, by `mailroom campaigns pause`): {}",
        c.issue,
        crate::send::wording::date_time(at.unix_timestamp() * 1000),
        crate::send::wording::resume_paused(c.issue, file)
    )
}

/// Checks a send that would start a new campaign through `kind`; asks on a
/// terminal before the real send. Returns how many would be mailed.
pub async fn first_send(
    store: &Store,
    args: &Args,
    p: &Prepared,
    settings: &Settings,
    kind: CampaignTransport,
) -> anyhow::Result<u64> {
    let number = p.issue.header.number;
    let n = audience(store, number, settings).await?;
    if kind.is_rehearsal() {
        return Ok(n);
    }
    old_issue(store, number, args.allow_old_issue).await?;
    if args.yes {
        return Ok(n);
    }
    let question = format!(
        "about to mail {} subscribers `{}` through {}; type {number} to continue",
        thousands(n),
        p.rendered.subject,
        relay_line(settings)
    );
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "refusing to mail {} subscribers without a confirmation: there is no terminal to \
             ask on; add `--yes` to confirm in a script (`mailroom send {} --yes`)",
            thousands(n),
            args.issue.display()
        );
    }
    crate::output::prompt(&question);
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("cannot read the confirmation")?;
    if answer.trim() != number.to_string() {
        anyhow::bail!(
            "not confirmed (expected `{number}`, got `{}`); nothing was sent",
            answer.trim()
        );
    }
    Ok(n)
}

/// How many are subscribed; refuses when nobody is, naming the store.
pub async fn audience(
    store: &Store,
    number: IssueNumber,
    settings: &Settings,
) -> anyhow::Result<u64> {
    let counts = store.counts().await?;
    let subscribed = counts
        .iter()
        .find(|(s, _)| *s == Status::Subscribed)
        .map_or(0, |(_, n)| *n);
    if subscribed > 0 {
        return Ok(subscribed);
    }
    let others: u64 = counts.iter().map(|(_, n)| *n).sum();
    let why = if others == 0 {
        "it holds no subscribers at all, so it is probably not the store you meant (`[database] \
         url`, relative to the config file) or nobody was imported yet (`mailroom subscribers \
         import FILE`)"
            .to_owned()
    } else {
        format!(
            "none of its {} is subscribed (`mailroom subscribers count`)",
            crate::output::plural(others, "subscriber")
        )
    };
    anyhow::bail!(
        "refusing to send issue {number} to nobody: the store `{}` has no subscribed address; \
         {why}",
        settings.database.url
    )
}

/// Refuses an issue at or below the newest completed real campaign's,
/// unless `allowed`.
pub async fn old_issue(store: &Store, number: IssueNumber, allowed: bool) -> anyhow::Result<()> {
    let Some(newest) = store.newest_completed_issue().await? else {
        return Ok(());
    };
    if number <= newest && !allowed {
        anyhow::bail!(
            "refusing to start issue {number}: issue {newest} was already sent to the list \
             (`mailroom campaigns`); check the issue's `Number:`, or add `--allow-old-issue` if \
             you really mean to send an older issue"
        );
    }
    Ok(())
}

/// `smtp.example.org:587 (starttls, as twir)`.
pub fn relay_line(settings: &Settings) -> String {
    let s = &settings.smtp;
    let host = s.host.trim_start_matches('[').trim_end_matches(']');
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    let tls = match s.tls {
        TlsMode::None => "no TLS",
        TlsMode::Starttls => "STARTTLS",
        TlsMode::Tls => "TLS",
    };
    let who = if s.username.is_empty() {
        String::new()
    } else {
        format!(", as `{}`", s.username)
    };
    format!("{host}:{} ({tls}{who})", s.port)
}

/// `4507` as `4,507`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(4507), "4,507");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
