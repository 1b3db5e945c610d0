//! The `mailroom` binary: parse the command line, run it, report errors once.
use std::process::ExitCode;

use mailroom::output;

fn main() -> ExitCode {
    let cli = mailroom::cmd::Cli::parse_quickly();
    mailroom::cmd::init_logging_for(&cli);
    let result = mailroom::cmd::run(cli);
    // A reader that went away (`mailroom status | head`) is not an error
    // to report, whatever the command was doing when it noticed.
    if output::stdout_closed() {
        return ExitCode::from(output::CLOSED_PIPE_EXIT);
    }
    match result {
        Ok(code) => code,
        Err(err) => {
            output::error_chain(&err);
            ExitCode::from(mailroom::cmd::exit_code_for(&err))
        }
    }
}
