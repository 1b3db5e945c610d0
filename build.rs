//! Sets `MAILROOM_VERSION`, what `mailroom --version` prints: the crate's
//! version, and in release builds from a git checkout also `git describe`
//! (`0.1.0 (v0.1.0-12-g30d4364)`). Debug builds skip git, so a commit does
//! not make every developer's next build recompile the crate.
//!
//! On Linux with glibc it also links the binary as a position-dependent
//! executable (`-no-pie`). A PIE's ~1 MB of pointer tables (vtables, static
//! string tables, clap's and html5ever's static data) must be relocated by
//! the loader at every start, which copies ~250 pages: with RELR that still
//! cost ~1.1 ms of the ~2.6 ms `mailroom --version` took (1.5 ms without,
//! paired hyperfine, 1 Dec 2026), and every `render` pays it. The cost is
//! that the executable's own code and data load at a fixed address (the
//! stack, heap and shared libraries stay randomized): ASLR for the binary
//! itself is given up for start-up time.
use std::process::Command;

fn main() {
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    println!("cargo:rerun-if-changed=build.rs");
    if linux_gnu() {
        // Only the binaries: the dependencies' builds are unchanged.
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
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

/// Whether the binary is built for Linux with glibc (where the toolchain's
/// `cc` takes `-no-pie`).
fn linux_gnu() -> bool {
    let var = |key: &str| std::env::var(key).unwrap_or_default();
    var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu"
}
