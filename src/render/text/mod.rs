//! The plain-text part, built from the Markdown events (not by scraping the
//! HTML): headings underlined or `#`-prefixed, lists indented, quotes behind
//! `> `, every link as `text <url>`, wrapped at the configured width.
mod table;
mod wrap;

use pulldown_cmark::{Event, HeadingLevel, Tag, TagEnd};
use unicode_width::UnicodeWidthStr;

use super::strip;
use table::{Layout, Table};
pub use wrap::wrap;

/// Renders Markdown events as wrapped plain text.
pub fn body_text(events: &[Event<'_>], width: usize) -> String {
    let mut writer = Writer::new(width);
    for event in events {
        writer.event(event);
    }
    writer.flush();
    writer.out
}

/// A block that indents the lines inside it.
enum Container {
    Quote,
    /// A list item or footnote: `marker` is printed once, on its first line.
    Item {
        indent: usize,
        marker: Option<String>,
    },
}

struct Link {
    url: String,
    start: usize,
}

struct Writer {
    width: usize,
    out: String,
    containers: Vec<Container>,
    /// Open lists: the next number of an ordered one.
    lists: Vec<Option<u64>>,
    /// Inline text of the current block; `\n` marks a hard break.
    inline: String,
    links: Vec<Link>,
    /// A blank line owed before the next output line, with its prefix.
    blank: Option<String>,
    heading: Option<HeadingLevel>,
    code: Option<String>,
    table: Option<Table>,
}

impl Writer {
    fn new(width: usize) -> Self {
        Self {
            width,
            out: String::with_capacity(32 * 1024),
            containers: Vec::new(),
            lists: Vec::new(),
            inline: String::new(),
            links: Vec::new(),
            blank: None,
            heading: None,
            code: None,
            table: None,
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
            Event::Html(html) => strip::html_to_text(&html.replace('\n', " "), &mut self.inline),
            Event::InlineHtml(html) if self.table.is_some() && strip::is_line_break(html) => {
                self.inline.push(' ');
            }
            Event::InlineHtml(html) => strip::html_to_text(html, &mut self.inline),
            Event::SoftBreak => self.inline.push(' '),
            Event::HardBreak if self.table.is_some() => self.inline.push(' '),
            Event::HardBreak => self.inline.push('\n'),
            Event::Rule => {
                self.flush();
                self.request_blank();
                self.write_line("* * *");
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
            Tag::Strikethrough => self.inline.push_str("~~"),
            Tag::Strong | Tag::Superscript | Tag::Subscript => {}
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
                self.containers.push(Container::Quote);
            }
            Tag::List(first) => {
                self.flush();
                if !self.in_item() {
                    self.request_blank();
                }
                self.lists.push(*first);
            }
            Tag::Item => self.start_item(),
            Tag::FootnoteDefinition(label) => {
                self.open_block();
                let marker = format!("[{label}] ");
                let indent = marker.width();
                self.containers.push(Container::Item {
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
            TagEnd::Strikethrough => self.inline.push_str("~~"),
            TagEnd::Strong | TagEnd::Superscript | TagEnd::Subscript => {}
            TagEnd::Link | TagEnd::Image => self.end_link(),
            TagEnd::TableCell => {
                let text = std::mem::take(&mut self.inline);
                self.table.iter_mut().for_each(|t| t.push_cell(&text));
            }
            TagEnd::TableHead | TagEnd::TableRow => {}
            TagEnd::Table => self.end_table(),
            TagEnd::Heading(_) => self.end_heading(),
            TagEnd::CodeBlock => self.end_code(),
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
            }
            TagEnd::BlockQuote(_) | TagEnd::Item | TagEnd::FootnoteDefinition => {
                self.flush();
                self.containers.pop();
            }
            _ => self.flush(),
        }
    }

    /// A block that stands apart from what precedes it by a blank line.
    fn open_block(&mut self) {
        self.flush();
        self.request_blank();
    }

    fn in_item(&self) -> bool {
        self.containers
            .iter()
            .any(|c| matches!(c, Container::Item { .. }))
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
        let lead = if self.in_item() { "" } else { "  " };
        let marker = format!("{lead}{bullet} ");
        let indent = marker.width();
        self.containers.push(Container::Item {
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
        let text = std::mem::take(&mut self.inline).replace('\n', " ");
        let (first, rest) = self.prefixes();
        let underline = match level {
            HeadingLevel::H1 => Some('='),
            HeadingLevel::H2 => Some('-'),
            _ => None,
        };
        let hashes = "#".repeat(level as usize);
        let (first, rest) = match underline {
            Some(_) => (first, rest),
            None => (
                format!("{first}{hashes} "),
                format!("{rest}{} ", " ".repeat(hashes.len())),
            ),
        };
        let lines = wrap(text.trim(), self.width, &first, &rest);
        let longest = lines
            .iter()
            .map(|l| l.width() - rest.width().min(l.width()))
            .max();
        for line in &lines {
            self.write_line(line);
        }
        if let (Some(c), Some(n)) = (underline, longest) {
            let rule = format!("{rest}{}", c.to_string().repeat(n.min(self.width)));
            self.write_line(&rule);
        }
    }

    fn end_code(&mut self) {
        let code = self.code.take().unwrap_or_default();
        let (_, rest) = self.prefixes();
        for line in code.trim_end_matches('\n').lines() {
            self.write_line(&format!("{rest}    {line}"));
        }
    }

    fn end_table(&mut self) {
        let Some(table) = self.table.take() else {
            return;
        };
        let (_, rest) = self.prefixes();
        match table.layout(self.width.saturating_sub(rest.width())) {
            Layout::Grid(lines) => lines
                .iter()
                .for_each(|l| self.write_line(&format!("{rest}{l}"))),
            Layout::Records(records) => {
                let indent = format!("{rest}    ");
                for record in records {
                    self.request_blank();
                    for cell in record {
                        self.write_wrapped(&cell, &rest, &indent);
                    }
                }
            }
        }
    }

    /// Writes the pending inline text as a wrapped paragraph.
    fn flush(&mut self) {
        if self.inline.trim().is_empty() {
            self.inline.clear();
            return;
        }
        let inline = std::mem::take(&mut self.inline);
        let (first, rest) = self.prefixes();
        for (i, piece) in inline.split('\n').enumerate() {
            self.write_wrapped(piece.trim(), if i == 0 { &first } else { &rest }, &rest);
        }
        self.inline = inline;
        self.inline.clear();
    }

    fn write_wrapped(&mut self, text: &str, first: &str, rest: &str) {
        let width = self.width;
        for line in wrap(text, width, first, rest) {
            self.write_line(&line);
        }
    }

    /// The first-line and continuation prefixes; consumes pending item markers.
    fn prefixes(&mut self) -> (String, String) {
        let mut first = String::new();
        let mut rest = String::new();
        for container in &mut self.containers {
            match container {
                Container::Quote => {
                    first.push_str("> ");
                    rest.push_str("> ");
                }
                Container::Item { indent, marker } => {
                    match marker.take() {
                        Some(m) => first.push_str(&m),
                        None => first.extend(std::iter::repeat_n(' ', *indent)),
                    }
                    rest.extend(std::iter::repeat_n(' ', *indent));
                }
            }
        }
        (first, rest)
    }

    fn request_blank(&mut self) {
        if self.blank.is_none() {
            let quotes = self
                .containers
                .iter()
                .filter(|c| matches!(c, Container::Quote));
            self.blank = Some(quotes.map(|_| ">").collect::<Vec<_>>().join(" "));
        }
    }

    fn write_line(&mut self, line: &str) {
        if let Some(blank) = self.blank.take() {
            if !self.out.is_empty() {
                self.out.push_str(&blank);
                self.out.push('\n');
            }
        }
        self.out.push_str(line.trim_end());
        self.out.push('\n');
    }
}

#[cfg(test)]
mod tests;
