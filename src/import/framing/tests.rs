//! Tests for record framing: stray quotes, quoted line breaks, limits.
use super::*;

#[derive(Debug, PartialEq, Eq)]
enum Out {
    /// First line, last line, fields.
    Rec(u64, u64, Vec<String>),
    /// The rejected line and a word from the reason.
    Rej(u64, &'static str),
}

fn frames(input: &[u8], spans_ok: impl Fn(&Record) -> bool) -> Vec<Out> {
    let mut framer = Framer::new(input);
    let mut out = Vec::new();
    while let Some(frame) = framer.next(&spans_ok).unwrap() {
        out.push(match frame {
            Frame::Record(r) => Out::Rec(
                r.first_line,
                r.last_line,
                r.iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect(),
            ),
            Frame::Rejected { line, reason } => Out::Rej(
                line,
                ["stray", "field", "line holds"]
                    .into_iter()
                    .find(|w| reason.contains(w))
                    .unwrap_or("?"),
            ),
        });
    }
    out
}

fn rec(first: u64, last: u64, fields: &[&str]) -> Out {
    Out::Rec(first, last, fields.iter().map(|s| s.to_string()).collect())
}

fn three_columns(r: &Record) -> bool {
    r.len() == 3
}

#[test]
fn a_stray_quote_in_a_quoted_file_costs_only_its_line() {
    let input = b"\"a\",\"1\",\"x\"\n\"b\",\"2\",\"y\n\"c\",\"3\",\"z\"\n\"d\",\"4\",\"w\"\n";
    assert_eq!(
        frames(input, three_columns),
        [
            rec(1, 1, &["a", "1", "x"]),
            Out::Rej(2, "stray"),
            rec(3, 3, &["c", "3", "z"]),
            rec(4, 4, &["d", "4", "w"]),
        ]
    );
}

#[test]
fn a_stray_quote_in_an_unquoted_file_costs_only_its_line() {
    let mut input = String::new();
    for i in 1..=300 {
        let quote = if i == 10 { "\"" } else { "" };
        input.push_str(&format!("r{i}@example.org,{quote}Reader {i}\n"));
    }
    let out = frames(input.as_bytes(), |_| false);
    assert_eq!(out.len(), 300);
    assert_eq!(out[9], Out::Rej(10, "stray"));
    assert_eq!(out[10], rec(11, 11, &["r11@example.org", "Reader 11"]));
    assert_eq!(out[299], rec(300, 300, &["r300@example.org", "Reader 300"]));
}

#[test]
fn a_quote_still_open_at_the_end_of_the_file_costs_only_its_line() {
    let input = b"a,1,x\nb,\"2,y\nc,3,z";
    assert_eq!(
        frames(input, |_| true),
        [
            rec(1, 1, &["a", "1", "x"]),
            Out::Rej(2, "stray"),
            rec(3, 3, &["c", "3", "z"]),
        ]
    );
}

#[test]
fn a_quoted_line_break_the_layout_accepts_makes_one_record() {
    let input = b"\"a\",\"1\",\"x\"\r\n\"b\",\"2\",\"first\r\nsecond\"\r\n\"c\",\"3\",\"z\"\r\n";
    assert_eq!(
        frames(input, three_columns),
        [
            rec(1, 1, &["a", "1", "x"]),
            rec(2, 3, &["b", "2", "first\nsecond"]),
            rec(4, 4, &["c", "3", "z"]),
        ]
    );
}

#[test]
fn a_quoted_field_running_past_the_line_limit_costs_only_its_line() {
    let mut input = b"a,\"open\n".to_vec();
    for i in 0..MAX_ROW_LINES {
        input.extend_from_slice(format!("line {i}\n").as_bytes());
    }
    input.extend_from_slice(b"close\",2\n");
    let out = frames(&input, |_| true);
    assert_eq!(out[0], Out::Rej(1, "stray"));
    assert_eq!(out[1], rec(2, 2, &["line 0"]));
    assert_eq!(out.len(), MAX_ROW_LINES + 2);
}

#[test]
fn oversized_lines_and_fields_cost_only_their_row() {
    let mut input = b"a,1\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', MAX_ROW_BYTES + 1));
    input.extend_from_slice(b"\nb,");
    input.extend(std::iter::repeat_n(b'y', MAX_FIELD_BYTES + 1));
    input.extend_from_slice(b"\nc,\"");
    // Lines 4–53 hold 1,400 bytes of field each: within the line and row
    // limits, over the field limit.
    let long_line = [vec![b'z'; 1400], b"\n".to_vec()].concat();
    input.extend(std::iter::repeat_n(long_line, 50).flatten());
    input.extend_from_slice(b"\",3\nd,4\n");
    let out = frames(&input, |_| true);
    assert_eq!(out[0], rec(1, 1, &["a", "1"]));
    assert_eq!(out[1], Out::Rej(2, "line holds"));
    assert_eq!(out[2], Out::Rej(3, "field"));
    assert_eq!(
        out[3],
        Out::Rej(4, "stray"),
        "a field over the limit across lines"
    );
    assert_eq!(out[4], rec(5, 5, &[&"z".repeat(1400)]));
    assert_eq!(out.last(), Some(&rec(55, 55, &["d", "4"])));
}

#[test]
fn blank_lines_are_skipped_and_numbers_stay_right() {
    assert_eq!(
        frames(b"a\r\n\r\n\r\nb\r\n", |_| true),
        [rec(1, 1, &["a"]), rec(4, 4, &["b"])]
    );
}
