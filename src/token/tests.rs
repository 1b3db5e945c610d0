//! Token signing and verification, including rotation, expiry and a
//! property test that random tokens are never accepted.
use proptest::prelude::*;
use time::Duration;

use super::*;

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
const OLD: &[u8] = b"an older secret, still accepted!!";

fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(seconds).unwrap()
}

fn ring() -> Keyring {
    Keyring::new(KEY.to_vec(), vec![OLD.to_vec()])
}

#[test]
fn a_signed_token_verifies_to_its_subscriber() {
    let id = SubscriberId::new(4711);
    let token = sign(KEY, Purpose::Unsubscribe, id);
    assert!(token.starts_with("4711."), "{token}");
    assert!(
        token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    );
    assert_eq!(verify(KEY, Purpose::Unsubscribe, &token), Some(id));
    assert_eq!(ring().verify(Purpose::Unsubscribe, &token, at(0)), Some(id));
}

#[test]
fn tampered_or_foreign_tokens_are_refused() {
    let token = sign(KEY, Purpose::Unsubscribe, SubscriberId::new(7));
    let (_, mac) = token.split_once('.').unwrap();
    assert_eq!(verify(KEY, Purpose::Unsubscribe, &format!("8.{mac}")), None);
    assert_eq!(
        verify(b"another key entirely!!", Purpose::Unsubscribe, &token),
        None
    );
    let mut flipped = token.clone().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    assert_eq!(verify(KEY, Purpose::Unsubscribe, &flipped), None);
    for bad in ["", ".", "7", "7.", "x.AAAA", "-7.AAAA", "+7.AAAA"] {
        assert_eq!(verify(KEY, Purpose::Unsubscribe, bad), None, "{bad}");
    }
    let truncated = &token[..token.len() - 1];
    assert_eq!(ring().verify(Purpose::Unsubscribe, truncated, at(0)), None);
}

#[test]
fn previous_secrets_still_verify_and_unknown_ones_do_not() {
    let id = SubscriberId::new(12);
    let old = sign(OLD, Purpose::Unsubscribe, id);
    assert_eq!(ring().verify(Purpose::Unsubscribe, &old, at(0)), Some(id));
    let without_old = Keyring::new(KEY.to_vec(), vec![]);
    assert_eq!(without_old.verify(Purpose::Unsubscribe, &old, at(0)), None);
    let other = sign(b"some third secret, never known", Purpose::Unsubscribe, id);
    assert_eq!(ring().verify(Purpose::Unsubscribe, &other, at(0)), None);
}

#[test]
fn confirm_tokens_expire_and_their_expiry_is_signed() {
    let id = SubscriberId::new(3);
    let t0 = at(1_700_000_000);
    let token = ring().sign(Purpose::Confirm, id, t0 + Duration::days(7));
    assert_eq!(ring().verify(Purpose::Confirm, &token, t0), Some(id));
    let last_second = t0 + Duration::days(7);
    assert_eq!(
        ring().verify(Purpose::Confirm, &token, last_second),
        Some(id)
    );
    let late = last_second + Duration::seconds(1);
    assert_eq!(ring().verify(Purpose::Confirm, &token, late), None);
    // Moving the expiry forward breaks the MAC.
    let parts: Vec<&str> = token.split('.').collect();
    let later = parts[1].parse::<i64>().unwrap() + 86_400;
    let extended = format!("{}.{later}.{}", parts[0], parts[2]);
    assert_eq!(ring().verify(Purpose::Confirm, &extended, t0), None);
}

#[test]
fn a_token_for_one_purpose_never_serves_another() {
    let id = SubscriberId::new(9);
    let now = at(1_700_000_000);
    let later = now + Duration::days(1);
    let unsub = ring().sign(Purpose::Unsubscribe, id, later);
    let confirm = ring().sign(Purpose::Confirm, id, later);
    let undo = ring().sign(Purpose::Resubscribe, id, later);
    assert_eq!(ring().verify(Purpose::Confirm, &unsub, now), None);
    assert_eq!(ring().verify(Purpose::Unsubscribe, &confirm, now), None);
    assert_eq!(ring().verify(Purpose::Confirm, &undo, now), None);
    assert_eq!(ring().verify(Purpose::Resubscribe, &confirm, now), None);
    assert_eq!(ring().verify(Purpose::Resubscribe, &undo, now), Some(id));
}

#[test]
fn oversized_tokens_are_refused_before_any_work() {
    let long = format!("1.{}", "A".repeat(MAX_TOKEN_LEN));
    assert_eq!(ring().verify(Purpose::Unsubscribe, &long, at(0)), None);
}

#[test]
fn keyring_debug_output_hides_the_secrets() {
    let shown = format!("{:?}", ring());
    assert!(!shown.contains("0123456789abcdef"), "{shown}");
}

fn purpose() -> impl Strategy<Value = Purpose> {
    prop_oneof![
        Just(Purpose::Unsubscribe),
        Just(Purpose::Confirm),
        Just(Purpose::Resubscribe)
    ]
}

proptest! {
    #[test]
    fn random_tokens_are_never_accepted(
        p in purpose(),
        id in 0i64..1_000_000,
        exp in 0i64..4_000_000_000,
        mac in "[A-Za-z0-9_-]{0,24}",
        raw in "[ -~]{0,90}",
    ) {
        let now = at(0);
        let shaped = if p.expires() { format!("{id}.{exp}.{mac}") } else { format!("{id}.{mac}") };
        prop_assert_eq!(ring().verify(p, &shaped, now), None);
        prop_assert_eq!(ring().verify(p, &raw, now), None);
    }

    #[test]
    fn any_single_character_change_breaks_a_genuine_token(
        p in purpose(),
        id in 1i64..1_000_000,
        pos in any::<prop::sample::Index>(),
        with in "[A-Za-z0-9_.-]",
    ) {
        let now = at(1_700_000_000);
        let token = ring().sign(p, SubscriberId::new(id), now + Duration::days(1));
        let i = pos.index(token.len());
        let mut changed = token.clone();
        changed.replace_range(i..=i, &with);
        prop_assume!(changed != token);
        prop_assert_eq!(ring().verify(p, &changed, now), None);
    }
}
