//! `mailroom inbound --imap`: the unseen messages of an IMAP mailbox.
use std::process::ExitCode;

use super::Inputs;

/// The mailbox and credentials, from the environment only.
pub struct Account;

impl Account {
    /// Reads MAILROOM_IMAP_URL, MAILROOM_IMAP_USER, MAILROOM_IMAP_PASSWORD.
    pub fn from_env() -> anyhow::Result<Self> {
        anyhow::bail!("`inbound --imap` is not available in this build; use --maildir or a pipe")
    }
}

/// Handles every unseen message of the mailbox.
pub async fn sweep(_inputs: &Inputs<'_>, _account: &Account) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`inbound --imap` is not available in this build")
}
