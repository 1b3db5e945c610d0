//! Control characters removed from the body before it is parsed, so none
//! reaches either part whatever the checker says (it may be switched off).
//!
//! A control character (U+0000–U+001F, U+007F–U+009F) other than tab and
//! line feed has no place in an email: a mail client may show it as a box,
//! drop the rest of a link, or treat it as the end of a line. The header's
//! fields are refused at parse time; the renderer parses the body cleaned
//! here, and the parse-time bounds (`limits`) hold for it too.
use std::borrow::Cow;

/// `body` without its control characters (tab and line feed are kept);
/// borrowed when there are none, the usual case.
pub fn strip_controls(body: &str) -> Cow<'_, str> {
    if !body.chars().any(is_stray_control) {
        return Cow::Borrowed(body);
    }
    Cow::Owned(body.chars().filter(|&c| !is_stray_control(c)).collect())
}

fn is_stray_control(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_removed_and_tabs_and_newlines_kept() {
        assert_eq!(
            strip_controls("a\u{2}b\tc\r\nd\u{7f}\u{85}\u{1b}[31m"),
            "ab\tc\nd[31m"
        );
    }

    #[test]
    fn a_clean_body_is_borrowed() {
        assert!(matches!(strip_controls("café ❌\n"), Cow::Borrowed(_)));
    }
}
