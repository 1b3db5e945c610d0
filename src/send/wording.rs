//! How a run's figures read, the same in the progress bar, the log lines,
//! the run summary and `status`: durations, clock times (UTC), rates, the
//! line shown while waiting for retries.
use time::OffsetDateTime;

use crate::domain::Waiting;

/// `0.4s`, `12s`, `4m10s`, `2h05m`.
pub fn duration(secs: f64) -> String {
    let secs = secs.max(0.0);
    if secs < 10.0 {
        return format!("{secs:.1}s");
    }
    let s = secs.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

/// Messages per second: whole numbers, one decimal below 10.
pub fn rate(per_sec: f64) -> String {
    if per_sec < 10.0 {
        format!("{per_sec:.1} msg/s")
    } else {
        format!("{per_sec:.0} msg/s")
    }
}

/// A unix time (ms) as `12:03:10 UTC` when it falls on the same UTC day as
/// `now_ms`, else as `2025-11-30 12:03:10 UTC`.
pub fn clock(unix_ms: i64, now_ms: i64) -> String {
    let (Some(t), Some(now)) = (utc(unix_ms), utc(now_ms)) else {
        return unix_ms.to_string();
    };
    let same_day = time::macros::format_description!("[hour]:[minute]:[second] UTC");
    let other_day =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    let format = if t.date() == now.date() {
        same_day
    } else {
        other_day
    };
    t.format(format).unwrap_or_else(|_| unix_ms.to_string())
}

/// A unix time (ms) as `2025-11-30 12:03 UTC`.
pub fn date_time(unix_ms: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    utc(unix_ms)
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| unix_ms.to_string())
}

fn utc(unix_ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000).ok()
}

/// `waiting for 500 deferred; next retry at 12:03:10 UTC (in 4m10s);
/// giving up by 12:11:40 UTC`.
pub fn waiting_line(w: &Waiting, now_ms: i64) -> String {
    let next = if w.next_retry_unix_ms <= now_ms {
        "next retry now".to_owned()
    } else {
        format!(
            "next retry at {} (in {})",
            clock(w.next_retry_unix_ms, now_ms),
            duration((w.next_retry_unix_ms - now_ms) as f64 / 1000.0)
        )
    };
    format!(
        "waiting for {} deferred; {next}; giving up by {}",
        w.deferred,
        clock(w.give_up_unix_ms, now_ms)
    )
}

/// Why a run that leaves deferred rows stops, and what to run next. The
/// retry can fall due between the run's decision to stop and this line (with
/// a `max_wait_secs` near 0), so the reason is read at `now_ms`, like the
/// waiting line above it, and the two never contradict each other.
pub fn waiting_stop(w: Option<&Waiting>, now_ms: i64, issue: &str) -> String {
    let Some(w) = w else {
        return format!(
            "waiting for deferred recipients\nthis run stops here: rerun `mailroom send \
             {issue}` later, or `mailroom send {issue} --retry-now` to try them at once"
        );
    };
    let why = if w.next_retry_unix_ms <= now_ms {
        format!(
            "the next retry fell due only as this run stopped (`[send] max_wait_secs`): rerun \
             `mailroom send {issue}` now"
        )
    } else {
        format!(
            "the next retry is later than `[send] max_wait_secs`, so this run stops here: \
             rerun `mailroom send {issue}` then"
        )
    };
    format!(
        "{}\n{why}, or `mailroom send {issue} --retry-now` to try them at once",
        waiting_line(w, now_ms)
    )
}

/// What to run after a pause: `` `mailroom campaigns resume 663`, then rerun
/// `mailroom send FILE` `` (the refusal to send and a paused run's summary).
pub fn resume_paused(issue: impl std::fmt::Display, file: &str) -> String {
    format!("`mailroom campaigns resume {issue}`, then rerun `mailroom send {file}`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration(0.44), "0.4s");
        assert_eq!(duration(42.0), "42s");
        assert_eq!(duration(250.0), "4m10s");
        assert_eq!(duration(7_500.0), "2h05m");
    }

    /// 2025-11-30 12:00:00 UTC.
    const NOW: i64 = 1_764_504_000_000;

    /// `deferred` rows, the next due in `next_ms`, given up 700 s from now.
    fn waiting(deferred: u64, next_ms: i64) -> Waiting {
        Waiting {
            deferred,
            next_retry_unix_ms: NOW + next_ms,
            give_up_unix_ms: NOW + 700_000,
        }
    }

    #[test]
    fn the_waiting_line_names_the_next_retry_and_the_give_up_time() {
        let now = NOW;
        let w = waiting(500, 190_000);
        assert_eq!(
            waiting_line(&w, now),
            "waiting for 500 deferred; next retry at 12:03:10 UTC (in 3m10s); giving up by \
             12:11:40 UTC"
        );
        let tomorrow = Waiting {
            give_up_unix_ms: now + 86_400_000,
            next_retry_unix_ms: now - 5,
            ..w
        };
        assert!(
            waiting_line(&tomorrow, now)
                .ends_with("next retry now; giving up by 2025-12-01 12:00:00 UTC")
        );
    }

    #[test]
    fn rates_keep_one_decimal_below_ten() {
        assert_eq!(rate(152.4), "152 msg/s");
        assert_eq!(rate(0.5), "0.5 msg/s");
    }

    #[test]
    fn the_stop_advice_never_calls_a_retry_that_is_due_later_than_the_wait() {
        let now = NOW;
        let w = waiting(3, 60_000);
        let later = waiting_stop(Some(&w), now, "issue.md");
        assert!(later.contains("in 1m00s"), "{later}");
        assert!(
            later.contains("later than `[send] max_wait_secs`"),
            "{later}"
        );
        assert!(later.ends_with("rerun `mailroom send issue.md` then, or `mailroom send issue.md --retry-now` to try them at once"), "{later}");
        let due = waiting_stop(Some(&w), now + 60_000, "issue.md");
        assert!(due.contains("next retry now"), "{due}");
        assert!(!due.contains("later than"), "{due}");
        assert!(due.contains("fell due only as this run stopped"), "{due}");
        assert!(due.contains("rerun `mailroom send issue.md` now"), "{due}");
        assert!(waiting_stop(None, now, "a.md").contains("rerun `mailroom send a.md` later"));
    }
}
