//! DKIM keys: PEM in, the signing primitive, the DNS record out, and new keys.
//!
//! Signatures come from `ring` (already linked for TLS by lettre/rustls):
//! constant-time, and RSA-2048 in about the time `openssl speed` reports.
//! `ring` cannot generate RSA keys, so `keygen` uses the RustCrypto `rsa`
//! crate for that one step (and to write the public key as DER).
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::rand::SystemRandom;
use ring::signature::{self, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};

/// The key types mailroom signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Algorithm {
    /// `rsa-sha256`, 2048-bit: what every verifier (Gmail included) checks.
    Rsa,
    /// `ed25519-sha256` (RFC 8463): only as a second signature.
    Ed25519,
}

impl Algorithm {
    /// The `a=` tag value.
    pub fn tag(self) -> &'static str {
        match self {
            Algorithm::Rsa => "rsa-sha256",
            Algorithm::Ed25519 => "ed25519-sha256",
        }
    }

    /// The `k=` value of the DNS record.
    pub fn key_type(self) -> &'static str {
        match self {
            Algorithm::Rsa => "rsa",
            Algorithm::Ed25519 => "ed25519",
        }
    }
}

/// A private key ready to sign.
#[derive(Debug)]
pub enum PrivateKey {
    Rsa(RsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// Why a key could not be used. The key itself never appears in a message.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("it is not a PEM private key (`-----BEGIN PRIVATE KEY-----`): {0}")]
    NotPem(String),
    #[error("its PEM label is `{0}`; expected `PRIVATE KEY` or `RSA PRIVATE KEY`")]
    Label(String),
    #[error(
        "it is not a usable RSA (2048 to 4096 bits) or Ed25519 key: {0}; make one with \
         `mailroom dkim keygen`"
    )]
    Rejected(String),
    #[error("it is a {found:?} key where [dkim] expects {wanted:?}")]
    WrongAlgorithm { found: Algorithm, wanted: Algorithm },
}

impl PrivateKey {
    /// Parses a PEM private key: PKCS#8 (RSA or Ed25519) or PKCS#1 (RSA).
    pub fn from_pem(pem: &[u8]) -> Result<Self, KeyError> {
        let (label, der) =
            pem_rfc7468::decode_vec(pem).map_err(|e| KeyError::NotPem(e.to_string()))?;
        let rejected = |e: ring::error::KeyRejected| KeyError::Rejected(e.to_string());
        match label {
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der).map(Self::Rsa).map_err(rejected),
            "PRIVATE KEY" => match RsaKeyPair::from_pkcs8(&der) {
                Ok(k) => Ok(Self::Rsa(k)),
                Err(rsa) => Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
                    .map(Self::Ed25519)
                    .map_err(|_| rejected(rsa)),
            },
            other => Err(KeyError::Label(other.to_owned())),
        }
    }

    /// Which algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            PrivateKey::Rsa(_) => Algorithm::Rsa,
            PrivateKey::Ed25519(_) => Algorithm::Ed25519,
        }
    }

    /// Signs the canonical header data: RSASSA-PKCS1-v1_5 over SHA-256 of
    /// it, or (RFC 8463) PureEd25519 over its SHA-256 digest.
    pub fn sign(&self, rng: &SystemRandom, data: &[u8]) -> Vec<u8> {
        match self {
            PrivateKey::Rsa(k) => {
                let mut sig = vec![0; k.public().modulus_len()];
                k.sign(&signature::RSA_PKCS1_SHA256, rng, data, &mut sig)
                    .expect("RSA signing of an in-memory buffer cannot fail");
                sig
            }
            PrivateKey::Ed25519(k) => {
                let digest = ring::digest::digest(&ring::digest::SHA256, data);
                k.sign(digest.as_ref()).as_ref().to_vec()
            }
        }
    }

    /// The public key as DKIM publishes it (`p=`): SubjectPublicKeyInfo DER
    /// for RSA, the raw 32 bytes for Ed25519.
    pub fn public_key(&self) -> Vec<u8> {
        match self {
            PrivateKey::Rsa(k) => rsa::RsaPublicKey::from_pkcs1_der(k.public_key().as_ref())
                .and_then(|p| p.to_public_key_der().map_err(rsa::pkcs1::Error::from))
                .expect("ring's RSA public key is valid PKCS#1")
                .into_vec(),
            PrivateKey::Ed25519(k) => k.public_key().as_ref().to_vec(),
        }
    }

    /// The TXT record value: `v=DKIM1; k=…; p=…`.
    pub fn dns_record(&self) -> String {
        format!(
            "v=DKIM1; k={}; p={}",
            self.algorithm().key_type(),
            STANDARD.encode(self.public_key())
        )
    }
}

/// A new private key as PEM (PKCS#8): RSA-2048 or Ed25519.
pub fn generate(algorithm: Algorithm) -> String {
    let der = match algorithm {
        Algorithm::Rsa => {
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
                .expect("generating an RSA-2048 key");
            key.to_pkcs8_der()
                .expect("encoding a fresh RSA key")
                .as_bytes()
                .to_vec()
        }
        Algorithm::Ed25519 => Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .expect("generating an Ed25519 key")
            .as_ref()
            .to_vec(),
    };
    pem_rfc7468::encode_string("PRIVATE KEY", pem_rfc7468::LineEnding::LF, &der)
        .expect("PEM-encoding a key")
}

/// `value` split into quoted strings of at most 255 characters, as a DNS TXT
/// record must be (zone-file syntax).
pub fn txt_strings(value: &str) -> Vec<String> {
    value
        .as_bytes()
        .chunks(255)
        .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
        .collect()
}
