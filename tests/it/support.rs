//! Shared helpers for the `subscribers` integration tests: a temp dir with
//! its own SQLite file, and the real binary run against it.
#![allow(dead_code)]
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// A scratch directory holding one database, and the binary pointed at it.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    /// A scratch directory with an empty store (only `init`, `subscribers
    /// add` and `subscribers import` create one; other commands need it).
    pub fn new() -> Self {
        let env = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        let url = env.db_url();
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let (store, _) = mailroom::store::Store::create(&url).await.unwrap();
            store.close().await;
        });
        env
    }

    pub fn db_url(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("mailroom.db").display())
    }

    /// A `mailroom` command with the shipped config and this database.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mailroom"));
        cmd.arg("--config")
            .arg(fixture("../../config.toml"))
            .args(args)
            .current_dir(self.dir.path())
            .env("MAILROOM_DATABASE__URL", self.db_url());
        cmd
    }

    /// Runs `mailroom ARGS…` and returns its output, whatever the status.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs `mailroom ARGS…`, asserts success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "mailroom {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `subscribers show EMAIL --format json`.
    pub fn show(&self, email: &str) -> Value {
        serde_json::from_str(&self.ok(&["subscribers", "show", email, "--format", "json"])).unwrap()
    }

    /// `subscribers list --format json`.
    pub fn list(&self) -> Vec<Value> {
        serde_json::from_str(&self.ok(&["subscribers", "list", "--format", "json"])).unwrap()
    }

    /// Status per address, from `list --format json`.
    pub fn statuses(&self) -> Vec<(String, String)> {
        let mut v: Vec<_> = self
            .list()
            .iter()
            .map(|s| {
                (
                    s["email"].as_str().unwrap().to_owned(),
                    s["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        v.sort();
        v
    }

    /// Writes `bytes` to `name` in the scratch dir and returns its path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

/// The path of a file under `tests/fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// The three Mailchimp fixture CSVs.
pub const MAILCHIMP_CSVS: [&str; 3] = [
    "mailchimp/subscribed_members_export_2f9c1a.csv",
    "mailchimp/unsubscribed_members_export_2f9c1a.csv",
    "mailchimp/cleaned_members_export_2f9c1a.csv",
];

/// Builds a zip at `path` holding `entries` (name, bytes), as Mailchimp does.
pub fn write_zip(path: &Path, entries: &[(&str, Vec<u8>)]) {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    for (name, bytes) in entries {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zip, bytes).unwrap();
    }
    zip.finish().unwrap();
}

/// The summary line's numbers: added, updated, unchanged, suppressed, rejected.
pub fn summary(stdout: &str) -> [u64; 5] {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("added "))
        .unwrap_or_else(|| panic!("no summary in {stdout:?}"));
    let nums: Vec<u64> = line
        .split(", ")
        .map(|part| part.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    nums.try_into().unwrap()
}
