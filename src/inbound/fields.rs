//! The header-like field blocks of reports (`Final-Recipient: rfc822; a@b`),
//! and the addresses and tokens inside header values.
use crate::domain::EmailAddress;

/// Blocks and fields kept per report: more is not a real report.
const MAX_BLOCKS: usize = 1000;
/// A field value longer than this is cut (diagnostics can be chatty).
pub const MAX_VALUE: usize = 1000;

/// One block of fields: (lowercased name, unfolded value), in order.
pub type Block = Vec<(String, String)>;

/// Splits a report body (`message/delivery-status`,
/// `message/feedback-report`) into its blank-line separated blocks, each
/// parsed with mail-parser's header parser.
pub fn blocks(body: &[u8]) -> Vec<Block> {
    let text = String::from_utf8_lossy(body).replace("\r\n", "\n");
    let parser = mail_parser::MessageParser::new();
    text.split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .take(MAX_BLOCKS)
        .filter_map(|b| {
            let block = format!("{}\n\n", b.trim_start_matches('\n'));
            let parsed = parser.parse_headers(block.as_bytes())?;
            let fields: Block = parsed
                .headers_raw()
                .map(|(name, value)| (name.to_ascii_lowercase(), unfold(value)))
                .collect();
            (!fields.is_empty()).then_some(fields)
        })
        .collect()
}

/// The first value of `name` (lowercase) in `block`.
pub fn get<'a>(block: &'a Block, name: &str) -> Option<&'a str> {
    block
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// A header value on one line: folds and whitespace runs become one space,
/// cut to [`MAX_VALUE`] characters.
pub fn unfold(value: &str) -> String {
    let one_line = value.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(MAX_VALUE) {
        Some((at, _)) => one_line[..at].to_owned(),
        None => one_line,
    }
}

/// The address of a typed field value (`rfc822; user@example.com`), or of
/// a bare one; `None` for other address types or a malformed address.
pub fn typed_address(value: &str) -> Option<EmailAddress> {
    let (kind, addr) = value.split_once(';').unwrap_or(("rfc822", value));
    let kind = kind.trim();
    if !kind.eq_ignore_ascii_case("rfc822") && !kind.eq_ignore_ascii_case("utf-8") {
        return None;
    }
    address(addr)
}

/// An address written bare or in angle brackets.
pub fn address(value: &str) -> Option<EmailAddress> {
    let v = value.trim();
    let v = match (v.rfind('<'), v.rfind('>')) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v,
    };
    EmailAddress::parse(v).ok()
}

/// Every address-looking word in a raw header value (`Name <a@b>, c@d`),
/// for finding VERP tags; at most 20.
pub fn addresses(value: &str) -> Vec<String> {
    value
        .split([',', ' ', '\t', '\r', '\n'])
        .filter(|w| w.contains('@'))
        .map(|w| w.trim_matches(['<', '>', '"', ';']).to_owned())
        .take(20)
        .collect()
}

/// The unsubscribe token inside a List-Unsubscribe value: after
/// `subject=unsubscribe-` (mailto) or `/unsubscribe/` (https).
pub fn list_unsubscribe_token(value: &str) -> Option<&str> {
    let after = |marker: &str| {
        let start = value.find(marker)? + marker.len();
        let rest = &value[start..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
            .unwrap_or(rest.len());
        Some(&rest[..end]).filter(|t| !t.is_empty())
    };
    after("subject=unsubscribe-").or_else(|| after("/unsubscribe/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_split_at_blank_lines_and_folded_values_unfolded() {
        let body =
            b"Reporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; a@example.com\r\n\
Diagnostic-Code: smtp; 550 5.1.1 no\r\n    such user\r\n\r\n\r\n";
        let b = blocks(body);
        assert_eq!(b.len(), 2);
        assert_eq!(get(&b[0], "reporting-mta"), Some("dns; mx.example.net"));
        assert_eq!(
            get(&b[1], "diagnostic-code"),
            Some("smtp; 550 5.1.1 no such user")
        );
        assert_eq!(
            typed_address(get(&b[1], "final-recipient").unwrap())
                .unwrap()
                .as_str(),
            "a@example.com"
        );
    }

    #[test]
    fn addresses_come_out_of_typed_bracketed_and_listed_values() {
        assert_eq!(
            typed_address("RFC822; <A@Example.COM>").unwrap().as_str(),
            "A@example.com"
        );
        assert_eq!(typed_address("x400; whatever"), None);
        assert_eq!(
            addresses("News <bounces+1-2-ab@b.example.org>, other@x.org"),
            ["bounces+1-2-ab@b.example.org", "other@x.org"]
        );
    }

    #[test]
    fn the_unsubscribe_token_is_found_in_either_list_unsubscribe_uri() {
        let v = "<https://n.example.org/unsubscribe/12.AbC_d>, <mailto:u@x?subject=unsubscribe-12.AbC_d>";
        assert_eq!(list_unsubscribe_token(v), Some("12.AbC_d"));
        assert_eq!(
            list_unsubscribe_token("<https://x/unsubscribe/9.Z>"),
            Some("9.Z")
        );
        assert_eq!(list_unsubscribe_token("<mailto:list@x>"), None);
    }
}
