//! `mailroom render` as a user runs it: real binary, real files, real MIME parser.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mail_parser::{MessageParser, MimeHeaders};

const SEEDS: [&str; 3] = [
    "000_8dcd2075dd7da271.txt",
    "001_daec47276e9082ac.txt",
    "003_7480672c79e93d81.txt",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn seed(name: &str) -> PathBuf {
    root().join("tests/fixtures/seeds").join(name)
}

fn mailroom(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .args(["--config", root().join("config.toml").to_str().unwrap()])
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

struct Rendered {
    html: String,
    text: String,
    eml: Vec<u8>,
    stdout: String,
    stderr: String,
}

fn render(seed_name: &str) -> Rendered {
    let dir = tempfile::tempdir().unwrap();
    let out = mailroom(
        &["render", seed(seed_name).to_str().unwrap(), "--out", "o"],
        dir.path(),
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let stem = seed_name.trim_end_matches(".txt");
    let read = |ext: &str| std::fs::read(dir.path().join(format!("o/{stem}.{ext}"))).unwrap();
    Rendered {
        html: String::from_utf8(read("html")).unwrap(),
        text: String::from_utf8(read("txt")).unwrap(),
        eml: read("eml"),
        stdout,
        stderr,
    }
}

/// Every link target in the Markdown body, found independently of mailroom.
fn markdown_links(source: &str) -> Vec<String> {
    use pulldown_cmark::{Event, Options, Parser, Tag};
    let body = source.split_once("\n\n").unwrap().1;
    Parser::new_ext(body, Options::all())
        .filter_map(|e| match e {
            Event::Start(Tag::Link { dest_url, .. }) => Some(dest_url.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn render_writes_html_text_and_eml_and_prints_one_summary_line() {
    let r = render(SEEDS[1]);
    let lines: Vec<_> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", r.stdout);
    assert!(
        lines[0].starts_with("This Week in Rust 620: html "),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains(&format!("html {} bytes", r.html.len())),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains(&format!("text {} bytes", r.text.len())),
        "{}",
        lines[0]
    );
    let links = markdown_links(&std::fs::read_to_string(seed(SEEDS[1])).unwrap()).len();
    assert!(lines[0].contains(&format!("{links} links")), "{}", lines[0]);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

#[test]
fn the_eml_parses_as_multipart_alternative_whose_parts_are_the_rendered_files() {
    for name in SEEDS {
        let r = render(name);
        let msg = MessageParser::default().parse(&r.eml).unwrap();
        let ct = msg.content_type().unwrap();
        assert_eq!(
            (ct.ctype(), ct.subtype()),
            ("multipart", Some("alternative"))
        );
        let kinds: Vec<_> = msg.parts[1..]
            .iter()
            .map(|p| p.content_type().unwrap().subtype().unwrap().to_string())
            .collect();
        assert_eq!(kinds, ["plain", "html"], "{name}: text first, HTML last");
        let crlf = |s: &str| s.replace("\r\n", "\n");
        assert_eq!(crlf(&msg.body_text(0).unwrap()), crlf(&r.text), "{name}");
        assert_eq!(crlf(&msg.body_html(0).unwrap()), crlf(&r.html), "{name}");
        assert_eq!(
            msg.to().unwrap().first().unwrap().address(),
            Some("reader@example.com")
        );
        assert!(msg.subject().unwrap().starts_with("This Week in Rust "));
        for h in [
            "List-Id",
            "List-Unsubscribe",
            "List-Unsubscribe-Post",
            "Message-ID",
            "Date",
        ] {
            assert!(msg.header_raw(h).is_some(), "{name}: no {h}");
        }
    }
}

#[test]
fn every_markdown_link_appears_in_both_parts() {
    for name in SEEDS {
        let r = render(name);
        let urls = markdown_links(&std::fs::read_to_string(seed(name)).unwrap());
        assert!(urls.len() > 100, "{name}: only {} links found", urls.len());
        for url in urls {
            let escaped = url.replace('&', "&amp;");
            assert!(
                r.html.contains(&escaped),
                "{name}: `{url}` missing from HTML"
            );
            assert!(r.text.contains(&url), "{name}: `{url}` missing from text");
        }
    }
}

#[test]
fn no_html_comment_text_reaches_either_part() {
    for name in SEEDS {
        let source = std::fs::read_to_string(seed(name)).unwrap();
        let r = render(name);
        let mut rest = source.as_str();
        while let Some(start) = rest.find("<!--") {
            let end = rest[start..].find("-->").map_or(rest.len(), |e| start + e);
            for line in rest[start + 4..end]
                .lines()
                .map(str::trim)
                .filter(|l| l.len() > 12)
            {
                assert!(!r.html.contains(line), "{name}: comment `{line}` in HTML");
                assert!(!r.text.contains(line), "{name}: comment `{line}` in text");
            }
            rest = &rest[end..];
        }
        let html = crate::common::without_chrome_extras(&r.html);
        assert!(!html.contains("<!--"), "{name}");
    }
}

#[test]
fn every_line_of_the_eml_fits_in_998_octets_and_body_lines_in_76() {
    let r = render(SEEDS[0]);
    let eml = String::from_utf8(r.eml).unwrap();
    let (_, body) = eml.split_once("\r\n\r\n").unwrap();
    for line in body.split("\r\n") {
        assert!(line.len() <= 76, "{} octets: {line}", line.len());
    }
}

#[test]
fn rendering_twice_gives_identical_files() {
    let (a, b) = (render(SEEDS[0]), render(SEEDS[0]));
    assert_eq!(a.eml, b.eml);
    assert_eq!(a.html, b.html);
}

#[test]
fn a_malformed_date_fails_with_the_file_line_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(seed(SEEDS[1]))
        .unwrap()
        .replace("Date: 2025-10-08", "Date: 2025-13-08");
    std::fs::write(dir.path().join("issue.md"), text).unwrap();
    let out = mailroom(&["render", "issue.md"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("`issue.md` line 3: `Date:` is `2025-13-08`, expected YYYY-MM-DD"),
        "{err}"
    );
    assert!(
        !dir.path().join("out").exists(),
        "nothing is written on error"
    );
}

#[test]
fn a_missing_file_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = mailroom(&["render", "nope.md"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("`nope.md`"));
}

#[test]
fn a_subject_pattern_with_a_line_break_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .args(["--config", root().join("config.toml").to_str().unwrap()])
        .args(["render", seed(SEEDS[1]).to_str().unwrap()])
        .env(
            "MAILROOM_NEWSLETTER__SUBJECT",
            "TWiR {number}\r\nBcc: all@evil.test",
        )
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("`Subject` header value") && err.contains("line break"),
        "{err}"
    );
}

#[test]
fn render_help_explains_the_outputs() {
    let out = mailroom(&["render", "--help"], &root());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "<stem>.html",
        "<stem>.txt",
        "<stem>.eml",
        "--out",
        "sample_recipient",
        "102 KB",
    ] {
        assert!(help.contains(needle), "help lacks {needle}:\n{help}");
    }
}

#[test]
fn an_html_part_over_the_size_budget_is_a_warning_on_stderr_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .args(["--config", root().join("config.toml").to_str().unwrap()])
        .args(["render", seed(SEEDS[1]).to_str().unwrap()])
        .env("MAILROOM_RENDER__HTML_SIZE_BUDGET", "20000")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("warning: the HTML part is "), "{err}");
    assert!(
        err.contains("over the 20000-byte budget") && err.contains("unsubscribe"),
        "{err}"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "the summary stays one line: {stdout}"
    );
}

#[test]
fn a_parse_error_is_printed_once_not_repeated_as_its_own_cause() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("issue.md"),
        b"Title: T\nNumber: 1\nDate: 2025-01-01\n\nW\xfcrld\n",
    )
    .unwrap();
    let out = mailroom(&["render", "issue.md"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err.trim(),
        "error: `issue.md` line 5: not valid UTF-8 at byte offset 38; re-save the file as UTF-8"
    );
}
