//! Settings as the real binary loads them: no config, an empty or partial
//! one, every problem in one run, secrets refused under any key spelling,
//! and `mailroom config` showing where each value came from (issues 9, 10).
use std::path::Path;

use serde_json::Value;

use crate::common::project::{clean_issue, seed_path};
use crate::init_cli::mailroom;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `mailroom config --format json` in `cwd`, parsed.
fn effective(cwd: &Path, vars: &[(&str, &str)]) -> Value {
    let out = mailroom(cwd, &["config", "--format", "json"], vars);
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn check_and_render_work_in_a_directory_with_no_config() {
    let dir = tempfile::tempdir().unwrap();
    let out = mailroom(dir.path(), &["check", s(&clean_issue())], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = mailroom(
        dir.path(),
        &["render", s(&clean_issue()), "--out", "out"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stem = clean_issue()
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let eml = std::fs::read(dir.path().join(format!("out/{stem}.eml"))).unwrap();
    assert!(text(&eml).contains("From: This Week in Rust <newsletter@this-week-in-rust.org>"));
    let mut files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    files.sort();
    assert_eq!(files, ["out"], "no store or key appears");
}

#[test]
fn an_empty_config_means_every_default() {
    let (bare, empty) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    std::fs::write(empty.path().join("config.toml"), "").unwrap();
    let out = mailroom(empty.path(), &["check", s(&seed_path("001"))], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let (a, b) = (effective(bare.path(), &[]), effective(empty.path(), &[]));
    assert!(a["file"].is_null());
    assert!(b["file"].as_str().unwrap().ends_with("config.toml"));
    let rebase = |v: &Value, dir: &Path| v["settings"].to_string().replace(s(dir), "DIR");
    assert_eq!(rebase(&a, bare.path()), rebase(&b, empty.path()));
    assert!(
        b["sources"]
            .as_object()
            .unwrap()
            .values()
            .all(|v| v["source"] == "default")
    );
}

#[test]
fn a_partial_config_overrides_only_what_it_names() {
    let (dir, bare) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    std::fs::write(
        dir.path().join("config.toml"),
        "# ours\n[render]\ntext_width = 60\n",
    )
    .unwrap();
    let stem = clean_issue()
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    // Prose lines over 60 columns in the text part (a long URL cannot wrap;
    // the footer's fixed sentence is not wrapped by `text_width` either).
    let over_60 = |cwd: &Path| {
        let out = mailroom(cwd, &["render", s(&clean_issue())], &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let txt = std::fs::read_to_string(cwd.join(format!("out/{stem}.txt"))).unwrap();
        txt.lines()
            .filter(|l| l.chars().count() > 60 && !l.contains("://"))
            .filter(|l| !l.starts_with("You receive this email"))
            .count()
    };
    let (ours, default) = (over_60(dir.path()), over_60(bare.path()));
    assert_eq!(
        ours, 0,
        "wrapped at 60 ({default} such lines at the default 72)"
    );
    assert!(default > 0);
    let v = effective(dir.path(), &[("MAILROOM_SMTP__PORT", "2525")]);
    assert_eq!(v["settings"]["render"]["text_width"], 60);
    assert_eq!(v["settings"]["render"]["html_size_budget"], 104448);
    assert_eq!(v["sources"]["render.text_width"]["line"], 3);
    assert_eq!(v["sources"]["render.html_size_budget"]["source"], "default");
    assert_eq!(v["sources"]["smtp.port"]["var"], "MAILROOM_SMTP__PORT");
}

#[test]
fn every_config_problem_is_reported_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let toml = "[newsletter]\nfrom = \"a@example.org, b@example.org\"\n[smtp]\nprot = 25\n\
                [web]\npublic_url = \"http://news.example.org\"\n";
    std::fs::write(dir.path().join("config.toml"), toml).unwrap();
    let out = mailroom(
        dir.path(),
        &["check", s(&clean_issue())],
        &[("MAILROOM_SEND__CONCURRENCY", "lots")],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    for needle in [
        "error: 4 problems in the configuration:",
        "line 2: `[newsletter] from` holds more than one mailbox",
        "line 4: unknown key `[smtp] prot`; did you mean `port`?",
        "line 6: `[web] public_url` is http on a public host",
        "`MAILROOM_SEND__CONCURRENCY`: `lots` is not a whole number",
    ] {
        assert!(err.contains(needle), "{needle}\n{err}");
    }
}

#[test]
fn a_quoted_password_key_in_the_config_is_refused_and_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    for toml in [
        "[smtp]\n\"password\" = \"hunter2\"\n",
        "[smtp]\nhost = \"relay\"\n'PassWord' = \"hunter2\"\n",
        "smtp.\"password\" = \"hunter2\"\n",
    ] {
        std::fs::write(dir.path().join("config.toml"), toml).unwrap();
        let out = mailroom(dir.path(), &["send", s(&clean_issue()), "--test"], &[]);
        assert_eq!(out.status.code(), Some(1), "{toml}");
        let err = text(&out.stderr);
        assert!(err.contains("`[smtp] password` is a secret"), "{err}");
        assert!(
            err.contains("MAILROOM_SMTP__PASSWORD") && err.contains("config.toml` line "),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
        assert!(!dir.path().join("outbox").exists(), "nothing was sent");
    }
}

#[test]
fn a_relay_login_without_a_password_stops_send_before_anything() {
    let dir = tempfile::tempdir().unwrap();
    let toml = "[send]\ntransport = \"smtp\"\n[smtp]\nusername = \"twir\"\n";
    std::fs::write(dir.path().join("config.toml"), toml).unwrap();
    for vars in [&[][..], &[("MAILROOM_SMTP__PASSWORD", "")][..]] {
        let out = mailroom(dir.path(), &["send", s(&clean_issue()), "--test"], vars);
        assert_eq!(out.status.code(), Some(1));
        let err = text(&out.stderr);
        assert!(
            err.contains("`[smtp] username` is `twir`") && err.contains("MAILROOM_SMTP__PASSWORD"),
            "{err}"
        );
    }
}

#[test]
fn config_prints_every_value_with_its_source_and_never_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("news.toml");
    std::fs::write(
        &config,
        "[smtp]\nhost = \"relay.example.org\"\nusername = \"twir\"\n",
    )
    .unwrap();
    let vars = [
        ("MAILROOM_SMTP__PORT", "2525"),
        ("MAILROOM_SMTP__PASSWORD", "hunter2"),
    ];
    let out = mailroom(dir.path(), &["--config", "news.toml", "config"], &vars);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let toml_out = text(&out.stdout);
    let file = format!("{} line 2", config.display());
    for needle in [
        format!("host = \"relay.example.org\"  # {file}"),
        "port = 2525  # MAILROOM_SMTP__PORT".to_owned(),
        "# password = [redacted]  # MAILROOM_SMTP__PASSWORD".to_owned(),
        "tls = \"starttls\"  # default".to_owned(),
        format!(
            "url = \"sqlite://{}/mailroom.db\"  # default",
            dir.path().display()
        ),
    ] {
        assert!(toml_out.contains(&needle), "{needle}\n{toml_out}");
    }
    assert!(!toml_out.contains("hunter2"));
    // The output is a config file that loads to the same settings.
    std::fs::write(dir.path().join("again.toml"), &toml_out).unwrap();
    let again = mailroom(
        dir.path(),
        &["--config", "again.toml", "config", "--format", "json"],
        &vars[..1],
    );
    assert!(again.status.success(), "{}", text(&again.stderr));
    let json = mailroom(
        dir.path(),
        &["--config", "news.toml", "config", "--format", "json"],
        &vars,
    );
    assert!(!text(&json.stdout).contains("hunter2"));
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["settings"]["smtp"]["password"], "[redacted]");
    let w: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(v["settings"]["smtp"]["host"], w["settings"]["smtp"]["host"]);
    assert_eq!(v["settings"]["newsletter"], w["settings"]["newsletter"]);
}

#[test]
fn an_explicit_config_that_does_not_exist_is_an_error_not_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let out = mailroom(
        dir.path(),
        &[
            "--config",
            "/nonexistent/config.toml",
            "check",
            s(&clean_issue()),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot read the config file `/nonexistent/config.toml`"),
        "{err}"
    );
}

#[test]
fn paths_printed_through_a_relative_config_have_no_dot_dot() {
    let root = tempfile::tempdir().unwrap();
    let (news, elsewhere) = (root.path().join("news"), root.path().join("elsewhere"));
    std::fs::create_dir_all(&news).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(
        news.join("config.toml"),
        "[outbox]\ndir = \"./sent/../outbox\"\n",
    )
    .unwrap();
    let config = ["--config", "../news/config.toml"];

    let shown = mailroom(&elsewhere, &[&config[..], &["config"]].concat(), &[]);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    let added = mailroom(
        &elsewhere,
        &[&config[..], &["subscribers", "add", "a@example.com"]].concat(),
        &[],
    );
    assert!(added.status.success(), "{}", text(&added.stderr));

    let printed = format!("{}{}", text(&shown.stdout), text(&added.stderr));
    let news = s(&news);
    for line in [
        format!("# config file: {news}/config.toml"),
        format!("url = \"sqlite://{news}/mailroom.db\""),
        format!("dir = \"{news}/outbox\""),
        format!("created the store `{news}/mailroom.db`"),
    ] {
        assert!(printed.contains(&line), "`{line}` not in:\n{printed}");
    }
    assert!(!printed.contains("/.."), "{printed}");
    assert!(!printed.contains("/./"), "{printed}");
}
