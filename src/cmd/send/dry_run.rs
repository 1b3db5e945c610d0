//! `mailroom send --dry-run`: who would be mailed, how big, how long.
use std::process::ExitCode;

use super::Prepared;
use crate::config::{Settings, Transport};
use crate::domain::{IssueNumber, Ledger, Status};
use crate::store::Store;

/// Prints recipients, message size and the estimated duration; changes nothing.
pub async fn run(store: &Store, p: &Prepared, settings: &Settings) -> anyhow::Result<ExitCode> {
    let number = p.issue.header.number;
    let (recipients, note) = recipients(store, number).await?;
    let (template, _) = crate::message::prepare(
        &p.rendered,
        settings,
        p.issue.header.number,
        time::OffsetDateTime::now_utc(),
    )?;
    // Slots add the address, a Message-ID and three unsubscribe URLs.
    let size = template.len() + 400;
    let s = &settings.send;
    println!("issue {number}: {}", p.rendered.subject);
    println!("recipients: {recipients} {note}");
    if let Some(c) = store.find_campaign(number).await?
        && c.content_hash
            .as_deref()
            .is_some_and(|h| h != super::content::content_hash(&p.rendered))
    {
        println!(
            "changed: the issue differs from what the campaign has sent so far; `mailroom send` \
             refuses without `--accept-changes`"
        );
    }
    println!(
        "message: about {:.1} KB each, {:.1} MB in all",
        size as f64 / 1024.0,
        (size as f64 * recipients as f64) / 1_048_576.0
    );
    let via = match s.transport {
        Transport::Outbox => format!("outbox `{}`", settings.outbox.dir.display()),
        Transport::Discard => "discard (nothing leaves the machine)".to_owned(),
        Transport::Smtp => format!(
            "smtp {}:{} ({:?})",
            settings.smtp.host, settings.smtp.port, settings.smtp.tls
        ),
    };
    println!("transport: {via}, concurrency {}", s.concurrency);
    if s.rate_per_second > 0.0 {
        let secs = recipients as f64 / s.rate_per_second;
        println!(
            "estimated duration: {} at {} msg/s",
            human_secs(secs),
            s.rate_per_second
        );
    } else {
        println!(
            "estimated duration: rate unlimited (`[send] rate_per_second = 0`); the relay sets the pace"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// How many would be mailed: what is left of an existing campaign, or
/// everyone subscribed now.
async fn recipients(store: &Store, number: IssueNumber) -> anyhow::Result<(u64, String)> {
    Ok(match store.find_campaign(number).await? {
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
                .find(|(s, _)| *s == Status::Subscribed)
                .map_or(0, |(_, n)| *n);
            (
                n,
                "subscribed (a new campaign would snapshot them)".to_owned(),
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
