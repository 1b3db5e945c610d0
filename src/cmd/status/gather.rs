//! Gathering a campaign's status from the store: its state from the lease
//! and the ledger, the run history, the failures grouped by reply, and the
//! command that resumes it.
use std::path::{Path, PathBuf};

use super::{Args, LiveRun, State, StatusReport};
use crate::config::{Loaded, Settings};
use crate::domain::{Campaign, CampaignCounts, FailureGroups, Ledger, RunHistory, now_ms};
use crate::send::{backoff, lease};
use crate::store::Store;

/// Failed and deferred rows read per query while grouping.
const PAGE: u32 = 2000;

/// What the resume command is made of: how this `status` found the store
/// (so the command finds it too) and the issue file, if it was given.
pub struct Resume {
    /// `--config PATH` when the config file is not `./config.toml`.
    config: Option<PathBuf>,
    /// The issue file `status` was given, if any.
    issue_file: Option<PathBuf>,
    cwd: Option<PathBuf>,
}

impl Resume {
    pub fn new(args: &Args, loaded: &Loaded) -> Resume {
        let cwd = std::env::current_dir().ok();
        let local = cwd.as_ref().map(|d| d.join("config.toml"));
        Resume {
            config: loaded.file.clone().filter(|f| Some(f) != local.as_ref()),
            issue_file: args
                .issue
                .as_ref()
                .filter(|s| s.parse::<u32>().is_err())
                .map(PathBuf::from),
            cwd,
        }
    }

    /// `mailroom [--config PATH] send FILE EXTRA`: the file the last run
    /// sent (relative to here when it is below), else the one given.
    fn command(&self, run_file: Option<&str>, extra: &str) -> String {
        let file = match (run_file, &self.issue_file) {
            (Some(f), _) => self.shown(Path::new(f)),
            (None, Some(f)) => f.display().to_string(),
            (None, None) => "ISSUE.md".to_owned(),
        };
        let config = self
            .config
            .as_ref()
            .map(|c| format!("--config {} ", quote(&self.shown(c))))
            .unwrap_or_default();
        format!("mailroom {config}send {}{extra}", quote(&file))
    }

    fn shown(&self, path: &Path) -> String {
        self.cwd
            .as_ref()
            .and_then(|cwd| path.strip_prefix(cwd).ok())
            .unwrap_or(path)
            .display()
            .to_string()
    }
}

/// `word`, single-quoted for a POSIX shell when it needs it.
fn quote(word: &str) -> String {
    let plain = word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@=%".contains(c));
    if plain && !word.is_empty() {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Reads everything `status` shows about `c`.
pub async fn gather(
    store: &Store,
    c: &Campaign,
    settings: &Settings,
    resume: &Resume,
) -> anyhow::Result<StatusReport> {
    let counts = store.campaign_counts(c.id).await?;
    let history = store.run_history(c.id).await?;
    let live_runs = live_runs(store, c, &history).await?;
    let failed = store.failed_split(c.id).await?;
    let waiting = backoff::waiting(&store.deferred(c.id).await?, &settings.send);
    let state = state(&counts, !live_runs.is_empty(), c.paused_at.is_some());
    let last = history.last.as_ref();
    let run_file = last.and_then(|r| r.issue_file.as_deref());
    let resume = match state {
        State::Running => None,
        State::Interrupted | State::Waiting => Some(resume.command(run_file, "")),
        State::Paused => Some(format!(
            "mailroom campaigns resume {}, then {}",
            c.issue,
            resume.command(run_file, "")
        )),
        State::Complete if failed.retryable > 0 => {
            Some(resume.command(run_file, " --retry-failed"))
        }
        State::Complete => None,
    };
    Ok(StatusReport {
        issue: c.issue.get(),
        subject: c.subject.clone(),
        transport: c.transport,
        rehearsal: c.is_rehearsal(),
        state,
        resume,
        live_runs,
        runs: c.runs.max(history.runs),
        first_run_unix_ms: history
            .first_started
            .or(Some(c.created_at.unix_timestamp() * 1000)),
        last_run_unix_ms: history
            .last_started
            .or_else(|| c.last_run_at.map(|t| t.unix_timestamp() * 1000)),
        last_run_end: last.and_then(|r| r.outcome.clone()),
        total: counts.total(),
        possible_duplicates: c.possible_duplicates,
        elapsed_secs: history.pace.elapsed_secs,
        sending_secs: history.pace.sending_secs,
        rate_per_sec: history.pace.rate(),
        failures: failure_groups(store, c).await?,
        content_changes: store.content_changes(c.id).await?,
        bounces: super::bounces::BounceReport::new(store.bounce_counts(c.id.get()).await?, &counts),
        counts,
        failed,
        waiting,
    })
}

/// Running while a run holds a live lease; else by what is left.
fn state(counts: &CampaignCounts, running: bool, paused: bool) -> State {
    let left = counts.pending + counts.sending + counts.deferred;
    if running {
        State::Running
    } else if paused && left > 0 {
        State::Paused
    } else if counts.pending + counts.sending > 0 {
        State::Interrupted
    } else if counts.deferred > 0 {
        State::Waiting
    } else {
        State::Complete
    }
}

/// The runs holding a lease on the campaign whose holders are alive: at
/// most one on SQLite, any number (on any machines) on PostgreSQL. Each
/// shows its progress from its entry in the run history.
async fn live_runs(
    store: &Store,
    c: &Campaign,
    history: &RunHistory,
) -> anyhow::Result<Vec<LiveRun>> {
    let now = now_ms();
    let me = lease::this_process();
    let rows: Vec<_> = store
        .live_runs(c.id)
        .await?
        .into_iter()
        .filter(|row| lease::judge(row, &me, now).is_none())
        .collect();
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // The live runs are the latest to start, give or take dead ones.
    let limit = u32::try_from(rows.len() * 2 + 8).unwrap_or(u32::MAX);
    let mut entries = store.runs(c.id, limit).await?;
    entries.extend(history.last.clone());
    Ok(rows
        .into_iter()
        .map(|row| {
            let entry = entries.iter().find(|r| r.token == row.token);
            LiveRun {
                messages: entry.map_or(row.handed, |r| r.counts.messages()),
                rate_per_sec: entry.map_or_else(|| row.rate_per_sec(), |r| r.pace.rate()),
                host: row.owner.host,
                pid: row.owner.pid,
                started_unix_ms: row.acquired_at,
                renewed_secs_ago: (now - row.renewed_at).max(0) as f64 / 1000.0,
            }
        })
        .collect())
}

/// Groups every failed and deferred row by masked reply, a page at a time.
async fn failure_groups(
    store: &Store,
    c: &Campaign,
) -> anyhow::Result<Vec<crate::domain::FailureGroup>> {
    let mut groups = FailureGroups::default();
    let mut after = 0;
    loop {
        let page = store.failure_page(c.id, after, PAGE).await?;
        let Some((last, ..)) = page.last() else { break };
        after = *last;
        for (_, state, email, reply) in &page {
            groups.add(state, email, reply);
        }
    }
    Ok(groups.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_a_shell_would_split_are_quoted() {
        assert_eq!(quote("content/620.md"), "content/620.md");
        assert_eq!(quote("my issues/620.md"), "'my issues/620.md'");
        assert_eq!(quote("it's.md"), r"'it'\''s.md'");
    }

    #[test]
    fn the_state_follows_the_lease_then_what_is_left() {
        let c = |pending, deferred| CampaignCounts {
            pending,
            deferred,
            sent: 5,
            ..CampaignCounts::default()
        };
        assert_eq!(state(&c(3, 1), true, false), State::Running);
        assert_eq!(state(&c(3, 1), false, false), State::Interrupted);
        assert_eq!(state(&c(0, 1), false, false), State::Waiting);
        assert_eq!(state(&c(0, 0), false, false), State::Complete);
        // A pause shows once its runs have stopped, and only while
        // recipients are left.
        assert_eq!(state(&c(3, 1), true, true), State::Running);
        assert_eq!(state(&c(3, 1), false, true), State::Paused);
        assert_eq!(state(&c(0, 1), false, true), State::Paused);
        assert_eq!(state(&c(0, 0), false, true), State::Complete);
    }

    #[test]
    fn the_resume_command_uses_the_run_file_below_here_and_an_explicit_config() {
        let r = Resume {
            config: Some(PathBuf::from("/etc/mailroom/config.toml")),
            issue_file: None,
            cwd: Some(PathBuf::from("/home/ed/twir")),
        };
        assert_eq!(
            r.command(Some("/home/ed/twir/content/620.md"), " --retry-failed"),
            "mailroom --config /etc/mailroom/config.toml send content/620.md --retry-failed"
        );
        let bare = Resume { config: None, ..r };
        assert_eq!(bare.command(None, ""), "mailroom send ISSUE.md");
    }
}
