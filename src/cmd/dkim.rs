//! `mailroom dkim`: make a signing key and print the DNS record to publish.
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::message::dkim::{Algorithm, PrivateKey, key};
use crate::output::{note, outln};

/// DKIM keys: make one, or print the DNS record of one you have.
///
/// A week's set-up, once:
///
///   mailroom dkim keygen --selector mail2025 --domain this-week-in-rust.org
///   # publish the TXT record it prints, then in config.toml:
///   #   [dkim]
///   #   domain = "this-week-in-rust.org"
///   #   selector = "mail2025"
///   #   private_key_file = "dkim-mail2025.pem"
///   mailroom dkim record        # the record again, from [dkim]
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// The `dkim` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Keygen(Keygen),
    Record(Record),
}

/// Write a new private key (mode 0600, never over an existing file) and
/// print the DNS TXT record to publish for it.
///
/// RSA-2048 is what every receiver verifies (Gmail does not accept Ed25519
/// alone); an Ed25519 key is for an optional second signature
/// (`[dkim] ed25519_selector`, `ed25519_private_key_file`).
#[derive(Debug, clap::Args)]
pub struct Keygen {
    /// The selector: the record goes under `<selector>._domainkey.<domain>`.
    /// A new selector per key lets you rotate without a gap.
    #[arg(long)]
    pub selector: String,
    /// The signing domain: the From domain or a parent of it.
    #[arg(long)]
    pub domain: String,
    /// `rsa` (2048 bits, what every receiver verifies) or `ed25519` (for
    /// a second signature only).
    #[arg(long, value_enum, default_value = "rsa")]
    pub algorithm: Algorithm,
    /// Where to write the key [default: dkim-<selector>.pem].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Print the DNS TXT record for an existing key: `--key FILE`, or the RSA
/// key `[dkim]` names (`private_key_file` or `MAILROOM_DKIM__PRIVATE_KEY`).
#[derive(Debug, clap::Args)]
pub struct Record {
    /// A PEM private key file (instead of the configured key).
    #[arg(long, value_name = "FILE", requires_all = ["selector", "domain"])]
    pub key: Option<PathBuf>,
    /// The selector (with `--key`).
    #[arg(long)]
    pub selector: Option<String>,
    /// The domain (with `--key`).
    #[arg(long)]
    pub domain: Option<String>,
}

/// Runs `dkim`; the config (`--config`, else `./config.toml` if present)
/// is read only by `record` without `--key`.
pub fn run(args: Args, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Keygen(k) => keygen(k),
        Command::Record(r) => record(r, config),
    }
}

fn keygen(args: Keygen) -> anyhow::Result<ExitCode> {
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from(format!("dkim-{}.pem", args.selector)));
    // Validates the names before any work: they go into DNS and a header.
    let name = record_name(&args.selector, &args.domain)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&out)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => anyhow::anyhow!(
                "`{}` already exists; a key is never overwritten: pass another `--out` or \
                 remove it first (mail signed with it fails once its record is gone)",
                out.display()
            ),
            _ => anyhow::Error::new(e).context(format!("cannot create `{}`", out.display())),
        })?;
    let pem = key::generate(args.algorithm);
    file.write_all(pem.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write `{}`", out.display()))?;
    let key = PrivateKey::from_pem(pem.as_bytes()).context("the new key")?;
    note!(
        "dkim: wrote a new {} private key to `{}` (mode 0600; keep it secret and back it up)",
        args.algorithm.tag(),
        out.display()
    );
    print_record(&name, &key)?;
    let (sel_key, file_key) = match args.algorithm {
        Algorithm::Rsa => ("selector", "private_key_file"),
        Algorithm::Ed25519 => ("ed25519_selector", "ed25519_private_key_file"),
    };
    note!(
        "\nthen, once the record resolves, in config.toml:\n\n  [dkim]\n  domain = \"{}\"\n  \
         {sel_key} = \"{}\"\n  {file_key} = \"{}\"\n",
        args.domain,
        args.selector,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn record(args: Record, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let (name, key) = match (args.key, args.selector, args.domain) {
        (Some(path), Some(selector), Some(domain)) => {
            let pem = std::fs::read(&path)
                .with_context(|| format!("cannot read `{}`", path.display()))?;
            let key = PrivateKey::from_pem(&pem)
                .with_context(|| format!("the key in `{}`", path.display()))?;
            (record_name(&selector, &domain)?, key)
        }
        _ => {
            let settings = crate::config::load(config)?.settings;
            let signer = crate::message::dkim::Signer::from_settings(&settings.dkim)?.context(
                "no `[dkim]` settings; set `[dkim] domain`, `selector` and `private_key_file`, \
                 or pass `--key FILE --selector S --domain D`",
            )?;
            let dkim = &settings.dkim;
            let (selector, domain) = (dkim.selector.as_deref(), dkim.domain.as_deref());
            let name = record_name(selector.unwrap_or_default(), domain.unwrap_or_default())?;
            (name, signer.into_keys().swap_remove(0))
        }
    };
    print_record(&name, &key)?;
    Ok(ExitCode::SUCCESS)
}

/// `<selector>._domainkey.<domain>`, with both checked to be DNS names.
fn record_name(selector: &str, domain: &str) -> anyhow::Result<String> {
    crate::message::dkim::check_name("--selector", selector)?;
    crate::message::dkim::check_name("--domain", domain)?;
    Ok(format!(
        "{selector}._domainkey.{}",
        domain.to_ascii_lowercase()
    ))
}

/// The record on stdout in zone-file form; how to read it on stderr.
fn print_record(name: &str, key: &PrivateKey) -> anyhow::Result<()> {
    let value = key.dns_record();
    note!("\npublish this DNS TXT record:\n\n  name:  {name}\n  value: {value}\n");
    note!("in zone-file form (strings of at most 255 characters):\n");
    outln!("{name}. IN TXT ( {} )", key::txt_strings(&value).join(" "))
}
