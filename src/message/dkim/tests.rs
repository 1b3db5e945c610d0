//! Tests for DKIM signing: the tags and h= list, oversigning, folding, keys,
//! and the per-issue plan giving the same signature as signing whole.
use proptest::prelude::*;

use super::*;

pub(crate) const RSA_PEM: &str = include_str!("../../../tests/fixtures/dkim/rsa.pem");
const RSA_PKCS1_PEM: &str = include_str!("../../../tests/fixtures/dkim/rsa-pkcs1.pem");
const ED25519_PEM: &str = include_str!("../../../tests/fixtures/dkim/ed25519.pem");

fn signer() -> Signer {
    let key = PrivateKey::from_pem(RSA_PEM.as_bytes()).unwrap();
    Signer::new("example.org", "sel", key)
        .unwrap()
        .at_time(1_700_000_000)
}

const MESSAGE: &[u8] = b"From: News <news@example.org>\r\nTo: a@example.com\r\n\
Subject: Hello\r\nList-Unsubscribe: <https://x/u/1>,\r\n <mailto:u@x>\r\n\
List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\nbody  line \r\n\r\n";

fn tags(signed: &[u8]) -> String {
    let text = String::from_utf8_lossy(signed);
    let end = text.find("\r\n\r\n").unwrap();
    let header = &text[..end];
    let sig: String = header
        .split("\r\n")
        .skip_while(|l| !l.starts_with("DKIM-Signature:"))
        .take_while(|l| l.starts_with("DKIM-Signature:") || l.starts_with([' ', '\t']))
        .collect::<Vec<_>>()
        .join("");
    sig.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn a_signature_names_the_algorithm_domain_selector_and_relaxed_canonicalization() {
    let t = tags(&signer().sign_message(MESSAGE));
    for want in [
        "v=1;",
        "a=rsa-sha256;",
        "c=relaxed/relaxed;",
        "d=example.org;",
        "s=sel;",
        "t=1700000000;",
    ] {
        assert!(t.contains(want), "{want} in {t}");
    }
}

#[test]
fn the_h_list_covers_the_list_headers_and_oversigns_from_and_the_unsubscribe_pair() {
    let t = tags(&signer().sign_message(MESSAGE));
    let h = t.split("h=").nth(1).unwrap().split(';').next().unwrap();
    let h: Vec<&str> = h.split(':').map(str::trim).collect();
    assert_eq!(
        h,
        [
            "from",
            "to",
            "subject",
            "date",
            "message-id",
            "mime-version",
            "content-type",
            "list-id",
            "list-unsubscribe",
            "list-unsubscribe-post",
            "from",
            "list-unsubscribe",
            "list-unsubscribe-post"
        ]
    );
    let with_extras = [
        &MESSAGE[..MESSAGE.len() - 17],
        b"Reply-To: ed@example.org\r\nFeedback-ID: 1:a:b\r\n\r\nbody\r\n",
    ]
    .concat();
    let t = tags(&signer().sign_message(&with_extras)).replace(' ', "");
    assert!(
        t.contains("list-unsubscribe-post:feedback-id:reply-to:from"),
        "{t}"
    );
}

#[test]
fn signed_header_lines_stay_short() {
    let signed = signer().sign_message(MESSAGE);
    let text = String::from_utf8(signed).unwrap();
    for line in text.split("\r\n") {
        assert!(line.len() <= 80, "{} chars: {line}", line.len());
    }
}

#[test]
fn the_same_message_signs_the_same_and_a_changed_body_signs_differently() {
    let s = signer();
    assert_eq!(s.sign_message(MESSAGE), s.sign_message(MESSAGE));
    let mut changed = MESSAGE.to_vec();
    let n = changed.len();
    changed[n - 6] = b'X';
    assert_ne!(
        tags(&s.sign_message(MESSAGE)),
        tags(&s.sign_message(&changed))
    );
}

#[test]
fn an_ed25519_key_adds_a_second_signature_after_the_rsa_one() {
    let ed = PrivateKey::from_pem(ED25519_PEM.as_bytes()).unwrap();
    assert_eq!(ed.algorithm(), Algorithm::Ed25519);
    let s = signer().with_second("ed", ed).unwrap();
    let text = String::from_utf8(s.sign_message(MESSAGE)).unwrap();
    let rsa = text.find("a=rsa-sha256").unwrap();
    let ed = text.find("a=ed25519-sha256").unwrap();
    assert!(rsa < ed);
    assert_eq!(text.matches("DKIM-Signature:").count(), 2);
}

#[test]
fn pkcs1_and_pkcs8_pem_load_the_same_key_and_junk_is_refused_without_echoing_it() {
    let a = PrivateKey::from_pem(RSA_PEM.as_bytes()).unwrap();
    let b = PrivateKey::from_pem(RSA_PKCS1_PEM.as_bytes()).unwrap();
    assert_eq!(a.public_key(), b.public_key());
    assert!(a.dns_record().starts_with("v=DKIM1; k=rsa; p=MIIBIjAN"));
    let err = PrivateKey::from_pem(b"not a key hunter2")
        .unwrap_err()
        .to_string();
    assert!(err.contains("PEM"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    let cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    let err = PrivateKey::from_pem(cert.as_bytes())
        .unwrap_err()
        .to_string();
    assert!(err.contains("CERTIFICATE"), "{err}");
}

#[test]
fn domains_and_selectors_that_could_break_the_header_are_refused() {
    for bad in ["", "a;b=c", "exa mple.org", "a\r\nX: y", "a..b"] {
        let key = PrivateKey::from_pem(RSA_PEM.as_bytes()).unwrap();
        assert!(Signer::new(bad, "sel", key).is_err(), "{bad:?}");
    }
}

#[test]
fn txt_records_are_split_into_strings_of_at_most_255_characters() {
    let record = PrivateKey::from_pem(RSA_PEM.as_bytes())
        .unwrap()
        .dns_record();
    let strings = key::txt_strings(&record);
    assert!(strings.len() >= 2);
    assert!(strings.iter().all(|s| s.len() <= 257));
    let joined: String = strings.iter().map(|s| s.trim_matches('"')).collect();
    assert_eq!(joined, record);
}

/// A template-like message: shared segments with a slot between each two.
fn assemble(segments: &[String], slot: &str) -> Vec<u8> {
    let head = "From: a@example.org\r\nTo: b@example.com\r\nSubject: s\r\n\r\n";
    let body = segments.join(slot);
    format!("{head}{body}").into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The plan's body hash equals the whole body's, for line-aligned slots.
    #[test]
    fn a_planned_body_hash_equals_hashing_the_whole_body(
        segs in proptest::collection::vec("([a-z =\t]{0,12}\r\n){0,4}", 1..4),
        last in "[a-z =\t]{0,12}x[ \t]*(\r\n){0,3}",
        url in "[a-z:/.]{1,20}=\r\n",
    ) {
        let mut segments = segs;
        segments.push(last);
        let refs: Vec<&[u8]> = segments.iter().map(|s| s.as_bytes()).collect();
        let plan = BodyPlan::new(&refs).expect("line-aligned segments plan");
        let whole = assemble(&segments, &url);
        let body = &whole[whole.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
        let want: [u8; 32] = Sha256::digest(canon::body(body)).into();
        prop_assert_eq!(plan.body_hash(url.as_bytes()), Some(want));
    }
}

#[test]
fn a_signed_template_copy_carries_the_signature_of_signing_that_copy_whole() {
    use crate::message::{MessageContext, MessageTemplate, RecipientSlots};
    use crate::model::{Rendered, Slot};
    let settings = crate::config::from_sources(include_str!("../../../config.toml"), []).unwrap();
    let date = time::macros::datetime!(2025-11-12 12:00 UTC);
    let ctx = MessageContext::from_settings(&settings, date).unwrap();
    let m = Slot::UnsubscribeUrl.marker();
    let rendered = Rendered {
        subject: "Grüße 625".into(),
        html: format!(
            "<p>a  b\t</p>\n{}<a href=\"{m}\">x</a>\n\n",
            "y ".repeat(900)
        ),
        text: format!("Hello  \n\nUnsubscribe: {m}\n"),
        links: 1,
        link_urls: vec![],
        web_url: "https://example.org/625".into(),
    };
    let plain = MessageTemplate::build(&rendered, &ctx).unwrap();
    let signer = std::sync::Arc::new(signer());
    let signed = plain.clone().signed(signer.clone());
    assert!(signed.is_planned());
    let issue = crate::domain::IssueNumber::new(625).unwrap();
    for (addr, token) in [
        ("a@example.com", "1.AAA"),
        ("much.longer.name@example.net", "99999.Zz-_"),
    ] {
        let to = crate::domain::EmailAddress::parse(addr).unwrap();
        let slots = RecipientSlots::new(&ctx, issue, to, token).unwrap();
        let want = signer.sign_message(&plain.personalize(&slots));
        assert_eq!(
            String::from_utf8_lossy(&signed.personalize(&slots)),
            String::from_utf8_lossy(&want)
        );
    }
}

#[test]
fn no_dkim_settings_sign_nothing_and_half_of_them_is_an_error_naming_the_missing_key() {
    use crate::config::DkimSettings;
    assert!(
        Signer::from_settings(&DkimSettings::default())
            .unwrap()
            .is_none()
    );
    let half = DkimSettings {
        domain: Some("example.org".into()),
        ..DkimSettings::default()
    };
    let err = Signer::from_settings(&half).unwrap_err().to_string();
    assert!(err.contains("`[dkim] selector` is missing"), "{err}");
    let no_key = DkimSettings {
        selector: Some("sel".into()),
        ..half
    };
    let err = Signer::from_settings(&no_key).unwrap_err().to_string();
    assert!(err.contains("private_key_file"), "{err}");
}
