//! The content's texts and link targets stood in for by short tokens while
//! css-inline reads the page, then put back as css-inline writes them.
//!
//! css-inline parses the whole page with html5ever to find the elements
//! its rules match, and html5ever's tokenizer goes character by character:
//! on seed 000 it was the largest single cost of `render` (perf: css-inline
//! 23% of the main thread's samples, two thirds of that parsing). No rule
//! of `email.css` looks at a text or at a link's target, and they are most
//! of the page's bytes (seed 000: 37.6 KB, 12 KB without them), so css-inline
//! reads the page with one character in their place: the k-th of Unicode's
//! 65,534 supplementary private-use code points (U+F0000 + k), which
//! `escape_href` writes as `%F3%B0%80%80`-style bytes in a link's `href`.
//! (Tokens of several characters, `U+E000 k U+E001`, cost 0.2 ms more CPU
//! per `render`: 10.51 against 10.31 ms median, paired, 300 runs.)
//!
//! The sanitizer's output is well nested, so html5ever builds the tree as
//! written and every token comes out of css-inline where it went in. That
//! is checked, not assumed: [`StandIns::restore`] gives up (and the caller
//! inlines the page with its real content) unless the page held exactly the
//! tokens put in and they come back in order.
use pulldown_cmark::{CowStr, Event, InlineStr, Tag, TagEnd};

/// The first token; the last is U+FFFFD.
const FIRST: u32 = 0xF0000;
const LAST: u32 = 0xFFFFD;
/// How `escape_href` starts writing a token (`%F3%B0`…`%F3%BF`).
const HREF_PREFIX: &str = "%F3%B";

/// The originals behind the tokens, in document order.
#[derive(Default)]
pub struct StandIns<'a> {
    originals: Vec<Original<'a>>,
    in_image: usize,
}

enum Original<'a> {
    Text(CowStr<'a>),
    Href(CowStr<'a>),
}

impl<'a> StandIns<'a> {
    /// `event` with its text or link target replaced by a token. Left as
    /// they are: an image's alt text (written into an attribute),
    /// whitespace (html5ever treats it apart in tables) and text starting
    /// with a line break (dropped after a `<pre>` tag).
    pub fn stand_in(&mut self, event: &Event<'a>) -> Event<'a> {
        match event {
            Event::Start(Tag::Image { .. }) => self.in_image += 1,
            Event::End(TagEnd::Image) => self.in_image = self.in_image.saturating_sub(1),
            _ => {}
        }
        let token = match event {
            Event::Text(text) if self.in_image == 0 && worth_a_token(text) => {
                self.token(Original::Text(text.clone())).map(Event::Text)
            }
            Event::Code(text) if worth_a_token(text) => {
                self.token(Original::Text(text.clone())).map(Event::Code)
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) if !dest_url.is_empty() => {
                self.token(Original::Href(dest_url.clone())).map(|token| {
                    Event::Start(Tag::Link {
                        link_type: *link_type,
                        dest_url: token,
                        title: title.clone(),
                        id: id.clone(),
                    })
                })
            }
            _ => None,
        };
        token.unwrap_or_else(|| event.clone())
    }

    /// The next token, for `original`; none once all are used.
    fn token(&mut self, original: Original<'a>) -> Option<CowStr<'a>> {
        let k = u32::try_from(self.originals.len()).ok()?;
        let token = char::from_u32(FIRST.checked_add(k).filter(|c| *c <= LAST)?)?;
        self.originals.push(original);
        Some(CowStr::Inlined(InlineStr::from(token)))
    }

    /// Whether `page` holds exactly the tokens put in, and no look-alike
    /// (an issue may spell `&#xF0000;`), before css-inline reads it.
    pub fn fit(&self, page: &str) -> bool {
        let mut count = 0;
        let mut rest = page;
        while let Some((at, _, len)) = next_token(rest) {
            count += 1;
            rest = &rest[at + len..];
        }
        count == self.originals.len()
    }

    /// `inlined` with every token replaced by its original, escaped as
    /// css-inline's serializer escapes text and attribute values; `None`
    /// when the tokens do not come back one by one, in order.
    pub fn restore(&self, inlined: &str) -> Option<String> {
        let mut out = String::with_capacity(inlined.len() * 2);
        let mut rest = inlined;
        for (k, original) in self.originals.iter().enumerate() {
            let (at, token, len) = next_token(rest)?;
            if token != k {
                return None;
            }
            let in_href = rest.as_bytes()[at] == b'%';
            out.push_str(&rest[..at]);
            match original {
                Original::Text(text) if !in_href => escape_text(&mut out, text),
                Original::Href(url) if in_href => escape_href(&mut out, url),
                _ => return None,
            }
            rest = &rest[at + len..];
        }
        if next_token(rest).is_some() {
            return None;
        }
        out.push_str(rest);
        Some(out)
    }
}

fn worth_a_token(text: &str) -> bool {
    !text.starts_with('\n') && !text.trim().is_empty()
}

/// The next token in `text`: where it starts, its number, and its length
/// (a character, or its `escape_href` form).
fn next_token(text: &str) -> Option<(usize, usize, usize)> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(i) = memchr::memchr2(0xF3, b'%', &bytes[from..]) {
        let at = from + i;
        let found = if bytes[at] == 0xF3 {
            text[at..].chars().next().map(|c| (c, c.len_utf8()))
        } else if text[at..].starts_with(HREF_PREFIX) {
            percent_decoded_char(&text[at..])
        } else {
            None
        };
        if let Some((c, len)) = found.filter(|(c, _)| (FIRST..=LAST).contains(&u32::from(*c))) {
            return Some((at, (u32::from(c) - FIRST) as usize, len));
        }
        from = at + 1;
    }
    None
}

/// The character `%XX%XX%XX%XX` at the start of `text` spells, and 12.
fn percent_decoded_char(text: &str) -> Option<(char, usize)> {
    let spelled = text.as_bytes().get(..12)?;
    let mut bytes = [0u8; 4];
    for (byte, part) in bytes.iter_mut().zip(spelled.chunks(3)) {
        let [b'%', high, low] = *part else {
            return None;
        };
        let digit = |d: u8| char::from(d).to_digit(16);
        *byte = u8::try_from(digit(high)? << 4 | digit(low)?).ok()?;
    }
    let c = std::str::from_utf8(&bytes).ok()?.chars().next()?;
    Some((c, 12))
}

/// As css-inline's serializer writes a text node: `&`, `<`, `>` and
/// U+00A0 escaped.
fn escape_text(out: &mut String, text: &str) {
    let mut last = 0;
    for (i, c) in text.char_indices() {
        let escaped = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '\u{a0}' => "&nbsp;",
            _ => continue,
        };
        out.push_str(&text[last..i]);
        out.push_str(escaped);
        last = i + c.len_utf8();
    }
    out.push_str(&text[last..]);
}

/// A link target as pulldown-cmark writes it (`escape_href`), after
/// html5ever has decoded it and css-inline re-escaped it: only the
/// `&#x27;` that html5ever decodes comes out differently, as `'`.
fn escape_href(out: &mut String, url: &str) {
    let from = out.len();
    pulldown_cmark_escape::escape_href(&mut *out, url).expect("writing to a String");
    if out[from..].contains("&#x27;") {
        let written = out.split_off(from);
        out.push_str(&written.replace("&#x27;", "'"));
    }
}

#[cfg(test)]
mod tests;
