//! The text part's output: lines written under the prefixes of the open
//! quotes and list items, with at most one blank line between blocks.
use pulldown_cmark::HeadingLevel;
use unicode_width::UnicodeWidthStr;

use super::table::{Layout, Table};
use super::wrap::wrap;

/// A block that indents the lines inside it.
pub enum Container {
    Quote,
    /// A list item or footnote: `marker` is printed once, on its first line.
    Item {
        indent: usize,
        marker: Option<String>,
    },
}

/// The text written so far and the blocks open around the next line.
pub struct Page {
    pub width: usize,
    out: String,
    containers: Vec<Container>,
    /// A blank line owed before the next output line, with its prefix.
    blank: Option<String>,
}

impl Page {
    pub fn new(width: usize) -> Self {
        Self {
            width,
            out: String::with_capacity(32 * 1024),
            containers: Vec::new(),
            blank: None,
        }
    }

    pub fn into_string(self) -> String {
        self.out
    }

    pub fn push(&mut self, container: Container) {
        self.containers.push(container);
    }

    pub fn pop(&mut self) {
        self.containers.pop();
    }

    /// Inside a list item (so a list here is nested).
    pub fn in_item(&self) -> bool {
        self.containers
            .iter()
            .any(|c| matches!(c, Container::Item { .. }))
    }

    /// Owes a blank line before the next line (at most one, with the quote
    /// prefix of where it was requested).
    pub fn request_blank(&mut self) {
        if self.blank.is_none() {
            let quotes = self
                .containers
                .iter()
                .filter(|c| matches!(c, Container::Quote))
                .take(self.width / 4);
            self.blank = Some(quotes.map(|_| ">").collect::<Vec<_>>().join(" "));
        }
    }

    /// The first-line and continuation prefixes; consumes pending item
    /// markers. Containers nested deeper than half the width add nothing
    /// more, so deep nesting cannot make every line a long run of spaces.
    pub fn prefixes(&mut self) -> (String, String) {
        let max = self.width / 2;
        let mut first = String::new();
        let mut rest = String::new();
        for container in &mut self.containers {
            let (mark, indent) = match container {
                Container::Quote => (None, 2),
                Container::Item { indent, marker } => (marker.take(), *indent),
            };
            if rest.len() + indent > max {
                continue;
            }
            match (container, mark) {
                (Container::Quote, _) => {
                    first.push_str("> ");
                    rest.push_str("> ");
                }
                (Container::Item { .. }, Some(m)) => {
                    first.push_str(&m);
                    rest.extend(std::iter::repeat_n(' ', indent));
                }
                (Container::Item { .. }, None) => {
                    first.extend(std::iter::repeat_n(' ', indent));
                    rest.extend(std::iter::repeat_n(' ', indent));
                }
            }
        }
        (first, rest)
    }

    /// Writes inline text as a paragraph; `\n` in it is a hard break.
    pub fn write_paragraph(&mut self, text: &str) {
        let (first, rest) = self.prefixes();
        for (i, piece) in text.split('\n').enumerate() {
            self.write_wrapped(piece, if i == 0 { &first } else { &rest }, &rest);
        }
    }

    /// `=`/`-` underlines for levels 1 and 2, `###` prefixes below. A
    /// heading's `url` follows its text on the same line when it fits, else
    /// on a line of its own.
    pub fn write_heading(&mut self, level: HeadingLevel, text: &str, url: Option<&str>) {
        let (outer, inner) = self.prefixes();
        let underline = match level {
            HeadingLevel::H1 => Some('='),
            HeadingLevel::H2 => Some('-'),
            _ => None,
        };
        let hashes = "#".repeat(level as usize);
        let (first, rest) = match underline {
            Some(_) => (outer, inner.clone()),
            None => (
                format!("{outer}{hashes} "),
                format!("{inner}{:1$} ", "", hashes.len()),
            ),
        };
        let mut lines = wrap(text.trim(), self.width, &first, &rest);
        let longest = lines
            .iter()
            .map(|l| l.width().saturating_sub(rest.width()))
            .max();
        if let Some(url) = url {
            let url = format!("<{url}>");
            match lines.last_mut() {
                Some(last) if last.width() + 1 + url.width() <= self.width => {
                    last.push(' ');
                    last.push_str(&url);
                }
                _ => lines.push(format!("{inner}{url}")),
            }
        }
        for line in &lines {
            self.write_line(line);
        }
        if let (Some(c), Some(n)) = (underline, longest) {
            let rule = format!("{inner}{}", c.to_string().repeat(n.min(self.width)));
            self.write_line(&rule);
        }
    }

    /// Code keeps its lines, indented four spaces, unwrapped.
    pub fn write_code(&mut self, code: &str) {
        let (_, rest) = self.prefixes();
        for line in code.trim_end_matches('\n').lines() {
            self.write_line(&format!("{rest}    {line}"));
        }
    }

    pub fn write_table(&mut self, table: &Table) {
        let (_, rest) = self.prefixes();
        match table.layout(self.width.saturating_sub(rest.width())) {
            Layout::Grid(lines) => {
                for line in lines {
                    self.write_line(&format!("{rest}{line}"));
                }
            }
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

    fn write_wrapped(&mut self, text: &str, first: &str, rest: &str) {
        for line in wrap(text, self.width, first, rest) {
            self.write_line(&line);
        }
    }

    pub fn write_line(&mut self, line: &str) {
        if let Some(blank) = self.blank.take()
            && !self.out.is_empty()
        {
            self.out.push_str(&blank);
            self.out.push('\n');
        }
        self.out.push_str(line.trim_end());
        self.out.push('\n');
    }
}
