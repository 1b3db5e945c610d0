//! A small scanner for the tags in an issue's raw HTML snippets: where each
//! opening or closing tag is, and its name. Comments are skipped, also when
//! one spans several snippets (pulldown-cmark gives an HTML block line by line).
//!
//! Hand-written rather than an HTML tokenizer: the parse-time nesting bound
//! and the checker's `html-tag` rule only need tag names and positions, and
//! the renderer re-tokenizes whatever it keeps with html5ever.
use std::ops::Range;

/// What kind of tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    /// `<name …>`
    Open,
    /// `<name …/>`
    SelfClosing,
    /// `</name>`
    Close,
}

/// One tag found in a snippet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRef<'a> {
    /// The whole tag, `<` to `>` (or to the end of the snippet).
    pub range: Range<usize>,
    /// The name as written (`small`, `BR`).
    pub name: &'a str,
    pub kind: TagKind,
}

impl TagRef<'_> {
    /// Whether the tag opens an element that a closing tag must end: not a
    /// void element (`<br>`, `<img>`, …) and not self-closing.
    pub fn opens_element(&self) -> bool {
        self.kind == TagKind::Open && !is_void(self.name)
    }
}

/// HTML's void elements, which never have content or a closing tag.
pub fn is_void(name: &str) -> bool {
    const VOID: [&str; 14] = [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr",
    ];
    VOID.iter().any(|v| v.eq_ignore_ascii_case(name))
}

/// The tags in `html`, in order. `in_comment` carries an unterminated
/// `<!--` from one snippet to the next: start with `false`.
pub fn tags<'a>(html: &'a str, in_comment: &mut bool) -> Vec<TagRef<'a>> {
    let mut out = Vec::new();
    let mut i = 0;
    if *in_comment {
        match html.find("-->") {
            Some(end) => {
                *in_comment = false;
                i = end + 3;
            }
            None => return out,
        }
    }
    while let Some(lt) = html[i..].find('<').map(|p| p + i) {
        let rest = &html[lt..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            match comment.find("-->") {
                Some(e) => i = lt + 4 + e + 3,
                None => {
                    *in_comment = true;
                    break;
                }
            }
            continue;
        }
        let end = rest.find('>').map_or(html.len(), |e| lt + e + 1);
        let (close, name_at) = match rest.as_bytes().get(1) {
            Some(b'/') => (true, 2),
            _ => (false, 1),
        };
        let name_len = rest[name_at..]
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-')
            .count();
        if name_len > 0 && rest.as_bytes()[name_at].is_ascii_alphabetic() {
            let kind = if close {
                TagKind::Close
            } else if html[lt..end].ends_with("/>") {
                TagKind::SelfClosing
            } else {
                TagKind::Open
            };
            out.push(TagRef {
                range: lt..end,
                name: &rest[name_at..name_at + name_len],
                kind,
            });
            i = end;
        } else {
            i = lt + 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(html: &str) -> Vec<(&str, TagKind)> {
        tags(html, &mut false)
            .into_iter()
            .map(|t| (t.name, t.kind))
            .collect()
    }

    #[test]
    fn opening_closing_and_self_closing_tags_are_found_with_their_names() {
        use TagKind::*;
        assert_eq!(
            scan("<small>a <b class=\"x\">b</b><br/></small> 1 < 2 <3"),
            [
                ("small", Open),
                ("b", Open),
                ("b", Close),
                ("br", SelfClosing),
                ("small", Close)
            ]
        );
    }

    #[test]
    fn comments_are_skipped_even_across_snippets() {
        let mut open = false;
        assert_eq!(tags("<i>x<!-- <b>", &mut open).len(), 1);
        assert!(open);
        assert!(tags("<div> still inside", &mut open).is_empty());
        let after = tags("--> <u>", &mut open);
        assert_eq!(after.iter().map(|t| t.name).collect::<Vec<_>>(), ["u"]);
        assert!(!open);
    }

    #[test]
    fn void_elements_open_nothing() {
        let found = tags("<br><img src=x><div>", &mut false);
        let opens: Vec<_> = found.iter().map(TagRef::opens_element).collect();
        assert_eq!(opens, [false, false, true]);
    }
}
