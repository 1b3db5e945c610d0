//! Tests for the link rules, each with a trigger and a near miss.
use crate::check::testing::{diagnostics, only};

#[test]
fn a_relative_or_schemeless_link_is_an_error_at_its_target() {
    let body = "See [the post](/blog/post.html) and [www](www.example.org).\n";
    assert_eq!(only("relative-link", body), [(6, 16), (6, 43)]);
    let www = &diagnostics(body)[1];
    assert!(
        www.fix
            .as_deref()
            .unwrap()
            .contains("`https://www.example.org`")
    );
}

#[test]
fn absolute_mailto_and_fragment_links_are_fine() {
    let body = "[a](https://a.org) [b](http://b.org) [c](mailto:c@example.org) [d](#section)\n\n[e]: mailto:e@example.org\n";
    assert_eq!(only("relative-link", body), []);
}

#[test]
fn the_same_url_in_two_entries_of_a_section_is_a_warning_at_the_second() {
    let body = "### News\n* [A](https://a.org/post)\n* [B](https://b.org)\n* [A again](https://a.org/post/)\n";
    assert_eq!(only("duplicate-link", body), [(9, 13)]);
    let d = &diagnostics(body)[0];
    assert!(d.message.contains("line 7"), "{}", d.message);
}

#[test]
fn repeats_across_sections_within_an_entry_or_on_organizer_lines_are_fine() {
    let body = "\
### Virtual
* 2025-11-16 | Dallas | [Dallas Rust](https://meetup.com/dallasrust)
    * [**Readers**](https://meetup.com/dallasrust/events/1)
* 2025-11-23 | Dallas | [Dallas Rust](https://meetup.com/dallasrust)
    * [**Lab**](https://meetup.com/dallasrust/events/2)
* [Rustlab](https://rustlab.it/) | [**Rustlab**](https://rustlab.it/)

### Europe
* [**Readers**](https://meetup.com/dallasrust/events/1)
";
    assert_eq!(only("duplicate-link", body), []);
}

#[test]
fn tracking_parameters_are_a_warning_with_the_clean_url() {
    let body = "[a](https://a.org/p?id=3&utm_source=twir&utm_medium=email#top)\n";
    assert_eq!(only("tracking-param", body), [(6, 5)]);
    let d = &diagnostics(body)[0];
    assert!(
        d.message.contains("`utm_source`, `utm_medium`"),
        "{}",
        d.message
    );
    assert_eq!(
        d.fix.as_deref(),
        Some("link to `https://a.org/p?id=3#top` instead")
    );
}

#[test]
fn ordinary_query_parameters_are_fine() {
    let body = "[a](https://github.com/search?q=is%3Apr&utmost=1)\n";
    assert_eq!(only("tracking-param", body), []);
}

#[test]
fn an_image_without_alt_text_or_over_http_is_a_warning() {
    let body = "![](https://a.org/x.png)\n\n![A crab](http://a.org/crab.png)\n";
    assert_eq!(only("image", body), [(6, 1), (8, 11)]);
}

#[test]
fn an_image_with_alt_text_over_https_is_fine() {
    assert_eq!(only("image", "![A crab](https://a.org/crab.png)\n"), []);
}
