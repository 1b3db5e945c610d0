//! A real MTA for tests: a private Postfix instance (STARTTLS on one port,
//! implicit TLS on another, a self-signed certificate for 127.0.0.1)
//! delivering into one Maildir, and Dovecot serving it over IMAP, all on
//! loopback, set up by the scripts in `tests/mta/`. Stopped on drop.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::sink::free_port;

/// A running Postfix + Dovecot pair.
pub struct Mta {
    _dir: tempfile::TempDir,
    base: PathBuf,
    /// Plain SMTP offering STARTTLS.
    pub smtp_port: u16,
    /// Implicit TLS (`smtpd_tls_wrappermode`).
    pub smtps_port: u16,
    pub imap_port: u16,
}

impl Mta {
    /// Sets up and starts an instance on free ports. Panics (never skips)
    /// when Postfix or Dovecot is missing: `scripts/test` installs them.
    pub fn start() -> Mta {
        for tool in ["/usr/sbin/postfix", "/usr/sbin/dovecot", "/usr/bin/openssl"] {
            assert!(
                Path::new(tool).exists(),
                "`{tool}` is missing; run scripts/test, which installs postfix, dovecot-imapd \
                 and openssl"
            );
        }
        let dir = tempfile::tempdir().expect("temp dir");
        // The virtual delivery agent runs as `nobody` and must reach the Maildir.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let base = dir.path().join("mta");
        let (smtp_port, smtps_port, imap_port) = (free_port(), free_port(), free_port());
        let ports = [smtp_port, imap_port].map(|p| p.to_string());
        let domains = "example.test preview.test bounces.test".to_owned();
        let setup = [&ports[0], &ports[1], &domains, &smtps_port.to_string()].map(|s| s.clone());
        script("mta_setup.sh", &base, &setup);
        let mta = Mta {
            _dir: dir,
            base,
            smtp_port,
            smtps_port,
            imap_port,
        };
        script("mta_start.sh", &mta.base, &ports);
        mta
    }

    /// The instance's self-signed certificate (PEM), for `[smtp] ca_file`.
    pub fn cert(&self) -> PathBuf {
        self.base.join("etc/cert.pem")
    }

    /// How many messages the Maildir holds.
    pub fn delivered(&self) -> usize {
        ["new", "cur"]
            .iter()
            .filter_map(|d| std::fs::read_dir(self.base.join("vmail/preview").join(d)).ok())
            .map(|entries| entries.count())
            .sum()
    }

    /// The bounce domain's Maildir (`bounces@bounces.test` and its VERP
    /// addresses); mail to any other user of `bounces.test` bounces.
    pub fn bounce_maildir(&self) -> PathBuf {
        self.base.join("vmail/bounces")
    }

    /// Waits until at least `n` messages are in the Maildir.
    pub fn wait_for(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.delivered() < n {
            assert!(
                Instant::now() < deadline,
                "{} of {n} message(s) delivered; see {}",
                self.delivered(),
                self.base.join("postfix.log").display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every message in the mailbox, fetched over IMAP (LOGIN, SELECT,
    /// FETCH BODY[]), in mailbox order.
    pub fn fetch_all(&self) -> Vec<Vec<u8>> {
        let mut s = TcpStream::connect(("127.0.0.1", self.imap_port)).expect("connect to IMAP");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        read_until(&mut s, b"* OK");
        for (tag, cmd) in [("a1", "LOGIN preview preview"), ("a2", "SELECT INBOX")] {
            command(&mut s, tag, cmd);
        }
        let fetched = command(&mut s, "a3", "FETCH 1:* BODY[]");
        command(&mut s, "a4", "LOGOUT");
        literals(&fetched)
    }
}

impl Drop for Mta {
    fn drop(&mut self) {
        let _ = Command::new("sh")
            .arg(mta_dir().join("mta_stop.sh"))
            .arg(&self.base)
            .output();
    }
}

fn mta_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mta")
}

fn script(name: &str, base: &Path, args: &[String]) {
    let out = Command::new("sh")
        .arg(mta_dir().join(name))
        .arg(base)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run tests/mta/{name}: {e}"));
    assert!(
        out.status.success() && !String::from_utf8_lossy(&out.stdout).contains("not up"),
        "tests/mta/{name} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Sends `tag cmd` and returns everything up to and including its `tag OK`.
fn command(s: &mut TcpStream, tag: &str, cmd: &str) -> Vec<u8> {
    s.write_all(format!("{tag} {cmd}\r\n").as_bytes()).unwrap();
    let marker = format!("\r\n{tag} ");
    let got = read_until(s, marker.as_bytes());
    let at = find(&got, marker.as_bytes()).expect("the tagged reply");
    let status = String::from_utf8_lossy(&got[at + marker.len()..]).into_owned();
    assert!(status.starts_with("OK"), "IMAP `{cmd}` failed: {status}");
    got
}

/// Reads until `marker` has arrived, then to the end of that line.
fn read_until(s: &mut TcpStream, marker: &[u8]) -> Vec<u8> {
    let mut buf = vec![b'\r', b'\n'];
    let mut chunk = [0u8; 65536];
    loop {
        let n = s.read(&mut chunk).expect("read from IMAP");
        assert!(n > 0, "IMAP closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = find(&buf, marker)
            && find(&buf[at + 2..], b"\r\n").is_some()
        {
            return buf;
        }
    }
}

/// The `{n}` literals of a FETCH response: each message's bytes.
fn literals(resp: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = resp;
    while let Some(at) = find(rest, b"BODY[] {") {
        let after = &rest[at + 8..];
        let close = find(after, b"}\r\n").expect("a literal length");
        let n: usize = std::str::from_utf8(&after[..close])
            .unwrap()
            .parse()
            .unwrap();
        let body = &after[close + 3..];
        out.push(body[..n].to_vec());
        rest = &body[n..];
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
