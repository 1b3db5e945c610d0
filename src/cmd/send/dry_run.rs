//! `mailroom send --dry-run`: who would be mailed, how big, how long; with
//! the checks `send` makes (transport settings, nobody subscribed, an old
//! issue), so a dry run never approves what the send then refuses.
use std::process::ExitCode;

use super::{Args, Prepared, campaign_transport, guard};
use crate::config::{Settings, Transport};
use crate::domain::{CampaignTransport, IssueNumber, Ledger};
use crate::output::outln;
use crate::store::Store;

/// Prints recipients, message size and the estimated duration; changes
/// nothing. Fails as `send` would on its transport settings (nothing is
/// connected), on an empty audience or on an old issue.
pub async fn run(
    store: &Store,
    args: &Args,
    p: &Prepared,
    settings: &Settings,
) -> anyhow::Result<ExitCode> {
    let number = p.issue.header.number;
    if settings.send.transport == Transport::Smtp {
        crate::transport::Relay::from_settings(&settings.smtp)?;
    }
    let kind = campaign_transport(settings.send.transport);
    let existing = store.find_campaign(number, kind).await?;
    if existing.is_none() {
        guard::audience(store, number, settings).await?;
        if !kind.is_rehearsal() {
            guard::old_issue(store, number, args.allow_old_issue).await?;
        }
    }
    let (recipients, note) = recipients(store, number, kind).await?;
    let (template, _) = crate::message::prepare(
        &p.rendered,
        settings,
        p.issue.header.number,
        time::OffsetDateTime::now_utc(),
    )?;
    // Slots add the address, a Message-ID and three unsubscribe URLs.
    let size = template.len() + 400;
    let s = &settings.send;
    outln!("issue {number}: {}", p.rendered.subject)?;
    outln!("recipients: {recipients} {note}")?;
    if let Some(c) = &existing
        && c.content_hash
            .as_deref()
            .is_some_and(|h| h != super::content::content_hash(&p.rendered))
    {
        outln!(
            "changed: the issue differs from what the campaign has sent so far; `mailroom send` \
             refuses without `--accept-changes`"
        )?;
    }
    outln!(
        "message: about {:.1} KB each, {:.1} MB in all",
        size as f64 / 1024.0,
        (size as f64 * recipients as f64) / 1_048_576.0
    )?;
    let via = match s.transport {
        Transport::Outbox => format!("outbox `{}`", settings.outbox.dir.display()),
        Transport::Discard => "discard (nothing leaves the machine)".to_owned(),
        Transport::Smtp => format!("smtp {}", guard::relay_line(settings)),
    };
    outln!("transport: {via}, concurrency {}", s.concurrency)?;
    outln!("store: `{}`", settings.database.url)?;
    match (&existing, kind.is_rehearsal()) {
        (Some(c), _) if c.paused_at.is_some() => outln!(
            "paused: `mailroom send` refuses the campaign until `mailroom campaigns resume \
             {number}`"
        )?,
        (Some(_), _) => outln!("confirmation: none needed (resuming the campaign)")?,
        (None, true) => outln!("confirmation: none needed (a rehearsal mails nobody)")?,
        (None, false) => {
            outln!("confirmation: `send` asks on a terminal (type {number}); scripts pass `--yes`")?
        }
    }
    if s.rate_per_second > 0.0 {
        let secs = recipients as f64 / s.rate_per_second;
        outln!(
            "estimated duration: {} at {} msg/s",
            human_secs(secs),
            s.rate_per_second
        )?;
    } else {
        outln!(
            "estimated duration: rate unlimited (`[send] rate_per_second = 0`); the relay sets the pace"
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// How many would be mailed: what is left of an existing campaign, or
/// everyone subscribed now.
async fn recipients(
    store: &Store,
    number: IssueNumber,
    kind: CampaignTransport,
) -> anyhow::Result<(u64, String)> {
    Ok(match store.find_campaign(number, kind).await? {
        Some(c) => {
            let n = store.campaign_counts(c.id).await?;
            let left = n.pending + n.sending + n.deferred;
            (
                left,
                format!("left in the existing campaign ({} sent)", n.sent),
            )
        }
        None => {
            let counts = store.counts().await?;
            let n = counts
                .iter()
                .find(|(s, _)| *s == crate::domain::Status::Subscribed)
                .map_or(0, |(_, n)| *n);
            let what = if kind.is_rehearsal() {
                "rehearsal"
            } else {
                "campaign"
            };
            (
                n,
                format!("subscribed (a new {kind} {what} would snapshot them)"),
            )
        }
    })
}

fn human_secs(secs: f64) -> String {
    let s = secs.ceil() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        _ => format!("{}h {}m", s / 3600, (s % 3600) / 60),
    }
}
