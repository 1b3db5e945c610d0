//! Raw HTML → plain text: drop tags, decode character references.
//!
//! Hand-written rather than pulling in an HTML parser: issues hold only short
//! inline snippets (`<small>`, `<br />`, `<sup>`), and the text part needs
//! their words, not their structure.

/// What a raw HTML snippet contributes to the plain text.
pub fn html_to_text(html: &str, out: &mut String) {
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        decode_entities(&rest[..lt], out);
        let tag_and_after = &rest[lt..];
        match tag_and_after.find('>') {
            Some(gt) if looks_like_tag(&tag_and_after[..=gt]) => {
                if is_line_break(&tag_and_after[..=gt]) {
                    out.push('\n');
                }
                rest = &tag_and_after[gt + 1..];
            }
            _ => {
                out.push('<');
                rest = &tag_and_after[1..];
            }
        }
    }
    decode_entities(rest, out);
}

/// `<br>`, `<br/>`, `<br />` (any case).
pub fn is_line_break(tag: &str) -> bool {
    let name = tag
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim_end_matches('/');
    name.trim().eq_ignore_ascii_case("br")
}

fn looks_like_tag(tag: &str) -> bool {
    let inner = tag[1..].trim_start_matches('/');
    inner.starts_with(|c: char| c.is_ascii_alphabetic() || c == '!' || c == '?')
}

/// Appends `text` with `&name;`, `&#NN;` and `&#xHH;` decoded. Unknown names
/// are kept as written (they are not entities a reader would recognise either).
pub fn decode_entities(text: &str, out: &mut String) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after
            .find(';')
            .filter(|&semi| semi <= 10)
            .and_then(|semi| decode_one(&after[..semi]).map(|c| (c, semi)));
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

fn decode_one(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code).filter(|&c| c != '\0');
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "laquo" => '«',
        "raquo" => '»',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "middot" => '·',
        "bull" => '•',
        "times" => '×',
        "rarr" => '→',
        "larr" => '←',
        "check" => '✓',
        "deg" => '°',
        "euro" => '€',
        "pound" => '£',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(html: &str) -> String {
        let mut out = String::new();
        html_to_text(html, &mut out);
        out
    }

    #[test]
    fn tags_are_dropped_and_their_words_kept() {
        assert_eq!(
            text_of("<small>Discuss <b>here</b></small>"),
            "Discuss here"
        );
        assert_eq!(text_of("<a href=\"x\">link</a>"), "link");
    }

    #[test]
    fn line_break_tags_become_newlines() {
        assert_eq!(text_of("a<br>b<BR/>c<br />d"), "a\nb\nc\nd");
    }

    #[test]
    fn named_and_numeric_entities_are_decoded() {
        assert_eq!(
            text_of("a&nbsp;&amp;&mdash;&#8212;&#x1F980;"),
            "a\u{a0}&——🦀"
        );
    }

    #[test]
    fn a_lone_ampersand_or_angle_bracket_is_kept() {
        assert_eq!(text_of("R&D < 3 &unknown; x"), "R&D < 3 &unknown; x");
    }
}
