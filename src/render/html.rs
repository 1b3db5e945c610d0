//! Markdown events → the HTML of the issue's content (before the chrome).
use pulldown_cmark::{CowStr, Event, Tag, TagEnd};

/// The content HTML. Tables are wrapped in a scrolling box so a wide table
/// never widens the whole message on a phone.
pub fn body_html(events: &[Event<'_>], capacity: usize) -> String {
    let mut html = String::with_capacity(capacity);
    let events = events.iter().flat_map(|event| {
        let (before, after) = match event {
            Event::Start(Tag::Table(_)) => (Some(r#"<div class="table">"#), None),
            Event::End(TagEnd::Table) => (None, Some("</div>\n")),
            _ => (None, None),
        };
        let wrap = |s: &'static str| Event::Html(CowStr::Borrowed(s));
        before
            .map(wrap)
            .into_iter()
            .chain([event.clone()])
            .chain(after.map(wrap))
    });
    pulldown_cmark::html::push_html(&mut html, events);
    html
}
