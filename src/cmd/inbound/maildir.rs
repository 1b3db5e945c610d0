//! The Maildir side of `mailroom inbound`: the unread messages (`new/`, and
//! `cur/` without the Seen flag), read with a size bound, and marking a
//! used message Seen by moving it to `cur/` (Maildir's "read").
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::inbound::MAX_MESSAGE_BYTES;

/// `new/*` and the `cur/*` messages without the Seen flag, by name.
pub fn unread(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        let d = dir.join(sub);
        let entries = std::fs::read_dir(&d).with_context(|| {
            format!(
                "cannot read `{}`; is `{}` a Maildir (new/, cur/, tmp/)?",
                d.display(),
                dir.display()
            )
        })?;
        for entry in entries {
            let path = entry
                .with_context(|| format!("cannot list `{}`", d.display()))?
                .path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let seen = name
                .rsplit_once(":2,")
                .is_some_and(|(_, flags)| flags.contains('S'));
            if path.is_file() && !name.starts_with('.') && !(sub == "cur" && seen) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A file's bytes, or `None` when it is larger than a message may be.
pub fn read_bounded(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    let mut raw = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_MESSAGE_BYTES as u64 + 1).read_to_end(&mut raw))
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    Ok((raw.len() <= MAX_MESSAGE_BYTES).then_some(raw))
}

/// Moves a message to `cur/` with the Seen flag.
pub fn mark_seen(dir: &Path, path: &Path) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (base, flags) = name.rsplit_once(":2,").unwrap_or((&name, ""));
    let mut flags: Vec<char> = flags.chars().chain(['S']).collect();
    flags.sort_unstable();
    flags.dedup();
    let target = dir
        .join("cur")
        .join(format!("{base}:2,{}", flags.iter().collect::<String>()));
    std::fs::rename(path, &target)
        .with_context(|| format!("cannot move `{}` to `{}`", path.display(), target.display()))
}
