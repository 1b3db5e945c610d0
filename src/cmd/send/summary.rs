//! The end-of-run summary (human on stderr, or JSON on stdout) and the
//! exit status.
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::output::{note, outln, plural};
use crate::send::{RunEnd, RunReport};

/// Prints the summary and picks the exit status (see `mailroom send --help`).
pub fn print(report: &RunReport, issue: &Path, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        let text = serde_json::to_string_pretty(report).context("cannot encode the report")?;
        outln!("{text}")?;
    }
    let c = &report.campaign;
    let r = &report.this_run;
    note!(
        "send: issue {}: this run sent {}, deferred {}, failed {}, skipped {} in {:.1}s \
         ({:.0} msg/s); campaign: {} of {} sent, {} failed, {} skipped, {} deferred, {} pending",
        report.issue,
        r.sent,
        r.deferred,
        r.failed,
        r.skipped,
        report.elapsed_secs,
        report.rate_per_sec,
        c.sent,
        c.total(),
        c.failed,
        c.skipped,
        c.deferred,
        c.pending + c.sending,
    );
    for change in &report.content_changes {
        note!(
            "send: the issue changed mid-campaign: {} got the earlier version, the rest the \
             later one",
            plural(change.sent_before, "recipient")
        );
    }
    if report.recovered > 0 {
        note!(
            "send: {} in flight when an earlier run died: sent again, and may have arrived \
             twice (`mailroom status` counts them)",
            plural(report.recovered, "message")
        );
    }
    let issue = issue.display();
    let code = match &report.end {
        RunEnd::Complete if c.failed == 0 => 0,
        RunEnd::Complete => {
            note!(
                "send: {} failed: `mailroom status {issue} --failed` lists them; `mailroom send \
                 {issue} --retry-failed` tries them again",
                plural(c.failed, "recipient")
            );
            3
        }
        RunEnd::Waiting { next_due_unix_ms } => {
            let secs = (next_due_unix_ms - crate::domain::now_ms()) / 1000;
            note!(
                "send: {} due in {secs}s, later than `[send] max_wait_secs`; rerun \
                 `mailroom send {issue}` then to resume",
                plural(c.deferred, "deferred recipient")
            );
            75
        }
        RunEnd::Interrupted => {
            note!("send: interrupted; resume with `mailroom send {issue}`");
            130
        }
        RunEnd::RelayRefused { reason } => {
            note!(
                "send: stopped: {reason}\nsend: nobody was marked failed and the campaign is \
                 intact: rerun `mailroom send {issue}` once the relay or `[smtp]` is fixed"
            );
            1
        }
        RunEnd::LeaseLost => {
            note!(
                "send: another run took this campaign over after this one stalled past `[send] \
                 lease_secs`; it carries on (`mailroom status {issue}`)"
            );
            75
        }
        RunEnd::RelayUnavailable { reason } => {
            note!(
                "send: the relay stayed unreachable ({reason}); the campaign is intact: rerun \
                 `mailroom send {issue}` when it is back"
            );
            75
        }
    };
    Ok(ExitCode::from(code))
}
