//! Signed tokens in emailed links (unsubscribe now, more purposes later).
//!
//! A token is `<subscriber id>.<mac>`: the MAC is HMAC-SHA256 over the
//! purpose and the id, keyed with the web secret, truncated to 128 bits and
//! written as base64url without padding. Tokens never expire (an unsubscribe
//! link must keep working); rotating the secret invalidates them, which is
//! what `[web] previous_secrets_file` is for.
use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::config::WebSettings;
use crate::domain::SubscriberId;

/// MAC bytes kept in a token (128 bits).
const MAC_LEN: usize = 16;

/// What a token allows; part of what is signed, so a token for one purpose
/// never works for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// One-click unsubscribe (link and List-Unsubscribe).
    Unsubscribe,
}

impl Purpose {
    fn tag(self) -> &'static [u8] {
        match self {
            Purpose::Unsubscribe => b"mailroom-unsubscribe-v1",
        }
    }
}

/// Signs `id` for `purpose`; the result is URL-safe (`[0-9A-Za-z_.-]`).
pub fn sign(secret: &[u8], purpose: Purpose, id: SubscriberId) -> String {
    format!(
        "{}.{}",
        id.get(),
        URL_SAFE_NO_PAD.encode(mac(secret, purpose, id))
    )
}

/// The subscriber a token was signed for, if it is genuine (compared in
/// constant time). Callers with several valid secrets try each.
pub fn verify(secret: &[u8], purpose: Purpose, token: &str) -> Option<SubscriberId> {
    let (id, mac_text) = token.split_once('.')?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let id = SubscriberId::new(id.parse().ok()?);
    let given = URL_SAFE_NO_PAD.decode(mac_text).ok()?;
    let expected = mac(secret, purpose, id);
    bool::from(given.ct_eq(&expected)).then_some(id)
}

fn mac(secret: &[u8], purpose: Purpose, id: SubscriberId) -> [u8; MAC_LEN] {
    let mut m =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    m.update(purpose.tag());
    m.update(&[0]);
    m.update(&id.get().to_be_bytes());
    let full = m.finalize().into_bytes();
    let mut out = [0; MAC_LEN];
    out.copy_from_slice(&full[..MAC_LEN]);
    out
}

/// The signing secret: `MAILROOM_WEB__SECRET`, else the contents of
/// `[web] secret_file` (trimmed), else `None`. An empty secret is an error.
pub fn load_secret(web: &WebSettings) -> anyhow::Result<Option<Vec<u8>>> {
    let secret = match (&web.secret, &web.secret_file) {
        (Some(s), _) => s.expose().as_bytes().to_vec(),
        (None, Some(path)) => read_secret_file(path)?,
        (None, None) => return Ok(None),
    };
    if secret.len() < 16 {
        anyhow::bail!(
            "the token secret is {} bytes; use at least 16 random bytes, e.g. \
             `openssl rand -hex 32`",
            secret.len()
        );
    }
    Ok(Some(secret))
}

fn read_secret_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `[web] secret_file` `{}`", path.display()))?;
    Ok(text.trim().as_bytes().to_vec())
}

/// The error for a real send without a secret, saying how to set one.
pub fn missing_secret() -> anyhow::Error {
    anyhow::anyhow!(
        "no token secret: unsubscribe links must be signed; set `MAILROOM_WEB__SECRET` \
         (e.g. `export MAILROOM_WEB__SECRET=$(openssl rand -hex 32)`) or point \
         `[web] secret_file` at a file holding it, and give the web service the same secret"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_signed_token_verifies_to_its_subscriber() {
        let id = SubscriberId::new(4711);
        let token = sign(KEY, Purpose::Unsubscribe, id);
        assert!(token.starts_with("4711."), "{token}");
        assert!(
            token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        );
        assert_eq!(verify(KEY, Purpose::Unsubscribe, &token), Some(id));
    }

    #[test]
    fn tampered_or_foreign_tokens_are_refused() {
        let token = sign(KEY, Purpose::Unsubscribe, SubscriberId::new(7));
        let (_, mac) = token.split_once('.').unwrap();
        assert_eq!(verify(KEY, Purpose::Unsubscribe, &format!("8.{mac}")), None);
        assert_eq!(
            verify(b"another key entirely!!", Purpose::Unsubscribe, &token),
            None
        );
        let mut flipped = token.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(verify(KEY, Purpose::Unsubscribe, &flipped), None);
        for bad in ["", ".", "7", "7.", "x.AAAA", "-7.AAAA"] {
            assert_eq!(verify(KEY, Purpose::Unsubscribe, bad), None, "{bad}");
        }
    }
}
