//! The binary as a tool: `--version`, shell completions that the shells
//! accept, and manual pages that groff renders without a warning.
use std::path::Path;
use std::process::Command;

fn mailroom(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .args(args)
        .output()
        .expect("run mailroom");
    assert!(
        out.status.success(),
        "`mailroom {}`: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn version_prints_the_crate_version() {
    let out = mailroom(&["--version"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let want = format!("mailroom {}", env!("CARGO_PKG_VERSION"));
    assert!(text.starts_with(&want), "{text}");
}

#[test]
fn completion_scripts_are_valid_bash_zsh_and_fish() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, check) in [
        ("bash", &["bash", "-n"][..]),
        ("zsh", &["zsh", "-n"][..]),
        ("fish", &["fish", "--no-execute"][..]),
    ] {
        let script = mailroom(&["completions", shell]).stdout;
        let text = String::from_utf8_lossy(&script);
        for word in ["subscribers", "--format", "completions"] {
            assert!(text.contains(word), "{shell} completes {word}");
        }
        let path = dir.path().join(format!("mailroom.{shell}"));
        std::fs::write(&path, &script).unwrap();
        let out = Command::new(check[0])
            .args(&check[1..])
            .arg(&path)
            .output()
            .unwrap_or_else(|e| panic!("`{}` ({e}); scripts/test installs it", check[0]));
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{shell} rejects the script: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Renders a roff page as `man -l` does (UTF-8 input through preconv,
/// `-k`), with every groff warning on; returns the text.
fn render(page: &Path) -> String {
    let out = Command::new("groff")
        .args(["-k", "-man", "-Tutf8", "-ww"])
        .arg(page)
        .output()
        .expect("groff (groff-base, with man-db)");
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && warnings.is_empty(),
        "{}: {warnings}",
        page.display()
    );
    // grotty marks bold and underline by overstriking: `N\bN`, `_\bx`.
    let mut text = String::new();
    for c in String::from_utf8_lossy(&out.stdout).chars() {
        if c == '\u{8}' {
            text.pop();
        } else {
            text.push(c);
        }
    }
    text
}

#[test]
fn the_man_page_renders_cleanly_and_out_writes_a_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("stdout.1");
    std::fs::write(&page, mailroom(&["man"]).stdout).unwrap();
    let text = render(&page);
    for part in ["NAME", "SYNOPSIS", "subscribers", "--log-format"] {
        assert!(text.contains(part), "{part} in: {text:.2000}");
    }

    let pages = dir.path().join("man1");
    mailroom(&["man", "--out", pages.to_str().unwrap()]);
    for name in [
        "mailroom.1",
        "mailroom-send.1",
        "mailroom-subscribers-add.1",
        "mailroom-completions.1",
    ] {
        let text = render(&pages.join(name));
        assert!(text.contains("SYNOPSIS"), "{name}: {text:.500}");
    }
    let send = render(&pages.join("mailroom-send.1"));
    assert!(send.contains("--dry-run"), "{send:.3000}");
}
