//! Every list made tight: the paragraphs directly inside list items are
//! unwrapped, so one stray blank line in the source does not space out the
//! whole list (CommonMark makes such a list "loose", a paragraph per item).
//! Both parts are built from the result.
use pulldown_cmark::{Event, Tag, TagEnd};

/// What an open tag turned into.
#[derive(Clone, Copy, PartialEq)]
enum Open {
    Item,
    /// A paragraph directly inside an item, written without its tags.
    Unwrapped,
    Other,
}

/// `events` with the paragraphs directly inside list items unwrapped; a
/// second paragraph in the same item starts on a new line (a hard break).
///
/// Edited in place: each event stays, goes, or becomes the hard break, so
/// no second list of ~2,000 events (~130 KB, fresh pages to fault in) is
/// needed.
pub fn tighten(mut events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let mut open: Vec<Open> = Vec::new();
    let mut after_paragraph = false;
    events.retain_mut(|event| {
        match event {
            Event::Start(Tag::Paragraph) if open.last() == Some(&Open::Item) => {
                open.push(Open::Unwrapped);
                if after_paragraph {
                    *event = Event::HardBreak;
                    return true;
                }
                return false;
            }
            Event::End(TagEnd::Paragraph) if open.last() == Some(&Open::Unwrapped) => {
                open.pop();
                after_paragraph = true;
                return false;
            }
            Event::Start(tag) => {
                open.push(if matches!(tag, Tag::Item) {
                    Open::Item
                } else {
                    Open::Other
                });
                after_paragraph = false;
            }
            Event::End(_) => {
                open.pop();
                after_paragraph = false;
            }
            _ => {}
        }
        true
    });
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(md: &str) -> String {
        let events = crate::render::markdown::parse(md).events;
        let mut out = String::new();
        pulldown_cmark::html::push_html(&mut out, tighten(events).into_iter());
        out
    }

    #[test]
    fn a_stray_blank_line_does_not_make_the_list_loose() {
        assert_eq!(
            html("* one\n\n* two\n* three\n"),
            "<ul>\n<li>one</li>\n<li>two</li>\n<li>three</li>\n</ul>\n"
        );
    }

    #[test]
    fn a_second_paragraph_in_an_item_starts_a_new_line() {
        assert_eq!(
            html("* one\n\n  more\n\n* two\n"),
            "<ul>\n<li>one<br />\nmore</li>\n<li>two</li>\n</ul>\n"
        );
    }

    #[test]
    fn nested_lists_and_quotes_inside_items_keep_their_structure() {
        assert_eq!(
            html("* one\n\n  * inner\n\n  > quoted\n\n* two\n"),
            "<ul>\n<li>one\n<ul>\n<li>inner</li>\n</ul>\n<blockquote>\n<p>quoted</p>\n</blockquote>\n</li>\n<li>two</li>\n</ul>\n"
        );
    }

    #[test]
    fn paragraphs_outside_lists_are_untouched() {
        assert_eq!(html("a\n\nb\n"), "<p>a</p>\n<p>b</p>\n");
    }
}
