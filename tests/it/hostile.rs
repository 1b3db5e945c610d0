//! Hostile and huge issue files through the real binary (`check`, `render`,
//! `send`): refused with a clear error naming the line, or handled with
//! bounded output, and never a panic (exit 101) or an abort (134). The same
//! inputs, timed, are in `scripts/bench-hostile`.
use std::path::{Path, PathBuf};
use std::process::Output;

use mail_parser::MessageParser;

use crate::common::project::{Project, stderr};

const HEADER: &str =
    "Title: This Week in Rust 999\nNumber: 999\nDate: 2025-11-12\nCategory: This Week in Rust\n\n";

/// Every line of a message: at most 998 octets (RFC 5322), and at most 78
/// in the header block, except in the fields holding a recipient's address
/// or unsubscribe URL, which cannot be folded inside.
pub fn assert_lines_fit(message: &[u8]) {
    let text = String::from_utf8_lossy(message);
    let (head, body) = text.split_once("\r\n\r\n").expect("a header block");
    let mut field = "";
    for line in head.split("\r\n") {
        if !line.starts_with([' ', '\t']) {
            field = line.split(':').next().unwrap_or("");
        }
        let limit = match field {
            "To" | "List-Unsubscribe" => 998,
            _ => 78,
        };
        assert!(
            line.len() <= limit,
            "{}-octet header line: {line:.120}",
            line.len()
        );
    }
    for line in body.split("\r\n") {
        assert!(line.len() <= 998, "{}-octet line: {line:.120}", line.len());
    }
}

/// A project with `n` subscribers, sending to its outbox.
fn project(n: usize) -> Project {
    let mut p = Project::new(n, 9);
    p.set("MAILROOM_SEND__TRANSPORT", "outbox");
    p
}

/// Writes `body` after the usual header into `name` inside the project.
fn issue(p: &Project, name: &str, body: &str) -> PathBuf {
    let path = p.path(name);
    std::fs::write(&path, format!("{HEADER}{body}")).unwrap();
    path
}

fn run(p: &Project, args: &[&str]) -> Output {
    let out = p.run(args);
    let code = out.status.code();
    assert!(
        code.is_some() && code != Some(101) && code != Some(134),
        "`mailroom {}` crashed ({:?}): {}",
        args.join(" "),
        out.status,
        stderr(&out)
    );
    out
}

/// `check`, `render` and `send --dry-run` all refuse `file` (exit 2) with
/// an error holding `needle`.
fn refused_everywhere(p: &Project, file: &Path, needle: &str) {
    let file = file.to_str().unwrap();
    for args in [
        vec!["check", file],
        vec!["check", "--fix", file],
        vec!["render", file, "--out", "out"],
        vec!["send", file, "--dry-run"],
    ] {
        let out = run(p, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn an_8000_level_list_is_refused_naming_the_line_instead_of_overflowing_the_stack() {
    let p = project(1);
    // The second hides the lists behind a U+0002, which the renderer drops:
    // the bound must hold for what the renderer parses.
    for (name, prefix) in [("deep.md", ""), ("hidden.md", "\u{2}")] {
        let file = issue(
            &p,
            name,
            &format!("Intro.\n\n{prefix}{}x\n", "- ".repeat(8000)),
        );
        refused_everywhere(
            &p,
            &file,
            &format!(
                "{name}` line 8: more than 100 levels of nesting here (a list inside the others)"
            ),
        );
    }
}

#[test]
fn ten_thousand_quotes_or_nested_tags_are_refused_naming_the_line() {
    let p = project(1);
    for (name, body, what) in [
        (
            "quotes.md",
            format!("{} x\n", ">".repeat(10_000)),
            "a block quote",
        ),
        (
            "small.md",
            format!(
                "{}x{}\n",
                "<small>".repeat(10_000),
                "</small>".repeat(10_000)
            ),
            "`<small>`",
        ),
        (
            "div.md",
            format!("{}x{}\n", "<div>".repeat(10_000), "</div>".repeat(10_000)),
            "`<div>`",
        ),
    ] {
        let file = issue(&p, name, &body);
        refused_everywhere(&p, &file, &format!("{name}` line 6: more than 100 levels"));
        let out = run(&p, &["check", file.to_str().unwrap()]);
        assert!(stderr(&out).contains(what), "{}", stderr(&out));
    }
}

#[test]
fn a_date_an_email_cannot_carry_is_a_parse_error_not_a_panic() {
    let p = project(1);
    let file = p.path("old.md");
    std::fs::write(
        &file,
        HEADER.replace("2025-11-12", "1899-12-31") + "Body.\n",
    )
    .unwrap();
    refused_everywhere(
        &p,
        &file,
        "old.md` line 3: `Date:` is `1899-12-31`, before 1900, which an email's Date header cannot carry",
    );
}

#[test]
fn files_over_the_size_limit_are_refused_without_being_read() {
    let p = project(1);
    let file = p.path("huge.md");
    // Sparse: 50 MB on paper, nothing on disk; reading it would take 50 MB.
    let f = std::fs::File::create(&file).unwrap();
    f.set_len(50 * 1024 * 1024).unwrap();
    refused_everywhere(
        &p,
        &file,
        "huge.md` is 52428800 bytes (50.0 MB), over the 4.0 MB limit for an issue",
    );
}

#[test]
fn four_thousand_images_on_one_line_print_a_few_findings_and_a_count() {
    let p = project(1);
    let file = issue(
        &p,
        "images.md",
        &format!("{}\n", "![](http://ex.org/a.png)".repeat(4000)),
    );
    let out = run(&p, &["check", file.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "warnings only: {}",
        stderr(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.len() < 10_000, "{} bytes of output", stdout.len());
    assert_eq!(
        stdout
            .matches("warning[image]: image has no alt text")
            .count(),
        3
    );
    assert!(
        stdout.contains("warning[image]: and 7995 more `image` findings on this line"),
        "{stdout}"
    );
    assert!(
        stdout.lines().all(|l| l.chars().count() < 130),
        "windowed lines"
    );
}

#[test]
fn a_160_kb_mis_encoded_line_is_checked_and_refused_with_bounded_output() {
    let p = project(2);
    let line = "ZÃ¼rich â€“ ".repeat(160 * 1024 / 16);
    let file = issue(&p, "moji.md", &format!("{line}\n"));
    let out = run(&p, &["check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.len() < 10_000, "{} bytes of output", stdout.len());
    assert!(
        stdout.contains("more `mojibake` findings on this line"),
        "{stdout}"
    );
    let out = run(&p, &["send", file.to_str().unwrap(), "--dry-run"]);
    assert_eq!(out.status.code(), Some(1), "checker errors refuse the send");
    assert!(out.stderr.len() < 10_000, "{} bytes", out.stderr.len());
    assert!(
        stderr(&out).contains("refusing to mail subscribers"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_issue_style_block_is_a_checker_error_and_never_reaches_the_email() {
    let p = project(2);
    let body = "<style>a{display:none}</style>\n\nHello <span style=\"display:none\">there</span>.\n\
                \n<div><div>\n\nunclosed\n";
    let file = issue(&p, "style.md", body);
    let file = file.to_str().unwrap();
    let out = run(&p, &["check", file]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("error[unsafe-html]: `<style>` is removed from the email"),
        "{stdout}"
    );
    let out = run(&p, &["send", file]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("(unsafe-html)"), "{}", stderr(&out));
    let out = run(&p, &["render", file, "--out", "out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let html = std::fs::read_to_string(p.path("out/style.html")).unwrap();
    // (Without the chrome's own hidden preheader.)
    let html = crate::common::without_chrome_extras(&html);
    assert!(
        !html.contains("display:none") && !html.contains("<style>a"),
        "{html:.3000}"
    );
    let text = std::fs::read_to_string(p.path("out/style.txt")).unwrap();
    assert!(!text.contains("display"), "{text}");
    // The footer comes after the content's last element is closed.
    let content_end = html.find("<div class=\"foot\"").expect("the footer");
    assert!(
        html[content_end..]
            .contains("/unsubscribe/sample-token\" style=\"color:#b41\">Unsubscribe</a>")
    );
}

#[test]
fn a_3000_character_title_folds_so_every_line_of_every_message_fits() {
    let mut p = project(3);
    p.set("MAILROOM_NEWSLETTER__SUBJECT", "{title} ({number})");
    let title = "Rust ".repeat(500) + &"ü".repeat(500) + &"x".repeat(1000);
    let path = p.path("long.md");
    std::fs::write(
        &path,
        HEADER.replace("This Week in Rust 999", &title) + "Body.\n",
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let out = run(&p, &["render", file, "--out", "out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut messages = vec![std::fs::read(p.path("out/long.eml")).unwrap()];
    let out = run(&p, &["send", file]);
    assert!(out.status.success(), "{}", stderr(&out));
    for entry in std::fs::read_dir(p.path("outbox/999")).unwrap() {
        messages.push(std::fs::read(entry.unwrap().path()).unwrap());
    }
    assert_eq!(
        messages.len(),
        4,
        "the render and three subscribers' copies"
    );
    for message in &messages {
        assert_lines_fit(message);
        let parsed = MessageParser::default().parse(message).unwrap();
        assert_eq!(
            parsed.subject(),
            Some(format!("{} (999)", title.trim()).as_str())
        );
    }
}

#[test]
fn the_text_part_decodes_every_html_entity() {
    let p = project(1);
    let body =
        "Caf<small>&eacute; &Uuml;ber &frac12; &hearts; &rarr; &NotEqualTilde; &#x1F980;</small>\n";
    let file = issue(&p, "entities.md", body);
    let out = run(&p, &["render", file.to_str().unwrap(), "--out", "out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(p.path("out/entities.txt")).unwrap();
    assert!(text.contains("Café Über ½ ♥ → ≂̸ 🦀"), "{text}");
}
