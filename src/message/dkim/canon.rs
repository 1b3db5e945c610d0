//! DKIM "relaxed" canonicalization (RFC 6376 §3.4.2 and §3.4.4) of header
//! fields and of the body, over CRLF-terminated lines.
//!
//! Hand-written, small and pure, because the per-issue precomputation in
//! [`super::plan`] needs the canonical form of body *segments* (the shared
//! bytes between slots), which no DKIM crate exposes: `mail-auth`'s body
//! hasher is crate-private and its signer hashes each whole message.

/// Whitespace as RFC 6376 means it (WSP).
fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Appends the relaxed form of one line's content (no CRLF): runs of WSP
/// become one space, WSP at the end is dropped.
fn line(content: &[u8], out: &mut Vec<u8>) {
    let mut pending_space = false;
    for &b in content {
        if is_wsp(b) {
            pending_space = true;
        } else {
            if pending_space {
                out.push(b' ');
                pending_space = false;
            }
            out.push(b);
        }
    }
}

/// Appends the relaxed form of `body` *as a middle piece*: every line is
/// reduced, empty lines are kept. A final line without CRLF is reduced and
/// left without one. Pieces that start at a line start can be canonicalized
/// separately and concatenated.
pub fn body_piece(body: &[u8], out: &mut Vec<u8>) {
    let mut rest = body;
    while let Some(end) = memchr::memmem::find(rest, b"\r\n") {
        line(&rest[..end], out);
        out.extend_from_slice(b"\r\n");
        rest = &rest[end + 2..];
    }
    line(rest, out);
}

/// Ends a canonical body: a last line without CRLF gets one, and empty
/// lines at the end are removed (an all-empty body becomes empty).
pub fn finish_body(out: &mut Vec<u8>) {
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    while out.ends_with(b"\r\n\r\n") {
        out.truncate(out.len() - 2);
    }
    if out == b"\r\n" {
        out.clear();
    }
}

/// The relaxed canonical form of a whole body.
pub fn body(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    body_piece(body, &mut out);
    finish_body(&mut out);
    out
}

/// Appends the relaxed form of one header field (`Name: value`, possibly
/// folded, without its final CRLF): the name lowercased, the value unfolded,
/// WSP runs as one space, no WSP around the colon or at the end. No CRLF.
pub fn header(field: &[u8], out: &mut Vec<u8>) {
    let colon = field.iter().position(|&b| b == b':').unwrap_or(field.len());
    let name = &field[..colon];
    let name_end = name.iter().rposition(|&b| !is_wsp(b)).map_or(0, |i| i + 1);
    out.extend(name[..name_end].iter().map(u8::to_ascii_lowercase));
    out.push(b':');
    let value = field.get(colon + 1..).unwrap_or_default();
    let start = out.len();
    let mut pending_space = false;
    for &b in value {
        match b {
            b'\r' | b'\n' => {}
            b if is_wsp(b) => pending_space = true,
            b => {
                if pending_space && out.len() > start {
                    out.push(b' ');
                }
                pending_space = false;
                out.push(b);
            }
        }
    }
}

/// The fields of a header block (up to the first empty line), each as its
/// raw bytes without the final CRLF, folded lines included.
pub fn fields(block: &[u8]) -> Vec<&[u8]> {
    let mut fields: Vec<&[u8]> = Vec::new();
    let mut at = 0;
    let mut start = 0;
    while at < block.len() {
        let end = memchr::memmem::find(&block[at..], b"\r\n").map_or(block.len(), |i| at + i);
        if end == at {
            break; // the empty line ends the header block
        }
        let continues = is_wsp(block[at]);
        if !continues && at > start {
            fields.push(&block[start..at - 2]);
            start = at;
        }
        at = (end + 2).min(block.len());
    }
    if at > start {
        let end = if block[..at].ends_with(b"\r\n") {
            at - 2
        } else {
            at
        };
        fields.push(&block[start..end]);
    }
    fields
}

/// The lowercased name of a raw header field.
pub fn name(field: &[u8]) -> Vec<u8> {
    let colon = field.iter().position(|&b| b == b':').unwrap_or(field.len());
    let name = &field[..colon];
    let end = name.iter().rposition(|&b| !is_wsp(b)).map_or(0, |i| i + 1);
    name[..end].iter().map(u8::to_ascii_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_str(field: &str) -> String {
        let mut out = Vec::new();
        header(field.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn relaxed_headers_lowercase_the_name_and_unfold_and_squeeze_the_value() {
        // The example of RFC 6376 §3.4.5.
        assert_eq!(header_str("A: X"), "a:X");
        assert_eq!(header_str("B : Y\t\r\n\tZ  "), "b:Y Z");
        assert_eq!(
            header_str("List-Unsubscribe: <https://x/u/1>,\r\n <mailto:u@x?subject=a>"),
            "list-unsubscribe:<https://x/u/1>, <mailto:u@x?subject=a>"
        );
    }

    #[test]
    fn relaxed_bodies_squeeze_spaces_and_drop_trailing_empty_lines() {
        // The example of RFC 6376 §3.4.5.
        let got = body(b" C \r\nD \t E\r\n\r\n\r\n");
        assert_eq!(got, b" C\r\nD E\r\n");
        assert_eq!(body(b"no newline"), b"no newline\r\n");
        assert_eq!(body(b"\r\n\r\n"), b"");
        assert_eq!(body(b""), b"");
        assert_eq!(body(b"a\r\n\r\nb\r\n"), b"a\r\n\r\nb\r\n");
    }

    #[test]
    fn line_aligned_pieces_canonicalize_like_the_whole() {
        let whole = b"one  two \r\n\r\n three\t\r\n=\r\nfour \r\n\r\n";
        let (a, b) = whole.split_at(13);
        let mut pieces = Vec::new();
        body_piece(a, &mut pieces);
        body_piece(b, &mut pieces);
        finish_body(&mut pieces);
        assert_eq!(pieces, body(whole));
    }

    #[test]
    fn header_blocks_split_into_fields_with_their_folded_lines() {
        let block = b"From: a@x\r\nSubject: one\r\n two\r\nTo: b@x\r\n\r\nbody";
        let f = fields(block);
        assert_eq!(
            f,
            [
                &b"From: a@x"[..],
                &b"Subject: one\r\n two"[..],
                &b"To: b@x"[..]
            ]
        );
        assert_eq!(name(f[1]), b"subject");
        assert_eq!(fields(b"A: 1\r\nB: 2"), [&b"A: 1"[..], &b"B: 2"[..]]);
    }
}
