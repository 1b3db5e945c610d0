//! The sanitizer on Markdown with raw HTML: what reaches the HTML part.
use crate::render::markdown;

/// The content HTML for `md`, as the renderer writes it.
fn html(md: &str) -> String {
    let parsed = markdown::parse(md);
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, super::sanitize(&parsed.events).into_iter());
    out
}

#[test]
fn markdown_and_the_inline_html_issues_use_pass_unchanged() {
    for md in [
        "## News\n\n* [a](https://a.org/x?a=1&b=2) <small>[b](https://b.org)</small>\n",
        "Line one<br>line two<br/>three <sup>1</sup> <kbd>Ctrl</kbd>\n",
        "<div>\n\n*Markdown* inside a div\n\n</div>\n",
        "<details>\n<summary>More</summary>\n\nHidden *text*.\n\n</details>\n",
        "| a | b |\n|--:|---|\n| 1 | <small>x</small> |\n",
    ] {
        let plain = {
            let mut out = String::new();
            pulldown_cmark::html::push_html(&mut out, markdown::parse(md).events.into_iter());
            out
        };
        assert_eq!(
            html(md).replace("<br/>", "<br>"),
            plain.replace("<br/>", "<br>"),
            "{md}"
        );
    }
}

#[test]
fn style_blocks_inline_styles_and_their_text_are_removed() {
    let out =
        html("<style>\na{display:none}\n</style>\n\nText <span style=\"display:none\">x</span>.\n");
    assert_eq!(out, "\n<p>Text <span>x</span>.</p>\n");
    let inline = html("a <style>a{display:none}</style> b\n");
    assert_eq!(inline, "<p>a  b</p>\n");
}

#[test]
fn an_unclosed_element_ends_with_its_markdown_block_or_with_the_content() {
    // A `<div>` may hold Markdown blocks, so it ends with the content.
    assert_eq!(
        html("<div><div style=\"display:none\">\n\nafter\n"),
        "<div><div>\n<p>after</p>\n</div></div>"
    );
    assert_eq!(
        html("a <b>bold\n\nnext\n"),
        "<p>a <b>bold</b></p>\n<p>next</p>\n"
    );
    assert_eq!(
        html("* <i>x\n* y\n"),
        "<ul>\n<li><i>x</i></li>\n<li>y</li>\n</ul>\n"
    );
}

#[test]
fn closing_tags_that_close_nothing_here_are_dropped() {
    assert_eq!(html("</div></td></tr></table>text\n"), "text\n");
    assert_eq!(html("*a </em> b*\n"), "<p><em>a  b</em></p>\n");
}

#[test]
fn blocks_never_open_inside_inline_content() {
    assert_eq!(
        html("a <div>b</div> <p>c</p> <hr> d\n"),
        "<p>a b c  d</p>\n"
    );
    assert_eq!(
        html("<small><div>x</div></small>\n"),
        "<p><small>x</small></p>\n"
    );
}

#[test]
fn scripts_handlers_and_unsafe_urls_are_removed() {
    let out = html(
        "<a href=\"javascript:alert(1)\" onclick=\"x()\" class=\"foot\">a</a> <script>alert(1)</script><img src=\"data:x\" alt=\"i\" width=\"9\">\n",
    );
    assert_eq!(out, "<p><a>a</a> <img alt=\"i\" width=\"9\"></p>\n");
}

#[test]
fn links_never_nest() {
    assert_eq!(
        html("<a href=\"https://a.org\">x [y](https://b.org) z</a>\n"),
        "<p><a href=\"https://a.org\">x </a><a href=\"https://b.org\">y</a> z</p>\n"
    );
}

/// Whether every element in `html` is closed, in order, inside it.
fn well_nested(html: &str) -> Result<(), String> {
    let mut open: Vec<String> = Vec::new();
    for tok in super::tokens::tokenize(html) {
        match tok {
            super::tokens::Tok::Start { name, .. } => {
                if !crate::issue::tags::is_void(&name) {
                    open.push(name);
                }
            }
            super::tokens::Tok::End { name } => match open.pop() {
                Some(top) if top == name => {}
                other => return Err(format!("`</{name}>` closes {other:?} in {html}")),
            },
            super::tokens::Tok::Text(_) => {}
        }
    }
    match open.is_empty() {
        true => Ok(()),
        false => Err(format!("{open:?} left open in {html}")),
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..Default::default()
    })]

    #[test]
    fn whatever_the_raw_html_the_content_is_well_nested(
        pieces in proptest::collection::vec(proptest::sample::select(&[
            "<div>", "</div>", "<p>", "</p>", "<b>", "</b>", "<small>", "</small>", "<a href=x>",
            "</a>", "<details>", "</details>", "<summary>", "<h2>", "</h2>", "<br>", "<hr>",
            "<blockquote>", "</blockquote>", "<table>", "</td>", "</tr>", "<style>", "</style>",
            "<li>", "<ul>", "x", " ", "\n", "\n\n", "- ", "> ", "* ", "`c`", "*e*", "[l](u)",
            "# h\n", "| a |\n|---|\n| b |\n", "    code\n", "<!--", "-->", "<i", ">",
        ][..]), 0..60),
    ) {
        let out = html(&pieces.concat());
        proptest::prop_assert!(well_nested(&out).is_ok(), "{}", well_nested(&out).unwrap_err());
    }
}
