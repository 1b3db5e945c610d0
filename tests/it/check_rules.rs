//! The checker's rules on fixtures modelled on real issues (issue 13): the
//! false positives that would have blocked good issues, the defects that
//! used to pass, suppression, JSON parse errors, and older headers that
//! render. Each runs the real binary.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn fixture(name: &str) -> PathBuf {
    Path::new(ROOT).join("tests/fixtures/check").join(name)
}

fn mailroom(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .arg("--config")
        .arg(Path::new(ROOT).join("config.toml"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// `check --format json` on a fixture: the exit code and each finding's
/// (rule, severity, line).
fn check(name: &str, extra: &[&str]) -> (i32, Vec<(String, String, u64)>) {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(name);
    let mut args = vec!["check", "--format", "json", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = mailroom(&args, dir.path());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let found = stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["rule"].as_str().unwrap().to_owned(),
                v["severity"].as_str().unwrap().to_owned(),
                v["line"].as_u64().unwrap(),
            )
        })
        .collect();
    (out.status.code().unwrap(), found)
}

fn found(list: &[(&str, &str, u64)]) -> Vec<(String, String, u64)> {
    list.iter()
        .map(|(r, s, l)| ((*r).to_owned(), (*s).to_owned(), *l))
        .collect()
}

#[test]
fn macro_syntax_in_link_text_is_not_a_placeholder() {
    assert_eq!(check("macro-link-text.md", &[]), (0, vec![]));
}

#[test]
fn a_placeholder_comment_above_a_filled_section_and_no_category_pass() {
    assert_eq!(check("cotw-filled.md", &[]), (0, vec![]));
}

#[test]
fn a_link_broken_across_lines_and_raw_link_syntax_are_errors() {
    let expected = found(&[
        ("raw-markdown", "error", 8),
        ("raw-markdown", "error", 10),
        ("raw-markdown", "error", 11),
    ]);
    assert_eq!(check("broken-link.md", &[]), (1, expected));
}

#[test]
fn a_reference_label_defined_twice_is_an_error_at_the_second() {
    let expected = found(&[("duplicate-label", "error", 12)]);
    assert_eq!(check("duplicate-label.md", &[]), (1, expected));
}

#[test]
fn mailchimp_tracking_links_and_merge_tags_are_errors() {
    let expected = found(&[("mailchimp", "error", 7), ("mailchimp", "error", 9)]);
    assert_eq!(check("mailchimp.md", &[]), (1, expected));
}

#[test]
fn inline_allows_cover_their_line_or_section_and_nothing_else() {
    let expected = found(&[("relative-link", "error", 18)]);
    assert_eq!(check("allow.md", &[]), (1, expected));
}

#[test]
fn allow_on_the_command_line_switches_a_rule_off_for_the_run() {
    assert_eq!(
        check("allow.md", &["--allow", "relative-link"]),
        (0, vec![])
    );
    let dir = tempfile::tempdir().unwrap();
    let path = fixture("allow.md");
    let out = mailroom(
        &["check", path.to_str().unwrap(), "--allow", "relativ"],
        dir.path(),
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("`--allow relativ`: no such rule"),
        "{stderr}"
    );
}

#[test]
fn a_parse_error_is_json_too_with_exit_2() {
    let (code, found) = check("bad-date.md", &[]);
    assert_eq!((code, found), (2, self::found(&[("parse", "error", 3)])));
    let (code, found) = check("no-such-file.md", &[]);
    assert_eq!((code, found), (2, self::found(&[("read", "error", 0)])));
}

#[test]
fn older_headers_render_with_warnings() {
    let expected = found(&[("header-format", "warning", 3)]);
    assert_eq!(check("unpadded-date.md", &[]), (0, expected));
    let expected = found(&[
        ("header-format", "warning", 1),
        ("header-format", "warning", 2),
    ]);
    assert_eq!(check("number-from-title.md", &[]), (0, expected));

    let dir = tempfile::tempdir().unwrap();
    let path = fixture("number-from-title.md");
    let out = mailroom(&["render", path.to_str().unwrap()], dir.path());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("line 1: the header has no `Number:`; `42` is taken from the title"),
        "{stderr}"
    );
    assert!(stderr.contains("read as `2014-07-22`"), "{stderr}");
    let eml = std::fs::read_to_string(dir.path().join("out/number-from-title.eml")).unwrap();
    assert!(eml.contains("Date: Tue, 22 Jul 2014 00:00:00"), "{eml}");
}

#[test]
fn render_notes_how_many_checker_errors_the_issue_has() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture("broken-link.md");
    let out = mailroom(&["render", path.to_str().unwrap()], dir.path());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("has 3 checker errors; `mailroom check "),
        "{stderr}"
    );
    let clean = fixture("macro-link-text.md");
    let out = mailroom(&["render", clean.to_str().unwrap()], dir.path());
    assert!(
        !String::from_utf8(out.stderr)
            .unwrap()
            .contains("checker error")
    );
}
