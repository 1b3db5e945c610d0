//! The outbox transport: each message becomes `<dir>/<issue>/<subscriber
//! id>.eml`, written to a temporary name and renamed, so a file is either
//! complete or absent, and a retry rewrites the same file.
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::reply::Delivery;
use crate::domain::IssueNumber;

/// The directory one issue's messages go to.
pub fn issue_dir(dir: &Path, issue: IssueNumber) -> PathBuf {
    dir.join(issue.to_string())
}

/// Creates the issue's directory.
pub fn prepare(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| {
        format!(
            "cannot create the outbox `{}` (`[outbox] dir`)",
            dir.display()
        )
    })
}

/// Writes one message as `<dir>/<name>.eml`.
///
/// Plain `std::fs` calls from the async worker: they are short, and each
/// worker runs on its own runtime thread, which is cheaper than a
/// `spawn_blocking` per message.
pub fn write(dir: &Path, name: &str, message: &[u8]) -> Delivery {
    let path = dir.join(format!("{name}.eml"));
    let tmp = dir.join(format!(".{name}.eml.tmp"));
    let result = std::fs::write(&tmp, message).and_then(|()| std::fs::rename(&tmp, &path));
    match result {
        Ok(()) => Delivery::Sent(format!("250 written to {}", path.display())),
        Err(e) => Delivery::Deferred(format!("mailroom: cannot write `{}`: {e}", path.display())),
    }
}
