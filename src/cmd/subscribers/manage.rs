//! `add`, `remove`, `count`, `show`: one subscriber at a time.
use std::process::ExitCode;

use super::ShowFormat;
use super::output::{subscriber_json, time_text};
use crate::domain::{Consent, EmailAddress, Source, Status, StatusChange, Subscriber};
use crate::store::{AddOutcome, Store, Transition};

/// `subscribers add`.
pub async fn add(
    store: &Store,
    email: &EmailAddress,
    name: Option<String>,
    force: bool,
) -> anyhow::Result<ExitCode> {
    if let Some(known) = store.find(email).await?
        && matches!(known.status, Status::Bounced | Status::Complained)
        && !force
    {
        anyhow::bail!(
            "`{email}` is `{}`; mailing it again hurts deliverability. Re-add it only if \
                 the person asked to, with `--force`",
            known.status
        );
    }
    let consent = Consent::new(Source::Cli, crate::domain::now());
    match store
        .add_subscriber(email, name.as_deref(), consent)
        .await?
    {
        AddOutcome::Added(_) => println!("added `{email}`"),
        AddOutcome::AlreadySubscribed(_) => println!("`{email}` is already subscribed"),
        AddOutcome::Resubscribed { was, .. } => {
            println!("resubscribed `{email}` (was `{was}`)")
        }
        AddOutcome::Erased => anyhow::bail!(
            "`{email}` was erased on request (`mailroom subscribers erase`), so it is never \
             added again; only its keyed hash is kept, to honour that"
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// `subscribers remove`.
pub async fn remove(store: &Store, email: &EmailAddress) -> anyhow::Result<ExitCode> {
    let change = StatusChange::now(Status::Unsubscribed, Source::Cli);
    match store.set_status(email, &change).await? {
        Transition::Changed { from, .. } => println!("unsubscribed `{email}` (was `{from}`)"),
        Transition::Unchanged(_) => println!("`{email}` is already unsubscribed"),
        Transition::NotFound => return Err(not_found(store, email).await),
    }
    Ok(ExitCode::SUCCESS)
}

/// "No such subscriber".
async fn not_found(_store: &Store, email: &EmailAddress) -> anyhow::Error {
    anyhow::anyhow!(
        "no subscriber `{email}`; `mailroom subscribers search TEXT` finds addresses and names"
    )
}

/// `subscribers count`.
pub async fn count(store: &Store) -> anyhow::Result<ExitCode> {
    let counts = store.counts().await?;
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    for (status, n) in counts {
        println!("{:<13} {n}", status.as_str());
    }
    println!("{:<13} {total}", "total");
    Ok(ExitCode::SUCCESS)
}

/// `subscribers show`.
pub async fn show(
    store: &Store,
    email: &EmailAddress,
    format: ShowFormat,
) -> anyhow::Result<ExitCode> {
    let Some(sub) = store.find(email).await? else {
        return Err(not_found(store, email).await);
    };
    let history = store.history(sub.id).await?;
    match format {
        ShowFormat::Json => {
            let json = subscriber_json(&sub, &history);
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
        ShowFormat::Text => print_text(&sub, &history),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_text(sub: &Subscriber, history: &[StatusChange]) {
    match &sub.name {
        Some(name) => println!("{} ({name})", sub.email),
        None => println!("{}", sub.email),
    }
    println!("status   {}", sub.status);
    println!("id       {}", sub.id);
    println!("created  {}", time_text(sub.created_at));
    println!("updated  {}", time_text(sub.updated_at));
    let c = &sub.consent;
    let mut consent = format!("{} at {}", c.source, time_text(c.at));
    if let Some(ip) = c.ip {
        consent.push_str(&format!(" from {ip}"));
    }
    if let Some(at) = c.confirmed_at {
        consent.push_str(&format!(", confirmed at {}", time_text(at)));
    }
    if let Some(ip) = c.confirm_ip {
        consent.push_str(&format!(" from {ip}"));
    }
    println!("consent  {consent}");
    println!("history");
    for h in history {
        let mut line = format!(
            "  {}  {:<12}  {}",
            time_text(h.at),
            h.status.as_str(),
            h.source
        );
        if let Some(ip) = h.ip {
            line.push_str(&format!("  from {ip}"));
        }
        if let Some(reason) = &h.reason {
            line.push_str(&format!("  ({reason})"));
        }
        println!("{line}");
    }
}
