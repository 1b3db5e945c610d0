//! Raw HTML → plain text: drop tags (and the content of `<style>`,
//! `<script>` and the like), decode character references.
//!
//! Hand-written rather than pulling in an HTML parser: issues hold only short
//! inline snippets (`<small>`, `<br />`, `<sup>`), and the text part needs
//! their words, not their structure. Character references are decoded by
//! `html-escape`, which knows every name HTML defines.
use super::sanitize::DROPPED_WITH_CONTENT;

/// Turns the raw HTML snippets of one issue into text, in order; remembers
/// an element whose content is dropped across snippets (an HTML block comes
/// one line at a time).
#[derive(Debug, Default)]
pub struct HtmlText {
    /// Inside `<style>` (or another dropped element): its closing tag.
    skip_until: Option<String>,
}

impl HtmlText {
    /// Appends what `html` contributes to the plain text to `out`.
    pub fn push(&mut self, html: &str, out: &mut String) {
        let mut rest = html;
        loop {
            if let Some(end) = &self.skip_until {
                match find_ignoring_case(rest, end) {
                    Some(at) => {
                        rest = &rest[at..];
                        self.skip_until = None;
                    }
                    None => return,
                }
            }
            let Some(lt) = rest.find('<') else { break };
            decode_entities(&rest[..lt], out);
            let tag_and_after = &rest[lt..];
            match tag_and_after.find('>') {
                Some(gt) if looks_like_tag(&tag_and_after[..=gt]) => {
                    let tag = &tag_and_after[..=gt];
                    if is_line_break(tag) {
                        out.push('\n');
                    }
                    if let Some(name) = dropped_with_content(tag) {
                        self.skip_until = Some(format!("</{name}"));
                    }
                    rest = &tag_and_after[gt + 1..];
                }
                _ => {
                    out.push('<');
                    rest = &tag_and_after[1..];
                }
            }
        }
        decode_entities(rest, out);
    }
}

/// `<br>`, `<br/>`, `<br />` (any case).
pub fn is_line_break(tag: &str) -> bool {
    let name = tag
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim_end_matches('/');
    name.trim().eq_ignore_ascii_case("br")
}

fn looks_like_tag(tag: &str) -> bool {
    let inner = tag[1..].trim_start_matches('/');
    inner.starts_with(|c: char| c.is_ascii_alphabetic() || c == '!' || c == '?')
}

/// The name of the element `tag` opens, when its content is dropped too.
fn dropped_with_content(tag: &str) -> Option<&'static str> {
    let name = tag[1..]
        .split(|c: char| !c.is_ascii_alphanumeric())
        .next()?;
    DROPPED_WITH_CONTENT
        .into_iter()
        .find(|d| d.eq_ignore_ascii_case(name))
}

fn find_ignoring_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Appends `text` with every character reference decoded (`&eacute;`,
/// `&#8212;`, `&#x1F980;`); unknown names are kept as written.
pub fn decode_entities(text: &str, out: &mut String) {
    html_escape::decode_html_entities_to_string(text, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(html: &str) -> String {
        let mut out = String::new();
        HtmlText::default().push(html, &mut out);
        out
    }

    #[test]
    fn tags_are_dropped_and_their_words_kept() {
        assert_eq!(
            text_of("<small>Discuss <b>here</b></small>"),
            "Discuss here"
        );
        assert_eq!(text_of("<a href=\"x\">link</a>"), "link");
    }

    #[test]
    fn line_break_tags_become_newlines() {
        assert_eq!(text_of("a<br>b<BR/>c<br />d"), "a\nb\nc\nd");
    }

    #[test]
    fn named_and_numeric_entities_are_decoded() {
        assert_eq!(
            text_of("a&nbsp;&amp;&mdash;&#8212;&#x1F980;"),
            "a\u{a0}&——🦀"
        );
    }

    #[test]
    fn every_named_entity_html_defines_is_decoded() {
        assert_eq!(
            text_of(
                "caf&eacute; &Uuml;ber &frac12; &hearts; &zwj;&rarrw; &NotNestedGreaterGreater;"
            ),
            "café Über ½ ♥ \u{200d}↝ \u{2AA2}\u{338}"
        );
    }

    #[test]
    fn style_and_script_content_never_reaches_the_text() {
        let mut text = HtmlText::default();
        let mut out = String::new();
        for line in [
            "a<STYLE>",
            "a{display:none}",
            "</style>b <script>x()</script>c",
        ] {
            text.push(line, &mut out);
        }
        assert_eq!(out, "ab c");
    }

    #[test]
    fn a_lone_ampersand_or_angle_bracket_is_kept() {
        assert_eq!(text_of("R&D < 3 &unknown; x"), "R&D < 3 &unknown; x");
    }
}
