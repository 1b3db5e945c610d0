//! Tests for the header-bound values: one mailbox, a safe public URL, a
//! List-Id, a mailto address.
use super::*;

#[test]
fn a_from_is_one_mailbox_with_or_without_a_name() {
    let m = Mailbox::parse("This Week in Rust <News@Example.ORG>").unwrap();
    assert_eq!(m.name(), Some("This Week in Rust"));
    assert_eq!(m.address().as_str(), "News@example.org");
    let m = Mailbox::parse("\"Rust, Weekly\" <a@example.org>").unwrap();
    assert_eq!(m.name(), Some("Rust, Weekly"));
    let m = Mailbox::parse("a@example.org").unwrap();
    assert_eq!((m.name(), m.address().as_str()), (None, "a@example.org"));
}

#[test]
fn two_mailboxes_or_a_group_in_from_are_refused() {
    for two in [
        "a@example.org, b@example.org",
        "News <a@example.org>, Evil <b@evil.test>",
        "News <a@example.org> <b@evil.test>",
        "Rust, Weekly <a@example.org>",
    ] {
        let err = Mailbox::parse(two).unwrap_err();
        assert!(err.contains("more than one mailbox"), "{two}: {err}");
    }
    let err = Mailbox::parse("Team: a@example.org, b@example.org;").unwrap_err();
    assert!(err.contains("group"), "{err}");
}

#[test]
fn a_from_with_a_line_break_or_a_bad_address_is_refused() {
    let err = Mailbox::parse("News <n@example.org>\r\nBcc: x@evil.test").unwrap_err();
    assert!(err.contains("line break"), "{err}");
    assert!(Mailbox::parse("News <not-an-address>").is_err());
    assert!(Mailbox::parse("News <a@example.org").is_err());
    assert!(Mailbox::parse("\"News <a@example.org>").is_err());
}

#[test]
fn a_public_url_is_https_or_http_on_loopback() {
    for ok in [
        "https://newsletter.example.org",
        "https://example.org/news/",
        "http://127.0.0.1:8080",
        "http://localhost:8080",
        "http://[::1]:8080",
    ] {
        assert!(PublicUrl::parse(ok).is_ok(), "{ok}");
    }
    let err = PublicUrl::parse("http://newsletter.example.org").unwrap_err();
    assert!(err.contains("https"), "{err}");
    assert!(PublicUrl::parse("ftp://example.org").is_err());
    assert!(PublicUrl::parse("newsletter.example.org").is_err());
    assert!(PublicUrl::parse("/unsubscribe").is_err());
}

#[test]
fn a_public_url_that_could_bend_the_header_is_refused() {
    for bad in [
        "https://example.org>, <https://evil.test",
        "https://example.org/a b",
        "https://example.org/\"x\"",
        "https://example.org/'x'",
        "https://example.org\r\nBcc: x@evil.test",
        "https://example.org/?u=1",
        "https://example.org/#top",
        "https://user:pw@example.org",
    ] {
        assert!(PublicUrl::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_list_id_is_a_phrase_and_a_dotted_id_in_brackets() {
    assert!(ListId::parse("This Week in Rust <newsletter.this-week-in-rust.org>").is_ok());
    assert!(ListId::parse("<news.example.org>").is_ok());
    for bad in [
        "news.example.org",
        "News <news>",
        "News <news..example.org>",
        "News <a.example.org> <b.example.org>",
        "News <news example.org>",
        "News <news.example.org>\r\nX-Evil: 1",
    ] {
        assert!(ListId::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn an_unsubscribe_mailto_is_a_bare_address_a_mailto_link_carries_as_is() {
    assert_eq!(
        &*MailtoAddress::parse("unsubscribe@News.Example.org").unwrap(),
        "unsubscribe@news.example.org"
    );
    assert!(MailtoAddress::parse("un+sub@example.org").is_ok());
    for bad in [
        "Unsubscribe <u@example.org>",
        "u?subject=x@example.org",
        "u%40@example.org",
        "u@example.org>,<https://evil.test",
    ] {
        assert!(MailtoAddress::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn secrets_print_as_redacted_in_debug_and_serialized_output() {
    let s = Secret::new("hunter2");
    assert_eq!(format!("{s:?}"), "[redacted]");
    assert_eq!(serde_json::to_string(&s).unwrap(), "\"[redacted]\"");
}
