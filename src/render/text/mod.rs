//! The plain-text part, built from the Markdown events (not by scraping the
//! HTML): headings underlined or `#`-prefixed, lists indented, quotes behind
//! `> `, every link as `text <url>`, bold as `*bold*`, italics as `_it_`,
//! wrapped at the configured width. A heading that is one link reads as the
//! heading followed by its `<url>`.
mod page;
mod table;
mod wrap;

use pulldown_cmark::{Event, HeadingLevel, Tag, TagEnd};
use unicode_width::UnicodeWidthStr;

use super::strip;
use page::{Container, Page};
use table::Table;
pub use wrap::wrap;

/// Renders Markdown events as wrapped plain text.
pub fn body_text(events: &[Event<'_>], width: usize) -> String {
    let mut writer = Writer::new(width);
    for event in events {
        writer.event(event);
    }
    writer.flush();
    writer.page.into_string()
}

struct Link {
    url: String,
    start: usize,
}

struct Writer {
    page: Page,
    /// Open lists: the next number of an ordered one.
    lists: Vec<Option<u64>>,
    /// Inline text of the current block; `\n` marks a hard break.
    inline: String,
    links: Vec<Link>,
    heading: Option<HeadingLevel>,
    /// The heading's link so far, while the whole heading may be that link:
    /// its URL and where its text ends in `inline`.
    heading_link: Option<(String, usize)>,
    code: Option<String>,
    table: Option<Table>,
    raw: strip::HtmlText,
}

impl Writer {
    fn new(width: usize) -> Self {
        Self {
            page: Page::new(width),
            lists: Vec::new(),
            inline: String::new(),
            links: Vec::new(),
            heading: None,
            heading_link: None,
            code: None,
            table: None,
            raw: strip::HtmlText::default(),
        }
    }

    fn event(&mut self, event: &Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(*tag),
            Event::Text(text) => match &mut self.code {
                Some(code) => code.push_str(text),
                None => self.inline.push_str(text),
            },
            Event::Code(code) => {
                self.inline.push('`');
                self.inline.push_str(code);
                self.inline.push('`');
            }
            Event::Html(html) => self.raw.push(&html.replace('\n', " "), &mut self.inline),
            Event::InlineHtml(html) if self.table.is_some() && strip::is_line_break(html) => {
                self.inline.push(' ');
            }
            Event::InlineHtml(html) => self.raw.push(html, &mut self.inline),
            Event::SoftBreak => self.inline.push(' '),
            Event::HardBreak if self.table.is_some() => self.inline.push(' '),
            Event::HardBreak => self.inline.push('\n'),
            Event::Rule => {
                self.flush();
                self.page.request_blank();
                self.page.write_line("* * *");
            }
            Event::FootnoteReference(label) => {
                self.inline.push('[');
                self.inline.push_str(label);
                self.inline.push(']');
            }
            Event::TaskListMarker(done) => {
                self.inline.push_str(if *done { "[x] " } else { "[ ] " })
            }
            Event::InlineMath(m) | Event::DisplayMath(m) => self.inline.push_str(m),
        }
    }

    fn start(&mut self, tag: &Tag<'_>) {
        match tag {
            Tag::Emphasis => self.inline.push('_'),
            Tag::Strong => self.inline.push('*'),
            Tag::Strikethrough => self.inline.push_str("~~"),
            Tag::Superscript | Tag::Subscript => {}
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => self.links.push(Link {
                url: dest_url.replace(' ', "%20"),
                start: self.inline.len(),
            }),
            Tag::TableHead | Tag::TableRow => self.table.iter_mut().for_each(Table::start_row),
            Tag::TableCell => self.inline.clear(),
            Tag::Table(aligns) => {
                self.open_block();
                self.table = Some(Table::new(aligns.clone()));
            }
            Tag::Heading { level, .. } => {
                self.open_block();
                self.heading = Some(*level);
            }
            Tag::CodeBlock(_) => {
                self.open_block();
                self.code = Some(String::new());
            }
            Tag::BlockQuote(_) => {
                self.open_block();
                self.page.push(Container::Quote);
            }
            Tag::List(first) => {
                self.flush();
                if !self.page.in_item() {
                    self.page.request_blank();
                }
                self.lists.push(*first);
            }
            Tag::Item => self.start_item(),
            Tag::FootnoteDefinition(label) => {
                self.open_block();
                let marker = format!("[{label}] ");
                let indent = marker.width();
                self.page.push(Container::Item {
                    indent,
                    marker: Some(marker),
                });
            }
            _ => self.open_block(),
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Emphasis => self.inline.push('_'),
            TagEnd::Strong => self.inline.push('*'),
            TagEnd::Strikethrough => self.inline.push_str("~~"),
            TagEnd::Superscript | TagEnd::Subscript => {}
            TagEnd::Link | TagEnd::Image => self.end_link(),
            TagEnd::TableCell => {
                let text = std::mem::take(&mut self.inline);
                self.table.iter_mut().for_each(|t| t.push_cell(&text));
            }
            TagEnd::TableHead | TagEnd::TableRow => {}
            TagEnd::Table => {
                if let Some(table) = self.table.take() {
                    self.page.write_table(&table);
                }
            }
            TagEnd::Heading(_) => self.end_heading(),
            TagEnd::CodeBlock => {
                let code = self.code.take().unwrap_or_default();
                self.page.write_code(&code);
            }
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
            }
            TagEnd::BlockQuote(_) | TagEnd::Item | TagEnd::FootnoteDefinition => {
                self.flush();
                self.page.pop();
            }
            _ => self.flush(),
        }
    }

    /// A block that stands apart from what precedes it by a blank line.
    fn open_block(&mut self) {
        self.flush();
        self.page.request_blank();
    }

    fn start_item(&mut self) {
        self.flush();
        let depth = self.lists.len();
        let bullet = match self.lists.last_mut() {
            Some(Some(n)) => {
                *n += 1;
                format!("{}.", *n - 1)
            }
            _ if depth % 2 == 1 => "*".to_owned(),
            _ => "-".to_owned(),
        };
        let lead = if self.page.in_item() { "" } else { "  " };
        let marker = format!("{lead}{bullet} ");
        let indent = marker.width();
        self.page.push(Container::Item {
            indent,
            marker: Some(marker),
        });
    }

    /// Writes `<url>` after the link text, or instead of it when the text
    /// only repeats the URL (autolinks).
    fn end_link(&mut self) {
        let Some(link) = self.links.pop() else { return };
        let text = self.inline[link.start..].trim();
        let same = text == link.url || link.url.strip_prefix("mailto:") == Some(text);
        let opens_heading = self.heading.is_some()
            && self.links.is_empty()
            && self.heading_link.is_none()
            && self.inline[..link.start].trim().is_empty();
        if opens_heading && !same && !text.is_empty() {
            self.heading_link = Some((link.url, self.inline.len()));
            return;
        }
        if same || text.is_empty() {
            self.inline.truncate(link.start);
        } else {
            self.inline.push(' ');
        }
        self.inline.push('<');
        self.inline.push_str(&link.url);
        self.inline.push('>');
    }

    fn end_heading(&mut self) {
        let level = self.heading.take().unwrap_or(HeadingLevel::H3);
        let mut url = None;
        if let Some((link, end)) = self.heading_link.take() {
            if self.inline[end..].trim().is_empty() {
                url = Some(link);
            } else {
                // More words follow the link: it is an ordinary link.
                self.inline.insert_str(end, &format!(" <{link}>"));
            }
        }
        let text = std::mem::take(&mut self.inline).replace('\n', " ");
        self.page.write_heading(level, &text, url.as_deref());
    }

    /// Writes the pending inline text as a wrapped paragraph.
    fn flush(&mut self) {
        if !self.inline.trim().is_empty() {
            self.page.write_paragraph(&self.inline);
        }
        self.inline.clear();
    }
}

#[cfg(test)]
mod tests;
