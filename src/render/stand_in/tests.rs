//! Tests of the stand-ins: css-inline reading tokens instead of the
//! content's texts and link targets changes no byte of the HTML part.
use super::*;
use crate::config::{self, Settings};
use crate::render::chrome::{self, Frame};
use crate::render::{html, markdown, sanitize, tight};

fn settings() -> Settings {
    config::from_sources(include_str!("../../../config.toml"), []).expect("shipped config parses")
}

/// The HTML part of `body` through the stand-ins (`None` when they did not
/// fit), and inlined with its real content.
fn both(body: &str) -> (Option<String>, String) {
    let settings = settings();
    let frame = Frame {
        newsletter: &settings.newsletter,
        subject: "This Week in Rust 625".into(),
        web_url: "https://example.org/625".into(),
        dateline: "issue 625".into(),
        preheader: "A preheader".into(),
    };
    let parsed = markdown::parse(body);
    let sanitized = sanitize::sanitize(&tight::tighten(parsed.events));
    let mut stand_ins = StandIns::default();
    let tokened = html::body_html(&sanitized, 0, Some(&mut stand_ins));
    let through = chrome::html_part_standing_in(&frame, &tokened, &stand_ins).unwrap();
    let whole = chrome::html_part(&frame, &html::body_html(&sanitized, 0, None)).unwrap();
    (through, whole)
}

fn seed_bodies() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/seeds");
    let mut seeds: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    seeds.sort();
    assert!(seeds.len() >= 5, "{seeds:?}");
    seeds
        .into_iter()
        .map(|path| {
            let source = std::fs::read_to_string(&path).unwrap();
            let body = source.split_once("\n\n").map_or("", |(_, body)| body);
            (path.display().to_string(), body.to_owned())
        })
        .collect()
}

#[test]
fn every_seed_comes_out_byte_for_byte_as_if_inlined_whole() {
    for (name, body) in seed_bodies() {
        let (through, whole) = both(&body);
        let through = through.unwrap_or_else(|| panic!("{name}: the stand-ins did not fit"));
        assert!(through == whole, "{name}: the two HTML parts differ");
    }
}

#[test]
fn escapes_quotes_spaces_and_raw_html_come_out_as_if_inlined_whole() {
    let body = "Tom & Jerry <3 \"quotes\" 'single' a\u{a0}b > c, `a < b && c`\n\n\
                [it's](https://a.org/?q=1&r='2'&s=\"3\"&t=é&u=%20) \
                [mail](mailto:a@b.org) <https://auto.org/x?y=1&z=2>\n\n\
                <div><small>raw & <b>bold</b></small></div>\n\n\
                | a | b |\n|---|---|\n| `x` | [y](https://y.org) |\n\n\
                ```\nfn main() { a < b }\n```\n\n\
                ![alt & text](https://img.org/a.png \"title\")\n\n> quoted *text*\n";
    let (through, whole) = both(body);
    assert_eq!(through.as_deref(), Some(whole.as_str()));
}

#[test]
fn a_token_spelled_in_a_text_is_a_text_like_any_other() {
    let (through, whole) = both("A text with &#xF0000; in it, and [a link](https://a.org).\n");
    assert!(whole.contains("A text with \u{F0000} in it"), "{whole}");
    assert_eq!(through.as_deref(), Some(whole.as_str()));
}

#[test]
fn a_token_spelled_where_no_token_goes_is_inlined_with_the_real_content() {
    // In an image's alt text and address, which keep theirs.
    for body in [
        "![&#xF0000;](https://a.org/x.png) and [a link](https://a.org).\n",
        "![x](https://a.org/%F3%B0%80%80.png) and [a link](https://a.org).\n",
    ] {
        let (through, whole) = both(body);
        assert_eq!(through, None, "{body}");
        assert!(whole.contains("href=\"https://a.org\""), "{whole}");
    }
    // And `render` gives that page.
    let settings = settings();
    let source = "Title: This Week in Rust 625\nNumber: 625\nDate: 2025-11-12\n\n\
                  ![&#xF0000;](https://a.org/x.png) and [a link](https://a.org).\n";
    let issue = crate::issue::parse("issue.md", source).unwrap();
    let rendered =
        crate::render::render_issue(&issue, &crate::render::RenderContext::new(&settings)).unwrap();
    assert!(
        rendered.html.contains("alt=\"\u{F0000}\"")
            && rendered.html.contains("href=\"https://a.org\""),
        "{}",
        rendered.html
    );
}

#[test]
fn tokens_out_of_order_missing_or_extra_are_refused() {
    let mut stand_ins = StandIns::default();
    stand_ins.stand_in(&Event::Text("one".into()));
    stand_ins.stand_in(&Event::Text("two".into()));
    let (a, b, c) = ('\u{F0000}', '\u{F0001}', '\u{F0002}');
    assert_eq!(
        stand_ins
            .restore(&format!("<p>{a}</p><p>{b}</p>"))
            .as_deref(),
        Some("<p>one</p><p>two</p>")
    );
    assert_eq!(stand_ins.restore(&format!("<p>{b}</p><p>{a}</p>")), None);
    assert_eq!(stand_ins.restore(&format!("<p>{a}</p>")), None);
    assert_eq!(stand_ins.restore(&format!("{a}{b}{c}")), None);
    // A text's token where a link target's is expected.
    assert_eq!(
        stand_ins.restore(&format!("<a href=\"%F3%B0%80%80\">{b}</a>")),
        None
    );
}

#[test]
fn whitespace_alt_text_and_leading_line_breaks_keep_their_text() {
    let mut stand_ins = StandIns::default();
    let image = Event::Start(Tag::Image {
        link_type: pulldown_cmark::LinkType::Inline,
        dest_url: "https://a.org/x.png".into(),
        title: "".into(),
        id: "".into(),
    });
    assert_eq!(stand_ins.stand_in(&image), image);
    let alt = Event::Text("alt".into());
    assert_eq!(stand_ins.stand_in(&alt), alt);
    stand_ins.stand_in(&Event::End(TagEnd::Image));
    for kept in ["  \n", "\nafter a pre"] {
        let event = Event::Text(kept.into());
        assert_eq!(stand_ins.stand_in(&event), event);
    }
    assert_eq!(
        stand_ins.stand_in(&Event::Text("text".into())),
        Event::Text("\u{F0000}".into())
    );
}
