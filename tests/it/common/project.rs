//! A throwaway mailroom project: the shipped config, a fresh store (a
//! SQLite file, or a database in the tests' PostgreSQL cluster) with N
//! subscribers, a clean issue, and the real binary run against them.
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The signing key tests use.
pub const SECRET: &str = "test-secret-0123456789abcdef0123";

/// A temp directory with `config.toml`, `mailroom.db` and env overrides.
pub struct Project {
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
}

impl Project {
    /// A project with `n` subscribers `user{i}@example.com` (i = 1..=n),
    /// mailing through SMTP on `port` with short timeouts and backoffs.
    pub fn new(n: usize, port: u16) -> Project {
        Self::create(n, port, None)
    }

    /// Like [`Project::new`], with the store in a fresh PostgreSQL database
    /// (its password in `MAILROOM_DATABASE__PASSWORD`).
    pub fn postgres(n: usize, port: u16) -> Project {
        Self::create(n, port, Some(super::pg::fresh_database()))
    }

    fn create(n: usize, port: u16, postgres: Option<String>) -> Project {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        std::fs::copy(root.join("config.toml"), dir.path().join("config.toml")).unwrap();
        let mut p = Project {
            dir,
            env: Vec::new(),
        };
        for (k, v) in [
            (
                "MAILROOM_DATABASE__URL",
                format!("sqlite://{}", p.path("mailroom.db").display()),
            ),
            ("MAILROOM_WEB__SECRET", SECRET.to_owned()),
            ("MAILROOM_SEND__TRANSPORT", "smtp".to_owned()),
            ("MAILROOM_SEND__CONCURRENCY", "4".to_owned()),
            ("MAILROOM_SEND__RETRY_BASE_SECS", "0.1".to_owned()),
            ("MAILROOM_SEND__RETRY_MAX_SECS", "1".to_owned()),
            ("MAILROOM_SEND__MAX_ATTEMPTS", "8".to_owned()),
            ("MAILROOM_SEND__SHUTDOWN_GRACE_SECS", "2".to_owned()),
            ("MAILROOM_SEND__PROGRESS_SECS", "60".to_owned()),
            ("MAILROOM_SMTP__HOST", "127.0.0.1".to_owned()),
            ("MAILROOM_SMTP__PORT", port.to_string()),
            ("MAILROOM_SMTP__TLS", "none".to_owned()),
            ("MAILROOM_SMTP__TIMEOUT_SECS", "2".to_owned()),
            (
                "MAILROOM_OUTBOX__DIR",
                p.path("outbox").display().to_string(),
            ),
            (
                "MAILROOM_PREVIEW__RECIPIENTS",
                "preview@preview.test".to_owned(),
            ),
        ] {
            p.set(k, &v);
        }
        if let Some(url) = postgres {
            p.set("MAILROOM_DATABASE__URL", &url);
            p.set("MAILROOM_DATABASE__PASSWORD", super::pg::PASSWORD);
        }
        let csv: String = std::iter::once("email\n".to_owned())
            .chain((1..=n).map(|i| format!("{}\n", email(i))))
            .collect();
        std::fs::write(p.path("subscribers.csv"), csv).unwrap();
        // Also with no subscribers: the import creates the store.
        let out = p.run(&["subscribers", "import", "subscribers.csv"]);
        assert!(out.status.success(), "import failed: {}", stderr(&out));
        p
    }

    /// A path inside the project.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Sets (or replaces) an environment override.
    pub fn set(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
    }

    /// The command, ready to run in the project directory.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_mailroom"));
        c.current_dir(self.dir.path())
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        c
    }

    /// Runs mailroom to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run mailroom")
    }

    /// Starts mailroom without waiting.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn mailroom")
    }

    /// `mailroom send <clean issue>` with extra arguments, confirmed with
    /// `--yes` as a script would (except for `--test` and `--dry-run`).
    pub fn send(&self, extra: &[&str]) -> Output {
        let issue = clean_issue();
        let mut args = vec!["send", issue.to_str().unwrap()];
        args.extend_from_slice(extra);
        if !extra.iter().any(|a| *a == "--test" || *a == "--dry-run") {
            args.push("--yes");
        }
        self.run(&args)
    }

    /// `mailroom status --format json`, parsed.
    pub fn status(&self) -> serde_json::Value {
        let out = self.run(&["status", "--format", "json"]);
        assert!(out.status.success(), "status failed: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).expect("status prints JSON")
    }
}

/// `send --format json`'s stdout: one JSON event per line, the final
/// `report` last.
pub fn events(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The final `report` event of `send --format json`.
pub fn report(out: &Output) -> serde_json::Value {
    let last = events(out).pop().expect("send printed no events");
    assert_eq!(last["event"], "report", "{last}");
    last
}

/// The n-th test subscriber's address.
pub fn email(i: usize) -> String {
    format!("user{i}@example.com")
}

/// Seed 001 (issue 620), which the checker passes.
pub fn clean_issue() -> PathBuf {
    seed_path("001")
}

/// The seed file whose name starts with `prefix`.
pub fn seed_path(prefix: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seeds");
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .expect("seed exists")
}

/// A command's stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
