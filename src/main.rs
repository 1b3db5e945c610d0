//! The `mailroom` binary: parse the command line, run it, report errors once.
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = mailroom::cmd::Cli::parse();
    mailroom::cmd::init_logging_for(&cli);
    match mailroom::cmd::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(mailroom::cmd::exit_code_for(&err))
        }
    }
}
