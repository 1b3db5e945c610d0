//! Control characters in an issue reach neither part of the email, even
//! when the checker (which reports them) is not run: `render` never runs it,
//! and `send` can have the rule disabled.
use std::process::Command;

fn stray_controls(bytes: &[u8]) -> Vec<char> {
    String::from_utf8_lossy(bytes)
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        .collect()
}

#[test]
fn render_writes_no_control_character_from_the_issue_into_any_file() {
    let dir = tempfile::tempdir().unwrap();
    let issue = "Title: This Week in Rust 600\nNumber: 600\nDate: 2025-06-04\n\n\
                 Hello \u{1b}[31mred\u{1b}[0m and a [lin\u{2}k](https://example.org/a\u{2}b).\n\n\
                 * `co\u{7}de` item\u{85}\n* <small>raw\u{8}</small>\n";
    std::fs::write(dir.path().join("issue.md"), issue).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .args([
            "--config",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml"),
        ])
        .args(["render", "issue.md", "--out", "o"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for ext in ["html", "txt"] {
        let bytes = std::fs::read(dir.path().join(format!("o/issue.{ext}"))).unwrap();
        assert_eq!(stray_controls(&bytes), Vec::<char>::new(), "issue.{ext}");
    }
    // The message's parts are quoted-printable: decode them first.
    let eml = std::fs::read(dir.path().join("o/issue.eml")).unwrap();
    let message = mail_parser::MessageParser::default().parse(&eml).unwrap();
    for part in [message.body_html(0).unwrap(), message.body_text(0).unwrap()] {
        assert_eq!(
            stray_controls(part.as_bytes()),
            Vec::<char>::new(),
            "{part:.200}"
        );
    }
    let text = std::fs::read_to_string(dir.path().join("o/issue.txt")).unwrap();
    assert!(
        text.contains("Hello [31mred[0m and a link <https://example.org/ab>."),
        "{text}"
    );
}
