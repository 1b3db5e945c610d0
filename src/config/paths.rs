//! Joining a configured path onto its base directory, lexically normalised:
//! `--config ../news/config.toml` from `/srv/elsewhere` names the store
//! `/srv/news/mailroom.db`, not `/srv/elsewhere/../news/mailroom.db`.
use std::path::{Component, Path, PathBuf};

/// `base` joined with `path` (an absolute `path` stands alone), normalised.
pub fn join(base: &Path, path: &Path) -> PathBuf {
    normalize(&base.join(path))
}

/// Drops `.` components and folds `name/..` into nothing, without touching
/// the disk except in one case: when `name` is a symbolic link, `name/..`
/// is its target's parent, so it is kept for the system to resolve. `..`
/// above the root stays at the root; a relative path keeps its leading
/// `..` components.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) if !is_symlink(&out) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

fn is_symlink(path: &Path) -> bool {
    path.symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(p: &str) -> PathBuf {
        normalize(Path::new(p))
    }

    #[test]
    fn dot_dot_folds_into_its_parent_and_dots_go() {
        assert_eq!(
            n("/nowhere-mailroom/elsewhere/../news/./mailroom.db"),
            Path::new("/nowhere-mailroom/news/mailroom.db")
        );
        assert_eq!(
            n("/nowhere-mailroom/a/b/../../c"),
            Path::new("/nowhere-mailroom/c")
        );
        assert_eq!(n("/../x"), Path::new("/x"));
        assert_eq!(n("../a/../b"), Path::new("../b"));
        assert_eq!(n("a/.."), Path::new("."));
    }

    #[test]
    fn an_absolute_path_is_kept_whatever_the_base() {
        assert_eq!(
            join(Path::new("/srv/news"), Path::new("/var/lib/m.db")),
            Path::new("/var/lib/m.db")
        );
        assert_eq!(
            join(Path::new("/srv/news"), Path::new("../data/m.db")),
            Path::new("/srv/data/m.db")
        );
    }

    #[test]
    fn dot_dot_after_a_symlink_is_left_for_the_system() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real/deep");
        std::fs::create_dir_all(&target).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let through = link.join("../m.db");
        assert_eq!(normalize(&through), through);
        assert_eq!(
            normalize(&dir.path().join("real/deep/../m.db")),
            dir.path().join("real/m.db")
        );
    }
}
