//! `mailroom config`: the effective settings and where each value came
//! from (default, the config file and line, or an environment variable),
//! with secrets redacted.
use std::process::ExitCode;

use anyhow::Context;

use crate::config::keys::{KEYS, Kind};
use crate::config::{Loaded, Source};

/// Print the effective settings and where each value came from.
///
/// Settings are the built-in defaults, then the config file (--config,
/// MAILROOM_CONFIG, or ./config.toml when it exists), then environment
/// variables MAILROOM_<SECTION>__<KEY>. Each value is followed by its
/// source: `default`, the file and line, or the variable. Paths are shown
/// resolved (relative paths in a file follow the file's directory).
/// Secrets are never printed: only whether they are set, and from where.
///
/// The TOML output is itself a valid config file. When the configuration
/// has problems, all of them are listed instead, and the exit status is 1.
///
/// Examples:
///   mailroom config
///   mailroom --config /etc/mailroom/config.toml config --format json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// `toml` (annotated; itself a valid config file) or `json`.
    #[arg(long, value_enum, default_value_t = Format::Toml)]
    pub format: Format,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Annotated TOML, itself a valid config file.
    Toml,
    /// One JSON object: each key's value and source.
    Json,
}

/// Runs `config`.
pub fn run(args: Args, loaded: &Loaded) -> anyhow::Result<ExitCode> {
    let text = match args.format {
        Format::Toml => toml_text(loaded)?,
        Format::Json => json_text(loaded)?,
    };
    crate::output::out(format_args!("{text}"))?;
    Ok(ExitCode::SUCCESS)
}

/// The settings as annotated TOML.
pub fn toml_text(loaded: &Loaded) -> anyhow::Result<String> {
    let tree = toml::Table::try_from(&loaded.settings).context("cannot show the settings")?;
    let mut out =
        String::from("# mailroom: the effective settings; after each value, where it came from\n");
    match &loaded.file {
        Some(path) => out.push_str(&format!("# config file: {}\n", path.display())),
        None => out.push_str("# config file: none (built-in defaults and the environment)\n"),
    }
    let mut section = "";
    for key in KEYS {
        if key.section != section {
            section = key.section;
            out.push_str(&format!("\n[{section}]\n"));
        }
        let source = describe(loaded.source(&key.path()));
        let value = tree.get(key.section).and_then(|t| t.get(key.name));
        let line = match (key.kind, value) {
            (Kind::Secret, Some(_)) => format!("# {} = [redacted]  # {source}", key.name),
            (_, None) => format!("# {} is not set  # {source}", key.name),
            (_, Some(v)) => format!("{} = {v}  # {source}", key.name),
        };
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}

fn describe(source: &Source) -> String {
    match source {
        Source::Default => "default".to_owned(),
        Source::File {
            path,
            line: Some(n),
        } => format!("{} line {n}", path.display()),
        Source::File { path, line: None } => path.display().to_string(),
        Source::Env { var } => var.clone(),
    }
}

/// The settings as JSON: `file`, `settings` (secrets `[redacted]`) and
/// `sources` by `section.key`.
pub fn json_text(loaded: &Loaded) -> anyhow::Result<String> {
    let sources: serde_json::Map<String, serde_json::Value> = KEYS
        .iter()
        .map(|k| {
            let source = serde_json::to_value(loaded.source(&k.path())).unwrap_or_default();
            (k.path(), source)
        })
        .collect();
    let doc = serde_json::json!({
        "file": loaded.file,
        "settings": loaded.settings,
        "sources": sources,
    });
    let mut text = serde_json::to_string_pretty(&doc).context("cannot show the settings")?;
    text.push('\n');
    Ok(text)
}
