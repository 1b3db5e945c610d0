//! The `.gitignore` lines that keep the store (subscriber data), the
//! signing key and generated files out of a newsletter's public checkout.
use std::path::Path;

use anyhow::Context;

use crate::config::Settings;
use crate::output::outln;

/// The comment above the lines `init` adds.
const HEADER: &str = "# mailroom: the store (subscriber data), the signing key and generated files";

/// Adds the missing lines to `dir/.gitignore` when `dir` is in a git
/// checkout, or prints them when it is not.
pub fn update(dir: &Path, settings: &Settings) -> anyhow::Result<()> {
    let wanted = lines(dir, settings);
    if !in_git_checkout(dir) {
        outln!(
            "\n{} is not in a git checkout; if you put it under version control, ignore these:",
            dir.display()
        )?;
        for line in &wanted {
            outln!("  {line}")?;
        }
        return Ok(());
    }
    let path = dir.join(".gitignore");
    let shown = path.display().to_string();
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read `{shown}`")),
    };
    let missing = missing_lines(&existing, &wanted);
    if missing.is_empty() {
        super::say(
            "kept",
            &shown,
            "it already ignores the store, the key and the outputs",
        );
        return Ok(());
    }
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(HEADER);
    text.push('\n');
    for line in &missing {
        text.push_str(line);
        text.push('\n');
    }
    std::fs::write(&path, text).with_context(|| format!("cannot write `{shown}`"))?;
    super::say(
        "added",
        &shown,
        &format!(
            "{}: {}",
            crate::output::plural(missing.len() as u64, "line"),
            missing.join(" ")
        ),
    );
    Ok(())
}

/// The patterns for `settings`' files, relative to `dir` (files outside
/// `dir` need none).
pub fn lines(dir: &Path, settings: &Settings) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(rel) = settings
        .database
        .url
        .sqlite_path()
        .and_then(|p| inside(dir, p))
    {
        out.push(rel.clone());
        out.push(format!("{rel}-*"));
    }
    if let Some(rel) = settings
        .web
        .secret_file
        .as_deref()
        .and_then(|p| inside(dir, p))
    {
        out.push(rel);
    }
    out.push("out/".to_owned());
    if let Some(rel) = inside(dir, &settings.outbox.dir) {
        out.push(format!("{rel}/"));
    }
    out.push("*.bak".to_owned());
    let mut seen = std::collections::HashSet::new();
    out.retain(|l| seen.insert(l.clone()));
    out
}

/// `path` relative to `dir`, with `/` separators, if it is inside.
fn inside(dir: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(dir).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// The lines of `wanted` that `existing` does not already have.
fn missing_lines(existing: &str, wanted: &[String]) -> Vec<String> {
    let have: std::collections::HashSet<&str> = existing.lines().map(str::trim).collect();
    wanted
        .iter()
        .filter(|w| !have.contains(w.as_str()) && !have.contains(format!("/{w}").as_str()))
        .cloned()
        .collect()
}

/// Whether `dir` or a parent holds `.git` (a directory, or a file in a
/// worktree or submodule).
fn in_git_checkout(dir: &Path) -> bool {
    dir.ancestors().any(|d| d.join(".git").exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_files_are_ignored_by_name_relative_to_the_directory() {
        let dir = Path::new("/srv/news");
        let loaded =
            crate::config::load_from(Some((&dir.join("config.toml"), "")), [], dir).unwrap();
        assert_eq!(
            lines(dir, &loaded.settings),
            [
                "mailroom.db",
                "mailroom.db-*",
                "mailroom.secret",
                "out/",
                "outbox/",
                "*.bak"
            ]
        );
    }

    #[test]
    fn files_outside_the_directory_need_no_line() {
        let dir = Path::new("/srv/news");
        let toml =
            "[database]\nurl = \"sqlite:///var/lib/mailroom/m.db\"\n[outbox]\ndir = \"mail/out\"\n";
        let loaded =
            crate::config::load_from(Some((&dir.join("config.toml"), toml)), [], dir).unwrap();
        assert_eq!(
            lines(dir, &loaded.settings),
            ["mailroom.secret", "out/", "mail/out/", "*.bak"]
        );
    }

    #[test]
    fn only_missing_lines_are_added_and_anchored_ones_count_as_present() {
        let wanted: Vec<String> = ["a.db", "out/", "*.bak"].map(String::from).to_vec();
        assert_eq!(missing_lines("/a.db\n  out/\n", &wanted), ["*.bak"]);
        assert!(missing_lines("a.db\nout/\n*.bak", &wanted).is_empty());
    }
}
