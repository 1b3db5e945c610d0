//! Filesystem notifications (the `notify` crate: inotify on Linux, no
//! polling loop of ours) turned into "render again" and "the binary was
//! rebuilt" signals.
//!
//! Directories are watched, not files: editors save by writing a new file
//! and renaming it over the old one, which ends a watch on the old inode.
//! A burst of events (write, chmod, rename) becomes one signal: after the
//! first, events within [`SETTLE`] are folded in.
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use notify::{RecursiveMode, Watcher};
use tokio::sync::{Notify, mpsc};

/// How long a burst of events may last and still count as one change.
pub const SETTLE: Duration = Duration::from_millis(60);

/// Which watched thing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Changed {
    Input,
    Binary,
}

/// Starts watching `files` and `exe`. The receiver yields once per burst of
/// changes to `files`; the notify fires once the binary at `exe` has been
/// replaced. The watcher lives as long as the receiver.
pub fn start(
    files: &[PathBuf],
    exe: Option<&Path>,
) -> anyhow::Result<(mpsc::Receiver<()>, Arc<Notify>)> {
    let inputs: HashSet<PathBuf> = files.iter().map(|f| absolute(f)).collect();
    let exe = exe.map(absolute);
    let (raw_tx, mut raw_rx) = mpsc::unbounded_channel::<Changed>();
    let classify = {
        let inputs = inputs.clone();
        let exe = exe.clone();
        move |path: &Path| {
            if inputs.contains(path) {
                Some(Changed::Input)
            } else if exe.as_deref() == Some(path) {
                Some(Changed::Binary)
            } else {
                None
            }
        }
    };
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if event.kind.is_access() {
            return;
        }
        for path in &event.paths {
            if let Some(what) = classify(path) {
                let _ = raw_tx.send(what);
            }
        }
    })
    .context("cannot watch files for changes")?;
    let dirs: HashSet<PathBuf> = inputs
        .iter()
        .chain(exe.iter())
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    for dir in &dirs {
        watcher
            .watch(dir, RecursiveMode::NonRecursive)
            .with_context(|| format!("cannot watch `{}` for changes", dir.display()))?;
    }
    let (tx, rx) = mpsc::channel(1);
    let rebuilt = Arc::new(Notify::new());
    let rebuilt_tx = rebuilt.clone();
    tokio::spawn(async move {
        let _watcher = watcher; // dropped when the preview ends
        while let Some(first) = raw_rx.recv().await {
            let mut binary = first == Changed::Binary;
            let mut input = first == Changed::Input;
            // Fold in the rest of the burst.
            while let Ok(Some(next)) = tokio::time::timeout(SETTLE, raw_rx.recv()).await {
                binary |= next == Changed::Binary;
                input |= next == Changed::Input;
            }
            if binary {
                rebuilt_tx.notify_one();
            } else if input {
                // Full: a render is already due, and it reads the latest file.
                if let Err(mpsc::error::TrySendError::Closed(())) = tx.try_send(()) {
                    break;
                }
            }
        }
    });
    Ok((rx, rebuilt))
}

/// `path` made absolute against the working directory (notify reports
/// absolute paths), with `.`/`..` resolved when the file exists.
fn absolute(path: &Path) -> PathBuf {
    let joined = std::env::current_dir()
        .map(|d| d.join(path))
        .unwrap_or_else(|_| path.to_path_buf());
    match (joined.parent(), joined.file_name()) {
        (Some(dir), Some(name)) => dir.canonicalize().map(|d| d.join(name)).unwrap_or(joined),
        _ => joined,
    }
}
