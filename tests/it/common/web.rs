//! The real `mailroom serve` for tests: started on a free loopback port
//! with the project's config, stderr captured to a file, stopped with
//! SIGTERM; and a minimal HTTP/1.1 client on `std::net::TcpStream`.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::project::Project;
use super::sink::free_port;

/// A running `mailroom serve`.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    pub log: PathBuf,
}

/// Points `[web]` of `p` at a free port; returns the port. Call before
/// `mailroom send`, so its links lead to this server.
pub fn configure(p: &mut Project) -> u16 {
    let port = free_port();
    p.set("MAILROOM_WEB__BIND", &format!("127.0.0.1:{port}"));
    p.set(
        "MAILROOM_WEB__PUBLIC_URL",
        &format!("http://127.0.0.1:{port}"),
    );
    port
}

impl Server {
    /// Starts `mailroom <flags> serve` for `p` (configured with
    /// [`configure`]) and waits until `/healthz` answers.
    pub fn start(p: &Project, port: u16, flags: &[&str]) -> Server {
        let mut args = flags.to_vec();
        args.push("serve");
        Self::start_command(p, port, p.command(&args))
    }

    /// Starts `mailroom serve` under an open-file limit of `nofile` (soft
    /// and hard, as `ulimit -n` sets them), through util-linux's `prlimit`.
    pub fn start_with_nofile(p: &Project, port: u16, nofile: u64) -> Server {
        let mut cmd = Command::new("prlimit");
        cmd.arg(format!("--nofile={nofile}:{nofile}"))
            .arg(env!("CARGO_BIN_EXE_mailroom"))
            .arg("serve")
            .current_dir(p.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(p.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        Self::start_command(p, port, cmd)
    }

    fn start_command(p: &Project, port: u16, mut command: Command) -> Server {
        let log = p.path(&format!("serve-{port}.log"));
        let child = command
            .stdout(Stdio::null())
            .stderr(
                // Appended: a restarted server keeps the earlier run's lines.
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&log)
                    .expect("open the log file"),
            )
            .spawn()
            .expect("spawn mailroom serve");
        let server = Server {
            child: Some(child),
            port,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if try_request(port, "GET", "/healthz", None).is_ok_and(|r| r.status == 200) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "serve did not come up: {}",
                server.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// What the server wrote to stderr so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let pid = child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().expect("wait for serve") {
                return status;
            }
            assert!(Instant::now() < deadline, "serve ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// An HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    /// Header lines, names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// The first header called `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// GET `path`.
pub fn get(port: u16, path: &str) -> Reply {
    request(port, "GET", path, None)
}

/// POST `body` as a form to `path`.
pub fn post(port: u16, path: &str, body: &str) -> Reply {
    request(port, "POST", path, Some(body))
}

/// One request on its own connection (`Connection: close`).
pub fn request(port: u16, method: &str, path: &str, body: Option<&str>) -> Reply {
    try_request(port, method, path, body).expect("an HTTP exchange with serve")
}

/// [`request`], with I/O errors returned.
pub fn try_request(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> std::io::Result<Reply> {
    try_request_with(port, method, path, body, &[])
}

/// GET `path` with extra header lines (`Name: value`).
pub fn get_with(port: u16, path: &str, headers: &[&str]) -> Reply {
    try_request_with(port, "GET", path, None, headers).expect("an HTTP exchange with serve")
}

/// POST `body` as a form to `path`, with extra header lines (`Name: value`).
pub fn post_with(port: u16, path: &str, body: &str, headers: &[&str]) -> Reply {
    try_request_with(port, "POST", path, Some(body), headers).expect("an HTTP exchange with serve")
}

fn try_request_with(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
    headers: &[&str],
) -> std::io::Result<Reply> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for h in headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    if let Some(b) = body {
        req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        req.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    req.push_str(body.unwrap_or(""));
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let incomplete = || std::io::Error::other("an incomplete response");
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(incomplete)?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(incomplete)?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(Reply {
        status,
        headers,
        body: body.to_owned(),
    })
}

/// Sends `request` as is on a new connection; the whole answer as text.
pub fn raw(port: u16, request: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to serve");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request.as_bytes()).expect("send a request");
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    String::from_utf8_lossy(&raw).into_owned()
}

/// The path of `url` (`http://host:port/a/b` → `/a/b`).
pub fn path_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/')
        .map_or("/".to_owned(), |i| rest[i..].to_owned())
}

/// `mailroom subscribers show EMAIL --format json`, parsed.
pub fn show(p: &Project, email: &str) -> serde_json::Value {
    let out = p.run(&["subscribers", "show", email, "--format", "json"]);
    assert!(
        out.status.success(),
        "show failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("show prints JSON")
}

/// The https (here http, on loopback) URL in a message's List-Unsubscribe.
pub fn list_unsubscribe_url(raw: &[u8]) -> String {
    let msg = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("a message");
    let value = msg
        .header_raw("List-Unsubscribe")
        .expect("a List-Unsubscribe header");
    let start = value.find('<').expect("<url>") + 1;
    let end = start + value[start..].find('>').expect("<url>");
    value[start..end].to_owned()
}

/// The link in a confirmation message's text part.
pub fn confirm_link(raw: &[u8]) -> String {
    let msg = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("a message");
    let text = msg.body_text(0).expect("a text part");
    text.split_whitespace()
        .find(|w| w.contains("/confirm/"))
        .expect("a confirmation link")
        .to_owned()
}
