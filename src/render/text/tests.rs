//! Unit tests for the plain-text part: headings, lists, quotes, code, tables, links, wrapping.
use super::*;
use crate::render::markdown;

fn text(md: &str, width: usize) -> String {
    body_text(&markdown::parse(md).events, width)
}

#[test]
fn headings_are_underlined_or_prefixed() {
    let out = text(
        "# Quote of the Week\n\n## Crate of the Week\n\n### Official\n",
        72,
    );
    assert_eq!(
        out,
        "Quote of the Week\n=================\n\nCrate of the Week\n-----------------\n\n### Official\n"
    );
}

#[test]
fn lists_are_indented_and_nested_ones_deeper() {
    let md = "Intro.\n\n* 2025-11-12 | [Boulder](https://a.example/)\n    * [**Talk**](https://b.example/)\n* second\n";
    let out = text(md, 72);
    assert_eq!(
        out,
        "Intro.\n\n  * 2025-11-12 | Boulder <https://a.example/>\n    - *Talk* <https://b.example/>\n  * second\n"
    );
}

#[test]
fn ordered_lists_count_from_their_start() {
    assert_eq!(text("3. three\n4. four\n", 72), "  3. three\n  4. four\n");
}

#[test]
fn a_wrapped_list_item_continues_under_its_text() {
    let out = text("* one two three four five six seven eight nine ten\n", 24);
    assert_eq!(
        out,
        "  * one two three four\n    five six seven eight\n    nine ten\n"
    );
}

#[test]
fn quotes_are_prefixed_on_every_line_including_blank_ones() {
    let out = text("> first line that wraps here\n>\n> second\n\nafter\n", 20);
    assert_eq!(
        out,
        "> first line that\n> wraps here\n>\n> second\n\nafter\n"
    );
}

#[test]
fn code_spans_keep_backticks_and_code_blocks_are_indented() {
    let out = text(
        "Use `unsafe` sparingly.\n\n```rust\nfn main() {}\n```\n",
        72,
    );
    assert_eq!(out, "Use `unsafe` sparingly.\n\n    fn main() {}\n");
}

#[test]
fn emphasis_is_marked_with_underscores_and_strong_with_stars() {
    assert_eq!(
        text("caution *on* the **arm**\n", 72),
        "caution _on_ the *arm*\n"
    );
}

#[test]
fn every_link_shows_its_url_and_autolinks_show_it_once() {
    let md = "[Rust](https://www.rust-lang.org/) and <https://docs.rs/> and [team][t]\n\n[t]: mailto:team@example.org\n";
    let out = text(md, 200);
    assert_eq!(
        out,
        "Rust <https://www.rust-lang.org/> and <https://docs.rs/> and team <mailto:team@example.org>\n"
    );
}

#[test]
fn inline_html_tags_are_dropped_and_entities_decoded() {
    let out = text(
        "<small>[Discuss](https://r.example/)</small> &amp; <b>more</b>&nbsp;x\n",
        72,
    );
    assert_eq!(out, "Discuss <https://r.example/> & more\u{a0}x\n");
}

#[test]
fn html_comments_leave_no_trace() {
    let md = "before <!-- inline\nsecret --> after\n\n<!--\nblock secret\n\n-->\n<!-- a --> <!-- b -->\n\nend\n";
    assert_eq!(text(md, 72), "before after\n\nend\n");
}

#[test]
fn no_line_is_wider_than_the_width_except_a_lone_url() {
    let long = "https://github.com/rust-lang/rust/issues?q=is%3Aopen+label%3Afinal-comment-period+sort%3Aupdated-desc";
    let md = format!(
        "Some words that go on and on and on for a while. [Rust]({long}) more words.\n\n\
         * nested [item]({long}) with words\n    * deeper item with enough words to wrap around\n"
    );
    for width in [30, 50, 72] {
        let out = text(&md, width);
        for line in out.lines() {
            let bare = line.trim_start_matches([' ', '*', '-', '>']);
            assert!(
                line.width() <= width || (bare.starts_with("<https://") && !bare.contains(' ')),
                "width {width}: {line:?}"
            );
        }
        assert!(out.contains(&format!("<{long}>")));
    }
}

#[test]
fn tables_line_up_in_columns_with_breaks_as_spaces() {
    let md = "| name | count |\n|:--|--:|\n| a <br /> b | 10 |\n";
    assert_eq!(text(md, 72), "name  count\n----  -----\na b      10\n");
}

#[test]
fn deep_nesting_indents_at_most_half_the_width() {
    let md = format!(
        "{}{}\n\n{}x\n",
        "- ".repeat(45),
        "word ".repeat(2000),
        "> ".repeat(45)
    );
    let out = text(&md, 72);
    assert!(out.lines().all(|l| l.len() <= 72), "{out}");
    // The text part grows with the words, not with words × depth.
    assert!(
        out.len() < 3 * md.len(),
        "{} bytes from {}",
        out.len(),
        md.len()
    );
}

#[test]
fn a_linked_heading_is_followed_by_its_url_when_it_fits() {
    let out = text(
        "##### [Cargo](https://github.com/rust-lang/cargo/pulls)\n",
        72,
    );
    assert_eq!(
        out,
        "##### Cargo <https://github.com/rust-lang/cargo/pulls>\n"
    );
    let out = text("## [Jobs](https://j.example/)\n", 72);
    assert_eq!(out, "Jobs <https://j.example/>\n----\n");
}

#[test]
fn a_linked_heading_too_long_for_its_url_puts_the_url_on_the_next_line() {
    let url = "https://github.com/rust-lang/rust/issues?q=is%3Aopen+label%3Afinal-comment-period";
    let out = text(&format!("##### [Rust]({url})\n"), 72);
    assert_eq!(out, format!("##### Rust\n<{url}>\n"));
}

#[test]
fn a_heading_with_words_after_its_link_keeps_the_url_inline() {
    let out = text("### [Rust](https://r.example/) Compiler Performance\n", 72);
    assert_eq!(out, "### Rust <https://r.example/> Compiler Performance\n");
}
