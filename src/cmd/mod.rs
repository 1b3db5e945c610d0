//! The command line: one file per subcommand, each a thin `run` that wires stages.
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config;

pub mod check;
pub mod inbound;
pub mod render;
pub mod send;
pub mod serve;
pub mod status;
pub mod subscribers;

/// mailroom delivers a weekly Markdown newsletter by email.
///
/// A typical week, on a finished issue:
///
///   mailroom check  content/2025-11-12-this-week-in-rust.md          # errors block a send
///   mailroom render content/2025-11-12-this-week-in-rust.md          # out/*.html, *.txt, *.eml
///   mailroom send   content/2025-11-12-this-week-in-rust.md --test   # to [preview] recipients
///   mailroom send   content/2025-11-12-this-week-in-rust.md          # to every subscriber
///   mailroom status                                                   # watch it; rerun send to resume
///
/// Subscribers live in the store (`[database] url`): see `mailroom subscribers --help`.
/// `mailroom serve` answers the unsubscribe and subscribe links.
/// Settings come from config.toml; `mailroom <command> --help` explains each command.
#[derive(Debug, Parser)]
#[command(name = "mailroom", version, about, verbatim_doc_comment)]
pub struct Cli {
    /// The config file (TOML). Every key can also be set as
    /// MAILROOM_<SECTION>__<KEY> in the environment.
    #[arg(long, global = true, value_name = "PATH", default_value = config::DEFAULT_PATH)]
    pub config: PathBuf,
    /// More log output (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    Check(check::Args),
    Render(render::Args),
    Subscribers(subscribers::Args),
    Send(send::Args),
    Status(status::Args),
    Serve(serve::Args),
    Inbound(inbound::Args),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check(args) => check::run(args, &config::load(&cli.config)?),
        Command::Render(args) => render::run(args, &config::load(&cli.config)?),
        Command::Subscribers(args) => subscribers::run(args, &config::load(&cli.config)?),
        Command::Send(args) => send::run(args, &config::load(&cli.config)?),
        Command::Status(args) => status::run(args, &config::load(&cli.config)?),
        Command::Serve(args) => serve::run(args, &config::load(&cli.config)?),
        Command::Inbound(args) => inbound::run(args, &config::load(&cli.config)?),
    }
}

/// The exit status for an error: 2 when the input could not be read or
/// parsed, 1 otherwise.
pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    if err.chain().any(|e| e.is::<crate::issue::IssueError>()) {
        2
    } else {
        1
    }
}

/// Runs `work` on a single-threaded runtime with the store open, and closes
/// the store afterwards whatever `work` returned.
pub(crate) fn with_store<T>(
    settings: &config::Settings,
    work: impl AsyncFnOnce(&crate::store::Store) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    use anyhow::Context;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let store = crate::store::Store::open(&settings.database).await?;
        let result = work(&store).await;
        store.close().await;
        result
    })
}

/// Sets up `tracing` for `cli`: `serve` logs one line per request by default.
pub fn init_logging_for(cli: &Cli) {
    if matches!(cli.command, Command::Serve(_)) && cli.verbose == 0 {
        init_filter("mailroom=info,warn");
    } else {
        init_logging(cli.verbose);
    }
}

/// Sets up `tracing` on stderr: warnings by default, more with `-v`.
pub fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "mailroom=debug,info",
        _ => "trace",
    };
    init_filter(default);
}

fn init_filter(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .try_init();
}
