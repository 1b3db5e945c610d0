//! `mailroom preview` in headless Chromium: the real binary serving issue
//! 620 on loopback; every view shows the issue, findings link to their
//! lines, and saving the file updates the open page by itself.
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};

use crate::common::chromium::Driver;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A running `mailroom preview`; stopped on drop.
struct Preview {
    child: Child,
    url: String,
}

impl Preview {
    /// Starts `mailroom preview issue.md` in `dir` and reads its URL.
    fn start(dir: &Path, extra: &[&str]) -> Preview {
        Self::start_binary(Path::new(env!("CARGO_BIN_EXE_mailroom")), dir, extra)
    }

    /// [`Preview::start`] with the binary at `bin`.
    fn start_binary(bin: &Path, dir: &Path, extra: &[&str]) -> Preview {
        let mut child = Command::new(bin)
            .arg("--config")
            .arg(Path::new(ROOT).join("config.toml"))
            .arg("preview")
            .arg("issue.md")
            .args(extra)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn mailroom preview");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("preview printed its URL");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no loopback URL in {line:?}"))
            .to_owned();
        Preview { child, url }
    }
}

impl Drop for Preview {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn seed_620() -> String {
    std::fs::read_to_string(Path::new(ROOT).join("tests/fixtures/seeds/001_daec47276e9082ac.txt"))
        .unwrap()
}

/// Runs `js` in the page until it returns something that `ok` accepts, or
/// fails after `limit` with the last answer.
async fn wait_for(
    c: &Client,
    js: &str,
    limit: Duration,
    ok: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + limit;
    loop {
        let v = c.execute(js, vec![]).await.unwrap_or_default();
        if ok(&v) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "gave up waiting; last answer: {v}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The visible text of view `id` (inside its frame when it has one).
fn view_text_js(id: &str) -> String {
    format!(
        "location.hash = '#{id}';
         const s = document.getElementById('{id}');
         const f = s.querySelector('iframe');
         if (!s.classList.contains('on')) return null;
         if (!f) return s.innerText;
         const d = f.contentDocument;
         return d && d.readyState === 'complete' && d.body ? d.body.innerText : null;"
    )
}

async fn view_text(c: &Client, id: &str, want: &str) -> String {
    let v = wait_for(c, &view_text_js(id), Duration::from_secs(20), |v| {
        v.as_str().is_some_and(|t| t.contains(want))
    })
    .await;
    v.as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preview_shows_every_view_and_follows_edits_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let issue = dir.path().join("issue.md");
    std::fs::write(&issue, seed_620()).unwrap();
    let preview = Preview::start(dir.path(), &[]);
    let driver = Driver::start();
    let c = driver.browser(&dir.path().join("chromium-profile")).await;
    c.goto(&preview.url).await.expect("open the preview");

    for id in ["desktop", "mobile", "dark", "text"] {
        let text = view_text(&c, id, "Hello and welcome to another issue").await;
        assert!(text.contains("620"), "the {id} view shows issue 620");
    }
    // Each email frame is as tall as the email once its tab is shown, though
    // all but the first loaded in a hidden tab.
    for id in ["mobile", "dark", "desktop"] {
        let fitted = format!(
            "location.hash = '#{id}';
             const f = document.querySelector('#{id} iframe');
             if (!document.getElementById('{id}').classList.contains('on')) return null;
             return [f.getBoundingClientRect().height,
                     f.contentDocument.documentElement.scrollHeight];"
        );
        let v = wait_for(&c, &fitted, Duration::from_secs(10), |v| v.is_array()).await;
        let (frame, email) = (v[0].as_f64().unwrap(), v[1].as_f64().unwrap());
        assert!(
            email > 1000.0 && frame >= email,
            "the {id} frame is {frame} px for an email of {email} px"
        );
    }
    let headers = view_text(&c, "headers", "Subject: This Week in Rust 620").await;
    assert!(headers.contains("List-Unsubscribe-Post:"), "{headers}");
    view_text(&c, "source", "Title: This Week in Rust 620").await;

    let frames =
        "return [...document.querySelectorAll('iframe')].map(f => f.getAttribute('width'));";
    let widths = c.execute(frames, vec![]).await.unwrap();
    assert_eq!(widths, serde_json::json!(["600", "375", "600"]));
    let dark = "location.hash = '#dark';
        const b = document.querySelector('#dark iframe').contentDocument.body;
        const bg = getComputedStyle(b).backgroundColor.match(/\\d+/g).map(Number);
        return bg[0] + bg[1] + bg[2];";
    let brightness = wait_for(&c, dark, Duration::from_secs(10), |v| v.is_number()).await;
    assert!(
        brightness.as_u64().unwrap() < 200,
        "the dark view's background is dark: {brightness}"
    );
    let no_findings = view_text(&c, "findings", "No findings").await;
    assert!(no_findings.contains("checker is happy"));

    // Edit the issue: a new intro sentence and a link broken across lines.
    let edited = seed_620().replacen(
        "Hello and welcome to another issue",
        "Edited while previewing. Hello and welcome to another issue",
        1,
    ) + "\n* [A broken link](https://example.org/a-\nb)\n";
    let broken_line = edited.lines().count() - 1;
    c.execute("location.hash = '#desktop'; return true;", vec![])
        .await
        .unwrap();
    let saved = Instant::now();
    std::fs::write(&issue, &edited).unwrap();
    view_text(&c, "desktop", "Edited while previewing.").await;
    eprintln!(
        "the page showed the edit {} ms after the save",
        saved.elapsed().as_millis()
    );
    let findings = view_text(&c, "findings", "raw-markdown").await;
    assert!(
        findings.contains(&format!("line {broken_line}")),
        "{findings}"
    );

    // A finding's link opens the source at its line.
    c.find(Locator::Css(&format!(
        "#findings a[href='#L{broken_line}']"
    )))
    .await
    .expect("the finding links to its line")
    .click()
    .await
    .unwrap();
    let shown = "return [document.getElementById('source').classList.contains('on'),
                         document.querySelector(':target') && document.querySelector(':target').id];";
    let v = wait_for(&c, shown, Duration::from_secs(10), |v| v[0] == true).await;
    assert_eq!(v, serde_json::json!([true, format!("L{broken_line}")]));
    // The tabs stay in view while the source scrolls to a line far down.
    let tabs = "const r = document.querySelector('nav').getBoundingClientRect();
                return [scrollY > 0, r.top >= 0 && r.bottom <= innerHeight];";
    let v = c.execute(tabs, vec![]).await.unwrap();
    assert_eq!(
        v,
        serde_json::json!([true, true]),
        "[scrolled, tabs in view]"
    );

    // A header the parser refuses shows the error and its line, and the
    // page recovers when it is fixed.
    std::fs::write(&issue, edited.replacen("Date: ", "Date: x", 1)).unwrap();
    let problem = view_text(&c, "desktop", "`Date:` is").await;
    assert!(problem.contains("line 3"), "{problem}");
    std::fs::write(&issue, &edited).unwrap();
    view_text(&c, "desktop", "Edited while previewing.").await;
    c.close().await.expect("close the browser");
}

#[test]
fn open_launches_the_browser_with_the_url_and_the_server_is_loopback_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("issue.md"), seed_620()).unwrap();
    let opened = dir.path().join("opened.txt");
    let script = dir.path().join("browser.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$1\" > {}\n", opened.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let preview = {
        // Only this child sees BROWSER.
        let mut child = Command::new(env!("CARGO_BIN_EXE_mailroom"));
        child.env("BROWSER", &script);
        let port = crate::common::sink::free_port();
        let url = format!("http://127.0.0.1:{port}/");
        let mut child = child
            .arg("--config")
            .arg(Path::new(ROOT).join("config.toml"))
            .args(["preview", "issue.md", "--open", "--port", &port.to_string()])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::fs::read_to_string(&opened).map_or(true, |s| s.trim().is_empty()) {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("the browser was never launched");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Preview { child, url }
    };
    assert_eq!(
        std::fs::read_to_string(&opened).unwrap().trim(),
        preview.url
    );
    let port: u16 = preview
        .url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let local = std::net::TcpStream::connect(("127.0.0.1", port));
    assert!(local.is_ok(), "the preview answers on loopback");
    assert_eq!(
        listening_addresses(port),
        ["127.0.0.1"],
        "the preview listens on loopback only"
    );
}

/// The local addresses with a socket listening on `port`, from the
/// kernel's own table (`/proc/net/tcp` and `tcp6`).
fn listening_addresses(port: u16) -> Vec<String> {
    let mut found = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state)) = (fields.get(1), fields.get(3)) else {
                continue;
            };
            let Some((addr, p)) = local.split_once(':') else {
                continue;
            };
            if *state != "0A" || u16::from_str_radix(p, 16).ok() != Some(port) {
                continue; // not listening, or another port
            }
            found.push(match u32::from_str_radix(addr, 16) {
                // IPv4 addresses are written in host (little-endian) order.
                Ok(v) if addr.len() == 8 => std::net::Ipv4Addr::from(v.swap_bytes()).to_string(),
                _ => addr.to_owned(),
            });
        }
    }
    found
}

/// The `data-version` of the page at `port`, when it answers.
fn page_version(port: u16) -> Option<String> {
    let reply = crate::common::web::try_request(port, "GET", "/", None).ok()?;
    let body = reply.body;
    let at = body.find("data-version=\"")? + "data-version=\"".len();
    Some(body[at..].split('"').next()?.to_owned())
}

#[test]
fn a_rebuilt_binary_takes_over_on_the_same_port_and_the_page_version_changes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("issue.md"), seed_620()).unwrap();
    let bin = dir.path().join("mailroom");
    std::fs::copy(env!("CARGO_BIN_EXE_mailroom"), &bin).unwrap();
    let mut preview = Preview::start_binary(&bin, dir.path(), &[]);
    let port: u16 = preview
        .url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let before = page_version(port).expect("the preview answers");

    // What `cargo build` does: a new file in place of the old one.
    let fresh = dir.path().join("mailroom.new");
    std::fs::copy(env!("CARGO_BIN_EXE_mailroom"), &fresh).unwrap();
    std::fs::rename(&fresh, &bin).unwrap();

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if page_version(port).is_some_and(|v| v != before) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the rebuilt preview never answered"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        preview.child.try_wait().unwrap().is_none(),
        "the same process runs on (exec), so Ctrl-C still stops it"
    );
}

#[test]
fn a_missing_issue_file_is_an_error_at_once_and_serves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .args(["preview", "isue.md"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read `isue.md`"), "{err}");
    assert!(out.stdout.is_empty(), "no URL printed");
}
