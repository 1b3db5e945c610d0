//! `mailroom check` as users run it: the real binary, exit codes, JSON,
//! `--deny-warnings`, `--fix` on a temporary copy, and `--help`.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn seed(name: &str) -> PathBuf {
    Path::new(ROOT).join("tests/fixtures/seeds").join(name)
}

fn mailroom(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .arg("--config")
        .arg(Path::new(ROOT).join("config.toml"))
        .args(args)
        .current_dir(dir)
        .env_remove("CLICOLOR_FORCE")
        .output()
        .unwrap()
}

fn check(args: &[&str], dir: &Path) -> (i32, String, String) {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    let out = mailroom(&all, dir);
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn write_issue(dir: &Path, body: &str) -> String {
    let text = format!(
        "Title: This Week in Rust 625\nNumber: 625\nDate: 2025-11-12\nCategory: This Week in Rust\n\n{body}"
    );
    std::fs::write(dir.join("issue.md"), text).unwrap();
    "issue.md".to_owned()
}

#[test]
fn the_clean_issue_exits_0_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = seed("001_daec47276e9082ac.txt");
    let (code, stdout, _) = check(&[path.to_str().unwrap()], dir.path());
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.starts_with("ok: no problems in "), "{stdout}");
}

#[test]
fn a_draft_with_errors_exits_1_with_compiler_style_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let path = seed("002_84f51de1dd2adc8d.txt");
    let (code, stdout, _) = check(&[path.to_str().unwrap()], dir.path());
    assert_eq!(code, 1);
    assert!(!stdout.contains('\u{1b}'), "no colour when not a terminal");
    let expected = "error[unfinished]: placeholder link target `INSERT_LINK_HERE`\n   --> ";
    assert!(stdout.contains(expected), "{stdout}");
    assert!(
        stdout.contains("002_84f51de1dd2adc8d.txt:337:55\n"),
        "{stdout}"
    );
    assert!(stdout.contains(
        "337 | Please see the latest [Who's Hiring thread on r/rust](INSERT_LINK_HERE)\n"
    ));
    assert!(stdout.contains("    = help: replace it with the real URL\n"));
}

#[test]
fn an_unreadable_or_unparsable_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = check(&["missing.md"], dir.path());
    assert_eq!(code, 2);
    assert!(stderr.contains("`missing.md`"), "{stderr}");
    std::fs::write(dir.path().join("bad.md"), "Title: x\nNumber: 1\n\nbody\n").unwrap();
    let (code, _, stderr) = check(&["bad.md"], dir.path());
    assert_eq!(code, 2);
    assert!(stderr.contains("`Date:`"), "{stderr}");
}

#[test]
fn json_output_has_one_object_per_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let path = seed("004_09a664d404590bff.txt");
    let (code, stdout, _) = check(&["--format", "json", path.to_str().unwrap()], dir.path());
    assert_eq!(code, 1);
    let objects: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 33);
    let duplicate = objects
        .iter()
        .find(|o| o["rule"] == "duplicate-link")
        .unwrap();
    assert_eq!(duplicate["severity"], "warning");
    assert_eq!(
        (duplicate["line"].as_u64(), duplicate["column"].as_u64()),
        (Some(201), Some(35))
    );
    assert!(duplicate["message"].as_str().unwrap().contains("line 185"));
    assert_eq!(duplicate["fix"], "remove the duplicate entry");
}

#[test]
fn warnings_pass_unless_denied() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_issue(dir.path(), "Some <blink>news</blink>.\n");
    let (code, stdout, _) = check(&[&file], dir.path());
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("warning[html-tag]: unknown HTML tag `<blink>`"),
        "{stdout}"
    );
    let (code, stdout, _) = check(&["--deny-warnings", &file], dir.path());
    assert_eq!(code, 1);
    assert!(stdout.contains("error[html-tag]"), "{stdout}");
}

#[test]
fn fix_repairs_seed_625_in_place_and_keeps_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(seed("000_8dcd2075dd7da271.txt")).unwrap();
    std::fs::write(dir.path().join("625.md"), &original).unwrap();
    let (code, stdout, stderr) = check(&["--fix", "625.md"], dir.path());
    assert_eq!(code, 0, "{stdout}");
    assert!(stderr.contains("repaired 14 mis-encoded runs"), "{stderr}");
    let fixed = std::fs::read_to_string(dir.path().join("625.md")).unwrap();
    let intended = Path::new(ROOT).join("tests/fixtures/intended/000_8dcd2075dd7da271.txt");
    assert_eq!(fixed, std::fs::read_to_string(intended).unwrap());
    assert!(
        fixed
            .lines()
            .nth(62)
            .unwrap()
            .contains("Rust Zürisee November 2024")
    );
    let backup = std::fs::read_to_string(dir.path().join("625.md.bak")).unwrap();
    assert_eq!(backup, original);
}

#[test]
fn fix_with_nothing_to_repair_leaves_the_file_and_writes_no_backup() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_issue(dir.path(), "Zürich – 🦀\n");
    let (code, _, stderr) = check(&["--fix", &file], dir.path());
    assert_eq!(code, 0);
    assert!(stderr.contains("nothing to repair"), "{stderr}");
    assert!(!dir.path().join("issue.md.bak").exists());
}

#[test]
fn help_lists_every_rule() {
    let dir = tempfile::tempdir().unwrap();
    let out = mailroom(&["check", "--help"], dir.path());
    let help = String::from_utf8(out.stdout).unwrap();
    for rule in mailroom::check::Rule::ALL {
        assert!(
            help.contains(rule.name()),
            "{} missing:\n{help}",
            rule.name()
        );
    }
    assert!(help.contains("--deny-warnings") && help.contains("--fix"));
}
