//! `status` for people (a short table whatever the list's size) and as CSV
//! (the failure groups).
use super::{State, StatusReport};
use crate::domain::now_ms;
use crate::output::{outln, plural};
use crate::send::wording;

/// Failure groups shown in the table; `--format json` or `csv` list all.
const GROUPS_SHOWN: usize = 10;

/// Prints the summary table.
pub fn print(r: &StatusReport) -> anyhow::Result<()> {
    let now = now_ms();
    outln!("issue {}: {}", r.issue, r.subject)?;
    if r.rehearsal {
        outln!(
            "  transport: {} (a rehearsal: nobody was mailed; the first SMTP send starts the \
             real campaign)",
            r.transport
        )?;
    } else {
        outln!("  transport: {} (the real campaign)", r.transport)?;
    }
    outln!("  state: {}", state_line(r, now))?;
    if let Some(cmd) = &r.resume {
        match r.state {
            State::Complete => outln!("  retry: {cmd}")?,
            State::Waiting => {
                outln!("  resume: {cmd} (add `--retry-now` to retry the deferred at once)")?
            }
            _ => outln!("  resume: {cmd}")?,
        }
    }
    outln!("  runs: {}", runs_line(r))?;
    let c = &r.counts;
    outln!(
        "  {}: {} sent, {} failed, {} deferred, {} pending, {} sending, {} skipped",
        plural(r.total, "recipient"),
        c.sent,
        c.failed,
        c.deferred,
        c.pending,
        c.sending,
        c.skipped
    )?;
    if c.failed > 0 {
        outln!("  failed: {}", failed_line(r))?;
    }
    outln!("  bounces and complaints: {}", r.bounces.line())?;
    for w in &r.bounces.warnings {
        crate::output::warning!("issue {}: {w}", r.issue);
    }
    if r.sending_secs > 0.0 {
        outln!(
            "  sending time: {}, {} (sent or failed per second sending, over all runs)",
            wording::duration(r.sending_secs),
            wording::rate(r.rate_per_sec)
        )?;
    }
    outln!(
        "  possible duplicates: {} (handed to the relay when a run died, or whose reply was \
         lost; sent again)",
        r.possible_duplicates
    )?;
    for ch in &r.content_changes {
        outln!(
            "  changed mid-campaign (accepted {}): {} got the earlier version",
            wording::date_time(ch.changed_at * 1000),
            plural(ch.sent_before, "recipient")
        )?;
    }
    print_groups(r)
}

fn state_line(r: &StatusReport, now: i64) -> String {
    match r.state {
        State::Running => {
            let runs: Vec<String> = r
                .live_runs
                .iter()
                .map(|run| {
                    format!(
                        "pid {} on host `{}` since {}, {} sent or failed, {} (heartbeat {} ago)",
                        run.pid,
                        run.host,
                        wording::clock(run.started_unix_ms, now),
                        run.messages,
                        wording::rate(run.rate_per_sec),
                        wording::duration(run.renewed_secs_ago)
                    )
                })
                .collect();
            format!("running: {}", runs.join("; "))
        }
        State::Interrupted => {
            let left = r.counts.pending + r.counts.sending;
            let why = match r.last_run_end.as_deref() {
                None => "the last run stopped without finishing (killed or crashed)",
                Some("interrupted") => "the last run was interrupted (Ctrl-C)",
                Some("relay_unavailable") => "the relay stayed unreachable",
                Some("relay_refused") => "the relay refused us",
                Some("paused") => "the last run stopped for a pause, resumed since",
                Some(_) => "the last run stopped",
            };
            format!("interrupted: {why}; {} left", plural(left, "recipient"))
        }
        State::Waiting => match r.waiting {
            Some(w) => wording::waiting_line(&w, now),
            None => "waiting for deferred recipients".to_owned(),
        },
        State::Complete => "complete".to_owned(),
        State::Paused => {
            let left = r.counts.pending + r.counts.sending + r.counts.deferred;
            format!(
                "paused (`mailroom campaigns pause`); {} left",
                plural(left, "recipient")
            )
        }
    }
}

fn runs_line(r: &StatusReport) -> String {
    let when = |t: Option<i64>| t.map(wording::date_time).unwrap_or_default();
    let mut s = match r.runs {
        0 => return "none yet".to_owned(),
        1 => format!("1, started {}", when(r.first_run_unix_ms)),
        n => format!(
            "{n}, first {}, last {}",
            when(r.first_run_unix_ms),
            when(r.last_run_unix_ms)
        ),
    };
    if let Some(end) = &r.last_run_end {
        let last = if r.runs == 1 { "" } else { "the last " };
        s.push_str(&format!("; {last}ended {}", end.replace('_', " ")));
    }
    s
}

fn failed_line(r: &StatusReport) -> String {
    let f = &r.failed;
    let mut parts = Vec::new();
    if f.bounced > 0 {
        parts.push(format!("{} bounced (never retried)", f.bounced));
    }
    if f.suppressed > 0 {
        parts.push(format!(
            "{} unsubscribed since (never retried)",
            f.suppressed
        ));
    }
    if f.retryable > 0 {
        parts.push(format!("{} can be retried (`--retry-failed`)", f.retryable));
    }
    parts.join(", ")
}

fn print_groups(r: &StatusReport) -> anyhow::Result<()> {
    if r.failures.is_empty() {
        return Ok(());
    }
    outln!("failed and deferred, by reply:")?;
    for g in r.failures.iter().take(GROUPS_SHOWN) {
        outln!("  {:>6} {:<8}  {}", g.count, g.state, g.reply)?;
        outln!("  {:>6} {:<8}  e.g. {}", "", "", g.examples.join(", "))?;
    }
    if r.failures.len() > GROUPS_SHOWN {
        let rest = &r.failures[GROUPS_SHOWN..];
        let n: u64 = rest.iter().map(|g| g.count).sum();
        outln!(
            "  … {} more ({}); `--format json` or `--format csv` lists them all",
            plural(rest.len() as u64, "reply"),
            plural(n, "recipient")
        )?;
    }
    Ok(())
}

/// Prints the failure groups as CSV.
pub fn print_csv(r: &StatusReport) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(crate::output::stdout());
    w.write_record([
        "state",
        "count",
        "code",
        "enhanced_code",
        "reply",
        "examples",
    ])?;
    for g in &r.failures {
        w.write_record([
            g.state.clone(),
            g.count.to_string(),
            g.code.map(|c| c.to_string()).unwrap_or_default(),
            g.enhanced_code.clone().unwrap_or_default(),
            g.reply.clone(),
            g.examples.join(" "),
        ])?;
    }
    w.flush()?;
    Ok(())
}
