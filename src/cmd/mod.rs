//! The command line: one file per subcommand, each a thin `run` that wires stages.
use std::process::ExitCode;

use crate::config::{Loaded, Settings, Transport};
use crate::output::note;
pub use format::Format;
pub use line::{Cli, Command};
pub use logging::LogFormat;

pub mod campaigns;
pub mod check;
pub mod completions;
pub mod config;
pub mod dkim;
pub mod format;
pub mod inbound;
pub mod init;
mod line;
mod logging;
pub mod man;
pub mod preview;
pub mod render;
pub mod send;
pub mod serve;
pub mod status;
pub mod subscribers;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        // `dkim keygen` needs no config; `dkim record` reads it when it must.
        Command::Dkim(args) => dkim::run(args, cli.config.as_deref()),
        // `init` writes the config file, so it cannot read it first.
        Command::Init(args) => init::run(args, cli.config.as_deref()),
        // These describe the command line itself and need no settings.
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
        // `render` reads the issue while the config loads.
        Command::Render(args) => render::run(args, cli.config.as_deref()),
        command => dispatch(command, &crate::config::load(cli.config.as_deref())?),
    }
}

fn dispatch(command: Command, loaded: &Loaded) -> anyhow::Result<ExitCode> {
    let settings = &loaded.settings;
    match command {
        Command::Init(args) => init::run(args, loaded.file.as_deref()),
        Command::Dkim(args) => dkim::run(args, loaded.file.as_deref()),
        Command::Config(args) => config::run(args, loaded),
        Command::Check(args) => check::run(args, settings),
        Command::Preview(args) => preview::run(args, settings, loaded.file.as_deref()),
        Command::Subscribers(args) => subscribers::run(args, settings),
        Command::Send(args) => {
            check_relay_login(settings)?;
            if args.test.is_none() {
                say_store(loaded);
            }
            send::run(args, settings)
        }
        Command::Status(args) => {
            say_store(loaded);
            status::run(args, loaded)
        }
        Command::Serve(args) => {
            check_relay_login(settings)?;
            say_store(loaded);
            serve::run(args, settings)
        }
        Command::Campaigns(args) => {
            say_store(loaded);
            campaigns::run(args, settings)
        }
        Command::Inbound(args) => inbound::run(args, settings),
        Command::Completions(_) | Command::Man(_) | Command::Render(_) => {
            unreachable!("`run` routes these before loading the config")
        }
    }
}

/// One stderr line naming the store, so a run from the wrong directory or
/// with the wrong config shows it at once.
fn say_store(loaded: &Loaded) {
    let url = &loaded.settings.database.url;
    match &loaded.file {
        Some(_) => note!("store: {}", url.describe()),
        None => note!(
            "store: {} (no config file: built-in defaults)",
            url.describe()
        ),
    }
}

/// Commands that mail through the relay refuse a login without a password
/// (or the reverse) before doing anything.
fn check_relay_login(settings: &Settings) -> anyhow::Result<()> {
    if settings.send.transport == Transport::Smtp {
        settings.smtp.credentials()?;
    }
    Ok(())
}

/// The exit status for an error: 2 when the input could not be read or
/// parsed, 75 (EX_TEMPFAIL) when the relay is unreachable or answered 4xx
/// at the start (rerun later), 1 otherwise.
pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    use crate::transport::ConnectError;
    if err.chain().any(|e| e.is::<crate::issue::IssueError>()) {
        2
    } else if err
        .chain()
        .any(|e| matches!(e.downcast_ref(), Some(ConnectError::Away { .. })))
    {
        75
    } else {
        1
    }
}

/// Runs `work` on a single-threaded runtime with the existing store open
/// (a missing store is an error naming it), and closes the store
/// afterwards whatever `work` returned.
pub(crate) fn with_store<T>(
    settings: &Settings,
    work: impl AsyncFnOnce(&crate::store::Store) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    runtime()?.block_on(async {
        let store = crate::store::Store::open(&settings.database).await?;
        let store = with_erasure_keys(store, settings);
        report_merges(&store);
        let result = work(&store).await;
        store.close().await;
        result
    })
}

/// Like [`with_store`], but creates the store (and, with it, the signing
/// key) when it does not exist: for the commands that add subscribers.
pub(crate) fn with_new_store<T>(
    settings: &Settings,
    work: impl AsyncFnOnce(&crate::store::Store) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    runtime()?.block_on(async {
        let store = init::open_or_create(settings).await?;
        let store = with_erasure_keys(store, settings);
        report_merges(&store);
        let result = work(&store).await;
        store.close().await;
        result
    })
}

/// The store, able to recognise erased addresses when the token secret
/// is set (without it, a store holding erasures refuses to add anyone).
fn with_erasure_keys(store: crate::store::Store, settings: &Settings) -> crate::store::Store {
    match crate::token::Keyring::load(&settings.web) {
        Ok(keys) => store.with_erasure_keys(&keys),
        Err(_) => store,
    }
}

/// Tells the user which subscribers opening the store merged (the first
/// open after the upgrade that made addresses case-insensitive).
pub(crate) fn report_merges(store: &crate::store::Store) {
    use crate::output::{note, plural};
    let merged = store.merged();
    if merged.is_empty() {
        return;
    }
    let folded: usize = merged.iter().map(|m| m.merged.len()).sum();
    note!(
        "store: merged {} into the subscriber with the same address (letter case and the \
         spelling of a domain no longer matter; histories kept):",
        plural(folded as u64, "subscriber")
    );
    for m in merged {
        let others = m
            .merged
            .iter()
            .map(|e| format!("`{e}`"))
            .collect::<Vec<_>>()
            .join(", ");
        note!("  `{}` ← {others}, now `{}`", m.kept, m.status);
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Sets up `tracing` for `cli` (see `logging`): `serve` logs one line per
/// request by default.
pub fn init_logging_for(cli: &Cli) {
    let serve = matches!(cli.command, Command::Serve(_));
    logging::init(serve, cli.verbose, cli.log_format);
}

#[cfg(test)]
mod tests;
