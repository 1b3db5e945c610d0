//! Tests for settings loading: the shipped file, env overrides, unknown keys, secrets.
use super::*;

const SHIPPED: &str = include_str!("../../config.toml");

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_shipped_config_loads() {
    let s = from_sources(SHIPPED, env(&[])).unwrap();
    assert_eq!(s.newsletter.name, "This Week in Rust");
    assert_eq!(s.send.transport, Transport::Outbox);
    assert_eq!(s.smtp.tls, TlsMode::Starttls);
    assert_eq!(s.newsletter.social.len(), 3);
}

#[test]
fn environment_variables_override_file_values() {
    let s = from_sources(
        SHIPPED,
        env(&[
            ("MAILROOM_SMTP__PORT", "2525"),
            ("MAILROOM_SEND__TRANSPORT", "smtp"),
            (
                "MAILROOM_PREVIEW__RECIPIENTS",
                "a@example.com,b@example.com",
            ),
            ("MAILROOM_NEWSLETTER__NAME", "Other News"),
        ]),
    )
    .unwrap();
    assert_eq!(s.smtp.port, 2525);
    assert_eq!(s.send.transport, Transport::Smtp);
    assert_eq!(s.preview.recipients, ["a@example.com", "b@example.com"]);
    assert_eq!(s.newsletter.name, "Other News");
}

#[test]
fn an_unknown_key_in_the_file_is_an_error_naming_it() {
    let toml = SHIPPED.replace("[render]\n", "[render]\nhtml_budget_typo = 3\n");
    let err = format!("{:#}", from_sources(&toml, env(&[])).unwrap_err());
    assert!(err.contains("html_budget_typo"), "{err}");
}

#[test]
fn an_unknown_key_in_the_environment_is_an_error_naming_it() {
    let err = format!(
        "{:#}",
        from_sources(SHIPPED, env(&[("MAILROOM_SMTP__PROT", "1")])).unwrap_err()
    );
    assert!(err.contains("prot"), "{err}");
}

#[test]
fn secrets_come_from_the_environment_and_are_never_printed() {
    let s = from_sources(SHIPPED, env(&[("MAILROOM_SMTP__PASSWORD", "hunter2")])).unwrap();
    assert_eq!(s.smtp.password.as_ref().unwrap().expose(), "hunter2");
    let debug = format!("{s:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("[redacted]"));
}

#[test]
fn a_secret_in_the_config_file_is_refused() {
    let toml = SHIPPED.replace("username = \"\"", "username = \"\"\npassword = \"hunter2\"");
    let err = format!("{:#}", from_sources(&toml, env(&[])).unwrap_err());
    assert!(err.contains("MAILROOM_SMTP__PASSWORD"), "{err}");
    assert!(!err.contains("hunter2"));
}

#[test]
fn a_database_password_comes_only_from_the_environment() {
    let url = "url = \"postgres://mail:hunter2@db.example.org/mailroom\"";
    let toml = SHIPPED.replace("url = \"sqlite://mailroom.db\"", url);
    let err = format!("{:#}", from_sources(&toml, env(&[])).unwrap_err());
    assert!(err.contains("MAILROOM_DATABASE__PASSWORD"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    let toml = SHIPPED.replace(
        "url = \"sqlite://mailroom.db\"",
        "url = \"postgres://mail@db.example.org/mailroom\"",
    );
    let s = from_sources(&toml, env(&[("MAILROOM_DATABASE__PASSWORD", "hunter2")])).unwrap();
    assert_eq!(s.database.password.as_ref().unwrap().expose(), "hunter2");
    assert!(!format!("{s:?}").contains("hunter2"));
}
