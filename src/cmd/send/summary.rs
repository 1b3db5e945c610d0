//! The end-of-run summary (on stderr; with `--format json` also the final
//! `report` event on stdout), the hint that tells failures a retry can
//! reach from bounces it cannot, and the exit status.
use std::path::Path;
use std::process::ExitCode;

use crate::domain::{FailedSplit, now_ms};
use crate::output::{note, plural};
use crate::send::wording;
use crate::send::{RunEnd, RunReport, progress};

/// Prints the summary and picks the exit status (see `mailroom send --help`).
pub fn print(
    report: &RunReport,
    failed: &FailedSplit,
    issue: &Path,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if json {
        progress::emit("report", report);
    }
    note!("send: issue {}: {}", report.issue, totals(report));
    for change in &report.content_changes {
        note!(
            "send: the issue changed mid-campaign: {} got the earlier version, the rest the \
             later one",
            plural(change.sent_before, "recipient")
        );
    }
    if report.recovered > 0 {
        note!(
            "send: {} in flight when an earlier run died; sent again, so they may have \
             arrived twice (`mailroom status` counts them)",
            plural(report.recovered, ("message was", "messages were"))
        );
    }
    let issue = issue.display();
    if matches!(report.end, RunEnd::Complete | RunEnd::Waiting { .. }) {
        failure_hint(failed, &issue.to_string());
    }
    let code = match &report.end {
        RunEnd::Complete if report.campaign.failed == 0 => 0,
        RunEnd::Complete => 3,
        RunEnd::Waiting { .. } => {
            let advice =
                wording::waiting_stop(report.waiting.as_ref(), now_ms(), &issue.to_string());
            note!("send: {}", advice.replace('\n', "\nsend: "));
            75
        }
        RunEnd::Interrupted => {
            note!("send: interrupted; resume with `mailroom send {issue}`");
            130
        }
        RunEnd::Paused => {
            note!(
                "send: paused by `mailroom campaigns pause`: this run took no new recipients and \
                 recorded those in flight; {}",
                wording::resume_paused(report.issue, &issue.to_string())
            );
            75
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

/// `this run sent 684, failed 0, skipped 0 in 4.5s, 152 msg/s; campaign: …`
fn totals(report: &RunReport) -> String {
    let (r, c) = (&report.this_run, &report.campaign);
    let waited = report.elapsed_secs - report.sending_secs;
    let time = if waited >= 0.05 {
        format!(
            "{} ({} of it waiting for retries)",
            wording::duration(report.elapsed_secs),
            wording::duration(waited)
        )
    } else {
        wording::duration(report.elapsed_secs)
    };
    format!(
        "this run sent {}, failed {}, skipped {} in {time}, {}; campaign: {} of {} sent, {} \
         failed, {} skipped, {} deferred, {} pending",
        r.sent,
        r.failed,
        r.skipped,
        wording::rate(report.rate_per_sec),
        c.sent,
        c.total(),
        c.failed,
        c.skipped,
        c.deferred,
        c.pending + c.sending,
    )
}

/// Which failed recipients `--retry-failed` can reach, and which it
/// cannot (bounced or unsubscribed since), so the hint never suggests a
/// retry that re-queues nobody.
fn failure_hint(f: &FailedSplit, issue: &str) {
    if f.bounced > 0 {
        note!(
            "send: {} bounced: the relay said the address does not exist; marked bounced, \
             never retried",
            plural(f.bounced, "recipient")
        );
    }
    if f.suppressed > 0 {
        note!(
            "send: {} failed and unsubscribed since; never retried",
            plural(f.suppressed, "recipient")
        );
    }
    if f.retryable > 0 {
        note!(
            "send: {} failed for another reason (a rejected message, retries used up) and can \
             be tried again: `mailroom send {issue} --retry-failed`",
            plural(f.retryable, "recipient")
        );
    }
    if f.bounced + f.suppressed + f.retryable > 0 {
        note!(
            "send: `mailroom status {issue} --recipients --state failed` lists them with the \
             relay's replies"
        );
    }
}
