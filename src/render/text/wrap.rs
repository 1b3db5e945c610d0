//! Word wrapping for the text part: break only at spaces, never inside a
//! word, so a URL longer than the width stays whole on its own line.
//!
//! Hand-written rather than `textwrap`: greedy first-fit over space-separated
//! words is all the text part needs, and textwrap's ANSI-aware width and
//! word-splitting machinery took ~70% of the text part's render time.
use unicode_width::UnicodeWidthStr;

/// Wraps `text` to `width` columns; the first line starts with `first`, the
/// others with `rest`. Runs of spaces collapse to one; a word wider than the
/// line gets a line of its own.
pub fn wrap(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::with_capacity(width + 8);
    line.push_str(first);
    let mut used = display_width(first);
    let mut empty = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let w = display_width(word);
        if !empty && used + 1 + w > width {
            lines.push(std::mem::replace(&mut line, rest.to_owned()));
            used = display_width(rest);
            empty = true;
        }
        if !empty {
            line.push(' ');
            used += 1;
        }
        line.push_str(word);
        used += w;
        empty = false;
    }
    if !empty {
        lines.push(line);
    }
    lines
}

fn display_width(s: &str) -> usize {
    if s.is_ascii() { s.len() } else { s.width() }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn wide_characters_count_as_two_columns() {
        let lines = wrap("❌ ❌ ❌ ❌", 5, "", "");
        assert_eq!(lines, ["❌ ❌", "❌ ❌"]);
    }

    #[test]
    fn empty_text_makes_no_lines() {
        assert!(wrap("   ", 20, "* ", "  ").is_empty());
    }

    #[test]
    fn hyphenated_urls_are_not_split_at_hyphens() {
        let url = "<https://this-week-in-rust.org/blog/2025/11/12/this-week-in-rust-625/>";
        let lines = wrap(url, 20, "", "");
        assert_eq!(lines, vec![url]);
    }
}
