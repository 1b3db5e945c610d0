//! Word wrapping for the text part: break only at ASCII spaces, never inside
//! a word, so a URL longer than the width stays whole on its own line.
use std::borrow::Cow;

use textwrap::{Options, WordSeparator, WordSplitter, WrapAlgorithm};

/// Wraps `text` to `width` columns; the first line starts with `first`, the
/// others with `rest`.
pub fn wrap<'a>(text: &'a str, width: usize, first: &'a str, rest: &'a str) -> Vec<Cow<'a, str>> {
    let options = Options::new(width)
        .initial_indent(first)
        .subsequent_indent(rest)
        .break_words(false)
        // The Unicode line-break rules would split URLs after `/` and `-`.
        .word_separator(WordSeparator::AsciiSpace)
        .word_splitter(WordSplitter::NoHyphenation)
        .wrap_algorithm(WrapAlgorithm::FirstFit);
    textwrap::wrap(text, options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn lines_stay_within_the_width() {
        let text = "Every week we highlight some tasks from the Rust community for you to \
                    pick and get started, with mentors available for some of them.";
        let lines = wrap(text, 30, "  * ", "    ");
        assert!(lines.len() > 2);
        assert!(lines.iter().all(|l| l.width() <= 30), "{lines:#?}");
        assert!(lines[0].starts_with("  * Every"));
        assert!(
            lines[1..]
                .iter()
                .all(|l| l.starts_with("    ") && !l.starts_with("     "))
        );
    }

    #[test]
    fn a_long_url_is_never_broken_and_sits_alone_on_its_line() {
        let url = "<https://github.com/rust-lang/rust/issues?q=is%3Aopen+label%3Afinal-comment-period+sort%3Aupdated-desc>";
        let text = format!("Rust {url} and more words after it");
        let lines = wrap(&text, 40, "", "");
        assert!(lines.iter().any(|l| l == url), "{lines:#?}");
        assert!(lines.iter().filter(|l| l.width() > 40).all(|l| l == url));
    }

    #[test]
    fn hyphenated_urls_are_not_split_at_hyphens() {
        let url = "<https://this-week-in-rust.org/blog/2025/11/12/this-week-in-rust-625/>";
        let lines = wrap(url, 20, "", "");
        assert_eq!(lines, vec![url]);
    }
}
