//! The issue's raw HTML made safe to put inside the chrome: only the
//! elements and attributes an issue needs survive, no CSS or script from the
//! issue is kept, and every element is closed where it was opened, inside
//! the content.
//!
//! Issues come from pull requests by strangers. Without this, raw HTML could
//! reach past the content: a `<style>` block (inlined into the whole email
//! by css-inline, or applied by mail clients) or a `style` attribute could
//! hide the unsubscribe link, and an unclosed `<div>` or `<b>` would swallow
//! the footer.
//!
//! Hand-written over html5ever's tokenizer rather than a DOM sanitizer such
//! as ammonia, for two measured reasons: ammonia writes its output with
//! html5ever 0.40's serializer, which rescans the rest of a text node at
//! every `&` and every character from U+0080 to U+00BF (quadratic: a 160 KB
//! mis-encoded line took 12 s in a debug build); and a DOM sanitizer sees the
//! HTML without its Markdown, so it cannot keep a raw element from spanning
//! Markdown blocks, which is what lets an unclosed tag swallow what follows.
//! Here the policy walks the Markdown events and the raw tags together: a raw
//! element lives inside the Markdown container it was opened in, block
//! elements only go where blocks may go, and the output is well nested, so
//! the browser's (and css-inline's) parser builds exactly the tree written.
mod tokens;

use pulldown_cmark::{CowStr, Event, Tag, TagEnd};

use crate::issue::limits::MAX_NESTING;
use tokens::Tok;

/// Elements removed together with their content: nothing of them belongs
/// in an email's text.
pub(super) const DROPPED_WITH_CONTENT: [&str; 8] = [
    "script", "style", "template", "iframe", "object", "noscript", "title", "textarea",
];

/// How a kept element nests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Inline, holds inline content (`<small>`, `<b>`).
    Phrasing,
    /// Inline and empty (`<br>`, `<img>`).
    PhrasingVoid,
    /// A block that may hold blocks, Markdown ones included (`<div>`).
    Flow,
    /// A block that holds only inline content (`<p>`, `<h3>`).
    Block,
    /// A block and empty (`<hr>`).
    FlowVoid,
}

/// Elements kept from raw HTML. Others are removed, their text kept.
const ELEMENTS: [(&str, Kind); 31] = [
    ("a", Kind::Phrasing),
    ("abbr", Kind::Phrasing),
    ("b", Kind::Phrasing),
    ("code", Kind::Phrasing),
    ("del", Kind::Phrasing),
    ("em", Kind::Phrasing),
    ("i", Kind::Phrasing),
    ("ins", Kind::Phrasing),
    ("kbd", Kind::Phrasing),
    ("mark", Kind::Phrasing),
    ("s", Kind::Phrasing),
    ("small", Kind::Phrasing),
    ("span", Kind::Phrasing),
    ("strong", Kind::Phrasing),
    ("sub", Kind::Phrasing),
    ("sup", Kind::Phrasing),
    ("u", Kind::Phrasing),
    ("br", Kind::PhrasingVoid),
    ("img", Kind::PhrasingVoid),
    ("div", Kind::Flow),
    ("details", Kind::Flow),
    ("blockquote", Kind::Flow),
    ("p", Kind::Block),
    ("summary", Kind::Block),
    ("h1", Kind::Block),
    ("h2", Kind::Block),
    ("h3", Kind::Block),
    ("h4", Kind::Block),
    ("h5", Kind::Block),
    ("h6", Kind::Block),
    ("hr", Kind::FlowVoid),
];

/// A raw element left open, and the Markdown depth it was opened at.
#[derive(Debug)]
struct Open {
    name: &'static str,
    kind: Kind,
    depth: usize,
}

/// The events with every raw HTML snippet replaced by its safe form, and
/// closing tags added where raw elements must end.
pub fn sanitize<'a>(events: &[Event<'a>]) -> Vec<Event<'a>> {
    let mut s = Sanitizer::default();
    for event in events {
        s.event(event);
    }
    let closing = s.close_while(|_| true);
    s.emit_html(closing);
    s.out
}

#[derive(Default)]
struct Sanitizer<'a> {
    out: Vec<Event<'a>>,
    open: Vec<Open>,
    /// The open Markdown containers: whether each holds only inline content.
    markdown: Vec<bool>,
    /// The HTML block being collected (its lines come one event each).
    block: Option<String>,
    /// Inside `<style>` or the like, opened at this Markdown depth.
    dropping: Option<(String, usize)>,
}

impl<'a> Sanitizer<'a> {
    fn event(&mut self, event: &Event<'a>) {
        match event {
            Event::Start(Tag::HtmlBlock) => self.block = Some(String::new()),
            Event::Html(html) if self.block.is_some() => {
                self.block.get_or_insert_default().push_str(html);
            }
            Event::End(TagEnd::HtmlBlock) => {
                let html = self.block.take().unwrap_or_default();
                let safe = self.snippet(&html);
                self.emit_html(safe);
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                let safe = self.snippet(html);
                self.emit_html(safe);
            }
            Event::Start(tag) => {
                let closing = match tag {
                    Tag::Link { .. } => self.close_through("a"),
                    tag if is_block(tag) => self.close_while(|o| o.kind != Kind::Flow),
                    _ => String::new(),
                };
                self.emit_html(closing);
                self.markdown.push(holds_inline(tag));
                self.out.push(event.clone());
            }
            Event::End(_) => {
                let closing = self.close_while(|_| true);
                self.emit_html(closing);
                if self
                    .dropping
                    .as_ref()
                    .is_some_and(|d| d.1 >= self.markdown.len())
                {
                    self.dropping = None;
                }
                self.markdown.pop();
                self.out.push(event.clone());
            }
            // Text inside an inline `<style>…</style>` is the stylesheet.
            Event::Text(_) | Event::Code(_) | Event::SoftBreak if self.dropping.is_some() => {}
            other => self.out.push(other.clone()),
        }
    }

    fn emit_html(&mut self, html: String) {
        if !html.is_empty() {
            self.out.push(Event::InlineHtml(CowStr::Boxed(html.into())));
        }
    }

    /// The safe form of one raw HTML snippet, updating the open elements.
    fn snippet(&mut self, html: &str) -> String {
        let mut out = String::new();
        for tok in tokens::tokenize(html) {
            if let Some((name, _)) = &self.dropping {
                if matches!(&tok, Tok::End { name: n } if n == name) {
                    self.dropping = None;
                }
                continue;
            }
            match tok {
                Tok::Start { name, attrs } => self.start(&name, &attrs, &mut out),
                Tok::End { name } => out.push_str(&self.close_through(&name)),
                Tok::Text(text) => tokens::push_text(&text, &mut out),
            }
        }
        out
    }

    fn start(&mut self, name: &str, attrs: &[(String, String)], out: &mut String) {
        if DROPPED_WITH_CONTENT.contains(&name) {
            self.dropping = Some((name.to_owned(), self.markdown.len()));
            return;
        }
        let Some(&(name, kind)) = ELEMENTS.iter().find(|(n, _)| *n == name) else {
            return;
        };
        let inline_here = self.markdown.last().copied().unwrap_or(false)
            || self
                .open
                .last()
                .is_some_and(|o| matches!(o.kind, Kind::Phrasing | Kind::Block));
        let fits = match kind {
            Kind::Phrasing | Kind::PhrasingVoid => true,
            Kind::Flow | Kind::Block | Kind::FlowVoid => !inline_here,
        };
        let too_deep = self.open.len() + self.markdown.len() >= MAX_NESTING;
        let link_in_link = name == "a" && self.open.iter().any(|o| o.name == "a");
        if !fits || too_deep || link_in_link {
            return;
        }
        let kept = kept_attributes(name, attrs);
        tokens::push_start(name, &kept, out);
        if !matches!(kind, Kind::PhrasingVoid | Kind::FlowVoid) {
            self.open.push(Open {
                name,
                kind,
                depth: self.markdown.len(),
            });
        }
    }

    /// Closes the innermost open `name` opened in the current Markdown
    /// container, with everything opened after it; nothing when there is none.
    fn close_through(&mut self, name: &str) -> String {
        let depth = self.markdown.len();
        let here = self.open.iter().rev().take_while(|o| o.depth == depth);
        match here.clone().position(|o| o.name == name) {
            Some(from_top) => {
                let mut n = 0;
                self.close_while(|_| {
                    n += 1;
                    n <= from_top + 1
                })
            }
            None => String::new(),
        }
    }

    /// Closes open elements of the current Markdown container from the
    /// innermost out, while `keep_closing` says so.
    fn close_while(&mut self, mut keep_closing: impl FnMut(&Open) -> bool) -> String {
        let depth = self.markdown.len();
        let mut out = String::new();
        while let Some(open) = self.open.last() {
            if open.depth < depth || !keep_closing(open) {
                break;
            }
            tokens::push_end(open.name, &mut out);
            self.open.pop();
        }
        out
    }
}

/// Markdown elements that are blocks: inline raw elements must end before them.
fn is_block(tag: &Tag<'_>) -> bool {
    !matches!(
        tag,
        Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
            | Tag::Link { .. }
            | Tag::Image { .. }
            | Tag::Superscript
            | Tag::Subscript
    )
}

/// Markdown elements whose content is inline only: no raw block inside.
fn holds_inline(tag: &Tag<'_>) -> bool {
    !matches!(
        tag,
        Tag::BlockQuote(_) | Tag::Item | Tag::List(_) | Tag::FootnoteDefinition(_)
    )
}

/// The attributes of a raw element that reach the email: links and image
/// sources with a safe scheme, alt and title texts, image sizes.
fn kept_attributes<'t>(element: &str, attrs: &'t [(String, String)]) -> Vec<(&'t str, &'t str)> {
    attrs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .filter(|&(key, value)| match (element, key) {
            ("a", "href") | ("img", "src") => safe_url(value),
            ("a" | "abbr" | "img", "title") | ("img", "alt") | ("details", "open") => true,
            ("img", "width" | "height") => {
                !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit())
            }
            _ => false,
        })
        .collect()
}

/// A URL with no scheme (relative; the checker reports it), or with
/// http, https or mailto.
fn safe_url(url: &str) -> bool {
    let url = url.trim();
    if !crate::check::has_scheme(url) {
        return true;
    }
    let scheme = url.split(':').next().unwrap_or("").to_ascii_lowercase();
    matches!(scheme.as_str(), "http" | "https" | "mailto")
}

#[cfg(test)]
mod tests;
