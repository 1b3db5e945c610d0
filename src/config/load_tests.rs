//! Tests for where values come from and where relative paths lead.
use std::path::Path;

use super::super::keys::{self, KEYS, Kind};
use super::super::{DatabaseKind, Source};
use super::*;

/// Loads `toml` as `/srv/news/config.toml`, run from `/home/editor`.
fn load_file(toml: &str, vars: &[(&str, &str)]) -> Result<Loaded, ConfigError> {
    let env: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    load_from(
        Some((Path::new("/srv/news/config.toml"), toml)),
        env,
        Path::new("/home/editor"),
    )
}

#[test]
fn relative_paths_in_the_file_and_defaults_follow_the_file() {
    let toml = "[web]\nsecret_file = \"keys/mailroom.secret\"\n[smtp]\nca_file = \"relay.pem\"\n";
    let s = load_file(toml, &[]).unwrap().settings;
    assert_eq!(
        s.web.secret_file.unwrap(),
        Path::new("/srv/news/keys/mailroom.secret")
    );
    assert_eq!(s.smtp.ca_file.unwrap(), Path::new("/srv/news/relay.pem"));
    assert_eq!(s.outbox.dir, Path::new("/srv/news/outbox"));
    assert_eq!(
        s.database.url.sqlite_path().unwrap(),
        Path::new("/srv/news/mailroom.db")
    );
    assert_eq!(&*s.database.url, "sqlite:///srv/news/mailroom.db");
}

#[test]
fn relative_paths_from_the_environment_or_without_a_file_follow_the_current_directory() {
    let s = load_file(
        "",
        &[
            ("MAILROOM_OUTBOX__DIR", "out/mail"),
            ("MAILROOM_DATABASE__URL", "sqlite:x.db?mode=rwc"),
        ],
    )
    .unwrap()
    .settings;
    assert_eq!(s.outbox.dir, Path::new("/home/editor/out/mail"));
    assert_eq!(&*s.database.url, "sqlite:///home/editor/x.db?mode=rwc");
    let s = load_from(None, [], Path::new("/home/editor"))
        .unwrap()
        .settings;
    assert_eq!(
        s.web.secret_file.unwrap(),
        Path::new("/home/editor/mailroom.secret")
    );
    assert_eq!(
        s.database.url.sqlite_path().unwrap(),
        Path::new("/home/editor/mailroom.db")
    );
}

#[test]
fn absolute_and_in_memory_stores_are_left_as_they_are() {
    let s = load_file("[database]\nurl = \"sqlite:///var/lib/m.db\"\n", &[])
        .unwrap()
        .settings;
    assert_eq!(&*s.database.url, "sqlite:///var/lib/m.db");
    let s = load_file("[database]\nurl = \"sqlite::memory:\"\n", &[])
        .unwrap()
        .settings;
    assert_eq!(s.database.url.kind(), &DatabaseKind::SqliteMemory);
    let err = load_file("[database]\nurl = \"mysql://x\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`[database] url` is not `sqlite://FILE`"),
        "{err}"
    );
}

#[test]
fn each_value_remembers_where_it_came_from() {
    let l = load_file(
        "# news\n[smtp]\nport = 2525\n",
        &[("MAILROOM_SMTP__HOST", "relay")],
    )
    .unwrap();
    assert_eq!(l.source("smtp.tls"), &Source::Default);
    assert_eq!(
        l.source("smtp.port"),
        &Source::File {
            path: "/srv/news/config.toml".into(),
            line: Some(3)
        }
    );
    assert_eq!(
        l.source("smtp.host"),
        &Source::Env {
            var: "MAILROOM_SMTP__HOST".into()
        }
    );
}

#[test]
fn every_path_key_is_resolved_against_the_file() {
    let mut toml = String::new();
    for section in keys::SECTIONS {
        toml.push_str(&format!("[{section}]\n"));
        for k in KEYS
            .iter()
            .filter(|k| k.kind == Kind::Path && k.section == *section)
        {
            let value = if k.section == "database" {
                "sqlite://rel.db"
            } else {
                "rel"
            };
            toml.push_str(&format!("{} = \"{value}\"\n", k.name));
        }
    }
    let l = load_file(&toml, &[]).unwrap();
    let text = serde_json::to_string(&l.settings).unwrap();
    assert!(!text.contains("\"rel"), "a relative path is left: {text}");
}
