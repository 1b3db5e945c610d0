//! Unit tests for the render stage: chrome, patterns, slots, width limits.
use super::*;
use crate::config::{self, Settings};
use crate::model::Slot;

fn settings() -> Settings {
    config::from_sources(include_str!("../../config.toml"), []).expect("shipped config parses")
}

fn issue(body: &str) -> Issue {
    let source = format!("Title: This Week in Rust 625\nNumber: 625\nDate: 2025-11-12\n\n{body}");
    crate::issue::parse("issue.md", &source).expect("test issue parses")
}

fn render(body: &str) -> Rendered {
    let settings = settings();
    let ctx = RenderContext::new(&settings);
    render_issue(&issue(body), &ctx).expect("renders")
}

#[test]
fn patterns_expand_every_placeholder_once() {
    let header = issue("x").header;
    let url = "https://twir.example/{yyyy}/{mm}/{dd}/{number}/{title}/{unknown}";
    assert_eq!(
        expand_pattern(url, &header),
        "https://twir.example/2025/11/12/625/This Week in Rust 625/{unknown}"
    );
    assert_eq!(expand_pattern("{title", &header), "{title");
}

#[test]
fn subject_and_web_url_come_from_the_config_patterns() {
    let rendered = render("Hello.\n");
    assert_eq!(rendered.subject, "This Week in Rust 625");
    let web = "https://this-week-in-rust.org/blog/2025/11/12/this-week-in-rust-625/";
    assert_eq!(rendered.web_url, web);
    assert!(rendered.html.contains(&format!("href=\"{web}\"")));
    assert!(rendered.text.contains(&format!("<{web}>")));
}

#[test]
fn the_header_shows_the_name_number_and_date() {
    let rendered = render("Hello.\n");
    assert!(rendered.html.contains("issue 625 — 12 Nov 2025"));
    assert!(rendered.html.contains(">This Week in Rust</p>"));
    assert!(
        rendered
            .text
            .starts_with("This Week in Rust — issue 625 — 12 Nov 2025\n")
    );
}

#[test]
fn the_unsubscribe_marker_appears_verbatim_in_both_parts() {
    let rendered = render("Hello.\n");
    let marker = Slot::UnsubscribeUrl.marker();
    assert!(rendered.html.contains(&format!("href=\"{marker}\"")));
    assert!(
        rendered.text.lines().any(|l| l == format!("<{marker}>")),
        "{}",
        rendered.text
    );
}

#[test]
fn the_footer_links_privacy_and_social_pages() {
    let rendered = render("Hello.\n");
    let settings = settings();
    let urls = std::iter::once(&settings.newsletter.privacy_url)
        .chain(settings.newsletter.social.iter().map(|s| &s.url));
    for url in urls {
        assert!(rendered.html.contains(&format!("href=\"{url}\"")), "{url}");
        assert!(rendered.text.contains(&format!("<{url}>")), "{url}");
    }
}

#[test]
fn html_comments_reach_neither_part() {
    let body = "Before <!-- inline secret --> after.\n\n<!--\nblock secret\n\nstill secret\n-->\n\n\
                * item <!-- item secret -->\n\n<!-- one --> kept <!-- two -->\n";
    let rendered = render(body);
    // The chrome's own comments are Outlook's conditional ones.
    for part in [content(&rendered.html), &rendered.text] {
        assert!(!part.contains("secret"), "{part}");
        assert!(!part.contains("<!--") && !part.contains("-->"), "{part}");
    }
    assert!(rendered.html.contains("kept") && rendered.text.contains("kept"));
}

/// The issue's part of the HTML: inside `<div class="content">`.
fn content(html: &str) -> &str {
    let start = html.find("<div class=\"content\"").expect("content div");
    let end = html.find("<div class=\"foot\"").expect("footer div");
    &html[start..end]
}

#[test]
fn inline_html_and_emphasis_in_links_reach_the_html() {
    let rendered = render("<small>[**Discuss** on r/rust](https://r.example/x)</small>\n");
    assert!(rendered.html.contains(
        "<small><a href=\"https://r.example/x\" style=\"color:#b41\"><b>Discuss</b> on r/rust</a></small>"
    ));
    assert!(
        rendered
            .text
            .contains("*Discuss* on r/rust <https://r.example/x>")
    );
}

#[test]
fn reference_links_and_nested_lists_render_as_on_the_web() {
    let body = "* [Event][e]\n    * [**Talk**](https://t.example/)\n\n[e]: https://e.example/\n";
    let html = render(body).html;
    let nested = "<li><a href=\"https://e.example/\" style=\"color:#b41\">Event</a>\n<ul><li><a href=\"https://t.example/\"";
    assert!(html.contains(nested), "{html}");
}

#[test]
fn links_are_counted_and_listed_in_order() {
    let rendered =
        render("[a](https://a.example/) <https://b.example/> [c][c]\n\n[c]: https://c.example/\n");
    assert_eq!(rendered.links, 3);
    assert_eq!(
        rendered.link_urls,
        [
            "https://a.example/",
            "https://b.example/",
            "https://c.example/"
        ]
    );
}

#[test]
fn every_style_is_inlined_except_the_kept_block() {
    let html = render("## Heading\n\n> quote\n").html;
    // Outlook's own block sits in a conditional comment that only it reads.
    let outlook = html.find("<!--[if mso]><style>").expect("Outlook's block");
    let outlook_end = outlook + html[outlook..].find("<![endif]-->").expect("ends");
    let html = format!("{}{}", &html[..outlook], &html[outlook_end..]);
    let styles: Vec<&str> = html
        .split("<style")
        .skip(1)
        .map(|s| s.split_once('>').map_or("", |(_, css)| css))
        .map(|s| s.split("</style>").next().unwrap_or(""))
        .collect();
    assert_eq!(styles.len(), 1, "one <style> block: {styles:?}");
    assert_eq!(
        styles[0],
        chrome::MEDIA_CSS,
        "the kept block is email-media.css"
    );
    assert!(html.contains("<h2 style=\""), "the h2 rule is inlined");
    assert!(
        html.contains("<blockquote style=\""),
        "the blockquote rule is inlined"
    );
    assert!(!html.contains("<link"), "no stylesheet links");
    let charset = html.find("<meta charset").expect("charset declared");
    assert!(charset < 1024, "<meta charset> within the first 1024 bytes");
}

#[test]
fn the_dark_mode_rules_survive_inlining_and_win_over_inline_styles() {
    let html = render("Hello.\n").html;
    let start = html
        .find("@media (prefers-color-scheme: dark)")
        .expect("dark-mode block kept");
    let block = &html[start..];
    let block = &block[..block.find("\n}").expect("block closes")];
    let declarations: Vec<&str> = block
        .split(['{', '}', ';'])
        .filter(|d| d.contains(':') && !d.contains("@media"))
        .collect();
    assert!(declarations.len() >= 5, "{block}");
    for d in declarations {
        assert!(
            d.trim_end().ends_with("!important"),
            "`{d}` must be !important"
        );
    }
    assert!(
        html.contains("@media (max-width: 600px)"),
        "narrow-screen block kept"
    );
}

#[test]
fn a_text_width_over_78_is_refused() {
    let settings = settings();
    let mut render_settings = settings.render.clone();
    render_settings.text_width = 100;
    let ctx = RenderContext {
        newsletter: &settings.newsletter,
        settings: &render_settings,
    };
    let err = render_issue(&issue("x\n"), &ctx).unwrap_err();
    assert!(matches!(err, RenderError::TextWidth(100)));
    assert!(err.to_string().contains("`render.text_width` is `100`"));
}

#[test]
fn the_events_the_bounds_check_lends_render_exactly_as_a_fresh_parse() {
    let settings = settings();
    let ctx = RenderContext::new(&settings);
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/seeds");
    let mut seeds = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let (head, body) = text.split_once("\n\n").unwrap();
        // (the file, whether its body's events are lent)
        let variants = [
            (text.clone(), true),
            (format!("\u{feff}{text}"), true),
            (text.replace('\n', "\r\n"), false),
            (format!("{head}\n\n\u{2}{body}"), false),
        ];
        for (file, lends) in variants {
            let mut events = markdown::Collector::new(file.len());
            let (issue, lent) =
                crate::issue::parse_lending("seed.md", &file, |e| events.push(e)).unwrap();
            assert_eq!(lent, lends, "{head}");
            let fresh = render_issue(&issue, &ctx).unwrap();
            if lent {
                let reused = render_parsed(&issue, &ctx, events.finish()).unwrap();
                assert_eq!(reused.html, fresh.html, "{head}");
                assert_eq!(reused.text, fresh.text, "{head}");
                assert_eq!(reused.link_urls, fresh.link_urls, "{head}");
                assert_eq!(reused.subject, fresh.subject, "{head}");
            }
        }
        seeds += 1;
    }
    assert!(seeds >= 5, "{seeds} seeds");
}
