//! The email's layout in headless Chromium beyond the seeds: a photo wider
//! than any phone and compiler output with long lines stay inside a 375 px
//! screen (the photo shrinks, the output scrolls in its own box), and links
//! keep the chrome's colour in light and dark mode.

use crate::browser::{PHONE, brightness, framed, probe};
use crate::common::settings;
use mailroom::model::Slot;

/// A 1,128 × 400 px picture, as wide as the archive photo that once widened
/// the page to 1,142 px on a phone.
const PHOTO: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' \
width='1128' height='400'%3E%3Crect width='1128' height='400' fill='%23a52'/%3E%3C/svg%3E";

fn render(body: &str) -> String {
    let text = format!("Title: This Week in Rust 640\nNumber: 640\nDate: 2026-03-04\n\n{body}");
    let issue = mailroom::issue::parse("issue.md", &text).expect("parses");
    let settings = settings();
    let rendered =
        mailroom::render::render_issue(&issue, &mailroom::render::RenderContext::new(&settings))
            .expect("renders");
    // Tests stay off the network: the picture is inlined once rendered
    // (the sanitizer keeps only http, https and mailto sources).
    rendered
        .html
        .replace("https://img.example/photo.svg", PHOTO)
        .replace(
            Slot::UnsubscribeUrl.marker(),
            "https://newsletter.example.org/u/0123456789abcdef",
        )
}

/// `name tab value` lines about the page and its first `<img>`, `<pre>` and `<a>`.
fn layout_probe(email: &str) -> String {
    framed(
        email,
        PHONE,
        r#"const imgs = [...d.querySelectorAll("img")], pre = d.querySelector("pre"), a = d.querySelector(".content a");
  return [e.clientWidth, e.scrollWidth,
    imgs.map(i => Math.round(i.getBoundingClientRect().width) + "/" + i.naturalWidth).join(" "),
    pre.clientWidth, pre.scrollWidth, Math.round(pre.getBoundingClientRect().right),
    w.getComputedStyle(a).color].join("\t");"#,
    )
}

const BODY: &str = "A photo from the meetup:\n\n![the meetup](https://img.example/photo.svg)\n\n\
<img src=\"https://img.example/photo.svg\" width=\"1128\" alt=\"again\">\n\n\
[A link](https://r.example/) and the compiler's words:\n\n```text\n\
error[E0308]: mismatched types --> src/main.rs:4:18 expected `u8`, found `u32` because of this very long line\n\
   |                  ^^^^^^^^^^^^^^^^ expected `u8`, found `u32`\n```\n";

#[test]
fn a_1128px_photo_and_long_compiler_output_do_not_widen_a_375px_phone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = probe(&layout_probe(&render(BODY)), false, dir.path());
    let f: Vec<&str> = report.split('\t').collect();
    assert_eq!(f.len(), 7, "probe report `{report}`");
    let (client, scroll): (u32, u32) = (f[0].parse().unwrap(), f[1].parse().unwrap());
    assert_eq!(client, PHONE, "{report}");
    assert!(
        scroll <= client,
        "the page is {scroll} px wide on a {client} px phone: {report}"
    );
    for img in f[2].split(' ') {
        let (shown, natural) = img.split_once('/').unwrap();
        let (shown, natural): (u32, u32) = (shown.parse().unwrap(), natural.parse().unwrap());
        assert_eq!(natural, 1128, "the picture loaded: {report}");
        assert!(shown < PHONE, "shown {shown} px wide: {report}");
    }
    let (pre_client, pre_scroll, pre_right): (u32, u32, u32) = (
        f[3].parse().unwrap(),
        f[4].parse().unwrap(),
        f[5].parse().unwrap(),
    );
    assert!(
        pre_scroll > pre_client,
        "the output scrolls, unwrapped: {report}"
    );
    assert!(
        pre_right <= PHONE,
        "the output box ends inside the screen: {report}"
    );
}

#[test]
fn links_are_rust_coloured_in_light_mode_and_light_in_dark_mode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = layout_probe(&render(BODY));
    let colour = |dark| {
        let report = probe(&page, dark, dir.path());
        report.split('\t').nth(6).expect("colour").to_owned()
    };
    let light = colour(false);
    assert_eq!(light, "rgb(187, 68, 17)", "the inline #b41");
    let dark = colour(true);
    assert!(brightness(&dark) > 0.55, "dark-mode links {dark}");
    assert!(
        dark.starts_with("rgb(235"),
        "still the chrome's hue: {dark}"
    );
}
