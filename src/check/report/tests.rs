//! Tests for the human and JSON output.
use super::*;
use crate::model::Severity;

fn diagnostic(line: usize, column: usize, len: usize) -> Diagnostic {
    Diagnostic {
        rule: "unfinished",
        severity: Severity::Error,
        line,
        column,
        len,
        message: "placeholder link target `X_HERE`".into(),
        fix: Some("replace it with the real URL".into()),
    }
}

fn plain(s: &str) -> String {
    anstream::adapter::strip_str(s).to_string()
}

#[test]
fn human_output_points_a_caret_at_the_span_in_compiler_style() {
    let source = "a\nsee [it](X_HERE)\n";
    let out = plain(&human("issue.md", source, &[diagnostic(2, 10, 6)]));
    let expected = "\
error[unfinished]: placeholder link target `X_HERE`
 --> issue.md:2:10
  |
2 | see [it](X_HERE)
  |          ^^^^^^
  = help: replace it with the real URL

error: 1 error, 0 warnings in `issue.md`
";
    assert_eq!(out, expected);
}

#[test]
fn carets_account_for_wide_characters_and_tabs() {
    assert_eq!(caret("🦀 ab", 3, 2), ("🦀 ab".into(), 3, 2));
    assert_eq!(caret("\tx", 2, 1), ("    x".into(), 4, 1));
    assert_eq!(caret("a\u{2}b", 2, 1), ("a\u{fffd}b".into(), 1, 1));
}

#[test]
fn a_whole_issue_finding_has_no_source_line() {
    let mut d = diagnostic(0, 0, 0);
    d.severity = Severity::Warning;
    let out = plain(&human("i.md", "x\n", &[d]));
    assert!(out.starts_with("warning[unfinished]: "), "{out}");
    assert!(out.contains(" --> i.md\n") && !out.contains(" | "), "{out}");
    assert!(out.ends_with("warning: 1 warning in `i.md`\n"), "{out}");
}

#[test]
fn a_clean_issue_says_so() {
    assert_eq!(
        plain(&human("i.md", "x\n", &[])),
        "ok: no problems in `i.md`\n"
    );
}

#[test]
fn json_output_is_one_object_per_line_with_every_field() {
    let out = json("issue.md", &[diagnostic(2, 10, 6), diagnostic(3, 1, 1)]);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let first = &lines[0];
    assert_eq!(first["file"], "issue.md");
    assert_eq!(first["rule"], "unfinished");
    assert_eq!(first["severity"], "error");
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(2), Some(10))
    );
    assert_eq!(first["message"], "placeholder link target `X_HERE`");
    assert_eq!(first["fix"], "replace it with the real URL");
}

#[test]
fn a_long_line_is_shown_as_a_window_around_the_column() {
    let line = format!("{}X_HERE{}", "a".repeat(5000), "b".repeat(5000));
    let (shown, at, len) = caret(&line, 5001, 6);
    assert_eq!(shown.chars().count(), WINDOW + 2, "{shown}");
    assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
    let under_caret: String = shown.chars().skip(at).take(len).collect();
    assert_eq!(under_caret, "X_HERE", "the caret points at the span");
    assert_eq!(len, 6);
}

#[test]
fn a_span_longer_than_the_window_gets_a_caret_only_as_wide_as_the_window() {
    let line = "é".repeat(100_000);
    let (shown, at, len) = caret(&line, 1, 100_000);
    assert_eq!(at, 0);
    assert_eq!(len, WINDOW);
    assert_eq!(shown.chars().count(), WINDOW + 1);
}

#[test]
fn output_stays_small_for_many_findings_on_one_huge_line() {
    let source = format!("{}\n", "x".repeat(1_000_000));
    let findings: Vec<_> = (1..=50).map(|i| diagnostic(1, i * 10_000, 3)).collect();
    let out = human("i.md", &source, &findings);
    assert!(out.len() < 50 * 600, "{} bytes", out.len());
}

#[test]
fn a_count_of_left_out_findings_shows_no_source_line() {
    let mut d = diagnostic(2, 0, 0);
    d.message = "and 7 more `unfinished` findings on this line".into();
    let out = plain(&human("i.md", "a\nb\n", &[d]));
    assert!(
        out.contains(" --> i.md:2\n") && !out.contains(" | "),
        "{out}"
    );
}
