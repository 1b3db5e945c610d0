//! `mailroom init`, and which commands may create a store or a key: the
//! real binary, real SQLite files, real git, run from a directory that is
//! not the config's (issue 9, scenarios 1 and 6).
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mailroom::token::{self, Purpose};

use crate::common::project::clean_issue;

/// Runs mailroom in `cwd` with only `vars` in its environment.
pub fn mailroom(cwd: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(vars.iter().copied())
        .output()
        .expect("run mailroom")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A config directory set up by `init` with two subscribers, and an empty
/// directory to run from.
fn initialized() -> (tempfile::TempDir, tempfile::TempDir, PathBuf) {
    let (etc, cwd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let out = mailroom(cwd.path(), &["init", s(etc.path())], &[]);
    assert!(out.status.success(), "init: {}", text(&out.stderr));
    let config = etc.path().join("config.toml");
    for who in ["ann@example.com", "bob@example.com"] {
        let out = mailroom(
            cwd.path(),
            &["--config", s(&config), "subscribers", "add", who],
            &[],
        );
        assert!(out.status.success(), "add: {}", text(&out.stderr));
    }
    (etc, cwd, config)
}

#[test]
fn send_with_a_config_elsewhere_uses_its_store_and_key_and_creates_nothing_here() {
    let (etc, cwd, config) = initialized();
    let out = mailroom(
        cwd.path(),
        &["--config", s(&config), "send", s(&clean_issue())],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    let store = etc.path().join("mailroom.db");
    assert!(
        err.starts_with(&format!("store: {}\n", store.display())),
        "{err}"
    );
    assert!(err.contains("campaign: 2 of 2 sent"), "{err}");
    assert!(
        names(cwd.path()).is_empty(),
        "created here: {:?}",
        names(cwd.path())
    );
    let outbox = etc.path().join("outbox/620");
    let key = std::fs::read_to_string(etc.path().join("mailroom.secret")).unwrap();
    let emls = names(&outbox);
    assert_eq!(emls.len(), 2, "{emls:?}");
    for eml in emls {
        let raw = text(&std::fs::read(outbox.join(eml)).unwrap());
        let start = raw.find("/unsubscribe/").expect("an unsubscribe link") + 13;
        let tok: String = raw[start..].chars().take_while(|c| *c != '>').collect();
        assert!(
            token::verify(key.trim().as_bytes(), Purpose::Unsubscribe, &tok).is_some(),
            "the link is signed with the configured key"
        );
    }
}

#[test]
fn a_missing_store_is_an_error_naming_it_and_nothing_is_created() {
    let (etc, cwd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let config = etc.path().join("config.toml");
    std::fs::write(&config, mailroom::config::TEMPLATE).unwrap();
    let issue = clean_issue();
    let secret = [
        ("MAILROOM_WEB__SECRET", "0123456789abcdef0123456789abcdef"),
        ("MAILROOM_WEB__BIND", "127.0.0.1:0"),
    ];
    for args in [
        vec!["send", s(&issue)],
        vec!["send", s(&issue), "--dry-run"],
        vec!["status"],
        vec!["serve"],
        vec!["subscribers", "list"],
        vec!["subscribers", "import", "--dry-run", "list.csv"],
    ] {
        let mut with_config = vec!["--config", s(&config)];
        with_config.extend(&args);
        let out = mailroom(cwd.path(), &with_config, &secret);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            text(&out.stderr)
        );
        let err = text(&out.stderr);
        let store = etc.path().join("mailroom.db");
        assert!(
            err.contains(&format!("no store at `{}`", store.display())),
            "{args:?}: {err}"
        );
        assert!(err.contains("run `mailroom init`"), "{err}");
        // And with no config at all, the store is looked for here.
        let out = mailroom(cwd.path(), &args, &secret);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            text(&out.stderr)
        );
        let here = cwd.path().join("mailroom.db");
        assert!(text(&out.stderr).contains(&format!("no store at `{}`", here.display())));
    }
    assert!(
        names(cwd.path()).is_empty(),
        "created here: {:?}",
        names(cwd.path())
    );
    assert_eq!(names(etc.path()), ["config.toml"]);
}

#[test]
fn a_store_with_subscribers_whose_key_is_lost_is_an_error_never_a_fresh_key() {
    let (etc, cwd, config) = initialized();
    let key = etc.path().join("mailroom.secret");
    std::fs::remove_file(&key).unwrap();
    let out = mailroom(
        cwd.path(),
        &["--config", s(&config), "send", s(&clean_issue())],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("`{}` does not exist", key.display())),
        "{err}"
    );
    assert!(err.contains("restore it from your backup"), "{err}");
    let out = mailroom(cwd.path(), &["init", s(etc.path())], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("has subscribers or campaigns"),
        "{}",
        text(&out.stderr)
    );
    let out = mailroom(
        cwd.path(),
        &[
            "--config",
            s(&config),
            "subscribers",
            "add",
            "cy@example.com",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!key.exists(), "no command made a fresh key");
}

#[test]
fn a_new_store_from_subscribers_add_gets_its_key_and_send_reuses_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), "").unwrap();
    let out = mailroom(dir.path(), &["subscribers", "add", "ann@example.com"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("created the store") && err.contains("mailroom.secret"),
        "{err}"
    );
    let key_file = dir.path().join("mailroom.secret");
    let key = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(key.trim().len(), 64, "32 random bytes as hex");
    assert_eq!(
        (mode(&key_file), mode(&dir.path().join("mailroom.db"))),
        (0o600, 0o600)
    );
    let out = mailroom(dir.path(), &["send", s(&clean_issue())], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(&key_file).unwrap(),
        key,
        "the key is kept"
    );
}

#[test]
fn init_writes_a_config_a_private_store_and_key_and_keeps_them_out_of_git() {
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(repo.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    git(&["init", "-q"]);
    let out = mailroom(repo.path(), &["init", "news"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    for needle in [
        "wrote ",
        "created ",
        "mailroom.db",
        "mailroom.secret",
        "added ",
        ".gitignore",
        "cd news",
    ] {
        assert!(said.contains(needle), "{needle}: {said}");
    }
    let news = repo.path().join("news");
    assert_eq!(mode(&news.join("mailroom.db")), 0o600);
    assert_eq!(mode(&news.join("mailroom.secret")), 0o600);
    let config = std::fs::read_to_string(news.join("config.toml")).unwrap();
    assert_eq!(config, mailroom::config::TEMPLATE);
    // Everything a week produces, then what git would commit.
    let cfg = news.join("config.toml");
    for args in [
        vec!["subscribers", "add", "ann@example.com"],
        vec!["send", s(&clean_issue())],
        vec!["render", s(&clean_issue())],
    ] {
        let out = mailroom(&news, &args, &[]);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    }
    for extra in ["mailroom.db-wal", "mailroom.db-shm", "config.toml.bak"] {
        std::fs::write(news.join(extra), "x").unwrap();
    }
    git(&["add", "-A"]);
    let staged = git(&["diff", "--cached", "--name-only"]);
    assert_eq!(staged, "news/.gitignore\nnews/config.toml\n", "{staged}");
    // A rerun keeps everything, and says so.
    let key = std::fs::read(news.join("mailroom.secret")).unwrap();
    let ignore = std::fs::read(news.join(".gitignore")).unwrap();
    let out = mailroom(repo.path(), &["--config", s(&cfg), "init"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).matches("kept ").count(),
        4,
        "{}",
        text(&out.stdout)
    );
    assert_eq!(std::fs::read(news.join("mailroom.secret")).unwrap(), key);
    assert_eq!(std::fs::read(news.join(".gitignore")).unwrap(), ignore);
}

#[test]
fn init_keeps_an_edited_config_unless_forced_and_then_keeps_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[newsletter]\nname = \"Mine\"\n").unwrap();
    let out = mailroom(dir.path(), &["init"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("it exists; `--force` replaces it"));
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "[newsletter]\nname = \"Mine\"\n"
    );
    let out = mailroom(dir.path(), &["init", "--force"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        mailroom::config::TEMPLATE
    );
    let bak = dir.path().join("config.toml.bak");
    assert_eq!(
        std::fs::read_to_string(bak).unwrap(),
        "[newsletter]\nname = \"Mine\"\n"
    );
}

#[test]
fn init_outside_git_prints_the_ignore_lines_instead() {
    let dir = tempfile::tempdir().unwrap();
    let out = mailroom(dir.path(), &["init"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("is not in a git checkout"), "{said}");
    for line in [
        "  mailroom.db\n",
        "  mailroom.db-*\n",
        "  mailroom.secret\n",
        "  out/\n",
        "  outbox/\n",
        "  *.bak\n",
    ] {
        assert!(said.contains(line), "{line}: {said}");
    }
    assert!(!dir.path().join(".gitignore").exists());
}

#[tokio::test]
async fn opening_a_missing_store_creates_nothing_and_create_makes_a_private_one() {
    use mailroom::store::{Opening, Store, StoreMissing};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let url = format!("sqlite://{}", path.display());
    let err = Store::open(&url).await.unwrap_err();
    assert_eq!(err.downcast_ref::<StoreMissing>().unwrap().path, path);
    assert!(Store::open_durable(&url).await.is_err());
    assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
    let (store, opening) = Store::create(&url).await.unwrap();
    assert_eq!(opening, Opening::Created);
    assert_eq!(mode(&path), 0o600);
    store.close().await;
    let (store, opening) = Store::create(&url).await.unwrap();
    assert_eq!(opening, Opening::Existed);
    store.close().await;
    Store::open(&url).await.unwrap().close().await;
}
