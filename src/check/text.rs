//! Line- and character-level rules: `control-char`, `backticks`, `empty-item`.
use std::ops::Range;

use super::doc::Doc;
use super::{Emitter, Rule};

pub(crate) fn check(doc: &Doc, em: &mut Emitter<'_>) {
    control_chars(em);
    if em.enabled(Rule::Backticks) {
        backticks(doc, em);
    }
    for item in &doc.empty_items {
        em.at(
            Rule::EmptyItem,
            item.start..item.start + 1,
            "empty list item".to_owned(),
            "write the entry, or delete the line",
        );
    }
}

fn control_chars(em: &mut Emitter<'_>) {
    if !em.enabled(Rule::ControlChar) {
        return;
    }
    // A byte scan: C0 controls and DEL are single bytes, C1 controls
    // (U+0080..=U+009F) are `C2 80..=9F`; decoding every char costs more.
    let bytes = em.source().as_bytes();
    for i in 0..bytes.len() {
        let len = match bytes[i] {
            b'\n' | b'\t' => continue,
            0..=0x1F | 0x7F => 1,
            0xC2 if matches!(bytes.get(i + 1), Some(0x80..=0x9F)) => 2,
            _ => continue,
        };
        let c = em.source()[i..].chars().next().unwrap_or('\0');
        em.at(
            Rule::ControlChar,
            i..i + len,
            format!("control character U+{:04X}", c as u32),
            "delete it (it is invisible in most editors)",
        );
    }
}

/// Reports the first backtick run on each line that no run of the same
/// length closes. Code blocks and HTML blocks are skipped.
fn backticks(doc: &Doc, em: &mut Emitter<'_>) {
    let source = em.source();
    let mut offset = em.issue.body_offset;
    let mut verbatim = doc.verbatim.iter().peekable();
    for line in source[offset..].split_inclusive('\n') {
        let range = offset..offset + line.len();
        offset = range.end;
        while verbatim.next_if(|v| v.end <= range.start).is_some() {}
        if verbatim.peek().is_some_and(|v| v.start < range.end) {
            continue;
        }
        if let Some(open) = unclosed_run(line) {
            let at = range.start + open.start..range.start + open.end;
            em.at(
                Rule::Backticks,
                at,
                "unbalanced backtick".to_owned(),
                "close the code span with the same number of backticks, or escape it as \\`",
            );
        }
    }
}

/// The first backtick run in `line` without a closing run of equal length.
fn unclosed_run(line: &str) -> Option<Range<usize>> {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let open = run_at(bytes, i);
        match find_closing(bytes, open.end, open.len()) {
            Some(after) => i = after,
            None => return Some(open),
        }
    }
    None
}

/// The backtick run starting at `start`.
fn run_at(bytes: &[u8], start: usize) -> Range<usize> {
    let len = bytes[start..].iter().take_while(|&&b| b == b'`').count();
    start..start + len
}

/// The end of the first run of exactly `len` backticks at or after `from`.
fn find_closing(bytes: &[u8], mut from: usize, len: usize) -> Option<usize> {
    while from < bytes.len() {
        if bytes[from] == b'`' {
            let run = run_at(bytes, from);
            if run.len() == len {
                return Some(run.end);
            }
            from = run.end;
        } else {
            from += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::check::testing::only;

    #[test]
    fn a_stray_control_character_is_found() {
        let body = "* [a](https://example.org/a\u{2}b)\n";
        assert_eq!(only("control-char", body), [(6, 28)]);
    }

    #[test]
    fn tabs_and_newlines_are_not_control_characters_here() {
        assert_eq!(only("control-char", "a\tb\n\nc\n"), []);
    }

    #[test]
    fn an_unclosed_backtick_is_found_at_its_column() {
        assert_eq!(
            only("backticks", "* [add `Box::take](https://x.org)\n"),
            [(6, 8)]
        );
    }

    #[test]
    fn balanced_double_backticks_and_escapes_are_fine() {
        let body = "Use ``a ` b`` and `c`, and a literal \\` too.\n";
        assert_eq!(only("backticks", body), []);
    }

    #[test]
    fn backticks_in_code_blocks_and_comments_are_ignored() {
        let body = "```\nlet s = `odd;\n```\n\n<!-- the `Repo Name -->\n";
        assert_eq!(only("backticks", body), []);
    }

    #[test]
    fn an_empty_list_item_is_found() {
        let body = "* [a](https://a.org)\n*\n* [b](https://b.org)\n";
        assert_eq!(only("empty-item", body), [(7, 1)]);
    }

    #[test]
    fn an_item_with_only_a_nested_list_is_not_empty() {
        let body = "* date | place\n    * [a](https://a.org)\n";
        assert_eq!(only("empty-item", body), []);
    }
}
