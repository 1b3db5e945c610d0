//! Property test of the whole pipeline on generated input: parse → check →
//! render → MIME never panics, whatever the Markdown (deep nesting, huge
//! lines, raw HTML, random bytes), and every message it makes is valid:
//! lines within 998 octets, headers within 78, parts that parse back.
//!
//! It runs in-process, so a stack overflow would abort the test binary;
//! inputs nested past the parse-time limit are refused before anything
//! recurses (the deepest ones also run through the real binary, in
//! `hostile.rs`). `PROPTEST_CASES` overrides the number of cases.
use mailroom::check::{self, CheckContext, report};
use mailroom::config::Settings;
use mailroom::domain::EmailAddress;
use mailroom::message::RecipientSlots;
use mailroom::render::{RenderContext, render_issue};
use proptest::prelude::*;
use time::{OffsetDateTime, Time};

use crate::common::settings;

/// Fragments Markdown and raw HTML are made of, the troublesome ones included.
const FRAGMENTS: &[&str] = &[
    "a",
    "word ",
    "é",
    "🦀",
    "Ã¼",
    "√≥",
    "&amp;",
    "&eacute;",
    "&#x1F980;",
    "&#0;",
    "&",
    "<",
    ">",
    " ",
    "\t",
    "\n",
    "\n\n",
    "\r\n",
    "- ",
    "* ",
    "1. ",
    "> ",
    "# ",
    "### ",
    "*",
    "_",
    "**",
    "~~",
    "`",
    "``",
    "```\n",
    "    ",
    "[",
    "]",
    "](",
    ")",
    "![",
    "[x](https://a.org/?utm_source=x)",
    "[y](rel/path)",
    "<https://a.org>",
    "[^1]",
    "[^1]: note",
    "|",
    "|---|",
    "| a | b |\n|---|--:|\n",
    "<small>",
    "</small>",
    "<div>",
    "</div>",
    "<b>",
    "</b>",
    "<p>",
    "</p>",
    "<br>",
    "<img src=\"http://x\">",
    "<style>",
    "a{display:none}",
    "</style>",
    "<script>",
    "</script>",
    "<a href=\"javascript:x\">",
    "</a>",
    "<details>",
    "<summary>",
    "<!--",
    "-->",
    "INSERT_LINK_HERE",
    "$twir",
    "\u{2}",
    "\u{85}",
    "\u{feff}",
    "\u{202e}",
];

fn fragment() -> impl Strategy<Value = String> {
    prop::sample::select(FRAGMENTS).prop_map(str::to_owned)
}

/// Markdown: fragments, some repeated many times (deep nesting, huge lines).
fn markdown() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => fragment(),
        1 => (fragment(), 1usize..400).prop_map(|(f, n)| f.repeat(n)),
        1 => (fragment(), 1000usize..8000).prop_map(|(f, n)| f.repeat(n)),
        1 => any::<String>(),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

/// A header value: no line breaks (those are parse errors, tested elsewhere).
fn title() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("This Week in Rust 625".to_owned()),
        "[^\\r\\n]{0,80}",
        (fragment(), 1usize..600).prop_map(|(f, n)| f.replace(['\n', '\r'], " ").repeat(n)),
    ]
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The whole pipeline on one issue text; panics on any invariant broken.
fn pipeline(settings: &Settings, text: &[u8]) {
    let issue = match mailroom::issue::parse_bytes("p.md", text) {
        Ok(issue) => issue,
        Err(e) => {
            assert!(e.to_string().len() < 600, "a parse error stays short: {e}");
            return;
        }
    };
    let rendered = render_issue(&issue, &RenderContext::new(settings)).expect("renders");
    let ctx = CheckContext::new(&settings.check, settings.render.html_size_budget).unwrap();
    let diagnostics = check::check_issue(&issue, Some(&rendered), &ctx);
    let human = report::human("p.md", &issue.source, &diagnostics);
    assert!(
        human.len() < 200_000,
        "{} bytes of diagnostics",
        human.len()
    );
    let _ = report::json("p.md", &diagnostics);
    let date = OffsetDateTime::new_utc(issue.header.date, Time::MIDNIGHT);
    let (template, mctx) =
        mailroom::message::prepare(&rendered, settings, issue.header.number, date).expect("MIME");
    let to = EmailAddress::parse("reader@example.com").unwrap();
    let slots = RecipientSlots::new(&mctx, issue.header.number, to, "tok-en_1").unwrap();
    let message = template.personalize(&slots);
    crate::hostile::assert_lines_fit(&message);
    let parsed = mail_parser::MessageParser::default()
        .parse(&message)
        .expect("the message parses");
    assert!(parsed.body_html(0).is_some() && parsed.body_text(0).is_some());
    let html = parsed.body_html(0).unwrap();
    assert!(
        html.contains("/unsubscribe/tok-en_1"),
        "the unsubscribe link is there"
    );
    // No CSS from the issue: the only stylesheet is the chrome's, and no
    // style attribute hides anything.
    // (Attribute values are left out: a code block's info string may be
    // `<style>`, which becomes `class="language-<style>"`.)
    // (The chrome's hidden preheader and Outlook-only block are left out.)
    let html = crate::common::without_chrome_extras(&html);
    let values = regex::Regex::new(r#"="[^"]*""#).unwrap();
    let tags_only = values.replace_all(&html, "=\"\"");
    assert_eq!(tags_only.matches("<style").count(), 1, "{html:.2000}");
    let hidden = regex::Regex::new(r#"style="[^"]*display:\s*none"#).unwrap();
    assert!(!hidden.is_match(&html), "{html:.2000}");
}

fn issue_text(title: &str, body: &str) -> String {
    format!("Title: {title}\nNumber: 625\nDate: 2025-11-12\nCategory: x\n\n{body}")
}

/// Settings whose subject holds the title, so long titles reach the header.
fn title_subject() -> Settings {
    let mut s = settings();
    s.newsletter.subject = "{title} ({number})".into();
    s
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_markdown_goes_through_the_pipeline_without_a_panic(
        title in title(),
        body in markdown(),
    ) {
        pipeline(&title_subject(), issue_text(&title, &body).as_bytes());
    }

    #[test]
    fn any_bytes_go_through_the_pipeline_without_a_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..3000),
    ) {
        let mut text = issue_text("T", "").into_bytes();
        text.extend_from_slice(&bytes);
        pipeline(&settings(), &text);
        pipeline(&settings(), &bytes);
    }
}

#[test]
fn nesting_right_at_the_limit_renders_in_process() {
    use mailroom::issue::limits::MAX_NESTING;
    // 99 quotes, then the paragraph inside them: 100 levels.
    for body in [
        format!("{} x\n", ">".repeat(MAX_NESTING - 1)),
        format!("{}x\n", "<small>".repeat(MAX_NESTING - 1)),
        format!("{}x\n", "<div>".repeat(MAX_NESTING)),
    ] {
        pipeline(&settings(), issue_text("T", &body).as_bytes());
    }
}

#[test]
fn found_by_the_property_test_a_code_fence_info_string_is_only_a_class() {
    pipeline(&settings(), issue_text("T", "~~~~<style>\n").as_bytes());
}
