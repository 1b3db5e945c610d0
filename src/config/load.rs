//! Loading: built-in defaults, then the config file (optional), then the
//! environment; every problem reported at once; relative paths resolved
//! against the config file's directory; where each value came from kept.
//!
//! Hand-written over the `toml` parser rather than the `config` crate:
//! `config` cannot say which line a key is on, stops at the first bad key,
//! and guesses each environment value's type from its text; all three are
//! what an editor needs from a config error.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::{ConfigError, Problems, Source};
use super::keys::{KEYS, Kind};
use super::{Settings, env, file, paths};

/// The settings, with where each came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub settings: Settings,
    /// The config file read (absolute), if any.
    pub file: Option<PathBuf>,
    /// Each key's source, by `section.key`.
    pub sources: BTreeMap<String, Source>,
}

impl Loaded {
    /// Where `section.key` came from.
    pub fn source(&self, path: &str) -> &Source {
        self.sources.get(path).unwrap_or(&Source::Default)
    }
}

/// The default config file, used when it exists in the current directory
/// and neither `--config` nor `MAILROOM_CONFIG` names another.
pub const DEFAULT_PATH: &str = "config.toml";

/// Loads the settings: `explicit` must exist; without it `./config.toml`
/// is read if present, and otherwise the defaults (and environment) apply.
pub fn load(explicit: Option<&Path>) -> Result<Loaded, ConfigError> {
    let cwd = std::env::current_dir().map_err(|e| {
        one(format!(
            "cannot read the current directory ({e}); run mailroom from an existing directory"
        ))
    })?;
    let path = match explicit {
        Some(p) => Some(paths::join(&cwd, p)),
        None => Some(cwd.join(DEFAULT_PATH)).filter(|p| p.is_file()),
    };
    let text = match &path {
        Some(p) => Some(read(p, explicit.is_some())?),
        None => None,
    };
    let file = path.as_deref().zip(text.as_deref());
    load_from(file, std::env::vars(), &cwd)
}

/// Reads the config file, bounded in size.
fn read(path: &Path, explicit: bool) -> Result<String, ConfigError> {
    let hint = if explicit {
        "; check `--config` (or MAILROOM_CONFIG), or leave it out to use the built-in defaults"
    } else {
        ""
    };
    let meta = std::fs::metadata(path).map_err(|e| {
        one(format!(
            "cannot read the config file `{}`: {e}{hint}",
            path.display()
        ))
    })?;
    if meta.len() > file::MAX_FILE_BYTES as u64 {
        return Err(one(format!(
            "the config file `{}` is {} bytes; a config file is at most {} bytes",
            path.display(),
            meta.len(),
            file::MAX_FILE_BYTES
        )));
    }
    std::fs::read_to_string(path).map_err(|e| {
        one(format!(
            "cannot read the config file `{}`: {e}{hint}",
            path.display()
        ))
    })
}

fn one(message: String) -> ConfigError {
    let mut p = Problems::default();
    p.push(Source::Default, message);
    ConfigError { problems: p.0 }
}

/// Loads from `file` (its absolute path and text), `env` and `cwd`, with
/// no other I/O: defaults, then the file, then the environment.
pub fn load_from(
    file: Option<(&Path, &str)>,
    env: impl IntoIterator<Item = (String, String)>,
    cwd: &Path,
) -> Result<Loaded, ConfigError> {
    let mut problems = Problems::default();
    let mut sources = BTreeMap::new();
    let mut merged = toml::Table::new();
    if let Some((path, text)) = file {
        let layer = file::layer(path, text, &mut problems);
        merged = layer.values;
        for (key, line) in layer.lines {
            let line = Some(line);
            let path = path.to_owned();
            sources.insert(key, Source::File { path, line });
        }
    }
    for v in env::layer(env, &mut problems) {
        file::insert(&mut merged, v.key.section, v.key.name, v.value);
        sources.insert(v.key.path(), Source::Env { var: v.var });
    }
    problems.into_result()?;
    let mut settings: Settings = toml::Value::Table(merged)
        .try_into()
        .map_err(|e| one(format!("invalid settings: {}", e.message())))?;
    let base = file.and_then(|(p, _)| p.parent()).unwrap_or(cwd);
    resolve_paths(&mut settings, &sources, base, cwd);
    Ok(Loaded {
        settings,
        file: file.map(|(p, _)| p.to_owned()),
        sources,
    })
}

/// Makes every relative path absolute (and normalised: no `.` or `..`
/// left, see [`paths::normalize`]): against `cwd` for values from the
/// environment, against `base` (the config file's directory, or `cwd`
/// without a file) for values from the file and for defaults.
fn resolve_paths(s: &mut Settings, sources: &BTreeMap<String, Source>, base: &Path, cwd: &Path) {
    let base_for = |path: &str| match sources.get(path) {
        Some(Source::Env { .. }) => cwd,
        _ => base,
    };
    for key in KEYS.iter().filter(|k| k.kind == Kind::Path) {
        let dir = base_for(&key.path());
        match (key.section, key.name) {
            ("database", "url") => s.database.url = s.database.url.resolved(dir),
            ("web", "secret_file") => absolutize(&mut s.web.secret_file, dir),
            ("web", "previous_secrets_file") => absolutize(&mut s.web.previous_secrets_file, dir),
            ("outbox", "dir") => s.outbox.dir = paths::join(dir, &s.outbox.dir),
            ("smtp", "ca_file") => absolutize(&mut s.smtp.ca_file, dir),
            ("dkim", "private_key_file") => absolutize(&mut s.dkim.private_key_file, dir),
            ("dkim", "ed25519_private_key_file") => {
                absolutize(&mut s.dkim.ed25519_private_key_file, dir)
            }
            (section, name) => unreachable!("path key `[{section}] {name}` is not resolved"),
        }
    }
}

fn absolutize(path: &mut Option<PathBuf>, dir: &Path) {
    if let Some(p) = path {
        *p = paths::join(dir, p);
    }
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
