//! `mailroom completions SHELL`: the shell completion script, from clap's
//! description of the command line (clap_complete).
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::output;

/// Print the shell completion script for SHELL on stdout.
///
/// Install it where your shell looks:
///   mailroom completions bash > /etc/bash_completion.d/mailroom
///   mailroom completions zsh  > "${fpath[1]}/_mailroom"
///   mailroom completions fish > ~/.config/fish/completions/mailroom.fish
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Runs `completions`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    // clap_complete panics on a failed write, so the script is built in
    // memory first and written like every other output.
    let mut script = Vec::new();
    clap_complete::generate(
        args.shell,
        &mut super::Cli::command(),
        "mailroom",
        &mut script,
    );
    let mut out = output::stdout();
    out.write_all(&script)
        .and_then(|()| out.flush())
        .map_err(output::stdout_error)?;
    Ok(ExitCode::SUCCESS)
}
