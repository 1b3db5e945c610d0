//! What `mailroom inbound` says: one line per message that changed someone
//! or was kept (by subscriber id, never by address), and a summary.
use std::process::ExitCode;

use crate::output::{note, plural};
use crate::store::Applied;

/// Says what one message did, on stderr.
pub fn line(what: &str, a: &Applied) {
    let said = match a {
        Applied::AlreadyDone { kind } if kind == "kept" => {
            "still not usable (reported before); left in place".to_owned()
        }
        Applied::AlreadyDone { kind } => {
            format!(
                "already handled by an earlier run ({})",
                kind.replace('_', " ")
            )
        }
        Applied::HardBounce {
            subscriber,
            issue,
            changed,
            soft,
        } => {
            let why = match soft {
                Some(n) => format!("{n} soft bounces"),
                None => "hard bounce".into(),
            };
            let now = if *changed {
                "marked bounced"
            } else {
                "was no longer subscribed"
            };
            format!("{why} of issue {issue}: subscriber {subscriber} {now}")
        }
        Applied::SoftBounce {
            subscriber,
            issue,
            count,
        } => {
            format!("soft bounce of issue {issue}: subscriber {subscriber} ({count} in the window)")
        }
        Applied::Complaint {
            subscriber,
            issue,
            changed,
        } => {
            let now = if *changed {
                "marked complained"
            } else {
                "had already complained"
            };
            format!("complaint about issue {issue}: subscriber {subscriber} {now}")
        }
        Applied::Unsubscribe {
            subscriber,
            changed: true,
        } => format!("unsubscribed subscriber {subscriber}"),
        Applied::Unsubscribe { subscriber, .. } => {
            format!("subscriber {subscriber} was already unsubscribed")
        }
        Applied::Ignored(why) => format!("{why}: ignored"),
        Applied::Kept(why) => format!("{why}; left in place"),
    };
    note!("inbound: {what}: {said}");
}

/// Counts over a sweep.
#[derive(Debug, Default)]
pub struct Tally {
    total: u64,
    hard: u64,
    marked: u64,
    soft: u64,
    complaints: u64,
    unsubscribes: u64,
    ignored: u64,
    kept: u64,
    again: u64,
}

impl Tally {
    /// Counts `a`; reports it when it changed someone or was kept.
    pub fn add(&mut self, what: &str, a: &Applied) {
        self.total += 1;
        let quiet = match a {
            Applied::HardBounce { changed, .. } => {
                self.hard += 1;
                self.marked += u64::from(*changed);
                false
            }
            Applied::SoftBounce { .. } => {
                self.soft += 1;
                true
            }
            Applied::Complaint { .. } => {
                self.complaints += 1;
                false
            }
            Applied::Unsubscribe { .. } => {
                self.unsubscribes += 1;
                false
            }
            Applied::Ignored(_) => {
                self.ignored += 1;
                true
            }
            Applied::Kept(_) => {
                self.kept += 1;
                false
            }
            Applied::AlreadyDone { .. } if a.is_kept() => {
                self.kept += 1;
                false
            }
            Applied::AlreadyDone { .. } => {
                self.again += 1;
                true
            }
        };
        if !quiet {
            line(what, a);
        }
    }

    /// The closing line.
    pub fn summary(&self, source: &str) {
        note!(
            "inbound: {} in {source}: {} ({} marked bounced), {}, {}, {}, {} ignored, {} left \
             in place, {} handled before",
            plural(self.total, "message"),
            plural(self.hard, "hard bounce"),
            self.marked,
            plural(self.soft, "soft bounce"),
            plural(self.complaints, "complaint"),
            plural(self.unsubscribes, "unsubscribe"),
            self.ignored,
            self.kept,
            self.again,
        );
    }

    /// 65 when a message was left in place, else 0.
    pub fn exit(&self) -> ExitCode {
        ExitCode::from(if self.kept > 0 { super::EX_DATAERR } else { 0 })
    }
}
