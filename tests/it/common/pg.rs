//! A real PostgreSQL for tests: one private throwaway cluster per test
//! process (`initdb` + `pg_ctl` from Debian's `/usr/lib/postgresql/*/bin`,
//! run as the unprivileged `postgres` user when the tests run as root, in
//! a temp dir, on a free loopback port, password authentication), and a
//! fresh database per test. A watchdog (`tests/pg/watch.sh`) stops the
//! cluster and removes its directory once the test process has exited.
//! Durability is switched off (`fsync = off`): tests need answers, not
//! crash safety of the server.
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use super::sink::free_port;

/// The role the tests log in as, and its password.
pub const USER: &str = "mailroom";
pub const PASSWORD: &str = "test-password-5b1f";

/// The running cluster.
pub struct Cluster {
    pub port: u16,
    bin: PathBuf,
    /// Outlives this process on purpose: it stops the cluster after it.
    _watchdog: std::process::Child,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(0);

/// The cluster, started on first use.
pub fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(start)
}

/// A fresh, empty database: its URL (without the password; pass
/// [`PASSWORD`] as `MAILROOM_DATABASE__PASSWORD`).
pub fn fresh_database() -> String {
    let c = cluster();
    let name = format!(
        "t{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::Relaxed)
    );
    let out = Command::new(c.bin.join("createdb"))
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &c.port.to_string(),
            "-U",
            USER,
            &name,
        ])
        .env("PGPASSWORD", PASSWORD)
        .output()
        .expect("run createdb");
    assert!(
        out.status.success(),
        "createdb {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!("postgres://{USER}@127.0.0.1:{}/{name}", c.port)
}

fn start() -> Cluster {
    let bin = bin_dir();
    let dir = tempfile::Builder::new()
        .prefix("mailroom-pg-")
        .tempdir()
        .expect("temp dir")
        .keep();
    // PostgreSQL refuses to run as root.
    let run_as = is_root().then(unprivileged_user);
    if let Some(user) = &run_as {
        let ok = Command::new("chown").arg(user).arg(&dir).status();
        assert!(
            ok.is_ok_and(|s| s.success()),
            "chown {user} {}",
            dir.display()
        );
    }
    let pwfile = dir.join("pw");
    std::fs::write(&pwfile, PASSWORD).unwrap();
    let data = dir.join("data");
    let initdb = [
        "-D",
        &data.display().to_string(),
        "-U",
        USER,
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        &format!("--pwfile={}", pwfile.display()),
        "-E",
        "UTF8",
        "--no-locale",
        "--no-sync",
    ]
    .map(str::to_owned);
    run(&bin.join("initdb"), &initdb, run_as.as_deref(), &dir);
    let port = free_port();
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=400 \
         -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
        dir.display()
    );
    let log = dir.join("log").display().to_string();
    let data_arg = data.display().to_string();
    let start = ["-D", &data_arg, "-o", &options, "-l", &log, "-w", "start"].map(str::to_owned);
    run(&bin.join("pg_ctl"), &start, run_as.as_deref(), &dir);
    let watch = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pg/watch.sh");
    let watchdog = Command::new(watch)
        .arg(std::process::id().to_string())
        .arg(&bin)
        .arg(&data)
        .arg(run_as.as_deref().unwrap_or(""))
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the cluster's watchdog");
    Cluster {
        port,
        bin,
        _watchdog: watchdog,
    }
}

/// Runs a PostgreSQL program, as `user` when given; panics with its output.
fn run(program: &Path, args: &[String], user: Option<&str>, dir: &Path) {
    let mut cmd = match user {
        Some(u) => {
            let mut c = Command::new("runuser");
            c.args(["-u", u, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    };
    let out = cmd
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{}`: {e}", program.display()));
    assert!(
        out.status.success(),
        "`{}` failed: {}{}",
        program.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The newest `/usr/lib/postgresql/<version>/bin`. Panics (never skips)
/// when PostgreSQL is missing: `scripts/test` installs it.
fn bin_dir() -> PathBuf {
    let versions = std::fs::read_dir("/usr/lib/postgresql").ok();
    let newest = versions
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .max();
    newest
        .map(|(_, bin)| bin)
        .expect("PostgreSQL is missing (no /usr/lib/postgresql/*/bin/initdb); run scripts/test, which installs postgresql")
}

fn unprivileged_user() -> String {
    let known = |u: &str| {
        Command::new("id")
            .arg(u)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    ["postgres", "nobody"]
        .into_iter()
        .find(|u| known(u))
        .expect("neither `postgres` nor `nobody` exists to run PostgreSQL as")
        .to_owned()
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}
