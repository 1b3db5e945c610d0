//! `mailroom campaigns pause` and `resume`: a mark on the campaign that every
//! run sending it finds at its next heartbeat, on whichever machine.
use std::process::ExitCode;

use super::{TransportArg, live};
use crate::domain::{IssueNumber, Ledger, now_ms};
use crate::output::{outln, plural};
use crate::send::lease;
use crate::store::Store;

/// Pauses (`pause`) or resumes the live campaigns of `issue`.
pub async fn set(
    store: &Store,
    issue: IssueNumber,
    only: Option<TransportArg>,
    pause: bool,
) -> anyhow::Result<ExitCode> {
    let action = if pause { "pause" } else { "resume" };
    for c in live(store, issue, only, action).await? {
        let n = store.campaign_counts(c.id).await?;
        let what = format!(
            "the {} campaign of issue {issue} ({} of {} sent)",
            c.transport,
            n.sent,
            plural(n.total(), "recipient")
        );
        if !store.pause_campaign(c.id, pause).await? {
            let already = if pause { "paused" } else { "not paused" };
            outln!("{what} is already {already}")?;
            continue;
        }
        if !pause {
            // The file its last run sent, as that run was given it.
            let history = store.run_history(c.id).await?;
            let file = history.last.and_then(|r| r.issue_file);
            outln!(
                "resumed {what}; rerun `mailroom send {}` (on each machine that sends it) to \
                 carry on",
                file.as_deref().unwrap_or("ISSUE.md")
            )?;
            continue;
        }
        let (me, now) = (lease::this_process(), now_ms());
        let sending = store
            .live_runs(c.id)
            .await?
            .iter()
            .filter(|r| lease::judge(r, &me, now).is_none())
            .count();
        if sending == 0 {
            outln!(
                "paused {what}; `mailroom send` refuses it until `mailroom campaigns resume \
                 {issue}`"
            )?;
        } else {
            let runs = if sending == 1 {
                "1 run sending it stops at its".to_owned()
            } else {
                format!("{sending} runs sending it stop at their")
            };
            outln!(
                "paused {what}; {runs} next heartbeat (within a third of `[send] lease_secs`), \
                 after recording the messages in flight"
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
