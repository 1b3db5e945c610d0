//! A campaign's hard bounces (at send time or by a later DSN), soft
//! bounces and complaints, as counts and rates of the messages handed to
//! the relay, with the warnings mailbox providers' limits call for.
use serde::Serialize;

use crate::domain::CampaignCounts;
use crate::output::plural;
use crate::store::BounceCounts;

/// Complaint rate above which `status` warns (Gmail's bulk-sender
/// guidance: stay below 0.1%, never reach 0.3%).
pub const COMPLAINT_WARN: f64 = 0.001;
/// Hard-bounce rate above which `status` warns (a list needs cleaning).
pub const HARD_BOUNCE_WARN: f64 = 0.02;

/// What `status` shows.
#[derive(Debug, Clone, Serialize)]
pub struct BounceReport {
    pub hard_bounces: u64,
    pub hard_bounce_rate: f64,
    pub soft_bounces: u64,
    pub soft_bounce_rate: f64,
    pub complaints: u64,
    pub complaint_rate: f64,
    /// Rates over the limits, in words.
    pub warnings: Vec<String>,
}

impl BounceReport {
    /// Rates over the sent and failed messages of `counts`.
    pub fn new(b: BounceCounts, counts: &CampaignCounts) -> Self {
        let handed = (counts.sent + counts.failed) as f64;
        let rate = |n: u64| if handed > 0.0 { n as f64 / handed } else { 0.0 };
        let (hard, complaints) = (rate(b.hard_bounces), rate(b.complaints));
        let mut warnings = Vec::new();
        if complaints > COMPLAINT_WARN {
            warnings.push(format!(
                "complaints are {} of messages, over 0.1%: Gmail and Yahoo filter or refuse \
                 senders above 0.3%; check who is mailed and how they signed up",
                percent(complaints)
            ));
        }
        if hard > HARD_BOUNCE_WARN {
            warnings.push(format!(
                "hard bounces are {} of messages, over 2%: the list holds dead addresses \
                 (bounced ones are no longer mailed); check old imports",
                percent(hard)
            ));
        }
        Self {
            hard_bounces: b.hard_bounces,
            hard_bounce_rate: hard,
            soft_bounces: b.soft_bounces,
            soft_bounce_rate: rate(b.soft_bounces),
            complaints: b.complaints,
            complaint_rate: complaints,
            warnings,
        }
    }

    /// The table's line.
    pub fn line(&self) -> String {
        format!(
            "{} hard ({}), {} soft ({}), {} ({})",
            self.hard_bounces,
            percent(self.hard_bounce_rate),
            self.soft_bounces,
            percent(self.soft_bounce_rate),
            plural(self.complaints, "complaint"),
            percent(self.complaint_rate),
        )
    }
}

/// `0.25%`.
fn percent(rate: f64) -> String {
    format!("{:.2}%", rate * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(hard: u64, complaints: u64, sent: u64) -> BounceReport {
        let b = BounceCounts {
            hard_bounces: hard,
            soft_bounces: 1,
            complaints,
        };
        let c = CampaignCounts {
            sent,
            ..CampaignCounts::default()
        };
        BounceReport::new(b, &c)
    }

    #[test]
    fn warnings_start_above_a_tenth_of_a_percent_of_complaints_and_two_percent_of_bounces() {
        assert!(
            report(20, 1, 1000).warnings.is_empty(),
            "2% and 0.1% are fine"
        );
        let over = report(21, 2, 1000);
        assert_eq!(over.warnings.len(), 2, "{:?}", over.warnings);
        assert!(over.warnings[0].contains("0.20%"));
        assert!(over.warnings[1].contains("2.10%"));
        assert_eq!(
            report(0, 0, 0).line(),
            "0 hard (0.00%), 1 soft (0.00%), 0 complaints (0.00%)"
        );
    }
}
