//! Markdown → the event list both parts are built from, with HTML comments removed.
use pulldown_cmark::{CowStr, Event, Parser, Tag, TagEnd};

/// The parsed body: its events (comments removed) and every link target in order.
pub struct Parsed<'a> {
    pub events: Vec<Event<'a>>,
    pub link_urls: Vec<String>,
}

/// Parses `body` once; both parts are rendered from the result.
pub fn parse(body: &str) -> Parsed<'_> {
    let mut collector = Collector::new(body.len());
    for event in Parser::new_ext(body, crate::issue::markdown_options()) {
        collector.push(event);
    }
    collector.finish()
}

/// Builds [`Parsed`] from a body's events, one at a time: from [`parse`],
/// or from the parse that checks an issue's bounds
/// ([`crate::issue::parse_lending`]), so that `render` parses once.
pub struct Collector<'a> {
    stripper: CommentStripper,
    parsed: Parsed<'a>,
}

impl<'a> Collector<'a> {
    /// For a body of `len` bytes (real issues have about one event per
    /// 16–20 bytes).
    pub fn new(len: usize) -> Collector<'a> {
        Collector {
            stripper: CommentStripper::default(),
            parsed: Parsed {
                events: Vec::with_capacity(len / 16),
                link_urls: Vec::new(),
            },
        }
    }

    /// Takes the body's next event.
    pub fn push(&mut self, event: Event<'a>) {
        let Some(event) = self.stripper.filter(event) else {
            return;
        };
        let events = &mut self.parsed.events;
        match &event {
            Event::Start(Tag::Link { dest_url, .. }) => {
                self.parsed.link_urls.push(dest_url.to_string());
            }
            // An HTML block that held only a comment leaves nothing behind.
            Event::End(TagEnd::HtmlBlock)
                if matches!(events.last(), Some(Event::Start(Tag::HtmlBlock))) =>
            {
                events.pop();
                return;
            }
            _ => {}
        }
        events.push(event);
    }

    /// The events and link targets taken.
    pub fn finish(self) -> Parsed<'a> {
        self.parsed
    }
}

/// Removes `<!-- … -->` from raw HTML events, carrying the open-comment state
/// across events: pulldown-cmark splits a multi-line HTML block into one event
/// per line, and an inline comment may span a soft break.
#[derive(Default)]
struct CommentStripper {
    /// Inside a comment opened by an earlier event.
    open: bool,
    /// The open comment began in inline HTML, so text events are inside it too.
    inline: bool,
}

impl CommentStripper {
    fn filter<'a>(&mut self, event: Event<'a>) -> Option<Event<'a>> {
        match event {
            Event::Html(html) => self.strip(html).map(Event::Html),
            Event::InlineHtml(html) => {
                let was_open = self.open;
                let kept = self.strip(html);
                if self.open && !was_open {
                    self.inline = true;
                }
                kept.map(Event::InlineHtml)
            }
            Event::Text(_) | Event::SoftBreak | Event::HardBreak | Event::Code(_)
                if self.open && self.inline =>
            {
                None
            }
            other => {
                if self.open && self.inline && matches!(other, Event::End(_) | Event::Start(_)) {
                    // A paragraph ended inside an unterminated inline comment:
                    // CommonMark ends the comment there too.
                    self.open = false;
                    self.inline = false;
                }
                Some(other)
            }
        }
    }

    /// The parts of `html` outside comments; `None` when nothing is left.
    fn strip<'a>(&mut self, html: CowStr<'a>) -> Option<CowStr<'a>> {
        if !self.open && !html.contains("<!--") {
            return Some(html);
        }
        let mut kept = String::new();
        let mut rest: &str = &html;
        loop {
            if self.open {
                match rest.find("-->") {
                    Some(end) => {
                        rest = &rest[end + 3..];
                        self.open = false;
                        self.inline = false;
                    }
                    None => break,
                }
            } else {
                match rest.find("<!--") {
                    Some(start) => {
                        kept.push_str(&rest[..start]);
                        rest = &rest[start + 4..];
                        // `<!-->` and `<!--->` are complete (empty) comments.
                        if let Some(after) = rest.strip_prefix('>').or(rest.strip_prefix("->")) {
                            rest = after;
                        } else {
                            self.open = true;
                        }
                    }
                    None => {
                        kept.push_str(rest);
                        break;
                    }
                }
            }
        }
        (!kept.trim().is_empty()).then(|| kept.into())
    }
}
