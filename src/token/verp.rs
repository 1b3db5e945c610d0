//! VERP: a per-recipient envelope sender, `bounces+<tag>@bounces.example.org`
//! built from `[bounces] address`, so a bounce that arrives days later
//! names the campaign and the subscriber without quoting any address.
//!
//! The tag is `<issue>-<subscriber id>-<mac>`. Mail that is not an issue
//! to a subscriber has a tag too: a test send (`send --test`) names
//! subscriber 0, and a confirmation email from `serve` names issue 0. The MAC is HMAC-SHA256 over
//! a VERP-only purpose, the issue and the id, keyed with the web secret
//! (like the unsubscribe tokens), truncated to 96 bits and written in
//! lowercase hex, because some mail systems lowercase the local part of an
//! address they bounce to. A tag can't be forged or moved to another
//! subscriber or issue without the secret.
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};

use super::Keyring;
use crate::domain::{EmailAddress, IssueNumber, SubscriberId};

/// MAC bytes kept in a tag (96 bits).
const MAC_LEN: usize = 12;

/// The separator between the bounce mailbox and the tag (Postfix's
/// `recipient_delimiter`; Exim and others use the same by default).
pub const DELIMITER: char = '+';

/// Longer input is refused before any work (a genuine tag is ≤ 55 chars).
const MAX_TAG_LEN: usize = 64;

/// What a genuine tag identifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerpTag {
    /// The issue; `None` for a confirmation email (issue 0 in the tag).
    pub issue: Option<IssueNumber>,
    /// The subscriber; [`TEST_SEND`] for a test send.
    pub subscriber: SubscriberId,
}

/// The subscriber id in the tags of test sends (no subscriber has it).
pub const TEST_SEND: i64 = 0;

/// What a tagged message was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mailing {
    /// An issue sent to a subscriber by `mailroom send`.
    Campaign(IssueNumber, SubscriberId),
    /// `mailroom send --test` of an issue.
    TestSend(IssueNumber),
    /// A confirmation email (double opt-in) from `serve`.
    Confirmation(SubscriberId),
}

impl VerpTag {
    /// What the tagged message was.
    pub fn mailing(self) -> Mailing {
        match self.issue {
            None => Mailing::Confirmation(self.subscriber),
            Some(issue) if self.subscriber.get() == TEST_SEND => Mailing::TestSend(issue),
            Some(issue) => Mailing::Campaign(issue, self.subscriber),
        }
    }
}

/// The tag for (`issue`, `subscriber`), signed with `secret`.
pub fn tag(secret: &[u8], issue: Option<IssueNumber>, subscriber: SubscriberId) -> String {
    let mac: String = mac(secret, issue, subscriber)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}-{}-{mac}",
        issue.map_or(0, IssueNumber::get),
        subscriber.get()
    )
}

/// The envelope sender (MAIL FROM) of one message: the VERP address for
/// `issue` and `subscriber` when `[bounces] address` is set, else `from`.
pub fn envelope_sender(
    secret: &[u8],
    bounce: Option<&EmailAddress>,
    from: &EmailAddress,
    issue: Option<IssueNumber>,
    subscriber: SubscriberId,
) -> lettre::Address {
    let address = match bounce {
        Some(b) => address(secret, b, issue, subscriber),
        None => from.clone(),
    };
    address
        .as_str()
        .parse()
        .expect("an EmailAddress is a valid SMTP address")
}

/// The envelope sender for one recipient: `bounce`'s local part, `+`, the
/// tag, `@` and `bounce`'s domain. The local part stays within RFC 5321's
/// 64 octets for a bounce mailbox name of up to 9 characters before the
/// tag; longer names still work with the relays in common use.
pub fn address(
    secret: &[u8],
    bounce: &EmailAddress,
    issue: Option<IssueNumber>,
    subscriber: SubscriberId,
) -> EmailAddress {
    let (local, domain) = split(bounce);
    let text = format!(
        "{local}{DELIMITER}{}@{domain}",
        tag(secret, issue, subscriber)
    );
    EmailAddress::parse(&text).expect("a tag adds only [0-9a-f-] to a valid address")
}

/// The tag of `recipient` if it is `bounce`'s mailbox plus a tag that is
/// genuine under any secret of `keys` (the domain and mailbox name compared
/// without regard to case).
pub fn parse_address(keys: &Keyring, bounce: &EmailAddress, recipient: &str) -> Option<VerpTag> {
    let recipient = recipient.trim().trim_matches(['<', '>']);
    let (local, domain) = recipient.rsplit_once('@')?;
    let (want_local, want_domain) = split(bounce);
    if !domain.eq_ignore_ascii_case(want_domain) {
        return None;
    }
    let (mailbox, tag) = local.split_once(DELIMITER)?;
    if !mailbox.eq_ignore_ascii_case(want_local) {
        return None;
    }
    parse_tag(keys, tag)
}

/// What `tag` identifies, if it is genuine under any secret of `keys`
/// (every secret is tried, in constant time per secret).
pub fn parse_tag(keys: &Keyring, tag: &str) -> Option<VerpTag> {
    if tag.len() > MAX_TAG_LEN {
        return None;
    }
    let mut parts = tag.split('-');
    let issue = IssueNumber::new(number(parts.next()?)?.try_into().ok()?);
    let subscriber = SubscriberId::new(number(parts.next()?)?);
    let given = hex(parts.next()?)?;
    if parts.next().is_some() {
        return None;
    }
    let genuine = keys.all().fold(Choice::from(0), |ok, key| {
        ok | given.ct_eq(&mac(key, issue, subscriber))
    });
    bool::from(genuine).then_some(VerpTag { issue, subscriber })
}

fn split(address: &EmailAddress) -> (&str, &str) {
    address
        .as_str()
        .rsplit_once('@')
        .expect("an EmailAddress has an `@`")
}

/// A plain decimal number without sign or leading zeros that fits an i64.
fn number(text: &str) -> Option<i64> {
    let plain = !text.is_empty()
        && text.len() <= 19
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    plain.then(|| text.parse().ok()).flatten()
}

/// Exactly `MAC_LEN` bytes of hex, either case (a lowercased tag is fine).
fn hex(text: &str) -> Option<[u8; MAC_LEN]> {
    if text.len() != MAC_LEN * 2 {
        return None;
    }
    let mut out = [0; MAC_LEN];
    for (i, pair) in text.as_bytes().chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

fn mac(secret: &[u8], issue: Option<IssueNumber>, subscriber: SubscriberId) -> [u8; MAC_LEN] {
    let mut m =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    m.update(b"mailroom-verp-v1");
    m.update(&[0]);
    m.update(&issue.map_or(0, IssueNumber::get).to_be_bytes());
    m.update(&subscriber.get().to_be_bytes());
    let full = m.finalize().into_bytes();
    let mut out = [0; MAC_LEN];
    out.copy_from_slice(&full[..MAC_LEN]);
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn keys() -> Keyring {
        Keyring::new(KEY.to_vec(), vec![])
    }

    fn bounce() -> EmailAddress {
        EmailAddress::parse("bounces@bounces.example.org").unwrap()
    }

    fn n(i: u32) -> Option<IssueNumber> {
        IssueNumber::new(i)
    }

    #[test]
    fn an_address_names_the_issue_and_subscriber_and_reveals_no_address() {
        let a = address(KEY, &bounce(), n(625), SubscriberId::new(1234));
        let text = a.as_str();
        assert!(text.starts_with("bounces+625-1234-"), "{text}");
        assert!(text.ends_with("@bounces.example.org"), "{text}");
        assert!(text.split('@').next().unwrap().len() <= 64, "{text}");
        let got = parse_address(&keys(), &bounce(), text).unwrap();
        assert_eq!(
            got,
            VerpTag {
                issue: n(625),
                subscriber: SubscriberId::new(1234)
            }
        );
    }

    #[test]
    fn test_sends_and_confirmations_have_tags_of_their_own() {
        let test = address(KEY, &bounce(), n(7), SubscriberId::new(TEST_SEND));
        let got = parse_address(&keys(), &bounce(), test.as_str()).unwrap();
        assert_eq!(got.mailing(), Mailing::TestSend(n(7).unwrap()));
        let confirm = address(KEY, &bounce(), None, SubscriberId::new(9));
        let got = parse_address(&keys(), &bounce(), confirm.as_str()).unwrap();
        assert_eq!(got.mailing(), Mailing::Confirmation(SubscriberId::new(9)));
        let campaign = address(KEY, &bounce(), n(7), SubscriberId::new(9));
        let got = parse_address(&keys(), &bounce(), campaign.as_str()).unwrap();
        assert_eq!(
            got.mailing(),
            Mailing::Campaign(n(7).unwrap(), SubscriberId::new(9))
        );
    }

    #[test]
    fn a_lowercased_or_bracketed_address_still_parses() {
        let a = address(KEY, &bounce(), n(7), SubscriberId::new(9));
        let shouted = format!("<{}>", a.as_str().to_ascii_uppercase());
        assert!(parse_address(&keys(), &bounce(), &shouted).is_some());
    }

    #[test]
    fn another_mailbox_domain_or_secret_does_not_parse() {
        let a = address(KEY, &bounce(), n(7), SubscriberId::new(9));
        let other = EmailAddress::parse("bounces@example.net").unwrap();
        assert_eq!(parse_address(&keys(), &other, a.as_str()), None);
        let other = EmailAddress::parse("other@bounces.example.org").unwrap();
        assert_eq!(parse_address(&keys(), &other, a.as_str()), None);
        let wrong = Keyring::new(b"another secret of 32 bytes......".to_vec(), vec![]);
        assert_eq!(parse_address(&wrong, &bounce(), a.as_str()), None);
        let rotated = Keyring::new(
            b"another secret of 32 bytes......".to_vec(),
            vec![KEY.to_vec()],
        );
        assert!(parse_address(&rotated, &bounce(), a.as_str()).is_some());
    }

    #[test]
    fn junk_tags_are_refused_without_panicking() {
        for junk in [
            "",
            "-",
            "1-2",
            "1-2-",
            "1-2-zz",
            "01-2-000000000000000000000000",
            "1-2-3-4",
            &"9".repeat(100),
        ] {
            assert_eq!(parse_tag(&keys(), junk), None, "{junk}");
        }
    }

    proptest! {
        #[test]
        fn every_tag_round_trips_and_any_changed_character_is_refused(
            issue in 1u32..100_000,
            id in 1i64..i64::MAX,
            at in 0usize..64,
            with in "[0-9a-f-]",
        ) {
            let t = tag(KEY, n(issue), SubscriberId::new(id));
            let want = VerpTag { issue: n(issue), subscriber: SubscriberId::new(id) };
            prop_assert_eq!(parse_tag(&keys(), &t), Some(want));
            let at = at % t.len();
            let mut forged = t.clone();
            forged.replace_range(at..at + 1, &with);
            if forged != t && forged.to_ascii_lowercase() != t {
                prop_assert_eq!(parse_tag(&keys(), &forged), None, "{}", forged);
            }
        }
    }
}
