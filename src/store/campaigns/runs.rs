//! The campaigns' run history (`campaign_runs`): each run's entry, written
//! by the run as it goes, and read back summed for `status`. Portable SQL
//! (`$n` placeholders, `ON CONFLICT … DO UPDATE` with `excluded`), the same
//! on both backends.
use anyhow::Context;

use crate::domain::{CampaignId, Pace, RunCounts, RunEntry, RunHistory, RunNote};
use crate::store::{Cols, Store};

/// Writes a run's entry: inserts it on the run's first note, then
/// updates its counts, times and outcome.
pub(super) async fn note_run(store: &Store, n: &RunNote) -> anyhow::Result<()> {
    let count = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    on_pool!(store, p => sqlx::query(
        "INSERT INTO campaign_runs (campaign_id, token, host, pid, issue_file, started_at, \
         updated_at, ended_at, outcome, sent, failed, skipped, deferrals, waited_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (token) DO UPDATE SET updated_at = excluded.updated_at, \
         ended_at = excluded.ended_at, outcome = excluded.outcome, sent = excluded.sent, \
         failed = excluded.failed, skipped = excluded.skipped, \
         deferrals = excluded.deferrals, waited_ms = excluded.waited_ms",
    )
    .bind(n.campaign.get())
    .bind(&n.token)
    .bind(&n.host)
    .bind(i64::from(n.pid))
    .bind(n.issue_file.as_deref())
    .bind(n.started_at)
    .bind(n.now)
    .bind(n.outcome.as_ref().map(|_| n.now))
    .bind(n.outcome.as_deref())
    .bind(count(n.counts.sent))
    .bind(count(n.counts.failed))
    .bind(count(n.counts.skipped))
    .bind(count(n.counts.deferrals))
    .bind(n.waited_ms)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))
    .context("cannot record the run in the campaign's history")?;
    Ok(())
}

impl Store {
    /// The campaign's run history with its latest run; the pace over all
    /// runs counts time that runs shared once ([`Pace::over_runs`]).
    pub async fn run_history(&self, campaign: CampaignId) -> anyhow::Result<RunHistory> {
        let spans: Vec<(i64, i64, i64, u64)> = on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT started_at, COALESCE(ended_at, updated_at) AS ended, waited_ms, \
                 sent + failed AS messages FROM campaign_runs WHERE campaign_id = $1",
            )
            .bind(campaign.get())
            .fetch_all(p)
            .await
            .context("cannot read the campaign's run history")?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.int("started_at")?,
                        r.int("ended")?,
                        r.int("waited_ms")?,
                        r.count("messages")?,
                    ))
                })
                .collect::<anyhow::Result<_>>()?
        });
        Ok(RunHistory {
            runs: spans.len() as u64,
            first_started: spans.iter().map(|s| s.0).min(),
            last_started: spans.iter().map(|s| s.0).max(),
            pace: Pace::over_runs(&spans),
            last: self.runs(campaign, 1).await?.into_iter().next(),
        })
    }

    /// The campaign's latest `limit` runs, newest first.
    pub async fn runs(&self, campaign: CampaignId, limit: u32) -> anyhow::Result<Vec<RunEntry>> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT token, host, pid, issue_file, started_at, updated_at, ended_at, outcome, \
                 sent, failed, skipped, deferrals, waited_ms FROM campaign_runs \
                 WHERE campaign_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2",
            )
            .bind(campaign.get())
            .bind(i64::from(limit))
            .fetch_all(p)
            .await
            .context("cannot read the campaign's runs")?;
            rows.iter().map(entry_from_row).collect()
        })
    }
}

fn entry_from_row(r: &impl Cols) -> anyhow::Result<RunEntry> {
    let counts = RunCounts {
        sent: r.count("sent")?,
        failed: r.count("failed")?,
        skipped: r.count("skipped")?,
        deferrals: r.count("deferrals")?,
    };
    let started_at = r.int("started_at")?;
    let updated_at = r.int("updated_at")?;
    let ended_at = r.opt_int("ended_at")?;
    Ok(RunEntry {
        token: r.text("token")?,
        host: r.text("host")?,
        pid: u32::try_from(r.int("pid")?).unwrap_or(0),
        issue_file: r.opt_text("issue_file")?,
        started_at,
        updated_at,
        ended_at,
        outcome: r.opt_text("outcome")?,
        pace: Pace::new(
            counts.messages(),
            ended_at.unwrap_or(updated_at) - started_at,
            r.int("waited_ms")?,
        ),
        counts,
    })
}
