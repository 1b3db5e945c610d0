//! Tests for settings loading: defaults, partial files, the environment,
//! relative paths, sources, and the key table against the structs.
use std::path::Path;

use super::keys::KEYS;
use super::*;

const SHIPPED: &str = include_str!("../../config.toml");

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn json(s: &Settings) -> serde_json::Value {
    serde_json::to_value(s).unwrap()
}

/// Loads `toml` as `/srv/news/config.toml`, run from `/home/editor`.
fn load_file(toml: &str, vars: &[(&str, &str)]) -> Result<Loaded, ConfigError> {
    load_from(
        Some((Path::new("/srv/news/config.toml"), toml)),
        env(vars),
        Path::new("/home/editor"),
    )
}

#[test]
fn the_shipped_config_and_the_init_template_hold_exactly_the_defaults() {
    let defaults = json(&Settings::default());
    assert_eq!(json(&from_sources(SHIPPED, []).unwrap()), defaults);
    assert_eq!(json(&from_sources(TEMPLATE, []).unwrap()), defaults);
}

#[test]
fn an_empty_file_gives_every_default() {
    let s = from_sources("", []).unwrap();
    assert_eq!(json(&s), json(&Settings::default()));
    assert_eq!(s.newsletter.name, "This Week in Rust");
    assert_eq!(s.send.transport, Transport::Outbox);
    assert_eq!(s.newsletter.social.len(), 3);
}

#[test]
fn a_partial_file_overrides_only_what_it_names() {
    let s = from_sources("[smtp]\nport = 2525\n", []).unwrap();
    assert_eq!(s.smtp.port, 2525);
    assert_eq!(s.smtp.host, "127.0.0.1");
    assert_eq!(s.smtp.tls, TlsMode::Starttls);
    assert_eq!(s.send.concurrency, 16);
    let mut expected = json(&Settings::default());
    expected["smtp"]["port"] = 2525.into();
    assert_eq!(json(&s), expected);
}

#[test]
fn environment_variables_override_file_values() {
    let s = from_sources(
        "[smtp]\nport = 2525\n",
        env(&[
            ("MAILROOM_SMTP__PORT", "2626"),
            ("MAILROOM_SEND__TRANSPORT", "smtp"),
            ("MAILROOM_SEND__RATE_PER_SECOND", "12"),
            ("MAILROOM_SMTP__ALLOW_INSECURE", "true"),
            (
                "MAILROOM_PREVIEW__RECIPIENTS",
                "a@example.com, b@example.com",
            ),
            ("MAILROOM_NEWSLETTER__NAME", "Other News"),
            ("MAILROOM_CONFIG", "/not/a/setting.toml"),
            ("MAILROOM_UNSUBSCRIBE_URL", "not ours"),
        ]),
    )
    .unwrap();
    assert_eq!(s.smtp.port, 2626);
    assert_eq!(s.send.transport, Transport::Smtp);
    assert_eq!(s.send.rate_per_second, 12.0);
    assert!(s.smtp.allow_insecure);
    assert_eq!(s.preview.recipients, ["a@example.com", "b@example.com"]);
    assert_eq!(s.newsletter.name, "Other News");
}

#[test]
fn every_bad_key_and_value_is_reported_in_one_run_with_its_line() {
    let toml = "[render]\nhtml_budget_typo = 3\ntext_width = \"wide\"\n\n[smtp]\nprot = 25\n\
                tls = \"sometimes\"\n[smtpp]\nhost = \"x\"\n";
    let err = load_file(
        toml,
        &[
            ("MAILROOM_SMTP__HSOT", "x"),
            ("MAILROOM_SEND__CONCURRENCY", "lots"),
        ],
    )
    .unwrap_err();
    let text = err.to_string();
    assert_eq!(err.problems.len(), 7, "{text}");
    for needle in [
        "7 problems in the configuration:",
        "line 2: unknown key `[render] html_budget_typo`",
        "line 3: `[render] text_width` is invalid",
        "line 6: unknown key `[smtp] prot`; did you mean `port`?",
        "line 7: `[smtp] tls` is invalid",
        "line 8: unknown section `[smtpp]`; did you mean the section `[smtp]`?",
        "`MAILROOM_SMTP__HSOT`: unknown setting `[smtp] hsot`; did you mean `MAILROOM_SMTP__HOST`?",
        "`MAILROOM_SEND__CONCURRENCY`: `lots` is not a whole number",
    ] {
        assert!(text.contains(needle), "{needle}\n{text}");
    }
}

#[test]
fn a_key_outside_its_section_is_named_with_where_it_belongs() {
    let err = load_file("port = 25\n", &[]).unwrap_err().to_string();
    assert!(
        err.contains("`port` is outside any section; it belongs in `[smtp]`"),
        "{err}"
    );
}

#[test]
fn one_underscore_where_two_belong_is_pointed_out() {
    let err = load_file("", &[("MAILROOM_SMTP_PORT", "1")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("`MAILROOM_SMTP__PORT`"), "{err}");
}

#[test]
fn header_values_are_parsed_at_load_and_a_bad_one_names_its_key() {
    let toml = "[newsletter]\nfrom = \"a@example.org, b@example.org\"\n\
                [web]\npublic_url = \"http://news.example.org\"\n";
    let err = load_file(toml, &[]).unwrap_err().to_string();
    assert!(
        err.contains("line 2: `[newsletter] from` holds more than one mailbox"),
        "{err}"
    );
    assert!(
        err.contains("line 4: `[web] public_url` is http on a public host"),
        "{err}"
    );
    let err = load_file(
        "",
        &[("MAILROOM_NEWSLETTER__FROM", "A <a@x.org>\nBcc: b@x.org")],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("`[newsletter] from` contains a line break"),
        "{err}"
    );
}

#[test]
fn a_username_needs_a_non_empty_password_and_the_error_names_the_variable() {
    let with =
        |vars: &[(&str, &str)]| from_sources("[smtp]\nusername = \"news\"\n", env(vars)).unwrap();
    let err = with(&[]).smtp.credentials().unwrap_err().to_string();
    assert!(
        err.contains("MAILROOM_SMTP__PASSWORD") && err.contains("`news`"),
        "{err}"
    );
    let err = with(&[("MAILROOM_SMTP__PASSWORD", "")])
        .smtp
        .credentials()
        .unwrap_err();
    assert_eq!(err, CredentialsError::NoPassword("news".into()));
    let s = with(&[("MAILROOM_SMTP__PASSWORD", "hunter2")]);
    let (user, pw) = s.smtp.credentials().unwrap().unwrap();
    assert_eq!((user, pw.expose()), ("news", "hunter2"));
    let s = from_sources("", env(&[("MAILROOM_SMTP__PASSWORD", "hunter2")])).unwrap();
    assert_eq!(
        s.smtp.credentials().unwrap_err(),
        CredentialsError::NoUsername
    );
    assert_eq!(from_sources("", []).unwrap().smtp.credentials(), Ok(None));
}

#[test]
fn secrets_come_from_the_environment_and_are_never_printed() {
    let s = from_sources(SHIPPED, env(&[("MAILROOM_SMTP__PASSWORD", "hunter2")])).unwrap();
    assert_eq!(s.smtp.password.as_ref().unwrap().expose(), "hunter2");
    let debug = format!("{s:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("[redacted]"));
    assert!(!serde_json::to_string(&s).unwrap().contains("hunter2"));
}

#[test]
fn the_key_table_lists_exactly_the_settings_fields() {
    let tree = json(&Settings::default());
    let mut from_structs: Vec<String> = tree
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(s, t)| {
            t.as_object()
                .unwrap()
                .keys()
                .map(move |k| format!("{s}.{k}"))
        })
        .collect();
    let mut from_table: Vec<String> = KEYS.iter().map(|k| k.path()).collect();
    from_structs.sort();
    from_table.sort();
    assert_eq!(from_table, from_structs);
    let sections: Vec<&str> = tree
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys::SECTIONS.len(), sections.len());
}

#[test]
fn every_key_is_in_the_readme_configuration_table() {
    let readme = include_str!("../../README.md");
    for k in KEYS {
        let row = format!("| `[{}]", k.section);
        let documented = readme
            .lines()
            .filter(|l| l.starts_with(&row))
            .any(|l| l.contains(&format!("] {}`", k.name)) || l.contains(&format!("`{}`", k.name)));
        assert!(
            documented,
            "README's configuration table lacks `[{}] {}`",
            k.section, k.name
        );
    }
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
