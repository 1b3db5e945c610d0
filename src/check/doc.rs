//! One pass over the Markdown events, keeping what the rules need: top-level
//! blocks (headings, comments), links and images with their section and list
//! item, raw HTML, text, empty items and verbatim (code/HTML) ranges.
//! Every range is a byte range into `Issue::source`.
use std::ops::Range;

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

use crate::model::Issue;

pub use crate::issue::markdown_options;

/// What kind of top-level block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BlockKind {
    Heading {
        level: u8,
        text: String,
    },
    /// An HTML block holding nothing but comments.
    Comment,
    Other,
}

/// A top-level block.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub kind: BlockKind,
    pub range: Range<usize>,
}

/// A link or an image.
#[derive(Debug, Clone)]
pub(crate) struct LinkRef {
    pub image: bool,
    pub dest: String,
    /// The whole `[text](dest)` source.
    pub range: Range<usize>,
    /// The link text or image alt text.
    pub text: String,
    /// Index into `Doc::blocks` of the heading this link sits under.
    pub section: Option<usize>,
    /// The innermost list item holding it (index into `Doc::leaf_items`).
    pub item: Option<usize>,
}

/// The parts of an issue body that the rules look at.
#[derive(Debug, Default)]
pub(crate) struct Doc {
    pub blocks: Vec<Block>,
    pub links: Vec<LinkRef>,
    /// Raw HTML, inline and block (comments included).
    pub html: Vec<Range<usize>>,
    /// Text events (not code, not HTML).
    pub texts: Vec<Range<usize>>,
    /// List items with nothing in them.
    pub empty_items: Vec<Range<usize>>,
    /// Code blocks and HTML blocks, where line-based rules do not apply.
    pub verbatim: Vec<Range<usize>>,
    /// For each list item, whether it holds no nested list.
    pub leaf_items: Vec<bool>,
}

/// Walk state that does not end up in [`Doc`].
#[derive(Default)]
struct Walk {
    depth: usize,
    heading: Option<String>,
    section: Option<usize>,
    open_links: Vec<LinkRef>,
    items: Vec<usize>,
    item_just_opened: bool,
    in_code_block: bool,
}

impl Walk {
    /// Adds text to the open heading and links.
    fn push_text(&mut self, text: &str) {
        if let Some(h) = self.heading.as_mut() {
            h.push_str(text);
        }
        for link in &mut self.open_links {
            link.text.push_str(text);
        }
    }
}

impl Doc {
    /// Parses the issue body.
    pub fn parse(issue: &Issue) -> Doc {
        let base = issue.body_offset;
        let mut doc = Doc::default();
        let mut walk = Walk::default();
        let parser = Parser::new_ext(issue.body(), markdown_options()).into_offset_iter();
        for (event, range) in parser {
            let range = range.start + base..range.end + base;
            let item_just_opened = std::mem::take(&mut walk.item_just_opened);
            match event {
                Event::Start(tag) => doc.start(&mut walk, tag, range),
                Event::End(tag) => doc.end(&mut walk, tag, range, item_just_opened, issue),
                Event::Text(text) => {
                    walk.push_text(&text);
                    if !walk.in_code_block {
                        doc.texts.push(range);
                    }
                }
                Event::Code(text) => walk.push_text(&text),
                Event::InlineHtml(_) => doc.html.push(range),
                _ => {}
            }
        }
        doc
    }

    fn start(&mut self, walk: &mut Walk, tag: Tag<'_>, range: Range<usize>) {
        walk.depth += 1;
        match tag {
            Tag::Heading { .. } if walk.depth == 1 => walk.heading = Some(String::new()),
            Tag::CodeBlock(_) => {
                walk.in_code_block = true;
                self.verbatim.push(range);
            }
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                walk.open_links.push(LinkRef {
                    image: false, // set at the end tag
                    dest: dest_url.into_string(),
                    range,
                    text: String::new(),
                    section: walk.section,
                    item: walk.items.last().copied(),
                });
            }
            Tag::Item => {
                walk.items.push(self.leaf_items.len());
                self.leaf_items.push(true);
                walk.item_just_opened = true;
            }
            Tag::List(_) => {
                if let Some(&id) = walk.items.last() {
                    self.leaf_items[id] = false;
                }
            }
            _ => {}
        }
    }

    fn end(
        &mut self,
        walk: &mut Walk,
        tag: TagEnd,
        range: Range<usize>,
        item_just_opened: bool,
        issue: &Issue,
    ) {
        walk.depth -= 1;
        let kind = match tag {
            TagEnd::Heading(level) if walk.depth == 0 => {
                walk.section = Some(self.blocks.len());
                let text = walk.heading.take().unwrap_or_default();
                BlockKind::Heading {
                    level: level as u8,
                    text: text.trim().to_owned(),
                }
            }
            TagEnd::HtmlBlock => {
                self.html.push(range.clone());
                self.verbatim.push(range.clone());
                if is_comment_only(&issue.source[range.clone()]) {
                    BlockKind::Comment
                } else {
                    BlockKind::Other
                }
            }
            TagEnd::CodeBlock => {
                walk.in_code_block = false;
                BlockKind::Other
            }
            TagEnd::Link | TagEnd::Image => {
                if let Some(mut link) = walk.open_links.pop() {
                    link.image = tag == TagEnd::Image;
                    self.links.push(link);
                }
                BlockKind::Other
            }
            TagEnd::Item => {
                walk.items.pop();
                if item_just_opened {
                    self.empty_items.push(range.clone());
                }
                BlockKind::Other
            }
            _ => BlockKind::Other,
        };
        if walk.depth == 0 {
            self.blocks.push(Block { kind, range });
        }
    }
}

impl Doc {
    /// The byte ranges of every `<!-- … -->` comment in the raw HTML, in
    /// order; an unterminated comment runs to the end of its HTML.
    pub fn comments(&self, source: &str) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        for range in &self.html {
            let html = &source[range.clone()];
            let mut from = 0;
            while let Some(open) = html[from..].find("<!--") {
                let start = from + open;
                let end = html[start + 4..]
                    .find("-->")
                    .map_or(html.len(), |e| start + 4 + e + 3);
                out.push(range.start + start..range.start + end);
                from = end;
            }
        }
        out.sort_by_key(|r| r.start);
        out
    }
}

/// Whether `offset` falls inside one of the sorted, disjoint `ranges`.
pub(crate) fn within(ranges: &[Range<usize>], offset: usize) -> bool {
    let i = ranges.partition_point(|r| r.end <= offset);
    ranges.get(i).is_some_and(|r| r.start <= offset)
}

/// Whether `html` holds nothing but `<!-- … -->` comments and whitespace.
/// An unterminated comment runs to the end, as in HTML.
pub(crate) fn is_comment_only(html: &str) -> bool {
    let mut rest = html;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return true;
        }
        let Some(inner) = rest.strip_prefix("<!--") else {
            return false;
        };
        match inner.find("-->") {
            Some(end) => rest = &inner[end + 3..],
            None => return true,
        }
    }
}
