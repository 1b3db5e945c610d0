//! The command line: [`Cli`] and its subcommands ([`Command`]), and a
//! quicker parse of it ([`Cli::parse_quickly`]).
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use super::{
    LogFormat, campaigns, check, completions, config, dkim, inbound, init, man, preview, render,
    send, serve, status, subscribers,
};

/// Defines [`Cli`] and [`Command`], and from the same lists their twins
/// `QuickCli` and `QuickCommand` for [`Cli::parse_quickly`], so that the
/// two cannot drift apart.
macro_rules! command_line {
    (
        $(#[$cli_attr:meta])*
        struct Cli { $($(#[$field_attr:meta])* $field:ident: $ty:ty,)* }
        enum Command { $($variant:ident($args:ty),)* }
    ) => {
        #[derive(Debug, Parser)]
        $(#[$cli_attr])*
        pub struct Cli {
            $($(#[$field_attr])* pub $field: $ty,)*
            #[command(subcommand)]
            pub command: Command,
        }

        /// The subcommands.
        #[derive(Debug, Subcommand)]
        pub enum Command {
            $($variant($args),)*
        }

        #[derive(Debug, Parser)]
        $(#[$cli_attr])*
        pub(super) struct QuickCli {
            $($(#[$field_attr])* $field: $ty,)*
            #[command(subcommand)]
            command: QuickCommand,
        }

        /// [`Command`], each subcommand's arguments built only when it is
        /// the one given.
        #[derive(Debug, Subcommand)]
        #[command(defer = true)]
        enum QuickCommand {
            $($variant($args),)*
        }

        impl From<QuickCli> for Cli {
            fn from(quick: QuickCli) -> Self {
                Cli {
                    $($field: quick.$field,)*
                    command: match quick.command {
                        $(QuickCommand::$variant(args) => Command::$variant(args),)*
                    },
                }
            }
        }
    };
}

command_line! {
    /// mailroom delivers a weekly Markdown newsletter by email.
    ///
    /// A typical week, on a finished issue:
    ///
    ///   mailroom check  content/2025-11-12-this-week-in-rust.md          # errors block a send
    ///   mailroom render content/2025-11-12-this-week-in-rust.md          # out/*.html, *.txt, *.eml
    ///   mailroom preview content/2025-11-12-this-week-in-rust.md --open  # live, in the browser
    ///   mailroom send   content/2025-11-12-this-week-in-rust.md --test   # to [preview] recipients
    ///   mailroom send   content/2025-11-12-this-week-in-rust.md          # to every subscriber
    ///   mailroom status --watch                                           # follow it from anywhere
    ///   mailroom campaigns pause 663                                      # hold it; `resume 663`, rerun send
    ///   mailroom campaigns                                                # every campaign, rehearsals too
    ///
    /// Start with `mailroom init DIR`: a config.toml, the store and the signing key.
    /// Subscribers live in the store (`[database] url`): see `mailroom subscribers --help`.
    /// `mailroom serve` answers the unsubscribe and subscribe links.
    /// Settings: built-in defaults, then config.toml (optional), then MAILROOM_<SECTION>__<KEY>;
    /// `mailroom config` prints them. `mailroom <command> --help` explains each command.
    ///
    /// Exit status: 0 done, 1 an error (`error: …` on stderr), 2 unreadable
    /// input, 3 a send finished with failed recipients, 75 retry later, 130
    /// interrupted, 141 stdout closed early (`mailroom … | head`).
    #[command(
        name = "mailroom",
        version = env!("MAILROOM_VERSION"),
        about,
        verbatim_doc_comment
    )]
    struct Cli {
        /// The config file (TOML); relative paths in it follow its directory.
        /// Default: ./config.toml if it exists, else the built-in defaults.
        /// Every key can also be set as MAILROOM_<SECTION>__<KEY>.
        #[arg(long, global = true, value_name = "PATH", env = crate::config::CONFIG_VAR)]
        config: Option<PathBuf>,
        /// More log output (-v: debug, -vv: trace). RUST_LOG overrides.
        #[arg(short, long, global = true, action = clap::ArgAction::Count)]
        verbose: u8,
        /// How lines on stderr look: `text`, or `json` (one JSON object per
        /// line with a timestamp, notes and warnings included; for services).
        #[arg(
            long,
            global = true,
            value_enum,
            default_value_t,
            value_name = "FORMAT"
        )]
        log_format: LogFormat,
    }
    enum Command {
        Init(init::Args),
        Config(config::Args),
        Check(check::Args),
        Render(render::Args),
        Preview(preview::Args),
        Subscribers(subscribers::Args),
        Send(send::Args),
        Status(status::Args),
        Campaigns(campaigns::Args),
        Serve(serve::Args),
        Inbound(inbound::Args),
        Completions(completions::Args),
        Man(man::Args),
        Dkim(dkim::Args),
    }
}

impl Cli {
    /// Parses the command line as [`Cli::parse`] does, building only the
    /// subcommand given: clap builds every subcommand's arguments otherwise,
    /// 0.26 ms of `render`'s ~6.5 (paired, 400 runs). On any error, and on
    /// `--help`, `--version` or `help`, the whole command line parses again,
    /// so the message and the exit are exactly [`Cli::parse`]'s.
    pub fn parse_quickly() -> Self {
        match QuickCli::try_parse() {
            Ok(quick) => quick.into(),
            Err(_) => Cli::parse(),
        }
    }
}
