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

    #[test]
    fn the_waiting_line_names_the_next_retry_and_the_give_up_time() {
        // 2025-11-30 12:00:00 UTC.
        let now = 1_764_504_000_000;
        let w = Waiting {
            deferred: 500,
            next_retry_unix_ms: now + 190_000,
            give_up_unix_ms: now + 700_000,
        };
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
}
