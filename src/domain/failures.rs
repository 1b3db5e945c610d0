//! Failed and deferred recipients grouped by what the relay said: its
//! reply code, enhanced status code and text, with the parts that differ
//! per recipient masked (relays echo the address, and some a queue id), so
//! 500 bounces read as one line with a count and a few examples.
use std::collections::HashMap;

use serde::Serialize;

/// Examples kept per group.
pub const EXAMPLES: usize = 3;

/// Distinct groups kept; further replies count in one "other replies"
/// group per state, so memory stays bounded whatever the relay says.
pub const MAX_GROUPS: usize = 1000;

/// What stands in for a masked part.
const MASK: &str = "…";

/// Recipients in one state that got the same (masked) reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureGroup {
    /// `failed` or `deferred`.
    pub state: String,
    /// The SMTP reply code (`550`), when the reply starts with one.
    pub code: Option<u16>,
    /// The enhanced status code (`5.1.1`), when the reply has one.
    pub enhanced_code: Option<String>,
    /// The reply with addresses and ids masked as `…`.
    pub reply: String,
    pub count: u64,
    /// The first few recipients of the group.
    pub examples: Vec<String>,
}

/// Builds [`FailureGroup`]s from rows, one at a time.
#[derive(Debug, Default)]
pub struct FailureGroups {
    groups: HashMap<(String, String), FailureGroup>,
}

impl FailureGroups {
    /// Counts one recipient in `state` whose last reply was `reply`.
    pub fn add(&mut self, state: &str, email: &str, reply: &str) {
        let mut masked = mask_reply(reply);
        if self.groups.len() >= MAX_GROUPS
            && !self
                .groups
                .contains_key(&(state.to_owned(), masked.clone()))
        {
            masked = "(other replies)".to_owned();
        }
        let g = self
            .groups
            .entry((state.to_owned(), masked.clone()))
            .or_insert_with(|| new_group(state, masked));
        g.count += 1;
        if g.examples.len() < EXAMPLES {
            g.examples.push(email.to_owned());
        }
    }

    /// The groups: failed before deferred, then the largest first.
    pub fn finish(self) -> Vec<FailureGroup> {
        let mut v: Vec<_> = self.groups.into_values().collect();
        v.sort_by(|a, b| {
            (a.state != "failed", b.count, &a.reply).cmp(&(b.state != "failed", a.count, &b.reply))
        });
        v
    }
}

fn new_group(state: &str, reply: String) -> FailureGroup {
    let mut words = reply.split_ascii_whitespace();
    let code = words
        .next()
        .filter(|w| w.len() == 3)
        .and_then(|w| w.parse::<u16>().ok());
    let enhanced_code = code
        .and_then(|_| words.next())
        .and_then(crate::transport::EnhancedCode::parse)
        .map(|c| format!("{}.{}.{}", c.class, c.subject, c.detail));
    FailureGroup {
        state: state.to_owned(),
        code,
        enhanced_code,
        reply,
        count: 0,
        examples: Vec::new(),
    }
}

/// `reply` with every address (`<a@b.example>`, `a@b.example`) and every
/// id-like word (10 or more characters mixing letters and at least two
/// digits: queue ids, hashes) masked as `…`. The codes are kept.
pub fn mask_reply(reply: &str) -> String {
    let mut out = String::with_capacity(reply.len());
    for (i, word) in reply.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&mask_word(word));
    }
    out
}

fn mask_word(word: &str) -> String {
    if let Some(at) = word.find('@') {
        // Keep the punctuation around the address: `<…>:`, `(…)`.
        let is_part = |c: char| {
            !matches!(
                c,
                '<' | '>' | '(' | ')' | '[' | ']' | '"' | '\'' | ',' | ';' | ':'
            )
        };
        let start = word[..at].rfind(|c| !is_part(c)).map_or(0, |i| i + 1);
        let end = word[at..]
            .find(|c| !is_part(c))
            .map_or(word.len(), |i| at + i);
        return format!("{}{MASK}{}", &word[..start], &word[end..]);
    }
    // Ids mix letters and digits; words, numbers and codes do not.
    let core = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let id_like = core.len() >= 10
        && core.chars().filter(char::is_ascii_digit).count() >= 2
        && core.chars().any(|c| c.is_ascii_alphabetic())
        && core
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if id_like {
        return word.replacen(core, MASK, 1);
    }
    word.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_echoed_by_the_relay_are_masked_and_the_codes_kept() {
        assert_eq!(
            mask_reply("550 5.1.1 <user7@example.com>: Recipient address rejected: User unknown"),
            "550 5.1.1 <…>: Recipient address rejected: User unknown"
        );
        assert_eq!(
            mask_reply(
                "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient a.b@x.example not found"
            ),
            "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient … not found"
        );
        assert_eq!(
            mask_reply("452 4.2.2 (mailbox of bob@x.example) is full"),
            "452 4.2.2 (mailbox of …) is full"
        );
    }

    #[test]
    fn queue_ids_are_masked_but_words_and_numbers_are_not() {
        assert_eq!(
            mask_reply("550 5.7.1 rejected a640c23a62f3a-abc123si12345ejb.42 - gsmtp"),
            "550 5.7.1 rejected … - gsmtp"
        );
        let plain = "552 5.3.4 Message size exceeds fixed limit 10240000 (Postfix2)";
        assert_eq!(mask_reply(plain), plain);
    }

    #[test]
    fn a_thousand_echoed_replies_make_two_groups_with_examples() {
        let mut g = FailureGroups::default();
        for i in 1..=1000 {
            let email = format!("user{i}@example.com");
            if i % 2 == 1 {
                g.add(
                    "failed",
                    &email,
                    &format!("550 5.1.1 <{email}>: User unknown"),
                );
            } else {
                g.add(
                    "deferred",
                    &email,
                    &format!("450 4.2.0 <{email}>: Mailbox busy"),
                );
            }
        }
        let groups = g.finish();
        assert_eq!(groups.len(), 2);
        let failed = &groups[0];
        assert_eq!(
            (failed.state.as_str(), failed.count, failed.code),
            ("failed", 500, Some(550))
        );
        assert_eq!(failed.enhanced_code.as_deref(), Some("5.1.1"));
        assert_eq!(failed.reply, "550 5.1.1 <…>: User unknown");
        assert_eq!(
            failed.examples,
            [
                "user1@example.com",
                "user3@example.com",
                "user5@example.com"
            ]
        );
        assert_eq!(
            (groups[1].state.as_str(), groups[1].count),
            ("deferred", 500)
        );
    }

    #[test]
    fn replies_beyond_the_group_cap_count_as_other_replies() {
        let mut g = FailureGroups::default();
        for i in 0..MAX_GROUPS + 50 {
            g.add("failed", "a@example.com", &format!("550 reason number {i}"));
        }
        let groups = g.finish();
        assert_eq!(groups.len(), MAX_GROUPS + 1);
        let other = groups
            .iter()
            .find(|g| g.reply == "(other replies)")
            .unwrap();
        assert_eq!(other.count, 50);
        assert_eq!(other.code, None);
    }
}
