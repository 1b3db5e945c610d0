//! `add`, `remove`, `count`, `show`: one subscriber at a time.
use std::process::ExitCode;

use super::output::{subscriber_json, time_text};
use crate::cmd::Format;
use crate::domain::{
    Consent, EmailAddress, EmailAddressError, Source, Status, StatusChange, Subscriber,
    SubscriberId,
};
use crate::output::outln;
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
        AddOutcome::Added(_) => outln!("added `{email}`")?,
        AddOutcome::AlreadySubscribed(_) => outln!("`{email}` is already subscribed")?,
        AddOutcome::Resubscribed { was, .. } => outln!("resubscribed `{email}` (was `{was}`)")?,
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
        Transition::Changed { from, .. } => outln!("unsubscribed `{email}` (was `{from}`)")?,
        Transition::Unchanged(_) => outln!("`{email}` is already unsubscribed")?,
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
        outln!("{:<13} {n}", status.as_str())?;
    }
    outln!("{:<13} {total}", "total")?;
    Ok(ExitCode::SUCCESS)
}

/// Whom `subscribers show` means: an address, or the id `subscribers list`
/// prints (digits only; no address is digits only). The commands that change
/// a subscriber take only the address, so a mistyped id cannot unsubscribe
/// or erase somebody else.
#[derive(Debug, Clone)]
pub enum Who {
    Id(SubscriberId),
    Email(EmailAddress),
}

impl std::str::FromStr for Who {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.parse::<i64>() {
            Ok(id) if s.bytes().all(|b| b.is_ascii_digit()) => Ok(Who::Id(SubscriberId::new(id))),
            _ => s.parse().map(Who::Email).map_err(|e: EmailAddressError| {
                format!("{e}; or give the id that `mailroom subscribers list` prints")
            }),
        }
    }
}

/// `subscribers show`.
pub async fn show(store: &Store, who: &Who, format: Format) -> anyhow::Result<ExitCode> {
    let found = match who {
        Who::Email(email) => store.find(email).await?,
        Who::Id(id) => {
            // The page of one subscriber after `id - 1` is `id`, if it exists.
            let after = SubscriberId::new(id.get().saturating_sub(1));
            let page = store.list(None, Some(after), 1).await?;
            page.into_iter().find(|s| s.id == *id)
        }
    };
    let Some(sub) = found else {
        return Err(match who {
            Who::Email(email) => not_found(store, email).await,
            Who::Id(id) => anyhow::anyhow!(
                "no subscriber with id {id}; `mailroom subscribers list` prints the ids, and \
                 `mailroom subscribers search TEXT` finds addresses and names"
            ),
        });
    };
    let history = store.history(sub.id).await?;
    match format {
        Format::Json => {
            let json = subscriber_json(&sub, &history);
            outln!("{}", serde_json::to_string_pretty(&json)?)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(crate::output::stdout());
            w.write_record(super::export::CSV_HEADER)?;
            super::export::write_csv_rows(&mut w, &sub, &history)?;
            w.flush()?;
        }
        Format::Table => print_text(&sub, &history)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn print_text(sub: &Subscriber, history: &[StatusChange]) -> anyhow::Result<()> {
    match &sub.name {
        Some(name) => outln!("{} ({name})", sub.email)?,
        None => outln!("{}", sub.email)?,
    }
    outln!("status   {}", sub.status)?;
    outln!("id       {}", sub.id)?;
    outln!("created  {}", time_text(sub.created_at))?;
    outln!("updated  {}", time_text(sub.updated_at))?;
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
    outln!("consent  {consent}")?;
    outln!("history")?;
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
        outln!("{line}")?;
    }
    Ok(())
}
