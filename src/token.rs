//! Signed tokens in emailed links: unsubscribe, confirm a subscription, undo
//! an unsubscribe.
//!
//! A token is `<subscriber id>.<mac>` or, for purposes that expire,
//! `<subscriber id>.<expiry>.<mac>` (expiry in Unix seconds). The MAC is
//! HMAC-SHA256 over the purpose, the id and the expiry, keyed with the web
//! secret, truncated to 128 bits and written as base64url without padding.
//! A token names a row number, never an address, and cannot be forged
//! without the secret. Unsubscribe tokens never expire (the link in an old
//! issue must keep working); rotating the secret would invalidate them,
//! which is what `[web] previous_secrets_file` and [`Keyring`] are for.
use std::fmt;
use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};
use time::OffsetDateTime;

pub mod verp;

use crate::config::WebSettings;
use crate::domain::SubscriberId;

/// MAC bytes kept in a token (128 bits).
const MAC_LEN: usize = 16;

/// No genuine token is longer; longer input is refused before any work.
pub const MAX_TOKEN_LEN: usize = 80;

/// What a token allows; part of what is signed, so a token for one purpose
/// never works for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// One-click unsubscribe (link and List-Unsubscribe). Never expires.
    Unsubscribe,
    /// Confirm a web subscription (double opt-in). Expires.
    Confirm,
    /// Undo an unsubscribe from its confirmation page. Expires.
    Resubscribe,
}

impl Purpose {
    fn tag(self) -> &'static [u8] {
        match self {
            Purpose::Unsubscribe => b"mailroom-unsubscribe-v1",
            Purpose::Confirm => b"mailroom-confirm-v1",
            Purpose::Resubscribe => b"mailroom-resubscribe-v1",
        }
    }

    /// Whether tokens for this purpose carry an expiry.
    pub fn expires(self) -> bool {
        !matches!(self, Purpose::Unsubscribe)
    }
}

/// Signs `id` for a purpose that never expires; the result is URL-safe
/// (`[0-9A-Za-z_.-]`).
pub fn sign(secret: &[u8], purpose: Purpose, id: SubscriberId) -> String {
    debug_assert!(!purpose.expires(), "{purpose:?} tokens need an expiry");
    format!(
        "{}.{}",
        id.get(),
        URL_SAFE_NO_PAD.encode(mac(secret, purpose, id, None))
    )
}

/// Signs `id` for `purpose`, valid until `expires` (inclusive, to the second).
pub fn sign_until(
    secret: &[u8],
    purpose: Purpose,
    id: SubscriberId,
    expires: OffsetDateTime,
) -> String {
    let exp = expires.unix_timestamp();
    format!(
        "{}.{exp}.{}",
        id.get(),
        URL_SAFE_NO_PAD.encode(mac(secret, purpose, id, Some(exp)))
    )
}

/// The subscriber a non-expiring token was signed for, if it is genuine
/// (compared in constant time). [`Keyring::verify`] tries several secrets
/// and checks expiry.
pub fn verify(secret: &[u8], purpose: Purpose, token: &str) -> Option<SubscriberId> {
    let parsed = Parsed::new(purpose, token)?;
    bool::from(parsed.matches(secret)).then_some(parsed.id)
}

/// A token split into its parts (no secret involved yet).
struct Parsed {
    purpose: Purpose,
    id: SubscriberId,
    expires: Option<i64>,
    mac: [u8; MAC_LEN],
}

impl Parsed {
    fn new(purpose: Purpose, token: &str) -> Option<Self> {
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let mut parts = token.split('.');
        let id = SubscriberId::new(number(parts.next()?)?);
        let expires = if purpose.expires() {
            Some(number(parts.next()?)?)
        } else {
            None
        };
        let given = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            purpose,
            id,
            expires,
            mac: given.try_into().ok()?,
        })
    }

    fn matches(&self, secret: &[u8]) -> Choice {
        self.mac
            .ct_eq(&mac(secret, self.purpose, self.id, self.expires))
    }
}

/// A plain decimal number (no sign, no leading `+`) that fits an i64.
fn number(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn mac(secret: &[u8], purpose: Purpose, id: SubscriberId, expires: Option<i64>) -> [u8; MAC_LEN] {
    let mut m =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    m.update(purpose.tag());
    m.update(&[0]);
    m.update(&id.get().to_be_bytes());
    if let Some(exp) = expires {
        m.update(&exp.to_be_bytes());
    }
    let full = m.finalize().into_bytes();
    let mut out = [0; MAC_LEN];
    out.copy_from_slice(&full[..MAC_LEN]);
    out
}

/// The current secret, which signs, and older ones still accepted.
#[derive(Clone)]
pub struct Keyring {
    /// The current secret first.
    keys: Vec<Vec<u8>>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keyring({} secret(s), redacted)", self.keys.len())
    }
}

impl Keyring {
    /// A keyring that signs with `current` and also accepts `previous`.
    pub fn new(current: Vec<u8>, previous: Vec<Vec<u8>>) -> Self {
        let mut keys = vec![current];
        keys.extend(previous);
        Self { keys }
    }

    /// The secret from the environment or `[web] secret_file`, plus the
    /// lines of `[web] previous_secrets_file`; an error if there is none.
    pub fn load(web: &WebSettings) -> anyhow::Result<Self> {
        let current = load_secret(web)?.ok_or_else(missing_secret)?;
        let previous = match &web.previous_secrets_file {
            Some(path) => read_previous(path)?,
            None => Vec::new(),
        };
        Ok(Self::new(current, previous))
    }

    /// Every secret, the current one first.
    pub(crate) fn all(&self) -> impl Iterator<Item = &[u8]> {
        self.keys.iter().map(Vec::as_slice)
    }

    /// The current secret (what `send` signs unsubscribe links with).
    pub fn current(&self) -> &[u8] {
        &self.keys[0]
    }

    /// Signs with the current secret; `expires` is required for purposes
    /// that expire and ignored otherwise.
    pub fn sign(&self, purpose: Purpose, id: SubscriberId, expires: OffsetDateTime) -> String {
        if purpose.expires() {
            sign_until(self.current(), purpose, id, expires)
        } else {
            sign(self.current(), purpose, id)
        }
    }

    /// The subscriber `token` was signed for, if it is genuine under any
    /// secret and (when it expires) not past its expiry at `now`. Every
    /// secret is tried, so the time taken does not say which one matched.
    pub fn verify(
        &self,
        purpose: Purpose,
        token: &str,
        now: OffsetDateTime,
    ) -> Option<SubscriberId> {
        let parsed = Parsed::new(purpose, token)?;
        let genuine = self
            .keys
            .iter()
            .fold(Choice::from(0), |ok, key| ok | parsed.matches(key));
        let fresh = parsed.expires.is_none_or(|exp| now.unix_timestamp() <= exp);
        (bool::from(genuine) && fresh).then_some(parsed.id)
    }
}

/// The signing secret: `MAILROOM_WEB__SECRET`, else the contents of
/// `[web] secret_file` (trimmed), else `None`. An empty secret is an error.
pub fn load_secret(web: &WebSettings) -> anyhow::Result<Option<Vec<u8>>> {
    let secret = match (&web.secret, &web.secret_file) {
        (Some(s), _) => s.expose().as_bytes().to_vec(),
        (None, Some(path)) => read_secret_file(path)?,
        (None, None) => return Ok(None),
    };
    check_length(&secret, "the token secret")?;
    Ok(Some(secret))
}

fn check_length(secret: &[u8], what: &str) -> anyhow::Result<()> {
    if secret.len() < 16 {
        anyhow::bail!(
            "{what} is {} bytes; use at least 16 random bytes, e.g. `openssl rand -hex 32`",
            secret.len()
        );
    }
    Ok(())
}

fn read_secret_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text.trim().as_bytes().to_vec()),
        // Never a fresh key here: links already sent were signed with the
        // lost one, and `serve` would reject every one of them.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(anyhow::anyhow!(
            "the signing key `[web] secret_file` `{}` does not exist; every unsubscribe link \
             already sent was signed with it, so restore it from your backup (it belongs next \
             to the store). A new store gets one from `mailroom init`; or set \
             MAILROOM_WEB__SECRET",
            path.display()
        )),
        Err(e) => {
            Err(e).with_context(|| format!("cannot read `[web] secret_file` `{}`", path.display()))
        }
    }
}

/// Creates a new signing key at `path`: 32 random bytes as hex, readable by
/// the owner only. Only `init` and the creation of a new store call this;
/// an existing file is an error, never overwritten.
pub fn create_key_file(path: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let bytes: [u8; 32] = rand::random();
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create the signing key `{}`", path.display()))?;
    file.write_all(format!("{secret}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write the signing key `{}`", path.display()))
}

/// One secret a line; blank lines and `#` comments are skipped.
fn read_previous(path: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read `[web] previous_secrets_file` `{}`",
            path.display()
        )
    })?;
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let what = format!("`{}` line {}", path.display(), n + 1);
        check_length(line.as_bytes(), &what)?;
        keys.push(line.as_bytes().to_vec());
    }
    Ok(keys)
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
mod tests;
