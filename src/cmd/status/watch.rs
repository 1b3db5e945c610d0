//! `status --watch`: the summary again every few seconds until the campaign
//! completes or Ctrl-C; redrawn in place on a terminal, else one block (or
//! with `--format json`, one JSON line) per refresh, for logs and scripts.
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use super::{Args, Format, State, find, gather, text};
use crate::config::Loaded;
use crate::domain::{Campaign, now_ms};
use crate::output::outln;
use crate::send::wording;
use crate::store::Store;

/// The shortest refresh: each one reads the whole ledger's counts, which
/// takes ~150 ms at 200,000 recipients on SQLite.
pub const MIN_EVERY_SECS: f64 = 0.2;

/// Shows `campaign` every `every` until it is complete (exit 0) or Ctrl-C
/// (exit 0: stopping a watch is how it ends; the campaign is untouched).
pub async fn watch(
    store: &Store,
    mut campaign: Campaign,
    args: &Args,
    loaded: &Loaded,
    every: Duration,
) -> anyhow::Result<ExitCode> {
    let terminal = std::io::stdout().is_terminal();
    let resume = gather::Resume::new(args, loaded);
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        let report = gather::gather(store, &campaign, &loaded.settings, &resume).await?;
        if args.format == Format::Json {
            outln!("{}", serde_json::to_string(&report)?)?;
        } else {
            if terminal {
                // Home the cursor and clear the screen, as watch(1) does.
                crate::output::out(format_args!("\x1b[H\x1b[2J"))?;
            } else {
                outln!("-- {}", wording::clock(now_ms(), now_ms()))?;
            }
            text::print(&report)?;
            if terminal && report.state != State::Complete {
                outln!(
                    "\nrefreshing every {}; Ctrl-C stops watching (the send goes on)",
                    wording::duration(every.as_secs_f64())
                )?;
            }
        }
        if report.state == State::Complete {
            return Ok(ExitCode::SUCCESS);
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = &mut ctrl_c => return Ok(ExitCode::SUCCESS),
        }
        campaign = find(store, Some(campaign.issue))
            .await?
            .context("the campaign is gone")?;
    }
}
