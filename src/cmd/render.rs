//! `mailroom render`: turn an issue into the exact email subscribers receive.
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Settings;

/// Render ISSUE.md into OUT/<stem>.html, OUT/<stem>.txt and OUT/<stem>.eml.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The issue file.
    pub issue: PathBuf,
    /// Where to write the files.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
}

/// Runs `render`.
pub fn run(args: Args, _settings: &Settings) -> anyhow::Result<ExitCode> {
    let _issue = crate::issue::from_file(&args.issue)?;
    anyhow::bail!("render is not implemented yet")
}
