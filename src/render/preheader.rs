//! The preheader: the line an inbox shows after the subject. It comes from
//! the issue's optional `Summary:` header, or else the body's first sentence.
use pulldown_cmark::{Event, Tag, TagEnd};

use super::strip;
use crate::model::Header;

/// The longest preheader taken from the body, in characters; inboxes show
/// 40–140 of them.
const MAX_CHARS: usize = 150;

/// Zero-width filler after the preheader, so the inbox preview does not run
/// on into the email's first words ("Read this issue on the web"). Each
/// `&#847;&zwnj;&nbsp;` takes a preview character and shows nothing.
pub const FILLER: &str = "&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;\
&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;\
&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;";

/// The `Summary:` field when it has a value, else the first sentence of
/// the first paragraph with words in it (empty when there is none).
pub fn preheader(header: &Header, events: &[Event<'_>]) -> String {
    if let Some(summary) = header.field("Summary").filter(|f| !f.value.is_empty()) {
        return summary.value.clone();
    }
    first_sentence(&first_paragraph(events))
}

/// The text of the first paragraph that has some, whitespace collapsed.
fn first_paragraph(events: &[Event<'_>]) -> String {
    let mut text = String::new();
    let mut inside = false;
    let mut raw = strip::HtmlText::default();
    for event in events {
        match event {
            Event::Start(Tag::Paragraph) => inside = true,
            Event::End(TagEnd::Paragraph) if !text.trim().is_empty() => break,
            Event::End(TagEnd::Paragraph) => inside = false,
            Event::Text(t) | Event::Code(t) if inside => text.push_str(t),
            Event::InlineHtml(html) if inside => raw.push(html, &mut text),
            Event::SoftBreak | Event::HardBreak if inside => text.push(' '),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Up to the first `.`, `!` or `?` followed by a space; cut at a word
/// boundary with `…` when longer than [`MAX_CHARS`].
fn first_sentence(text: &str) -> String {
    let end = text
        .char_indices()
        .find(|&(i, c)| matches!(c, '.' | '!' | '?') && text[i + 1..].starts_with(' '))
        .map_or(text.len(), |(i, _)| i + 1);
    let sentence = &text[..end];
    if sentence.chars().count() <= MAX_CHARS {
        return sentence.to_owned();
    }
    let cut: String = sentence.chars().take(MAX_CHARS).collect();
    let words = cut.rsplit_once(' ').map_or(cut.as_str(), |(w, _)| w);
    format!("{}…", words.trim_end_matches([',', ';', ':', ' ']))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(extra: &str) -> Header {
        let source = format!("Title: T 1\nNumber: 1\nDate: 2025-11-12\n{extra}\nBody.\n");
        crate::issue::parse("issue.md", &source).unwrap().header
    }

    fn from_body(md: &str) -> String {
        preheader(&header(""), &crate::render::markdown::parse(md).events)
    }

    #[test]
    fn the_summary_header_wins_over_the_body() {
        let events = crate::render::markdown::parse("Hello there. More.\n").events;
        let h = header("Summary: Rust 1.92 is out, and a new Crate of the Week\n");
        assert_eq!(
            preheader(&h, &events),
            "Rust 1.92 is out, and a new Crate of the Week"
        );
    }

    #[test]
    fn otherwise_the_first_sentence_of_the_first_paragraph_is_used() {
        assert_eq!(
            from_body(
                "# Heading\n\n<!-- x -->\n\nHello and welcome to *This Week\nin Rust*! [Rust](https://r.example/) is fast.\n"
            ),
            "Hello and welcome to This Week in Rust!"
        );
    }

    #[test]
    fn a_long_first_sentence_is_cut_at_a_word() {
        let long = "word ".repeat(60);
        let p = from_body(&long);
        assert!(p.ends_with("word…"), "{p}");
        assert!(p.chars().count() <= MAX_CHARS + 1);
    }

    #[test]
    fn a_body_without_paragraphs_has_an_empty_preheader() {
        assert_eq!(from_body("* only a list\n"), "");
    }
}
