//! The content's HTML made safe to put inside the chrome (ammonia): only the
//! elements and attributes an issue needs survive, every element is closed
//! inside the content, and no CSS from the issue is kept.
//!
//! Issues come from pull requests by strangers. Without this, raw HTML in an
//! issue could reach past the content: a `<style>` block (inlined into the
//! whole email by css-inline, or applied by mail clients) or a `style`
//! attribute could hide the unsubscribe link, and an unclosed `<div>` or `<b>`
//! would swallow the footer.
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use ammonia::Builder;

/// Elements kept: what pulldown-cmark writes for an issue's Markdown, plus
/// the inline HTML that issues use (`<small>`, `<br>`, `<sup>`, …). Others
/// are removed and their content kept.
const TAGS: [&str; 43] = [
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
];

/// Elements removed together with their content: nothing of them belongs
/// in an email's text.
pub(super) const DROPPED_WITH_CONTENT: [&str; 7] = [
    "script", "style", "template", "iframe", "object", "noscript", "title",
];

/// Attributes kept, per element. `style` survives only on table cells and
/// only as `text-align` (pulldown-cmark's column alignment).
const ATTRIBUTES: [(&str, &[&str]); 10] = [
    ("a", &["href", "title"]),
    ("img", &["src", "alt", "title", "width", "height"]),
    ("abbr", &["title"]),
    ("ol", &["start"]),
    ("td", &["style", "colspan", "rowspan"]),
    ("th", &["style", "colspan", "rowspan"]),
    ("code", &["class"]),
    // Footnote definitions are link targets.
    ("div", &["id"]),
    ("li", &["id"]),
    ("details", &["open"]),
];

/// Classes kept: the renderer's own table wrapper and footnote markers.
const CLASSES: [(&str, &[&str]); 2] = [
    ("div", &["table", "footnote-definition"]),
    ("sup", &["footnote-reference", "footnote-definition-label"]),
];

static CLEANER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut builder = Builder::empty();
    builder
        .tags(HashSet::from(TAGS))
        .clean_content_tags(HashSet::from(DROPPED_WITH_CONTENT))
        .tag_attributes(
            ATTRIBUTES
                .iter()
                .map(|&(tag, attrs)| (tag, attrs.iter().copied().collect()))
                .collect(),
        )
        .allowed_classes(
            CLASSES
                .iter()
                .map(|&(tag, classes)| (tag, classes.iter().copied().collect()))
                .collect::<HashMap<_, _>>(),
        )
        .filter_style_properties(HashSet::from(["text-align"]))
        .attribute_filter(|element, attribute, value| {
            // A code block's `language-rust` class, and nothing else there.
            let language = element != "code" || attribute != "class" || is_language(value);
            language.then(|| value.into())
        })
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(None)
        .strip_comments(true);
    builder
});

/// The sanitized content HTML.
pub fn sanitize(content: &str) -> String {
    CLEANER.clean(content).to_string()
}

fn is_language(class: &str) -> bool {
    class.strip_prefix("language-").is_some_and(|l| {
        !l.is_empty()
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-_#.".contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn style_blocks_and_attributes_are_removed_with_their_css() {
        let out = sanitize("<style>a{display:none}</style><p style=\"display:none\">x</p>");
        assert_eq!(out, "<p>x</p>");
    }

    #[test]
    fn unclosed_elements_are_closed_inside_the_content() {
        let out = sanitize("<div><b onclick=\"x\">bold<div>more");
        assert_eq!(out, "<div><b>bold<div>more</div></b></div>");
        assert_eq!(sanitize("</div></td></tr></table>text"), "text");
    }

    #[test]
    fn markdown_output_passes_unchanged() {
        for html in [
            "<h2>News</h2>\n<ul>\n<li><a href=\"https://a.org/x?a=1&amp;b=2\">a</a> <small>b</small></li>\n</ul>\n",
            "<pre><code class=\"language-rust\">fn main() {}\n</code></pre>\n",
            "<div class=\"table\"><table><thead><tr><th style=\"text-align: right\">n</th></tr></thead><tbody>\n<tr><td style=\"text-align: right\">1</td></tr>\n</tbody></table>\n</div>\n",
            "<p>x<sup class=\"footnote-reference\"><a href=\"#1\">1</a></sup></p>\n<div class=\"footnote-definition\" id=\"1\"><sup class=\"footnote-definition-label\">1</sup>\n<p>note</p>\n</div>\n",
            "<ol start=\"3\">\n<li>three</li>\n</ol>\n<blockquote>\n<p><em>q</em> <strong>s</strong> <del>d</del> <code>c</code><br>\n<img src=\"https://a.org/i.png\" alt=\"i\"></p>\n</blockquote>\n",
        ] {
            // ammonia writes a filtered style without the space.
            assert_eq!(sanitize(html), html.replace("text-align: ", "text-align:"));
        }
    }

    #[test]
    fn scripts_handlers_and_foreign_classes_are_removed() {
        let out = sanitize(
            "<a href=\"javascript:alert(1)\" onclick=\"x()\" class=\"foot\">a</a>\
             <script>alert(1)</script><code class=\"foot\">c</code>",
        );
        assert_eq!(out, "<a>a</a><code>c</code>");
    }
}
