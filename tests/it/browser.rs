//! The HTML part in a real browser (Debian's headless `chromium`): no
//! horizontal overflow on a 375 px phone, and dark mode wins over the inline
//! styles. Chromium's window cannot be narrower than 500 px, so the email is
//! measured inside a 375 px `<iframe srcdoc>`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{render, seed, settings};
use mailroom::model::Slot;

const CHROMIUM: &str = "/usr/bin/chromium";
pub(crate) const PHONE: u32 = 375;

/// What the probe page reports about the email inside its iframe.
#[derive(Debug)]
struct Measure {
    client_width: u32,
    scroll_width: u32,
    sheet_background: String,
    text_color: String,
    overflowing: String,
}

/// A page that frames `email` in an iframe `width` px wide and, once
/// everything has loaded, runs `script` (with `w`, `d` and `e` the frame's
/// window, document and root element) and writes the string it evaluates
/// to into `<pre id="probe">`.
pub(crate) fn framed(email: &str, width: u32, script: &str) -> String {
    let srcdoc = email.replace('&', "&amp;").replace('"', "&quot;");
    format!(
        r#"<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" style="border:0;width:{width}px;height:900px" srcdoc="{srcdoc}"></iframe>
<pre id="probe"></pre>
<script>
addEventListener("load", () => {{
  const w = document.getElementById("f").contentWindow, d = w.document, e = d.documentElement;
  document.getElementById("probe").textContent = (() => {{ {script} }})();
}});
</script></body></html>"#
    )
}

/// The page that frames `email` at `width` px and measures its width and colours.
fn probe_page(email: &str, width: u32) -> String {
    framed(
        email,
        width,
        r#"const wide = [...d.querySelectorAll("body *")]
    .filter(x => x.getBoundingClientRect().right > e.clientWidth + 0.5)
    .slice(0, 5).map(x => x.tagName + " " + x.textContent.trim().slice(0, 60)).join(" / ");
  return [e.clientWidth, e.scrollWidth,
    w.getComputedStyle(d.querySelector(".sheet")).backgroundColor,
    w.getComputedStyle(d.querySelector(".cell")).color, wide].join("\t");"#,
    )
}

/// Loads `page` in headless chromium and returns the probe's report.
fn measure(page: &str, dark: bool, dir: &Path) -> Measure {
    let report = probe(page, dark, dir);
    let fields: Vec<&str> = report.split('\t').collect();
    assert_eq!(fields.len(), 5, "probe report `{report}`");
    Measure {
        client_width: fields[0].parse().expect("clientWidth"),
        scroll_width: fields[1].parse().expect("scrollWidth"),
        sheet_background: fields[2].to_owned(),
        text_color: fields[3].to_owned(),
        overflowing: fields[4].to_owned(),
    }
}

/// Loads `page` in headless chromium; the text its script wrote into
/// `<pre id="probe">`.
pub(crate) fn probe(page: &str, dark: bool, dir: &Path) -> String {
    let mode = if dark { "dark" } else { "light" };
    let file = dir.join(format!("probe-{mode}.html"));
    let dom_file = dir.join(format!("dom-{mode}.html"));
    std::fs::write(&file, page).expect("write probe page");
    let mut cmd = Command::new(CHROMIUM);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
    ])
    .args([
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ])
    .args(["--hide-scrollbars", "--window-size=500,1000", "--dump-dom"])
    .arg(format!("--user-data-dir={}", dir.join("profile").display()))
    .args(dark.then_some("--force-dark-mode"))
    .arg(format!("file://{}", file.display()))
    // A file, not a pipe: the DOM (with the email in it) outgrows a pipe
    // buffer and chromium would block writing it.
    .stdout(std::fs::File::create(&dom_file).expect("create dom file"))
    .stderr(Stdio::null());
    let child = cmd.spawn().unwrap_or_else(|e| {
        panic!("cannot run `{CHROMIUM}` ({e}); install it with `apt-get install chromium`")
    });
    wait_with_deadline(child, Duration::from_secs(90));
    let dom = std::fs::read_to_string(&dom_file).expect("read dom file");
    dom.split("<pre id=\"probe\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .unwrap_or_else(|| panic!("chromium's DOM has no probe report:\n{dom:.2000}"))
        .to_owned()
}

fn wait_with_deadline(mut child: std::process::Child, limit: Duration) {
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait for chromium").is_some() {
            break;
        }
        if start.elapsed() > limit {
            child.kill().ok();
            panic!("chromium did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = child.wait().expect("chromium status");
    assert!(status.success(), "chromium failed: {status}");
}

/// `rgb(r, g, b)` → relative brightness in 0..=1.
pub(crate) fn brightness(css: &str) -> f64 {
    let channels: Vec<f64> = css
        .trim_start_matches("rgba(")
        .trim_start_matches("rgb(")
        .trim_end_matches(')')
        .split(',')
        .take(3)
        .map(|c| {
            c.trim()
                .parse()
                .unwrap_or_else(|_| panic!("colour `{css}`"))
        })
        .collect();
    (0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]) / 255.0
}

fn email_html(prefix: &str) -> String {
    let html = render(&seed(prefix)).html;
    html.replace(
        Slot::UnsubscribeUrl.marker(),
        "https://newsletter.example.org/u/0123456789abcdef",
    )
}

#[test]
fn finished_issues_do_not_overflow_a_375px_phone() {
    let dir = tempfile::tempdir().expect("tempdir");
    for prefix in crate::common::SEEDS {
        let m = measure(&probe_page(&email_html(prefix), PHONE), false, dir.path());
        assert_eq!(
            m.client_width, PHONE,
            "seed {prefix}: the probe must measure a phone viewport"
        );
        assert!(
            m.scroll_width <= m.client_width,
            "seed {prefix}: {} px wide in a {} px viewport; too wide: {}",
            m.scroll_width,
            m.client_width,
            m.overflowing
        );
    }
}

#[test]
fn dark_mode_rules_win_over_the_inline_styles_in_chromium() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = probe_page(&email_html("001"), PHONE);
    let light = measure(&page, false, dir.path());
    let dark = measure(&page, true, dir.path());
    assert!(
        brightness(&light.sheet_background) > 0.8,
        "light sheet {light:?}"
    );
    assert!(brightness(&light.text_color) < 0.3, "light text {light:?}");
    assert!(
        brightness(&dark.sheet_background) < 0.2,
        "dark sheet {dark:?}"
    );
    assert!(brightness(&dark.text_color) > 0.7, "dark text {dark:?}");
}

/// The page that frames `email` and reports on its unsubscribe link: its
/// size, whether it is displayed, and whether anything covers its centre.
fn unsubscribe_probe_page(email: &str) -> String {
    framed(
        email,
        600,
        r#"const a = [...d.querySelectorAll("a")].find(x => x.href.includes("/unsubscribe/"));
  if (!a) return "no unsubscribe link";
  a.scrollIntoView({block: "center"});
  const r = a.getBoundingClientRect();
  let hidden = "";
  for (let x = a; x; x = x.parentElement) {
    const c = w.getComputedStyle(x);
    if (c.display === "none" || c.visibility !== "visible" || c.opacity === "0") hidden += x.tagName + " ";
  }
  const top = d.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return [Math.round(r.width), Math.round(r.height), hidden.trim() || "shown",
    top === a || a.contains(top) ? "on top" : "covered by " + (top ? top.outerHTML.slice(0, 80) : "nothing"),
    a.textContent].join("\t");"#,
    )
}

#[test]
fn a_hostile_issue_cannot_hide_or_cover_the_unsubscribe_link_in_chromium() {
    let body = "<style>a{display:none} .foot{display:none} body{visibility:hidden}</style>\n\n\
                Hello <span style=\"display:none\">x</span> <b style=\"opacity:0\">bold\n\n\
                <div style=\"position:fixed;top:0;left:0;width:100%;height:100%;background:#fff;\
                z-index:9999\">cover</div>\n\n<div><div><font style=\"display:none\">\n\n\
                unclosed </td></tr></table></div></div></div>\n\n<a href=\"#\"><u>open link\n";
    let text = format!("Title: Hostile\nNumber: 999\nDate: 2025-11-12\nCategory: x\n\n{body}");
    let issue = mailroom::issue::parse("hostile.md", &text).expect("parses");
    let rendered =
        mailroom::render::render_issue(&issue, &mailroom::render::RenderContext::new(&settings()))
            .expect("renders");
    let html = rendered.html.replace(
        Slot::UnsubscribeUrl.marker(),
        "https://newsletter.example.org/unsubscribe/0123456789abcdef",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let report = probe(&unsubscribe_probe_page(&html), false, dir.path());
    let fields: Vec<&str> = report.split('\t').collect();
    assert_eq!(fields.len(), 5, "probe report `{report}`");
    let (width, height): (u32, u32) = (fields[0].parse().unwrap(), fields[1].parse().unwrap());
    assert!(
        width > 20 && height > 8,
        "the link is {width}×{height} px: {report}"
    );
    assert_eq!(fields[2], "shown", "hidden by: {report}");
    assert_eq!(fields[3], "on top", "{report}");
    assert_eq!(fields[4], "Unsubscribe");
}
