//! The config file layer: parse the TOML (keeping each key's line), refuse
//! secrets under any spelling of their key, report unknown keys and bad
//! values all together, and keep the good values.
//!
//! The tree is walked after parsing, so quoted keys (`"password" = …`),
//! any letter case, dotted keys (`smtp.password = …`) and inline tables
//! (`smtp = { password = … }`) all look the same: a key in a table.
use std::path::Path;

use serde::Deserialize;
use toml::de::{DeTable, DeValue};

use super::error::{Problems, Source};
use super::keys::{self, SECRET_NAMES, SECTIONS};

/// A config file bigger than this is refused (the shipped one is 6 KB).
pub const MAX_FILE_BYTES: usize = 1 << 20;

/// Syntax errors reported per run at most; the rest are counted.
const MAX_SYNTAX_ERRORS: usize = 10;

/// The file's good values (`section → key → value`) and the line of each.
#[derive(Debug, Default)]
pub struct FileLayer {
    pub values: toml::Table,
    pub lines: Vec<(String, usize)>,
}

/// Reads the layer from `text` (the contents of `path`), adding every
/// problem found to `problems`.
pub fn layer(path: &Path, text: &str, problems: &mut Problems) -> FileLayer {
    // Where each line ends, found once: counting from the top for each of
    // the ~60 keys was a third of loading the config (~0.1 ms).
    let newlines: Vec<usize> = memchr::memchr_iter(b'\n', text.as_bytes()).collect();
    let line_of = |offset: usize| newlines.partition_point(|&n| n < offset) + 1;
    let at = |offset: usize| Source::File {
        path: path.to_owned(),
        line: Some(line_of(offset)),
    };
    let (doc, errors) = DeTable::parse_recoverable(text);
    // Secrets first, even in a file with syntax errors: the point is that
    // they are never used, and the error names the way to set them.
    let mut secret_at = Vec::new();
    find_secrets(doc.get_ref(), &mut Vec::new(), &mut secret_at);
    for (parts, offset) in &secret_at {
        problems.push(at(*offset), secret_message(parts));
    }
    if !errors.is_empty() {
        for e in errors.iter().take(MAX_SYNTAX_ERRORS) {
            let place = match e.span() {
                Some(span) => at(span.start),
                None => Source::File {
                    path: path.to_owned(),
                    line: None,
                },
            };
            // The message only: toml's full error quotes the line, which
            // may hold a secret.
            problems.push(
                place,
                format!("{}; fix the TOML syntax", e.message().trim()),
            );
        }
        if errors.len() > MAX_SYNTAX_ERRORS {
            problems.push(
                Source::File {
                    path: path.to_owned(),
                    line: None,
                },
                format!(
                    "and {} more syntax errors",
                    errors.len() - MAX_SYNTAX_ERRORS
                ),
            );
        }
        return FileLayer::default();
    }
    // The values from the tree already parsed, rather than parsing the
    // text a second time.
    let Ok(values) = toml::Table::deserialize(toml::de::Deserializer::from(doc.clone())) else {
        return FileLayer::default();
    };
    let mut out = FileLayer::default();
    for (section, value) in doc.get_ref() {
        let (name, offset) = (section.get_ref().as_ref(), section.span().start);
        if is_secret(name) {
            continue;
        }
        let Some(table) = value.get_ref().as_table() else {
            if SECTIONS.contains(&name) {
                problems.push(
                    at(offset),
                    format!("`{name}` must be a section, `[{name}]`"),
                );
            } else {
                problems.push(
                    at(offset),
                    format!(
                        "`{name}` is outside any section{}",
                        keys::suggestion(None, name)
                    ),
                );
            }
            continue;
        };
        if !SECTIONS.contains(&name) {
            problems.push(
                at(offset),
                format!("unknown section `[{name}]`{}", keys::suggestion(None, name)),
            );
            continue;
        }
        let section_ok = section_is_valid(name, table, &values);
        for (key, _) in table {
            let (k, offset) = (key.get_ref().as_ref(), key.span().start);
            if is_secret(k) {
                continue;
            }
            let Some(known) = keys::find(name, k) else {
                problems.push(
                    at(offset),
                    format!(
                        "unknown key `[{name}] {k}`{}",
                        keys::suggestion(Some(name), k)
                    ),
                );
                continue;
            };
            // Both parses read the same text, so the key is there; skip
            // rather than panic if they ever disagree.
            let Some(value) = values.get(name).and_then(|t| t.get(k)).cloned() else {
                continue;
            };
            if !section_ok && let Err(why) = check_value(name, k, &value) {
                problems.push(at(offset), format!("`[{name}] {k}` {why}"));
                continue;
            }
            if let Some(why) = (name == "database")
                .then(|| password_in_url(&value))
                .flatten()
            {
                problems.push(at(offset), why);
                continue;
            }
            insert(&mut out.values, name, k, value);
            out.lines.push((known.path(), line_of(offset)));
        }
    }
    out
}

/// Puts `value` at `section.key` in `root`.
pub fn insert(root: &mut toml::Table, section: &str, key: &str, value: toml::Value) {
    let entry = root
        .entry(section.to_owned())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let toml::Value::Table(t) = entry {
        t.insert(key.to_owned(), value);
    }
}

/// Whether every known, non-secret key of `[section]` in the file is
/// acceptable, checked together in one deserialization of the section.
/// No section's fields depend on each other, so when they all pass
/// together each passes alone, and [`check_value`] (which deserializes the
/// whole section once per key, ~60 times per config) is needed only to
/// find which key of a failing section is wrong.
fn section_is_valid(section: &str, keys: &DeTable, values: &toml::Table) -> bool {
    let Some(toml::Value::Table(given)) = values.get(section) else {
        return false;
    };
    let mut table = toml::Table::new();
    for (key, _) in keys {
        let k = key.get_ref().as_ref();
        if is_secret(k) || keys::find(section, k).is_none() {
            continue;
        }
        match given.get(k) {
            Some(value) => table.insert(k.to_owned(), value.clone()),
            None => return false,
        };
    }
    check_section(section, table).is_ok()
}

/// Whether `value` is acceptable for `[section] key`, checked alone by
/// deserializing its section from a table that holds only it (every other
/// key defaults).
pub fn check_value(section: &str, key: &str, value: &toml::Value) -> Result<(), String> {
    let mut table = toml::Table::new();
    table.insert(key.to_owned(), value.clone());
    check_section(section, table).map_err(|e| {
        let m = e.message().trim().trim_end_matches('.').to_owned();
        // Our own parsers (values.rs) say what is wrong as a verb phrase.
        let own = ["is ", "has ", "contains ", "holds ", "names "];
        if own.iter().any(|v| m.starts_with(v)) {
            m
        } else {
            format!("is invalid: {m}")
        }
    })
}

/// Deserializes `[section]` from `table` (keys it lacks take their defaults).
fn check_section(section: &str, table: toml::Table) -> Result<(), toml::de::Error> {
    use super::*;
    fn only<T: serde::de::DeserializeOwned>(t: toml::Table) -> Result<(), toml::de::Error> {
        toml::Value::Table(t).try_into::<T>().map(|_| ())
    }
    match section {
        "newsletter" => only::<Newsletter>(table),
        "render" => only::<RenderSettings>(table),
        "check" => only::<CheckSettings>(table),
        "web" => only::<WebSettings>(table),
        "database" => only::<DatabaseSettings>(table),
        "send" => only::<SendSettings>(table),
        "outbox" => only::<OutboxSettings>(table),
        "smtp" => only::<SmtpSettings>(table),
        "preview" => only::<PreviewSettings>(table),
        _ => {
            let mut root = toml::Table::new();
            root.insert(section.to_owned(), toml::Value::Table(table));
            only::<Settings>(root)
        }
    }
}

/// Lower-cased, `-` as `_`, split at dots and spaces: the words of a key
/// as written (a quoted `"smtp.password"` is one key with two words).
fn words(key: &str) -> Vec<String> {
    key.trim()
        .to_lowercase()
        .replace('-', "_")
        .split(['.', ' '])
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn is_secret(key: &str) -> bool {
    words(key)
        .iter()
        .any(|w| SECRET_NAMES.contains(&w.as_str()))
}

/// Every secret-named key in `table`, at any depth (tables, inline tables,
/// arrays of tables), with its path and offset.
fn find_secrets(table: &DeTable, path: &mut Vec<String>, found: &mut Vec<(Vec<String>, usize)>) {
    for (key, value) in table {
        let name = key.get_ref().as_ref();
        let depth = path.len();
        path.extend(words(name));
        if is_secret(name) {
            found.push((path.clone(), key.span().start));
        } else {
            find_in_value(value.get_ref(), path, found);
        }
        path.truncate(depth);
    }
}

fn find_in_value(value: &DeValue, path: &mut Vec<String>, found: &mut Vec<(Vec<String>, usize)>) {
    match value {
        DeValue::Table(t) => find_secrets(t, path, found),
        DeValue::Array(items) => {
            for item in items {
                find_in_value(item.get_ref(), path, found);
            }
        }
        _ => {}
    }
}

/// The error for a secret in the file: which key, and where it goes instead.
fn secret_message(parts: &[String]) -> String {
    let shown = match parts {
        [section, rest @ ..] if !rest.is_empty() => format!("[{section}] {}", rest.join(".")),
        _ => parts.join("."),
    };
    let secret = parts
        .iter()
        .position(|w| SECRET_NAMES.contains(&w.as_str()))
        .unwrap_or(0);
    let instead = match parts[secret].as_str() {
        "password" | "passwd" if parts[0] == "database" => {
            "set MAILROOM_DATABASE__PASSWORD in the environment".to_owned()
        }
        "password" | "passwd" => "set MAILROOM_SMTP__PASSWORD in the environment".to_owned(),
        "secret" => "set MAILROOM_WEB__SECRET in the environment, or put it in the file that \
                     `[web] secret_file` names"
            .to_owned(),
        _ => {
            let mut refs: Vec<&str> = parts[..secret].iter().map(String::as_str).collect();
            refs.push("private_key");
            format!("set {} in the environment", keys::env_var(&refs))
        }
    };
    format!(
        "`{shown}` is a secret, and secrets never go in the config file (it gets copied, \
         committed and shared); delete it there and {instead}"
    )
}

/// A `postgres://user:password@…` URL in the file carries a secret.
fn password_in_url(value: &toml::Value) -> Option<String> {
    let url = url::Url::parse(value.as_str()?).ok()?;
    url.password().map(|_| {
        "`[database] url` holds a password, and secrets never go in the config file; \
         remove it from the URL and set MAILROOM_DATABASE__PASSWORD (or PGPASSWORD, or \
         ~/.pgpass) in the environment, or set the whole URL in MAILROOM_DATABASE__URL"
            .to_owned()
    })
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
