//! `[dkim]` and `[bounces]`: how messages are signed and where bounces go.
//! Both are empty by default: then nothing is signed and no VERP address
//! is built.
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Secret;

/// DKIM signing (RFC 6376): an RSA key, and optionally an Ed25519 key whose
/// signature is added next to the RSA one (RFC 8463).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DkimSettings {
    /// The signing domain (`d=`), e.g. `this-week-in-rust.org`: the From
    /// domain or a parent of it, so that DMARC aligns. Unset: no signing.
    pub domain: Option<String>,
    /// The selector (`s=`): the key is published at
    /// `<selector>._domainkey.<domain>`.
    pub selector: Option<String>,
    /// The RSA private key (PEM, PKCS#8 or PKCS#1), e.g. from
    /// `mailroom dkim keygen`.
    pub private_key_file: Option<PathBuf>,
    /// The RSA private key itself (PEM): only from `MAILROOM_DKIM__PRIVATE_KEY`.
    pub private_key: Option<Secret>,
    /// The selector of the optional second, Ed25519 signature.
    pub ed25519_selector: Option<String>,
    /// The Ed25519 private key (PEM, PKCS#8).
    pub ed25519_private_key_file: Option<PathBuf>,
    /// The Ed25519 key itself: only from `MAILROOM_DKIM__ED25519_PRIVATE_KEY`.
    pub ed25519_private_key: Option<Secret>,
}

/// Where bounces (DSNs) and feedback reports are delivered, and when soft
/// bounces add up to a hard one.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct BouncesSettings {
    /// The bounce mailbox, e.g. `bounces@bounces.this-week-in-rust.org`.
    /// Each recipient's envelope sender becomes `bounces+<tag>@…` (VERP).
    /// Unset: none.
    pub address: Option<String>,
    /// This many soft bounces (4.x.x, delayed) of one subscriber within
    /// `soft_bounce_days` make a hard bounce (0: never).
    pub soft_bounce_limit: u32,
    /// The window for `soft_bounce_limit`, in days.
    pub soft_bounce_days: u32,
}

impl Default for BouncesSettings {
    fn default() -> Self {
        Self {
            address: None,
            soft_bounce_limit: 3,
            soft_bounce_days: 30,
        }
    }
}

impl BouncesSettings {
    /// `address`, parsed.
    pub fn mailbox(&self) -> anyhow::Result<Option<crate::domain::EmailAddress>> {
        use anyhow::Context;
        self.address
            .as_deref()
            .map(|a| {
                crate::domain::EmailAddress::parse(a)
                    .with_context(|| format!("`[bounces] address` is `{a}`"))
            })
            .transpose()
    }
}
