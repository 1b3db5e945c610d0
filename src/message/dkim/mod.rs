//! DKIM signing (RFC 6376): `rsa-sha256`, relaxed/relaxed, with an optional
//! second `ed25519-sha256` signature (RFC 8463).
//!
//! Two ways in: [`Signer::sign_message`] signs any whole message (the
//! confirmation emails of `serve`), and [`BodyPlan`] signs an issue's
//! personalized copies. An issue's body is the same for every recipient
//! except its slots, so the plan canonicalizes the shared segments and
//! hashes everything before the first slot once per issue; per recipient
//! only the rest of the body is hashed (already canonical) and one
//! signature per key is made. `benches/dkim.rs` measures both paths.
mod canon;
pub mod key;
mod plan;

use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::rand::SystemRandom;
use sha2::{Digest, Sha256};

pub use key::{Algorithm, KeyError, PrivateKey};
pub use plan::BodyPlan;

use crate::config::{DkimSettings, Secret};

/// Header fields every signature covers, listed even when absent (a field
/// that is listed but absent can't be added later without breaking it).
const SIGNED: [&str; 10] = [
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
];

/// Covered when the message has them.
const SIGNED_IF_PRESENT: [&str; 2] = ["feedback-id", "reply-to"];

/// Listed once more than they occur ("oversigned"), so that nobody can add
/// a second From or a second List-Unsubscribe pair to a signed message.
const OVERSIGNED: [&str; 3] = ["from", "list-unsubscribe", "list-unsubscribe-post"];

/// One signing identity: domain, selector and key.
#[derive(Debug)]
struct Identity {
    selector: String,
    key: PrivateKey,
}

/// Signs messages for one domain with one or two keys.
pub struct Signer {
    domain: String,
    /// The RSA identity first, then the optional Ed25519 one.
    identities: Vec<Identity>,
    /// `t=`, the signing time (Unix seconds): fixed, or now at each signature.
    time: Option<i64>,
    rng: SystemRandom,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let selectors: Vec<&str> = self.identities.iter().map(|i| &*i.selector).collect();
        write!(
            f,
            "Signer(d={}, s={selectors:?}, keys redacted)",
            self.domain
        )
    }
}

impl Signer {
    /// A signer for `domain` with `selector` and a `key` (RSA, for any real use).
    pub fn new(domain: &str, selector: &str, key: PrivateKey) -> anyhow::Result<Self> {
        check_name("[dkim] domain", domain)?;
        check_name("[dkim] selector", selector)?;
        Ok(Self {
            domain: domain.to_ascii_lowercase(),
            identities: vec![Identity {
                selector: selector.to_owned(),
                key,
            }],
            time: None,
            rng: SystemRandom::new(),
        })
    }

    /// Stamps every signature with `t=` `time` instead of the current time.
    pub fn at_time(mut self, time: i64) -> Self {
        self.time = Some(time);
        self
    }

    /// Adds a second signature under `selector` with `key`.
    pub fn with_second(mut self, selector: &str, key: PrivateKey) -> anyhow::Result<Self> {
        check_name("[dkim] ed25519_selector", selector)?;
        self.identities.push(Identity {
            selector: selector.to_owned(),
            key,
        });
        Ok(self)
    }

    /// The signer `[dkim]` describes, with its keys read, or `None` when it
    /// names no domain and no key. Half a configuration is an error.
    pub fn from_settings(s: &DkimSettings) -> anyhow::Result<Option<Self>> {
        let any_key = s.private_key.is_some() || s.private_key_file.is_some();
        let (domain, selector) = match (&s.domain, &s.selector) {
            (None, None) if !any_key && s.ed25519_selector.is_none() => return Ok(None),
            (Some(d), Some(sel)) => (d, sel),
            (None, _) => anyhow::bail!(
                "`[dkim]` is half set: `[dkim] domain` is missing; set it to the signing domain (the From domain or a parent of it), or remove the other `[dkim]` settings"
            ),
            (_, None) => anyhow::bail!(
                "`[dkim]` is half set: `[dkim] selector` is missing; set it to the selector the key is published under (`mailroom dkim keygen` printed it)"
            ),
        };
        let rsa = load(
            s.private_key.as_ref(),
            s.private_key_file.as_deref(),
            Algorithm::Rsa,
            "MAILROOM_DKIM__PRIVATE_KEY",
            "private_key_file",
        )?
        .context("`[dkim]` has no key: set `[dkim] private_key_file` (make one with `mailroom dkim keygen`) or `MAILROOM_DKIM__PRIVATE_KEY`")?;
        let mut signer = Self::new(domain, selector, rsa)?;
        let ed = load(
            s.ed25519_private_key.as_ref(),
            s.ed25519_private_key_file.as_deref(),
            Algorithm::Ed25519,
            "MAILROOM_DKIM__ED25519_PRIVATE_KEY",
            "ed25519_private_key_file",
        )?;
        match (ed, &s.ed25519_selector) {
            (Some(key), Some(sel)) => signer = signer.with_second(sel, key)?,
            (None, None) => {}
            (Some(_), None) => anyhow::bail!(
                "`[dkim]` has an Ed25519 key but no `ed25519_selector`; set it to the selector the key is published under"
            ),
            (None, Some(_)) => anyhow::bail!(
                "`[dkim] ed25519_selector` is set but there is no Ed25519 key: set `[dkim] ed25519_private_key_file` or `MAILROOM_DKIM__ED25519_PRIVATE_KEY`"
            ),
        }
        Ok(Some(signer))
    }

    /// The keys, the RSA one first.
    pub fn into_keys(self) -> Vec<PrivateKey> {
        self.identities.into_iter().map(|i| i.key).collect()
    }

    /// The signing domain (`d=`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// `message` with DKIM-Signature header(s) in front.
    pub fn sign_message(&self, message: &[u8]) -> Vec<u8> {
        let split = memchr::memmem::find(message, b"\r\n\r\n").map_or(message.len(), |i| i + 4);
        let (head, body) = message.split_at(split);
        let bh: [u8; 32] = Sha256::digest(canon::body(body)).into();
        let mut out = self.headers(head, &bh);
        out.extend_from_slice(message);
        out
    }

    /// The DKIM-Signature header field(s), CRLF-terminated, for a message
    /// whose header block is `head` and whose canonical body hashes to `bh`.
    pub fn headers(&self, head: &[u8], bh: &[u8; 32]) -> Vec<u8> {
        let fields = canon::fields(head);
        let names: Vec<Vec<u8>> = fields.iter().map(|f| canon::name(f)).collect();
        let h = signed_names(&names);
        let mut data = Vec::with_capacity(1024);
        select(&fields, &names, &h, &mut data);
        let time = self
            .time
            .unwrap_or_else(|| time::OffsetDateTime::now_utc().unix_timestamp());
        let mut out = Vec::with_capacity(600 * self.identities.len());
        // Each signature is computed without the other (neither is in h=);
        // the RSA one comes first.
        for id in &self.identities {
            let mut field = format!(
                "DKIM-Signature: v=1; a={}; c=relaxed/relaxed; d={}; s={};\r\n\tt={}; h={};\r\n\tbh={};\r\n\tb=",
                id.key.algorithm().tag(),
                self.domain,
                id.selector,
                time,
                fold_list(&h),
                STANDARD.encode(bh),
            );
            let mut signed = data.clone();
            canon::header(field.as_bytes(), &mut signed);
            let b = STANDARD.encode(id.key.sign(&self.rng, &signed));
            field.push_str(&fold_b64(&b));
            out.extend_from_slice(field.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out
    }
}

/// The h= list for a message with header names `present` (lowercase).
fn signed_names(present: &[Vec<u8>]) -> Vec<&'static str> {
    let count = |n: &str| present.iter().filter(|p| p == &n.as_bytes()).count();
    let mut h = Vec::new();
    for n in SIGNED {
        h.extend(std::iter::repeat_n(n, count(n).max(1)));
    }
    for n in SIGNED_IF_PRESENT {
        h.extend(std::iter::repeat_n(n, count(n)));
    }
    h.extend(OVERSIGNED);
    h
}

/// Appends the canonical fields named in `h`, each name taking the last
/// not-yet-used instance (RFC 6376 §5.4.2); names with none add nothing.
fn select(fields: &[&[u8]], names: &[Vec<u8>], h: &[&str], data: &mut Vec<u8>) {
    let mut used = vec![false; fields.len()];
    for want in h {
        let found = (0..fields.len())
            .rev()
            .find(|&i| !used[i] && names[i] == want.as_bytes());
        if let Some(i) = found {
            used[i] = true;
            canon::header(fields[i], data);
            data.extend_from_slice(b"\r\n");
        }
    }
}

/// `a:b:c`, folded so no header line gets much past 78 characters.
fn fold_list(h: &[&str]) -> String {
    let mut out = String::new();
    let mut col = 10;
    for (i, n) in h.iter().enumerate() {
        if i > 0 {
            out.push(':');
            col += 1;
        }
        if col + n.len() > 72 {
            out.push_str("\r\n\t ");
            col = 2;
        }
        out.push_str(n);
        col += n.len();
    }
    out
}

/// A base64 signature folded into 72-character lines.
fn fold_b64(b: &str) -> String {
    let chunks: Vec<&str> = b
        .as_bytes()
        .chunks(72)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    chunks.join("\r\n\t ")
}

/// A domain or selector must be a plain DNS name: it goes into a header
/// tag and a DNS query.
pub fn check_name(what: &str, value: &str) -> anyhow::Result<()> {
    let ok = !value.is_empty()
        && value.len() <= 253
        && value.split('.').all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    anyhow::ensure!(
        ok,
        "`{what}` is `{}`; expected a DNS name such as `example.org` or `mail2025`",
        value.escape_debug()
    );
    Ok(())
}

/// A key from the environment value or the file, checked to be `wanted`.
fn load(
    secret: Option<&Secret>,
    file: Option<&Path>,
    wanted: Algorithm,
    env: &str,
    key: &str,
) -> anyhow::Result<Option<PrivateKey>> {
    let (pem, source) = match (secret, file) {
        (Some(s), _) => (s.expose().as_bytes().to_vec(), format!("`{env}`")),
        (None, Some(path)) => (
            std::fs::read(path)
                .with_context(|| format!("cannot read `[dkim] {key}` `{}`", path.display()))?,
            format!("`{}`", path.display()),
        ),
        (None, None) => return Ok(None),
    };
    let key = PrivateKey::from_pem(&pem).with_context(|| format!("the DKIM key in {source}"))?;
    if key.algorithm() != wanted {
        return Err(KeyError::WrongAlgorithm {
            found: key.algorithm(),
            wanted,
        })
        .with_context(|| format!("the DKIM key in {source}"));
    }
    Ok(Some(key))
}

#[cfg(test)]
mod tests;
