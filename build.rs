//! Sets `MAILROOM_VERSION`, what `mailroom --version` prints: the crate's
//! version, and in release builds from a git checkout also `git describe`
//! (`0.1.0 (v0.1.0-12-g30d4364)`). Debug builds skip git, so a commit does
//! not make every developer's next build recompile the crate.
//!
//! On Linux with glibc it also links the binary with compact relative
//! relocations (RELR, `-z pack-relative-relocs`; glibc 2.36+, Debian 12):
//! the loader applied ~54,000 24-byte RELA entries (1.3 MB) at every start,
//! and now reads a 16 KB bitmap instead. Still a PIE.
use std::process::Command;

fn main() {
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    println!("cargo:rerun-if-changed=build.rs");
    if relr_supported() {
        // Only the binaries: the dependencies' builds are unchanged.
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
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

/// Whether the binary is built for, and on, a glibc that reads RELR (2.36
/// or newer): an older loader would start the program unrelocated.
fn relr_supported() -> bool {
    let var = |key: &str| std::env::var(key).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") != "linux"
        || var("CARGO_CFG_TARGET_ENV") != "gnu"
        || var("HOST") != var("TARGET")
    {
        return false;
    }
    // `glibc 2.36`
    let Ok(out) = Command::new("getconf").arg("GNU_LIBC_VERSION").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let mut numbers = text.trim().trim_start_matches("glibc ").split('.');
    let major: u32 = numbers.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    let minor: u32 = numbers.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    (major, minor) >= (2, 36)
}
