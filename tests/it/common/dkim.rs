//! DKIM for tests: the fixture keys, and verification by Debian's
//! python3-dkim through `tests/dkim_verify.py`, whose DNS hook answers with
//! the records given here (no real DNS).
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::project::Project;

/// The domain the fixture keys sign for (the shipped From domain).
pub const DOMAIN: &str = "this-week-in-rust.org";

/// A fixture key file in `tests/fixtures/dkim/`.
pub fn key_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dkim")
        .join(name)
}

/// The DNS record (`v=DKIM1; k=…; p=…`) for a fixture key.
pub fn record(name: &str) -> String {
    let pem = std::fs::read(key_path(name)).expect("fixture key");
    mailroom::message::dkim::PrivateKey::from_pem(&pem)
        .expect("fixture key parses")
        .dns_record()
}

/// Configures `p` to sign with the fixture RSA key as `rsa` (and with the
/// Ed25519 one as `ed` when `ed25519`); returns the DNS records to give
/// [`verify`].
pub fn configure(p: &mut Project, ed25519: bool) -> Vec<(String, String)> {
    p.set("MAILROOM_DKIM__DOMAIN", DOMAIN);
    p.set("MAILROOM_DKIM__SELECTOR", "rsa");
    let key = key_path("rsa.pem").display().to_string();
    p.set("MAILROOM_DKIM__PRIVATE_KEY_FILE", &key);
    let mut records = vec![(format!("rsa._domainkey.{DOMAIN}"), record("rsa.pem"))];
    if ed25519 {
        p.set("MAILROOM_DKIM__ED25519_SELECTOR", "ed");
        let key = key_path("ed25519.pem").display().to_string();
        p.set("MAILROOM_DKIM__ED25519_PRIVATE_KEY_FILE", &key);
        records.push((format!("ed._domainkey.{DOMAIN}"), record("ed25519.pem")));
    }
    records
}

/// What python3-dkim says about every signature of `raw`: (all pass, report).
/// Panics (never skips) when python3-dkim is missing: `scripts/test` installs it.
pub fn verify(raw: &[u8], records: &[(String, String)]) -> (bool, String) {
    assert!(
        Path::new("/usr/lib/python3/dist-packages/dkim").exists(),
        "python3-dkim is missing; run scripts/test, which installs it"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("records");
    let lines: String = records.iter().map(|(n, v)| format!("{n} {v}\n")).collect();
    std::fs::write(&file, lines).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dkim_verify.py");
    let mut child = Command::new("/usr/bin/python3")
        .arg(script)
        .arg(&file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    child.stdin.take().unwrap().write_all(raw).unwrap();
    let out = child.wait_with_output().unwrap();
    let report =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), report)
}

/// Asserts that every signature of `raw` verifies, and that there are `n`.
pub fn assert_verifies(raw: &[u8], records: &[(String, String)], n: usize) {
    let (ok, report) = verify(raw, records);
    assert!(ok, "python3-dkim: {report}");
    assert_eq!(report.matches(": pass").count(), n, "{report}");
}
