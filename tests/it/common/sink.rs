//! A real SMTP peer for tests: Postfix's `smtp-sink` on 127.0.0.1, with its
//! fault flags, dumping every received message into its own file.
use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's postfix package installs it (`scripts/test` installs it).
pub const SMTP_SINK: &str = "/usr/sbin/smtp-sink";

/// A free TCP port on loopback for a server a test starts (Postfix,
/// Dovecot, `smtp-sink`, `serve`), which binds it a moment later.
///
/// Not a port the kernel hands out by itself (bind to 0): between this call
/// and the server's bind, the kernel could give the same port to another
/// test's outgoing connection, or to another `free_port`, and the server
/// then failed to start (a CI run saw "postfix not up"). So the ports come
/// from just below the kernel's ephemeral range, which it never picks on
/// its own, each at most once per test run.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32768);
    let (low, span) = (ephemeral_low.saturating_sub(12_000).max(1024), 10_000);
    // Several test runs on one machine start at different places.
    let start = std::process::id() % span;
    for _ in 0..span {
        let port = low + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % span;
        let Ok(port) = u16::try_from(port) else {
            continue;
        };
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port on loopback in {low}..{}", low + span)
}

/// A running `smtp-sink`; killed on drop.
pub struct Sink {
    child: Option<Child>,
    pub port: u16,
    pub dump: PathBuf,
}

impl Sink {
    /// Starts a sink on `port` with fault `flags` (e.g. `["-r", "RCPT"]`),
    /// dumping into a fresh directory `name` under `root`.
    pub fn start(root: &Path, name: &str, port: u16, flags: &[&str]) -> Sink {
        Sink::start_on(root, name, "127.0.0.1", port, flags)
    }

    /// Like [`Sink::start`], listening on `host` (`127.0.0.1` or `::1`).
    pub fn start_on(root: &Path, name: &str, host: &str, port: u16, flags: &[&str]) -> Sink {
        let dump = root.join(name);
        std::fs::create_dir_all(&dump).expect("create the dump dir");
        // As root the sink runs as `nobody`, which must reach and write it.
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&dump, std::fs::Permissions::from_mode(0o777)).unwrap();
        let mut cmd = Command::new(SMTP_SINK);
        if is_root() {
            cmd.args(["-u", "nobody"]);
        }
        let template = format!("{}/%Y%m%d%H%M%S.", dump.display());
        cmd.args(flags)
            .args(["-d", &template])
            .arg(if host.contains(':') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            })
            .arg("64")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot start `{SMTP_SINK}` ({e}); run scripts/test, which installs postfix")
        });
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect((host, port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "smtp-sink did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        Sink {
            child: Some(child),
            port,
            dump,
        }
    }

    /// Waits for the sink to exit by itself (`-M N`), at most `limit`.
    pub fn wait_exit(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        let child = self.child.as_mut().expect("running");
        while child.try_wait().expect("poll smtp-sink").is_none() {
            assert!(Instant::now() < deadline, "smtp-sink did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
        self.child = None;
    }

    /// Stops the sink.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Every dumped message: (envelope recipient, the message bytes).
    pub fn messages(&self) -> Vec<(String, Vec<u8>)> {
        dumped(&self.dump)
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop();
    }
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// The messages dumped in `dir`: the `X-Rcpt-Args: <addr>` line names the
/// recipient; the message starts after the sink's own `X-`/`Received:` lines,
/// at its DKIM-Signature or From header.
/// Files of sessions that never got a recipient (the sink opens one per
/// session) are not messages and are left out.
pub fn dumped(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read the dump dir") {
        let bytes = std::fs::read(entry.expect("dir entry").path()).expect("read a dump");
        let text = String::from_utf8_lossy(&bytes);
        let Some(rcpt) = text
            .lines()
            .find_map(|l| l.strip_prefix("X-Rcpt-Args: "))
            .map(|a| a.trim().trim_matches(['<', '>']).to_owned())
        else {
            continue;
        };
        // A signed message starts with its DKIM-Signature header(s).
        let start = ["\nDKIM-Signature: ", "\nFrom: "]
            .iter()
            .find_map(|h| text.find(h))
            .map_or(0, |i| i + 1);
        out.push((rcpt, bytes[start..].to_vec()));
    }
    out
}

/// How many messages each recipient got, over several dump directories.
pub fn tally<'a>(
    dumps: impl IntoIterator<Item = &'a [(String, Vec<u8>)]>,
) -> BTreeMap<String, usize> {
    let mut t = BTreeMap::new();
    for d in dumps {
        for (rcpt, _) in d {
            *t.entry(rcpt.clone()).or_default() += 1;
        }
    }
    t
}
