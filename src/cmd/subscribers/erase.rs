//! `subscribers erase`: remove a person on request (GDPR art. 17), after a
//! confirmation, keeping only what stops them being added again.
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use crate::domain::EmailAddress;
use crate::output::{outln, plural};
use crate::store::{EraseOutcome, Erasure, Store};

/// `subscribers erase`.
pub async fn erase(store: &Store, email: &EmailAddress, yes: bool) -> anyhow::Result<ExitCode> {
    let Some(sub) = store.find(email).await? else {
        return match store.erase(email).await? {
            EraseOutcome::AlreadyErased => {
                outln!("`{email}` was already erased; nothing is stored about it but its hash")?;
                Ok(ExitCode::SUCCESS)
            }
            _ => anyhow::bail!(
                "no subscriber `{email}`; `mailroom subscribers search TEXT` finds addresses \
                 and names"
            ),
        };
    };
    if !yes {
        confirm(&sub.email)?;
    }
    match store.erase(email).await? {
        EraseOutcome::Erased(done) => tell(&done)?,
        EraseOutcome::AlreadyErased => outln!("`{email}` was already erased")?,
        EraseOutcome::NotFound => anyhow::bail!("`{email}` was removed by someone else meanwhile"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Asks on the terminal; refuses without one (scripts pass `--yes`).
fn confirm(email: &EmailAddress) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "erasing `{email}` cannot be undone and needs a confirmation, but there is no \
             terminal to ask on; pass `--yes` to erase from a script"
        );
    }
    crate::output::prompt(&format!(
        "erase `{email}`? Its address, name, IPs, history and delivery records are deleted \
         for good. Type `yes` to erase"
    ));
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim().eq_ignore_ascii_case("yes") {
        Ok(())
    } else {
        anyhow::bail!("nothing erased: the answer was not `yes`")
    }
}

/// Says what went and what stays.
fn tell(done: &Erasure) -> anyhow::Result<()> {
    outln!("erased `{}`", done.email)?;
    let mut removed = vec!["the address".to_owned()];
    if done.had_name {
        removed.push("the name".to_owned());
    }
    if done.ips > 0 {
        removed.push(format!(
            "{} of consent",
            plural(u64::from(done.ips), "IP address")
        ));
    }
    removed.push(format!(
        "{} (times, sources, IPs, reasons)",
        plural(done.history, "history entry")
    ));
    removed.push(format!(
        "{} (which issues were sent)",
        plural(done.deliveries, "delivery record")
    ));
    outln!("  removed: {}", removed.join(", "))?;
    outln!(
        "  kept:    a keyed hash of the address (not the address), so that no import, \
         `subscribers add` or web subscription adds it again"
    )
}
