//! `mailroom man`: manual pages in roff from clap's description of the
//! command line (clap_mangen): `mailroom(1)` on stdout, or one page per
//! command into a directory.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;

use crate::output::{self, note};

/// Print the manual page (roff), or write one page per command to --out.
///
/// Examples:
///   mailroom man | man -l -
///   mailroom man --out /usr/local/share/man/man1   # mailroom.1, mailroom-send.1, …
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Write `mailroom.1` and a page per command (`mailroom-send.1`,
    /// `mailroom-subscribers-add.1`, …) into this directory, created if
    /// missing, instead of printing `mailroom.1`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Runs `man`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let cmd = super::Cli::command();
    match args.out {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut page)
                .context("cannot render the manual page")?;
            let mut out = output::stdout();
            out.write_all(&page)
                .and_then(|()| out.flush())
                .map_err(output::stdout_error)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create `{}`", dir.display()))?;
            clap_mangen::generate_to(cmd, &dir)
                .with_context(|| format!("cannot write manual pages into `{}`", dir.display()))?;
            let pages = std::fs::read_dir(&dir)
                .with_context(|| format!("cannot read `{}`", dir.display()))?
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().ends_with(".1"))
                .count();
            note!(
                "man: wrote {} into `{}`",
                output::plural(pages as u64, "page"),
                dir.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
