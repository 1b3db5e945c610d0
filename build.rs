//! Sets `MAILROOM_VERSION`, what `mailroom --version` prints: the crate's
//! version, and in release builds from a git checkout also `git describe`
//! (`0.1.0 (v0.1.0-12-g30d4364)`). Debug builds skip git, so a commit does
//! not make every developer's next build recompile the crate.
use std::process::Command;

fn main() {
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    println!("cargo:rerun-if-changed=build.rs");
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let described = if release { describe() } else { None };
    match described {
        Some(d) => println!("cargo:rustc-env=MAILROOM_VERSION={version} ({d})"),
        None => println!("cargo:rustc-env=MAILROOM_VERSION={version}"),
    }
}

/// `git describe --tags --always`, and the files whose change moves it.
fn describe() -> Option<String> {
    let git = |args: &[&str]| {
        let out = Command::new("git").args(args).output().ok()?;
        let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
        (out.status.success() && !text.is_empty()).then_some(text)
    };
    let described = git(&["describe", "--tags", "--always"])?;
    let mut watched = vec![git(&["rev-parse", "--git-path", "HEAD"])?];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.extend(git(&["rev-parse", "--git-path", &branch]));
    }
    watched.extend(git(&["rev-parse", "--git-path", "packed-refs"]));
    for path in watched {
        // A path that does not exist would rerun this script every build.
        if std::path::Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    Some(described)
}
