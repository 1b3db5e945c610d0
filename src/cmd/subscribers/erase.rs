//! `subscribers erase`: remove a person on request (GDPR art. 17), after a
//! confirmation, keeping only what stops them being added again.
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use crate::domain::EmailAddress;
use crate::store::{EraseOutcome, Erasure, Store};

/// `subscribers erase`.
pub async fn erase(store: &Store, email: &EmailAddress, yes: bool) -> anyhow::Result<ExitCode> {
    let Some(sub) = store.find(email).await? else {
        return match store.erase(email).await? {
            EraseOutcome::AlreadyErased => {
                println!("`{email}` was already erased; nothing is stored about it but its hash");
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
        EraseOutcome::Erased(done) => tell(&done),
        EraseOutcome::AlreadyErased => println!("`{email}` was already erased"),
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
    let mut err = std::io::stderr().lock();
    write!(
        err,
        "erase `{email}`? Its address, name, IPs, history and delivery records are deleted \
         for good. Type `yes` to erase: "
    )?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim().eq_ignore_ascii_case("yes") {
        Ok(())
    } else {
        anyhow::bail!("nothing erased: the answer was not `yes`")
    }
}

/// Says what went and what stays.
fn tell(done: &Erasure) {
    println!("erased `{}`", done.email);
    let mut removed = vec!["the address".to_owned()];
    if done.had_name {
        removed.push("the name".to_owned());
    }
    if done.ips > 0 {
        removed.push(format!("{} consent IP address(es)", done.ips));
    }
    removed.push(format!(
        "{} history entr{} (times, sources, IPs, reasons)",
        done.history,
        if done.history == 1 { "y" } else { "ies" }
    ));
    removed.push(format!(
        "{} delivery record(s) (which issues were sent)",
        done.deliveries
    ));
    println!("  removed: {}", removed.join(", "));
    println!(
        "  kept:    a keyed hash of the address (not the address), so that no import, \
         `subscribers add` or web subscription adds it again"
    );
}
