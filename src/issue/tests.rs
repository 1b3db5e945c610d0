//! Unit tests for the issue header parser: every error, and the happy path.
use super::*;

const GOOD: &str = "Title: This Week in Rust 625\nNumber: 625\nDate: 2025-11-12\nCategory: This Week in Rust\n\nHello *world*.\n";

#[test]
fn a_well_formed_issue_parses_into_its_fields() {
    let issue = parse("i.md", GOOD).unwrap();
    assert_eq!(issue.header.title, "This Week in Rust 625");
    assert_eq!(issue.header.number.get(), 625);
    assert_eq!(issue.header.date.to_string(), "2025-11-12");
    assert_eq!(issue.header.category.as_deref(), Some("This Week in Rust"));
    assert_eq!(issue.body(), "Hello *world*.\n");
    assert_eq!(issue.body_line, 6);
}

#[test]
fn unknown_header_fields_are_kept_as_is() {
    let text = GOOD.replace("Category", "Slug: x\nCategory");
    let issue = parse("i.md", &text).unwrap();
    let slug = issue.header.field("slug").unwrap();
    assert_eq!((slug.value.as_str(), slug.line), ("x", 4));
}

#[test]
fn a_bom_and_crlf_line_endings_are_accepted() {
    let text = format!("\u{feff}{}", GOOD.replace('\n', "\r\n"));
    let issue = parse("i.md", &text).unwrap();
    assert_eq!(issue.header.number.get(), 625);
    assert_eq!(issue.body(), "Hello *world*.\n");
    assert!(!issue.source.contains('\r'));
}

#[test]
fn a_missing_title_names_the_field_and_shows_an_example() {
    let err = parse("i.md", &GOOD.replace("Title: This Week in Rust 625\n", "")).unwrap_err();
    assert!(matches!(err, ParseError::MissingField { key: "Title", .. }));
    assert!(
        err.to_string().contains("add a line like `Title: "),
        "{err}"
    );
}

#[test]
fn a_missing_number_is_reported_at_the_end_of_the_header() {
    let text = GOOD
        .replace("Number: 625\n", "")
        .replace("Rust 625", "Rust");
    let err = parse("i.md", &text).unwrap_err();
    assert_eq!(
        err,
        ParseError::MissingField {
            line: 3,
            key: "Number",
            example: "Number: 625"
        }
    );
}

#[test]
fn a_missing_date_is_reported() {
    let err = parse("i.md", &GOOD.replace("Date: 2025-11-12\n", "")).unwrap_err();
    assert!(matches!(err, ParseError::MissingField { key: "Date", .. }));
}

#[test]
fn an_empty_required_field_is_reported_on_its_line() {
    let err = parse(
        "i.md",
        &GOOD.replace("Title: This Week in Rust 625", "Title:"),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        ParseError::EmptyField {
            line: 1,
            key: "Title",
            ..
        }
    ));
}

#[test]
fn a_malformed_date_names_the_value_and_the_expected_form() {
    for bad in [
        "2025-13-01",
        "2025-11-31",
        "12/11/2025",
        "2025-1-32",
        "2025-001-5",
        "2025-11-12T10:00",
    ] {
        let err = parse("i.md", &GOOD.replace("2025-11-12", bad)).unwrap_err();
        assert_eq!(
            err,
            ParseError::BadDate {
                line: 3,
                found: bad.into()
            },
            "{bad}"
        );
        assert!(err.to_string().contains("expected YYYY-MM-DD"));
    }
}

#[test]
fn a_non_numeric_number_is_reported_on_its_line() {
    for bad in ["62a", "six", "0", "-4"] {
        let err = parse(
            "i.md",
            &GOOD.replace("Number: 625", &format!("Number: {bad}")),
        )
        .unwrap_err();
        assert_eq!(
            err,
            ParseError::BadNumber {
                line: 2,
                found: bad.into()
            }
        );
    }
}

#[test]
fn bytes_that_are_not_utf8_are_located_by_offset_and_line() {
    let mut bytes = GOOD.as_bytes().to_vec();
    let at = GOOD.find("world").unwrap();
    bytes[at] = 0xFC; // Latin-1 `ü`
    let err = parse_bytes("i.md", &bytes).unwrap_err();
    assert_eq!(
        err,
        ParseError::NotUtf8 {
            offset: at,
            line: 6
        }
    );
    assert!(err.to_string().contains(&format!("byte offset {at}")));
}

#[test]
fn an_empty_body_is_an_error() {
    for text in [
        "Title: T\nNumber: 1\nDate: 2025-01-01\n",
        "Title: T\nNumber: 1\nDate: 2025-01-01\n\n  \n\n",
    ] {
        let err = parse("i.md", text).unwrap_err();
        assert!(matches!(err, ParseError::EmptyBody { .. }), "{err:?}");
    }
}

#[test]
fn markdown_without_a_header_is_a_bad_header_line() {
    let err = parse("i.md", "Hello and welcome\n\nbody\n").unwrap_err();
    assert!(matches!(err, ParseError::BadHeaderLine { line: 1, .. }));
    assert!(err.to_string().contains("blank line"));
}

#[test]
fn a_control_character_in_a_header_value_is_rejected() {
    let err = parse("i.md", &GOOD.replace("Rust 625", "Rust\r625")).unwrap_err();
    assert!(
        matches!(err, ParseError::ControlInHeader { line: 1, .. }),
        "{err:?}"
    );
}

#[test]
fn file_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("issue.md");
    std::fs::write(&path, GOOD.replace("2025-11-12", "2025-13-01")).unwrap();
    let err = from_file(&path).unwrap_err().to_string();
    assert!(
        err.contains("issue.md` line 3: `Date:` is `2025-13-01`"),
        "{err}"
    );
    let missing = from_file(&dir.path().join("nope.md"))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("nope.md"), "{missing}");
}

#[test]
fn a_date_before_1900_is_refused_on_its_line() {
    let err = parse("i.md", &GOOD.replace("2025-11-12", "1899-12-31")).unwrap_err();
    assert_eq!(
        err,
        ParseError::DateOutOfRange {
            line: 3,
            found: "1899-12-31".into()
        }
    );
    assert!(parse("i.md", &GOOD.replace("2025-11-12", "1900-01-01")).is_ok());
}

#[test]
fn text_over_the_size_limit_is_refused_whole() {
    let text = format!("{GOOD}{}", "a".repeat(limits::MAX_ISSUE_BYTES));
    let err = parse("i.md", &text).unwrap_err();
    assert!(matches!(err, ParseError::TooLarge { .. }), "{err:?}");
    let size = text.len();
    assert!(
        err.to_string()
            .starts_with(&format!("is {size} bytes (4.0 MB), over the 4.0 MB limit")),
        "{err}"
    );
}

#[test]
fn a_missing_number_is_taken_from_a_title_ending_in_one_and_noted() {
    let text = GOOD
        .replace("Number: 625\n", "")
        .replace("Rust 625", "Rust 42");
    let issue = parse("i.md", &text).unwrap();
    assert_eq!(issue.header.number.get(), 42);
    assert_eq!(
        issue.header.lenient,
        [crate::model::Leniency::NumberFromTitle { line: 1 }]
    );
}

#[test]
fn an_unpadded_date_is_accepted_and_noted() {
    let issue = parse("i.md", &GOOD.replace("2025-11-12", "2020-12-2")).unwrap();
    assert_eq!(issue.header.date.to_string(), "2020-12-02");
    assert_eq!(
        issue.header.lenient,
        [crate::model::Leniency::UnpaddedDate {
            line: 3,
            found: "2020-12-2".into()
        }]
    );
    assert_eq!(parse("i.md", GOOD).unwrap().header.lenient, []);
}

#[test]
fn a_present_but_bad_number_is_an_error_even_when_the_title_has_one() {
    let err = parse("i.md", &GOOD.replace("Number: 625", "Number: x")).unwrap_err();
    assert!(
        matches!(err, ParseError::BadNumber { line: 2, .. }),
        "{err}"
    );
}
