//! Who may send a campaign: a run takes a lease on the campaign before it
//! touches the ledger, renews it by heartbeat, and gives it up at the end.
//!
//! With one sender per campaign ([`Senders::One`], SQLite) a second run
//! refuses while the lease is live. With several ([`Senders::Many`],
//! PostgreSQL) every run takes a lease of its own beside the others.
//! Either way a lease is dropped when it has expired, or at once when its
//! owner ran on this host and that process is gone (so `kill -9`, then a
//! rerun, resumes immediately); with several senders the live runs' heartbeats
//! drop dead runs too, and re-queue the rows those had claimed.
//!
//! Liveness is read from `/proc/<pid>/stat` (pid and start time, so a
//! reused pid does not count). Without `/proc` only expiry frees a lease.
use std::time::Duration;

use anyhow::Context;

use crate::domain::{Campaign, Lease, LeaseOwner, LeaseRow, Ledger, Senders, now_ms};

/// Another live run holds the campaign (one sender per campaign).
#[derive(Debug, thiserror::Error)]
#[error(
    "issue {issue} is being sent by pid {pid} on host `{host}` (renewed {ago} s ago); wait for \
     it, or stop it and rerun (a SQLite store sends each campaign from one run at a time; \
     several senders need PostgreSQL)"
)]
pub struct LeaseHeld {
    pub issue: u32,
    pub pid: u32,
    pub host: String,
    pub ago: i64,
}

/// How a lease was obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// Nobody held it.
    Free,
    /// Its holder's process is gone (same host).
    FromDeadProcess(LeaseOwner),
    /// Its holder stopped renewing it this many seconds ago.
    FromExpired(LeaseOwner, i64),
    /// Beside `live` other live runs (several senders), after dropping
    /// the dead ones.
    Beside { live: usize, dropped: Vec<Taken> },
}

/// This process, as a lease names it.
pub fn this_process() -> LeaseOwner {
    let pid = std::process::id();
    LeaseOwner {
        host: hostname(),
        pid,
        process_start: process_start(pid).unwrap_or(0),
    }
}

/// Takes `campaign`'s lease for `me`, valid `ttl` past each renewal, or
/// fails with [`LeaseHeld`] naming the live holder.
pub async fn acquire<L: Ledger>(
    ledger: &L,
    campaign: &Campaign,
    me: &LeaseOwner,
    ttl: Duration,
) -> anyhow::Result<(Lease, Taken)> {
    let lease = Lease {
        campaign: campaign.id,
        token: format!(
            "{}/{}/{}/{:016x}",
            me.host,
            me.pid,
            me.process_start,
            rand::random::<u64>()
        ),
        ttl_ms: i64::try_from(ttl.as_millis())
            .unwrap_or(i64::MAX / 4)
            .max(1),
    };
    if ledger.senders() == Senders::Many {
        let now = now_ms();
        let (live, dropped) = drop_dead(ledger, campaign, me, None, now).await?;
        ledger.take_lease(&lease, me, None, now).await?;
        return Ok((lease, Taken::Beside { live, dropped }));
    }
    // A lost race (another run took the lease between our read and our
    // write) is decided again from what the winner wrote.
    for _ in 0..3 {
        let now = now_ms();
        let current = ledger.lease(campaign.id).await?;
        let taken = match &current {
            None => Taken::Free,
            Some(row) => match judge(row, me, now) {
                Some(t) => t,
                None => {
                    return Err(LeaseHeld {
                        issue: campaign.issue.get(),
                        pid: row.owner.pid,
                        host: row.owner.host.clone(),
                        ago: ((now - row.renewed_at) / 1000).max(0),
                    }
                    .into());
                }
            },
        };
        let previous = current.as_ref().map(|r| r.token.as_str());
        if ledger.take_lease(&lease, me, previous, now).await? {
            return Ok((lease, taken));
        }
    }
    anyhow::bail!(
        "cannot take the lease of issue {}: other runs keep taking it; stop them and rerun",
        campaign.issue
    )
}

/// Whether `row` may be taken over by `me` at `now`, and why.
pub fn judge(row: &LeaseRow, me: &LeaseOwner, now: i64) -> Option<Taken> {
    if row.owner.host == me.host && is_gone(&row.owner) {
        Some(Taken::FromDeadProcess(row.owner.clone()))
    } else if row.expires_at <= now {
        Some(Taken::FromExpired(
            row.owner.clone(),
            ((now - row.renewed_at) / 1000).max(0),
        ))
    } else {
        None
    }
}

/// Drops the leases of `campaign` that `me` judges dead (never `mine`).
/// Returns how many other runs are live, and the dropped ones.
async fn drop_dead<L: Ledger>(
    ledger: &L,
    campaign: &Campaign,
    me: &LeaseOwner,
    mine: Option<&str>,
    now: i64,
) -> anyhow::Result<(usize, Vec<Taken>)> {
    let mut live = 0;
    let mut dropped = Vec::new();
    for row in ledger.live_runs(campaign.id).await? {
        if Some(row.token.as_str()) == mine {
            continue;
        }
        match judge(&row, me, now) {
            Some(t) => {
                if ledger.drop_run(campaign.id, &row.token).await? {
                    dropped.push(t);
                }
            }
            None => live += 1,
        }
    }
    Ok((live, dropped))
}

/// What a heartbeat found.
#[derive(Debug)]
pub enum Beat {
    /// Another run took this run's lease over (or dropped it as dead).
    Lost,
    /// The lease is renewed; with several senders, `runs` live runs share
    /// the campaign (this one included) and `requeued` rows of dead runs
    /// went back to the queue.
    Renewed { runs: usize, requeued: u64 },
    /// The lease is renewed, and `mailroom campaigns pause` holds the
    /// campaign: the run stops taking recipients, as after Ctrl-C.
    Paused,
}

/// Renews `lease` every third of its time to live until the returned task
/// is aborted, telling `on_beat` what it found (a pause is found this way,
/// so it takes effect within a third of `[send] lease_secs`); stops after
/// [`Beat::Lost`]. With several senders each beat also drops dead runs
/// and re-queues their rows. A failed renewal (a busy database) is retried
/// at the next beat.
pub fn heartbeat<L: Ledger>(
    ledger: L,
    campaign: Campaign,
    lease: Lease,
    mut on_beat: impl FnMut(Beat) + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    let every = Duration::from_millis(u64::try_from(lease.ttl_ms / 3).unwrap_or(1000).max(10));
    let me = this_process();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            match beat(&ledger, &campaign, &lease, &me).await {
                Ok(Beat::Lost) => {
                    on_beat(Beat::Lost);
                    return;
                }
                Ok(b) => on_beat(b),
                Err(e) => crate::output::warning!("cannot renew the campaign's lease: {e:#}"),
            }
        }
    })
}

async fn beat<L: Ledger>(
    ledger: &L,
    campaign: &Campaign,
    lease: &Lease,
    me: &LeaseOwner,
) -> anyhow::Result<Beat> {
    let now = now_ms();
    if !ledger.renew_lease(lease, now).await? {
        return Ok(Beat::Lost);
    }
    if let Some(c) = ledger.campaign(campaign.id).await?
        && c.paused_at.is_some()
    {
        return Ok(Beat::Paused);
    }
    if ledger.senders() == Senders::One {
        return Ok(Beat::Renewed {
            runs: 1,
            requeued: 0,
        });
    }
    let (live, dropped) = drop_dead(ledger, campaign, me, Some(&lease.token), now).await?;
    for t in &dropped {
        let line = describe(t).unwrap_or_default();
        let line = line.replace("took the campaign over from", "dropped the dead run");
        crate::output::warning!("{line}; its rows go back to the queue");
    }
    let requeued = ledger.requeue_orphans(campaign.id).await?;
    Ok(Beat::Renewed {
        runs: live + 1,
        requeued,
    })
}

/// One line on how a lease was taken, for the editor; `None` when there
/// is nothing to say.
pub fn describe(taken: &Taken) -> Option<String> {
    match taken {
        Taken::Free => None,
        Taken::FromDeadProcess(o) => Some(format!(
            "took the campaign over from pid {} on host `{}`, which is gone",
            o.pid, o.host
        )),
        Taken::FromExpired(o, ago) => Some(format!(
            "took the campaign over from pid {} on host `{}`, silent for {ago} s",
            o.pid, o.host
        )),
        Taken::Beside { live, dropped } => {
            let mut lines: Vec<String> = dropped
                .iter()
                .filter_map(describe)
                .map(|l| l.replace("took the campaign over from", "dropped the dead run"))
                .collect();
            if *live > 0 {
                lines.push(format!(
                    "sending beside {} on this campaign",
                    crate::output::plural(
                        u64::try_from(*live).unwrap_or(u64::MAX),
                        "other live run"
                    )
                ));
            }
            (!lines.is_empty()).then(|| lines.join("; "))
        }
    }
}

/// Gives the lease up, logging (not failing) when the database refuses.
pub async fn release<L: Ledger>(ledger: &L, lease: &Lease) {
    if let Err(e) = ledger
        .release_lease(lease)
        .await
        .map_err(anyhow::Error::from)
        .context("at the end of the run")
    {
        crate::output::warning!("{e:#}; the next run takes the lease over");
    }
}

/// Whether `owner` (on this host) no longer runs: no such pid, a zombie, or
/// a different process under a reused pid. False when `/proc` is missing.
pub fn is_gone(owner: &LeaseOwner) -> bool {
    if !std::path::Path::new("/proc/self/stat").exists() {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{}/stat", owner.pid)) {
        Err(_) => true,
        Ok(stat) => match stat_fields(&stat) {
            Some((state, start)) => {
                state == "Z" || (owner.process_start != 0 && start != owner.process_start)
            }
            None => false,
        },
    }
}

/// The start time of `pid` (field 22 of `/proc/<pid>/stat`).
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_fields(&stat).map(|(_, start)| start)
}

/// The state (field 3) and start time (field 22) from a `stat` line. The
/// command name (field 2) may hold spaces and parentheses, so fields are
/// counted after its last `)`.
fn stat_fields(stat: &str) -> Option<(&str, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next()?;
    let start = fields.nth(18)?.parse().ok()?;
    Some((state, start))
}

/// This machine's name (`/proc/sys/kernel/hostname`, else `$HOSTNAME`).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_survive_a_command_name_with_spaces_and_parentheses() {
        let line = "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 \
                    987654 1000 10 18446744073709551615";
        assert_eq!(stat_fields(line), Some(("S", 987654)));
    }

    #[test]
    fn this_process_is_alive_and_a_changed_start_time_means_a_reused_pid() {
        let me = this_process();
        assert!(me.process_start > 0, "{me:?}");
        assert!(!is_gone(&me));
        let reused = LeaseOwner {
            process_start: me.process_start + 1,
            ..me.clone()
        };
        assert!(is_gone(&reused));
        let nobody = LeaseOwner {
            pid: u32::MAX - 1,
            ..me
        };
        assert!(is_gone(&nobody));
    }
}
