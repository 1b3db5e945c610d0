//! Tests of `raw-markdown`, `duplicate-label` and `mailchimp`.
use crate::check::testing::only;

#[test]
fn a_link_url_broken_across_lines_is_raw_markdown_at_its_bracket() {
    let body = "* [Some article](https://example.org/a-very-long-\npath/to/it)\n";
    assert_eq!(only("raw-markdown", body), [(6, 16)]);
    let found = crate::check::testing::diagnostics(body);
    assert!(
        found[0].message.starts_with("a link broken across lines"),
        "{found:?}"
    );
}

#[test]
fn a_space_or_a_line_break_between_the_brackets_is_raw_markdown() {
    assert_eq!(
        only("raw-markdown", "See [this] (https://a.org).\n"),
        [(6, 10)]
    );
    assert_eq!(
        only("raw-markdown", "See [this]\n(https://a.org).\n"),
        [(6, 10)]
    );
}

#[test]
fn an_undefined_reference_is_raw_markdown_and_a_defined_one_is_fine() {
    let body = "Read [the post][post] and [the other][other].\n\n[post]: https://a.org\n";
    assert_eq!(only("raw-markdown", body), [(6, 27)]);
}

#[test]
fn links_code_and_escapes_are_not_raw_markdown() {
    let body = "A [link](https://a.org), `[a](https://b.org)`, \\[x\\]\\(https://c.org\\) \
                and [a][] defined below.\n\n[a]: https://d.org\n\n```\n[a](https://e.org\n```\n";
    assert_eq!(only("raw-markdown", body), []);
}

#[test]
fn a_label_defined_twice_is_reported_at_the_second_definition() {
    let body = "[a][x] and [b][X]\n\n[x]: https://one.org\n[X]:  https://two.org\n";
    assert_eq!(only("duplicate-label", body), [(9, 1)]);
    let found = crate::check::testing::diagnostics(body);
    let d = found.iter().find(|d| d.rule == "duplicate-label").unwrap();
    assert!(
        d.message.contains("line 8") && d.message.contains("https://one.org"),
        "{}",
        d.message
    );
}

#[test]
fn footnotes_and_definitions_in_code_are_not_duplicates() {
    let body =
        "Text[^1].\n\n[^1]: one\n[^1]: two\n\n```\n[x]: https://a.org\n[x]: https://b.org\n```\n";
    assert_eq!(only("duplicate-label", body), []);
}

#[test]
fn mailchimp_merge_tags_and_list_manage_links_are_errors_outside_comments() {
    let body = "[Unsubscribe](*|UNSUB|*) or [read](https://rust.us1.list-manage.com/track/click?u=1&id=2)\n\n\
                <!-- *|MC_PREVIEW_TEXT|* -->\n";
    assert_eq!(only("mailchimp", body), [(6, 15), (6, 36)]);
}

#[test]
fn a_link_to_the_mailchimp_sign_up_form_is_the_editors_choice() {
    let body = "Want TWIR in your inbox? [Subscribe here](https://twir.us11.list-manage.com/subscribe?u=f)\n";
    assert_eq!(only("mailchimp", body), []);
}

#[test]
fn definitions_on_the_first_and_last_lines_without_a_final_line_break_are_compared() {
    let body = "[x]: https://one.org\n\n[a][x]\n\n> [x]: https://two.org";
    assert_eq!(only("duplicate-label", body), [(10, 3)]);
}

#[test]
fn every_list_manage_link_on_a_line_is_reported_once() {
    let body = "[a](https://x.list-manage.com/track/1) and [b](http://LIST-MANAGE.com/track/2)\n\
                plain text\n[c](https://list-manage.com/unsubscribe)";
    assert_eq!(only("mailchimp", body), [(6, 5), (6, 48), (8, 5)]);
}

#[test]
fn labels_and_targets_beyond_ascii_are_compared_whole() {
    // The label and the target are matched as bytes: each must still come
    // out whole, at character boundaries.
    let body = "[a][Café] [b][CAFÉ]\n\n[Café]: https://ö.org/ü\n[CAFÉ]: https://ö.org/ü\u{a0}x\n";
    assert_eq!(only("duplicate-label", body), [(9, 1)]);
    let found = crate::check::testing::diagnostics(body);
    let d = found.iter().find(|d| d.rule == "duplicate-label").unwrap();
    assert!(
        d.message.contains("(to `https://ö.org/ü`)") && d.message.contains("`CAFÉ`"),
        "{}",
        d.message
    );
}

#[test]
fn a_list_manage_link_ends_at_ascii_space_or_a_bracket_whatever_precedes_it() {
    let body = "Überall: [ä](https://x.list-manage.com/track/ü?a=é) and \
                https://y.list-manage.com/unsubscribe/é then more\n";
    assert_eq!(only("mailchimp", body), [(6, 14), (6, 57)]);
    let found = crate::check::testing::diagnostics(body);
    let links: Vec<_> = found
        .iter()
        .filter(|d| d.rule == "mailchimp")
        .map(|d| d.message.as_str())
        .collect();
    assert!(
        links[0].ends_with("`https://x.list-manage.com/track/ü?a=é`"),
        "{links:?}"
    );
    assert!(
        links[1].ends_with("`https://y.list-manage.com/unsubscribe/é`"),
        "{links:?}"
    );
}
