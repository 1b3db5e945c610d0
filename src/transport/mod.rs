//! Where messages go: an SMTP relay, `.eml` files in an outbox directory,
//! or nowhere (benchmarks). One [`Transport`], chosen by `[send] transport`,
//! serves both `send` (a connection per worker) and `serve`'s confirmation
//! mailer (a connection per message). Outcomes are typed ([`Delivery`],
//! [`ConnectError`], [`RelayRefused`]) so callers branch on variants.
mod data;
pub mod outbox;
mod reply;
pub mod smtp;

use std::path::PathBuf;

pub use reply::{ConnectError, Delivery, EnhancedCode, RelayRefused, from_reply};
pub use smtp::{After, Connection, Relay, is_loopback};

use crate::config::{self, Settings};
use crate::domain::EmailAddress;

/// Where messages go.
#[derive(Clone)]
pub enum Transport {
    /// `.eml` files in this directory.
    Outbox(PathBuf),
    /// An SMTP relay.
    Smtp(Relay),
    /// Nowhere (benchmarks): the message is built, then dropped.
    Discard,
}

impl Transport {
    /// The transport `[send] transport` names, checked: the `[smtp]`
    /// settings are validated (nothing is connected yet), and outbox files
    /// go into `outbox_subdir` of `[outbox] dir`, created here.
    pub fn from_settings(settings: &Settings, outbox_subdir: &str) -> anyhow::Result<Self> {
        Ok(match settings.send.transport {
            config::Transport::Outbox => {
                let dir = settings.outbox.dir.join(outbox_subdir);
                outbox::prepare(&dir)?;
                Transport::Outbox(dir)
            }
            config::Transport::Smtp => Transport::Smtp(Relay::from_settings(&settings.smtp)?),
            config::Transport::Discard => Transport::Discard,
        })
    }

    /// Delivers one message on a connection of its own (opened and closed
    /// here); an outbox file is named `<name>.eml`.
    pub async fn send_one(
        &self,
        from: &lettre::Address,
        to: &EmailAddress,
        name: &str,
        message: &[u8],
    ) -> Delivery {
        match self {
            Transport::Outbox(dir) => outbox::write(dir, name, message),
            Transport::Smtp(relay) => match relay.connect().await {
                Ok(mut conn) => {
                    let (outcome, _) = conn.send(from, to, message).await;
                    conn.quit().await;
                    outcome
                }
                Err(ConnectError::Refused(refused)) => Delivery::RelayRefused(refused.to_string()),
                Err(away) => Delivery::Deferred(away.reason()),
            },
            Transport::Discard => Delivery::Sent(format!("250 discarded {} bytes", message.len())),
        }
    }
}
