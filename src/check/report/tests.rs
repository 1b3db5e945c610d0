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
