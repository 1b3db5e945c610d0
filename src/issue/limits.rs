//! The bounds every issue is held to when it is parsed, so that checking,
//! rendering and sending it take bounded time and memory and never exhaust
//! the stack: the file's size, the nesting depth of lists, quotes and raw
//! HTML elements, and how many elements and pieces of Markdown it holds
//! (each element costs the renderer far more than its few bytes of source).
use pulldown_cmark::{Event, Parser, Tag, TagEnd};

use super::tags::{TagKind, tags};
use super::{ParseError, markdown_options};

/// The largest issue file accepted, in bytes. Real issues are 30–90 KB;
/// 4 MiB leaves room for forty times that, and keeps the worst case
/// (a file of nothing but tiny styled elements) within a few hundred MB
/// of memory while rendering.
pub const MAX_ISSUE_BYTES: usize = 4 * 1024 * 1024;

/// The deepest nesting of Markdown containers (lists, quotes, emphasis,
/// links) and raw HTML elements together. Real issues nest 4 or 5 deep;
/// the HTML serializer recurses once per level, and 8,000 levels overflowed
/// its stack.
pub const MAX_NESTING: usize = 100;

/// The most elements (list items, links, emphasis, raw HTML tags, …) in
/// an issue. Real issues have 450–750; every element gets its own copy of
/// the styles it matches when the CSS is inlined, so 4 MB of `*a*` would
/// otherwise take 1.7 GB to render.
pub const MAX_ELEMENTS: usize = 50_000;

/// The most pieces (events) pulldown-cmark splits an issue's Markdown into:
/// text runs, breaks, elements. Real issues have 1,300–2,200.
pub const MAX_EVENTS: usize = 200_000;

/// Refuses text longer than [`MAX_ISSUE_BYTES`].
pub fn check_size(len: usize) -> Result<(), ParseError> {
    if len > MAX_ISSUE_BYTES {
        return Err(ParseError::TooLarge {
            size: len,
            limit: MAX_ISSUE_BYTES,
        });
    }
    Ok(())
}

/// Refuses a body nested deeper than [`MAX_NESTING`], or holding more than
/// [`MAX_ELEMENTS`] elements or [`MAX_EVENTS`] pieces, naming the line where
/// the limit is crossed. `body_offset` is where the body starts in `source`.
///
/// The renderer parses the body without its control characters
/// ([`strip_controls`](super::clean::strip_controls)), which can change its
/// structure: `\u{2}- - - …` is one paragraph, `- - - …` thousands of nested
/// lists (a stack overflow in the serializer). So the bounds hold for that
/// text too. Line feeds are never removed, so its line numbers are the
/// file's.
pub fn check_body(source: &str, body_offset: usize) -> Result<(), ParseError> {
    check_body_lending(source, body_offset, |_| {}).map(|_| ())
}

/// As [`check_body`], handing `each` every event of the body's parse when
/// that is also the renderer's parse (the body holds no control character
/// to strip), so that `render` parses the Markdown once. Returns whether
/// `each` saw the whole body.
pub fn check_body_lending<'s>(
    source: &'s str,
    body_offset: usize,
    each: impl FnMut(Event<'s>),
) -> Result<bool, ParseError> {
    match super::clean::strip_controls(&source[body_offset..]) {
        std::borrow::Cow::Borrowed(_) => bound(source, body_offset, each).map(|()| true),
        std::borrow::Cow::Owned(clean) => {
            bound(source, body_offset, |_| {})?;
            let clean = format!("{}{clean}", &source[..body_offset]);
            bound(&clean, body_offset, |_| {}).map(|()| false)
        }
    }
}

fn bound<'s>(
    source: &'s str,
    body_offset: usize,
    mut each: impl FnMut(Event<'s>),
) -> Result<(), ParseError> {
    let body = &source[body_offset..];
    let mut markdown = 0usize;
    let mut html: Vec<String> = Vec::new();
    let mut in_comment = false;
    let (mut events, mut elements) = (0usize, 0usize);
    let line = |offset: usize| crate::model::line_col(source, body_offset + offset).0;
    let too_deep = |offset: usize, what: String| ParseError::TooDeep {
        line: line(offset),
        limit: MAX_NESTING,
        what,
    };
    let too_many = |offset: usize, limit: usize, what: &'static str| ParseError::TooMany {
        line: line(offset),
        limit,
        what,
    };
    for (event, range) in Parser::new_ext(body, markdown_options()).into_offset_iter() {
        events += 1;
        if events > MAX_EVENTS {
            return Err(too_many(
                range.start,
                MAX_EVENTS,
                "pieces of Markdown (text runs, breaks, elements)",
            ));
        }
        if matches!(event, Event::Start(ref tag) if *tag != Tag::HtmlBlock) {
            elements += 1;
        }
        match &event {
            // An HTML block is no element of its own; its tags are counted below.
            Event::Start(Tag::HtmlBlock) | Event::End(TagEnd::HtmlBlock) => {}
            Event::Start(tag) => {
                markdown += 1;
                if markdown + html.len() > MAX_NESTING {
                    return Err(too_deep(range.start, describe(tag)));
                }
            }
            Event::End(_) => markdown = markdown.saturating_sub(1),
            Event::Html(snippet) | Event::InlineHtml(snippet) => {
                for tag in tags(snippet, &mut in_comment) {
                    if tag.kind != TagKind::Close {
                        elements += 1;
                    }
                    if tag.opens_element() {
                        html.push(tag.name.to_ascii_lowercase());
                        if markdown + html.len() > MAX_NESTING {
                            let at = range.start + tag.range.start.min(range.len());
                            return Err(too_deep(at, format!("`<{}>`", excerpt(tag.name))));
                        }
                    } else if tag.kind == TagKind::Close
                        && html
                            .last()
                            .is_some_and(|open| open.eq_ignore_ascii_case(tag.name))
                    {
                        // Only a closing tag that ends the innermost open
                        // element counts; anything else may leave elements
                        // open in the browser, so they stay counted.
                        html.pop();
                    }
                }
            }
            _ => {}
        }
        if elements > MAX_ELEMENTS {
            return Err(too_many(
                range.start,
                MAX_ELEMENTS,
                "elements (list items, links, emphasis, HTML tags)",
            ));
        }
        each(event);
    }
    Ok(())
}

/// What a Markdown container is called in the error.
fn describe(tag: &Tag<'_>) -> String {
    match tag {
        Tag::List(_) | Tag::Item => "a list",
        Tag::BlockQuote(_) => "a block quote",
        Tag::Emphasis | Tag::Strong | Tag::Strikethrough => "emphasis",
        Tag::Link { .. } | Tag::Image { .. } => "a link",
        Tag::FootnoteDefinition(_) => "a footnote",
        _ => "a block",
    }
    .to_owned()
}

fn excerpt(name: &str) -> String {
    name.chars().take(20).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nesting(body: &str) -> Result<(), ParseError> {
        let source = format!("Title: t\n\n{body}");
        check_body(&source, 10)
    }

    #[test]
    fn a_control_character_does_not_hide_the_nesting_the_renderer_sees() {
        // Without the U+0002 the line is thousands of nested lists.
        let err = nesting(&format!("\u{2}{}x\n", "- ".repeat(8000))).unwrap_err();
        assert!(
            err.to_string().contains("more than 100 levels of nesting"),
            "{err}"
        );
        assert!(err.to_string().starts_with("line 3:"), "{err}");
        assert_eq!(nesting("\u{2}- a\n- b\n"), Ok(()));
    }

    #[test]
    fn real_nesting_passes() {
        let body = "* a\n  * b\n    > *quote* <small>[x](https://x.org)</small>\n";
        assert_eq!(nesting(body), Ok(()));
        assert_eq!(nesting(&"- ".repeat(MAX_NESTING / 2 - 1)), Ok(()));
    }

    #[test]
    fn a_deep_list_is_refused_at_its_line() {
        let err = nesting(&format!("text\n\n{}x\n", "- ".repeat(8000))).unwrap_err();
        assert!(
            matches!(err, ParseError::TooDeep { line: 5, limit: 100, ref what } if what == "a list"),
            "{err:?}"
        );
        assert!(err.to_string().starts_with("line 5: "), "{err}");
    }

    #[test]
    fn deep_quotes_and_deep_html_are_refused() {
        let quotes = nesting(&format!("{} x\n", ">".repeat(10_000))).unwrap_err();
        assert!(matches!(quotes, ParseError::TooDeep { ref what, .. } if what == "a block quote"));
        let small = nesting(&format!("{}x\n", "<small>".repeat(10_000))).unwrap_err();
        assert!(matches!(small, ParseError::TooDeep { ref what, .. } if what == "`<small>`"));
        let div = nesting(&format!(
            "{}x{}\n",
            "<div>".repeat(200),
            "</div>".repeat(200)
        ));
        assert!(div.is_err());
    }

    #[test]
    fn balanced_html_in_many_snippets_never_adds_up() {
        let body = "<small>[a](https://a.org)</small>\n\n".repeat(500);
        assert_eq!(nesting(&body), Ok(()));
        assert_eq!(nesting(&"a<br>b<img src=x>c\n".repeat(500)), Ok(()));
    }

    #[test]
    fn tags_left_open_add_up_even_when_closed_out_of_order() {
        // `</p>` does not end the `<b>` inside it, so the `<b>`s pile up.
        let body = "<p><b>x</p>\n\n".repeat(101);
        assert!(nesting(&body).is_err());
    }

    #[test]
    fn too_many_elements_or_pieces_are_refused_at_the_line_that_crosses_the_limit() {
        let ok = "*a* ".repeat(MAX_ELEMENTS - 1); // and the paragraph
        assert_eq!(nesting(&ok), Ok(()));
        let err = nesting(&format!("{ok}\n\n*b*\n")).unwrap_err();
        assert!(
            matches!(
                err,
                ParseError::TooMany {
                    line: 5,
                    limit: MAX_ELEMENTS,
                    ..
                }
            ),
            "{err:?}"
        );
        let err = nesting(&"a<br>".repeat(MAX_ELEMENTS + 1)).unwrap_err();
        assert!(matches!(err, ParseError::TooMany { .. }), "{err:?}");
        let err = nesting(&"\\<".repeat(MAX_EVENTS)).unwrap_err();
        assert!(
            err.to_string()
                .contains("more than 200000 pieces of Markdown"),
            "{err}"
        );
    }

    #[test]
    fn the_size_limit_is_inclusive() {
        assert_eq!(check_size(MAX_ISSUE_BYTES), Ok(()));
        assert!(matches!(
            check_size(MAX_ISSUE_BYTES + 1),
            Err(ParseError::TooLarge { .. })
        ));
    }
}
