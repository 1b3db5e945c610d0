//! What a classified message means for the store: an [`Event`] becomes a
//! [`Verdict`], pure (the store applies it, `mailroom inbound` reports it).
//!
//! A bounce or complaint is matched to its subscriber by our VERP tag first,
//! then by `Original-`/`Final-Recipient` (or ARF's `Original-Rcpt-To`)
//! together with the original Message-ID, which only counts when it is the
//! very Message-ID `mailroom send` gave that address for that issue.
use super::{Complaint, Dsn, Event, Outcome};
use crate::domain::{EmailAddress, IssueNumber, SubscriberId};
use crate::message::message_id;
use crate::token::verp::{Mailing, VerpTag};

/// Whom a bounce or complaint is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// Named by a genuine VERP tag or unsubscribe token.
    Subscriber(IssueNumber, SubscriberId),
    /// Named by address, with the issue's Message-ID for that address.
    Address(IssueNumber, EmailAddress),
}

/// One change to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// A DSN: `hard` for a permanent failure, else a soft bounce.
    Bounce {
        who: Who,
        hard: bool,
        status: Option<String>,
        diagnostic: Option<String>,
    },
    /// An ARF report.
    Complaint { who: Who, feedback_type: String },
}

/// What to do with one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Apply these changes; the message is used.
    Apply(Vec<Effect>),
    /// Nothing to change, but the message is understood (an auto-reply, a
    /// bounce of a test send): it is used, with this reason.
    Ignore(String),
    /// Not understood, or about nobody we can name: kept where it is.
    Keep(String),
    /// A mailto unsubscribe request with a genuine token.
    Unsubscribe(SubscriberId),
}

/// The verdict on `event` (`ctx` checks unsubscribe tokens).
pub fn verdict(event: Event, ctx: &super::Context) -> Verdict {
    match event {
        Event::Bounce(dsn) => bounce(&dsn),
        Event::Complaint(c) => complaint(&c),
        Event::Unsubscribe { token } => match ctx.unsubscribe(&token) {
            Some(id) => Verdict::Unsubscribe(id),
            None => Verdict::Keep("the subject's unsubscribe token does not verify".into()),
        },
        Event::AutoReply { reason } => Verdict::Ignore(format!("an auto-reply ({reason})")),
        Event::Challenge { reason } => {
            Verdict::Ignore(format!("a challenge-response request ({reason})"))
        }
        Event::Unrecognised(why) => Verdict::Keep(why.to_string()),
    }
}

fn bounce(dsn: &Dsn) -> Verdict {
    let bounces: Vec<_> = dsn
        .recipients
        .iter()
        .filter(|r| r.outcome() != Outcome::NotABounce)
        .collect();
    if bounces.is_empty() {
        return Verdict::Ignore(
            "a delivery report that is not a bounce (delivered or relayed)".into(),
        );
    }
    if let Some(tag) = dsn.verp {
        let who = match tagged(tag, "bounce") {
            Ok(who) => who,
            Err(ignored) => return ignored,
        };
        // Our envelope has one recipient: the worst report is the one.
        let worst = bounces
            .iter()
            .find(|r| r.outcome() == Outcome::HardBounce)
            .unwrap_or(&bounces[0]);
        return Verdict::Apply(vec![effect(who, worst)]);
    }
    let effects: Vec<Effect> = bounces
        .iter()
        .filter_map(|r| {
            let address = r.original_recipient.as_ref().or(r.final_recipient.as_ref());
            let who = by_address(dsn.original_message_id.as_deref(), address)?;
            Some(effect(who, r))
        })
        .collect();
    if effects.is_empty() {
        return Verdict::Keep(
            "a bounce without our VERP tag or the Message-ID we gave its recipient".into(),
        );
    }
    Verdict::Apply(effects)
}

fn effect(who: Who, r: &super::DsnRecipient) -> Effect {
    Effect::Bounce {
        who,
        hard: r.outcome() == Outcome::HardBounce,
        status: r.status.map(|s| s.to_string()),
        diagnostic: r.diagnostic.clone(),
    }
}

fn complaint(c: &Complaint) -> Verdict {
    let issue = c.original_message_id.as_deref().and_then(issue_of);
    let who = match (c.verp, c.unsubscribe, issue) {
        (Some(tag), _, _) => match tagged(tag, "complaint") {
            Ok(who) => Some(who),
            Err(ignored) => return ignored,
        },
        (None, Some(id), Some(issue)) => Some(Who::Subscriber(issue, id)),
        _ => by_address(
            c.original_message_id.as_deref(),
            c.original_rcpt_to.as_ref(),
        ),
    };
    match who {
        Some(who) => Verdict::Apply(vec![Effect::Complaint {
            who,
            feedback_type: c.feedback_type.clone(),
        }]),
        None => Verdict::Keep("a complaint that names none of our subscribers".into()),
    }
}

/// The subscriber a tag names, or why there is nobody to change.
fn tagged(tag: VerpTag, what: &str) -> Result<Who, Verdict> {
    match tag.mailing() {
        Mailing::Campaign(issue, id) => Ok(Who::Subscriber(issue, id)),
        Mailing::TestSend(issue) => Err(Verdict::Ignore(format!(
            "a {what} of a test send of issue {issue} (no subscriber to change)"
        ))),
        Mailing::Confirmation(id) => Err(Verdict::Ignore(format!(
            "a {what} of the confirmation email to subscriber {id} (pending subscribers \
             are not mailed)"
        ))),
    }
}

/// `address` when `message_id` is the one `mailroom send` gave it.
fn by_address(given: Option<&str>, address: Option<&EmailAddress>) -> Option<Who> {
    let (given, address) = (given?.trim(), address?);
    let issue = issue_of(given)?;
    let domain = given.trim_end_matches('>').rsplit_once('@')?.1;
    let expected = message_id(issue, address, domain);
    expected
        .eq_ignore_ascii_case(given)
        .then(|| Who::Address(issue, address.clone()))
}

/// The issue in one of our Message-IDs, `<issue-625.…@domain>`.
pub fn issue_of(message_id: &str) -> Option<IssueNumber> {
    let rest = message_id
        .trim()
        .trim_start_matches('<')
        .strip_prefix("issue-")?;
    rest.split_once('.')?.0.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::{Action, DsnRecipient, StatusCode};

    fn addr(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    fn dsn(verp: Option<VerpTag>, message_id: Option<String>, action: Action) -> Dsn {
        Dsn {
            reporting_mta: None,
            recipients: vec![DsnRecipient {
                action,
                status: StatusCode::parse("5.1.1"),
                diagnostic: Some("smtp; 550 no such user".into()),
                final_recipient: Some(addr("a@example.com")),
                original_recipient: None,
            }],
            original_message_id: message_id,
            verp,
        }
    }

    #[test]
    fn an_address_counts_only_with_the_message_id_we_gave_it() {
        let n = IssueNumber::new(625).unwrap();
        let ours = message_id(n, &addr("a@example.com"), "example.org");
        let got = bounce(&dsn(None, Some(ours), Action::Failed));
        let Verdict::Apply(effects) = got else {
            panic!("{got:?}")
        };
        assert!(matches!(
            &effects[0],
            Effect::Bounce { who: Who::Address(i, a), hard: true, .. }
                if *i == n && a.as_str() == "a@example.com"
        ));
        let other = message_id(n, &addr("b@example.com"), "example.org");
        assert!(matches!(
            bounce(&dsn(None, Some(other), Action::Failed)),
            Verdict::Keep(_)
        ));
        assert!(matches!(
            bounce(&dsn(None, None, Action::Failed)),
            Verdict::Keep(_)
        ));
    }

    #[test]
    fn bounces_of_test_sends_and_confirmations_change_nobody() {
        let n = IssueNumber::new(625);
        let test = VerpTag {
            issue: n,
            subscriber: SubscriberId::new(0),
        };
        assert!(matches!(
            bounce(&dsn(Some(test), None, Action::Failed)),
            Verdict::Ignore(_)
        ));
        let confirm = VerpTag {
            issue: None,
            subscriber: SubscriberId::new(4),
        };
        assert!(matches!(
            bounce(&dsn(Some(confirm), None, Action::Failed)),
            Verdict::Ignore(_)
        ));
        let delivered = VerpTag {
            issue: n,
            subscriber: SubscriberId::new(4),
        };
        assert!(matches!(
            bounce(&dsn(Some(delivered), None, Action::Delivered)),
            Verdict::Ignore(_)
        ));
    }

    #[test]
    fn the_issue_comes_out_of_our_message_ids_only() {
        assert_eq!(issue_of("<issue-625.ab12@x.org>"), IssueNumber::new(625));
        assert_eq!(issue_of("<test-1-0.625@x.org>"), None);
        assert_eq!(issue_of("<issue-0.ab@x.org>"), None);
    }
}
