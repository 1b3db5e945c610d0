//! `html-tag`: raw HTML tags outside the allow-list; `unsafe-html`: tags and
//! attributes that would restyle or script the email (the renderer removes
//! them, so what the editor meant is lost); and the `image` rule for raw
//! `<img>` tags (alt text, https source). Comments are skipped.
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::context::builtin_for_short_text;
use super::doc::Doc;
use super::{Emitter, Rule, excerpt};
use crate::issue::tags::TagKind;

/// Elements that reach beyond themselves: stylesheets, scripts, embedded
/// pages, forms, document metadata.
const UNSAFE_TAGS: [&str; 15] = [
    "style", "script", "link", "meta", "base", "iframe", "frame", "frameset", "object", "embed",
    "form", "template", "title", "noscript", "svg",
];

/// A `style` or event-handler (`onclick`, …) attribute. HTML's attribute
/// names and the spaces between attributes are ASCII, so the pattern is ASCII-only
/// (`(?i-u)`): `ſtyle` is not `style` to a browser, and the Unicode case
/// folding and `\s` cost more to build than the whole rest of this rule.
static UNSAFE_ATTR: LazyLock<regex_automata::meta::Regex> =
    LazyLock::new(|| builtin_for_short_text(r"(?i-u)\s(style|on[a-z]+)\s*="));

static ATTR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(alt|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))"#).expect("valid regex")
});

pub(crate) fn check(doc: &Doc, em: &mut Emitter<'_>) {
    if !em.enabled(Rule::HtmlTag) && !em.enabled(Rule::Image) && !em.enabled(Rule::UnsafeHtml) {
        return;
    }
    for range in &doc.html {
        for tag in tags(&em.source()[range.clone()]) {
            let at = range.start + tag.start..range.start + tag.end;
            inspect(em, at);
        }
    }
}

/// Checks one opening tag, `<name …>`, at `at`.
fn inspect(em: &mut Emitter<'_>, at: Range<usize>) {
    let tag = &em.source()[at.clone()];
    let name: String = tag[1..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(40)
        .collect::<String>()
        .to_ascii_lowercase();
    if UNSAFE_TAGS.contains(&name.as_str()) {
        em.at(
            Rule::UnsafeHtml,
            at.clone(),
            format!("`<{name}>` is removed from the email"),
            "delete it: CSS, scripts and embedded pages in an issue could hide the \
             unsubscribe link or restyle the newsletter; write the content in Markdown",
        );
    } else if !em.ctx.allowed_html_tags.contains(&name) {
        em.at(
            Rule::HtmlTag,
            at.clone(),
            format!("unknown HTML tag `<{name}>`"),
            format!("use Markdown instead, or add `{name}` to `[check] allowed_html_tags`"),
        );
    }
    let mut attr = UNSAFE_ATTR.create_captures();
    UNSAFE_ATTR.captures(tag, &mut attr);
    if let Some(attr) = attr.get_group(1) {
        em.at(
            Rule::UnsafeHtml,
            at.clone(),
            format!(
                "the `{}` attribute of `<{name}>` is removed from the email",
                excerpt(&tag[attr.range()].to_ascii_lowercase(), 20)
            ),
            "delete it: inline styles and scripts in an issue could hide the unsubscribe link",
        );
    }
    if name == "img" && em.enabled(Rule::Image) {
        img(em, tag, at);
    }
}

fn img(em: &mut Emitter<'_>, tag: &str, at: Range<usize>) {
    let mut alt = None;
    let mut src = None;
    for c in ATTR.captures_iter(tag) {
        let value = c
            .get(2)
            .or(c.get(3))
            .or(c.get(4))
            .map_or("", |m| m.as_str());
        match c[1].to_ascii_lowercase().as_str() {
            "alt" => alt = Some(value.to_owned()),
            _ => src = Some(value.to_owned()),
        }
    }
    if alt.as_deref().is_none_or(|a| a.trim().is_empty()) {
        em.at(
            Rule::Image,
            at.clone(),
            "image has no alt text".to_owned(),
            "add an `alt=\"…\"` attribute; some readers never load images",
        );
    }
    if let Some(src) = src.filter(|s| !s.to_ascii_lowercase().starts_with("https:")) {
        em.at(
            Rule::Image,
            at,
            format!("image source `{}` is not https", excerpt(&src, 60)),
            "use an https URL; mail clients block or warn about insecure images",
        );
    }
}

/// Byte ranges of the opening tags in `html`, skipping comments,
/// declarations and closing tags.
fn tags(html: &str) -> Vec<Range<usize>> {
    crate::issue::tags::tags(html, &mut false)
        .into_iter()
        .filter(|t| t.kind != TagKind::Close)
        .map(|t| t.range)
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::check::testing::only;

    #[test]
    fn an_unknown_tag_is_a_warning_at_the_tag() {
        let body = "Some <blink>news</blink> and <marquee behavior=\"x\">more</marquee>.\n";
        assert_eq!(only("html-tag", body), [(6, 6), (6, 30)]);
    }

    #[test]
    fn allowed_tags_comments_and_look_alikes_are_fine() {
        let body = "<small>[Discuss](https://r.org)</small>\n\n| a <br /> b |\n|---|\n\nRust <3 Nix, Rust <> C++.\n\n<!-- <Feature name> <!~~ x ~~> -->\n";
        assert_eq!(only("html-tag", body), []);
    }

    #[test]
    fn style_blocks_scripts_and_style_attributes_are_unsafe_html_errors() {
        let body = "<style>a{display:none}</style>\n\nText <span style=\"display:none\">x</span> \
                    <a href=\"https://a.org\" onclick=\"x()\">a</a>\n\n<script>x()</script>\n";
        assert_eq!(
            only("unsafe-html", body),
            [(6, 1), (8, 6), (8, 42), (10, 1)]
        );
        assert_eq!(only("html-tag", body), [], "one finding per tag");
        let found = crate::check::testing::diagnostics(body);
        assert!(
            found
                .iter()
                .all(|d| d.rule != "unsafe-html" || d.severity == crate::model::Severity::Error)
        );
    }

    #[test]
    fn attribute_names_are_matched_as_html_reads_them_ascii_case_insensitively() {
        let body =
            "<span STYLE =\"x\">a</span> <b\tOnClick=\"x()\">b</b> <i \u{17f}tyle=\"x\">c</i>\n";
        assert_eq!(only("unsafe-html", body), [(6, 1), (6, 27)]);
        let found = crate::check::testing::diagnostics(body);
        let messages: Vec<&str> = found.iter().map(|d| d.message.as_str()).collect();
        assert!(
            messages.contains(&"the `style` attribute of `<span>` is removed from the email")
                && messages.contains(&"the `onclick` attribute of `<b>` is removed from the email"),
            "{messages:?}"
        );
    }

    #[test]
    fn a_raw_img_without_alt_or_over_http_is_an_image_warning() {
        let body = "<img src=\"http://a.org/x.png\">\n";
        assert_eq!(only("image", body), [(6, 1), (6, 1)]);
        assert_eq!(
            only("image", "<img alt=\"crab\" src='https://a.org/x.png'>\n"),
            []
        );
    }
}
