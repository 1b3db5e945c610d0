//! Unit tests for what mail clients need from the HTML part: inline link
//! colours, Outlook's container and fonts, the preheader, images, lists,
//! code, and no control characters in either part.
use super::*;
use crate::config::{self, Settings};

fn settings() -> Settings {
    config::from_sources(include_str!("../../config.toml"), []).expect("shipped config parses")
}

fn render_with(header: &str, body: &str) -> Rendered {
    let source =
        format!("Title: This Week in Rust 662\nNumber: 662\nDate: 2026-08-12\n{header}\n{body}");
    let issue = crate::issue::parse("issue.md", &source).expect("test issue parses");
    let settings = settings();
    render_issue(&issue, &RenderContext::new(&settings)).expect("renders")
}

fn render(body: &str) -> Rendered {
    render_with("", body)
}

/// The inline `style` of the first element whose opening tag starts with `open`.
fn style_of<'a>(html: &'a str, open: &str) -> &'a str {
    let at = html
        .find(open)
        .unwrap_or_else(|| panic!("no `{open}` in {html}"));
    let tag = &html[at..at + html[at..].find('>').unwrap()];
    let style = tag
        .split("style=\"")
        .nth(1)
        .unwrap_or_else(|| panic!("`{tag}` has no style"));
    &style[..style.find('"').unwrap()]
}

#[test]
fn links_carry_the_chromes_colour_inline_and_dark_mode_overrides_it() {
    let html = render("[Rust](https://r.example/) and <https://docs.rs/>\n").html;
    for link in [
        "<a href=\"https://r.example/\"",
        "<a href=\"https://docs.rs/\"",
    ] {
        assert_eq!(style_of(&html, link), "color:#b41");
    }
    let dark = &html[html.find("prefers-color-scheme: dark").unwrap()..];
    assert!(dark.contains("a{color:#eba878 !important}"), "{dark}");
}

#[test]
fn outlook_gets_a_fixed_width_table_and_a_sans_serif_font() {
    let html = render("Hello.\n").html;
    assert!(
        html.contains("<!--[if mso]><table role=\"presentation\" width=\"640\" align=\"center\"")
    );
    assert!(html.contains("<!--[if mso]></td></tr></table><![endif]-->"));
    let sheet = style_of(&html, "<table class=\"sheet\"");
    assert!(sheet.contains("max-width:640px"), "{sheet}");
    assert!(
        html.contains("<table class=\"sheet\" role=\"presentation\" border=\"0\" width=\"640\"")
    );
    let cell = style_of(&html, "<td class=\"cell\"");
    let family = cell.split("font-family:").nth(1).expect("a font-family");
    assert!(family.starts_with("'Segoe UI',"), "{cell}");
    assert!(
        family.split(';').next().unwrap().ends_with(",sans-serif"),
        "{cell}"
    );
    assert!(!html.contains("font:"), "no `font:` shorthand anywhere");
}

#[test]
fn the_preheader_is_the_summary_hidden_before_everything_else() {
    let html = render_with(
        "Summary: Rust 1.95 is out & async closures land\n",
        "Hello and welcome. More.\n",
    )
    .html;
    let body = &html[html.find("<body").unwrap()..];
    let first = &body[body.find('>').unwrap() + 1..].trim_start();
    assert!(
        first.starts_with(
            "<div class=\"preheader\" style=\"display:none;max-height:0;overflow:hidden;mso-hide:all\">\
             Rust 1.95 is out &amp; async closures land"
        ),
        "{first:.300}"
    );
}

#[test]
fn without_a_summary_the_preheader_is_the_first_sentence() {
    let html = render("<!-- note -->\n\nHello and welcome to *issue 662*! Rust is fast.\n").html;
    let pre = html.split("<div class=\"preheader\"").nth(1).unwrap();
    let text = &pre[pre.find('>').unwrap() + 1..];
    assert!(
        text.starts_with("Hello and welcome to issue 662!\u{34f}"),
        "{text:.80}"
    );
}

#[test]
fn images_never_grow_past_their_column() {
    let html = render("![photo](https://i.example/p.jpg)\n\n<img src=\"https://i.example/q.png\" width=\"1128\">\n").html;
    for img in [
        "<img src=\"https://i.example/p.jpg\"",
        "<img src=\"https://i.example/q.png\"",
    ] {
        assert_eq!(style_of(&html, img), "max-width:100%;height:auto");
    }
}

#[test]
fn a_stray_blank_line_leaves_the_list_tight_in_both_parts() {
    // Issue 662's Final Comment Period: one blank line made every item a paragraph.
    let body = "* [Stabilize `asm_cfg`](https://github.com/rust-lang/rust/pull/147736)\n\n\
                * [Replace OffsetOf](https://github.com/rust-lang/rust/pull/148151)\n\
                * [error out](https://github.com/rust-lang/rust/pull/142638)\n";
    let r = render(body);
    assert!(!r.html.contains("<p>"), "{}", r.html);
    assert!(r.html.contains("</a></li><li><a"));
    assert!(
        r.text.contains("147736>\n  * Replace OffsetOf"),
        "no blank line between items:\n{}",
        r.text
    );
}

#[test]
fn inline_code_has_a_background_and_code_blocks_scroll_instead_of_wrapping() {
    let html = render(
        "Use `unsafe`.\n\n```text\nerror[E0308]: mismatched types\n   ^^^^^ expected `u8`\n```\n",
    )
    .html;
    assert_eq!(
        style_of(&html, "<code ").trim(),
        "background:#eee",
        "inline code"
    );
    let pre = style_of(&html, "<pre");
    assert!(pre.contains("white-space:pre;overflow-x:auto"), "{pre}");
    assert!(!pre.contains("pre-wrap"), "{pre}");
    let code_in_pre = style_of(&html, "<code class=\"language-text\"");
    assert!(code_in_pre.contains("background:none"), "{code_in_pre}");
}

#[test]
fn control_characters_reach_neither_part() {
    let body = "Hello\u{2} [li\u{2}nk](https://x.example/a\u{2}b) `c\u{7}ode` \u{1b}[31mred\r\n\n\
                <small>raw\u{8}html</small>\n\n```\nblock\u{0}\u{c}\n```\n\n| a\u{1f} |\n|---|\n| b\u{85} |\n";
    let r = render(body);
    for (name, part) in [("html", &r.html), ("text", &r.text)] {
        let bad: Vec<char> = part
            .chars()
            .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
            .collect();
        assert!(bad.is_empty(), "{name} part holds {bad:?}");
    }
    assert!(r.html.contains("https://x.example/ab") && r.text.contains("<https://x.example/ab>"));
    assert!(r.html.contains("link") && r.text.contains("link"));
}
