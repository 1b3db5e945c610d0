//! `mailroom inbound --imap`: the unseen messages of an IMAP mailbox,
//! applied like a Maildir's, and marked `\Seen` once the store has
//! committed them (what is kept stays unseen).
//!
//! The client is hand-written on purpose: it needs five commands (LOGIN,
//! SELECT, UID SEARCH, UID FETCH, UID STORE) and literals, about 150
//! lines, where `async-imap` would add its own protocol stack (imap-proto,
//! nom, async-channel and a futures-io bridge) to the build. Every read is
//! bounded in size and time.
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

use super::{BATCH, Inputs, Tally, apply, receive};
use crate::inbound::MAX_MESSAGE_BYTES;

/// How long one reply may take.
const TIMEOUT: Duration = Duration::from_secs(120);
/// A reply line longer than this is refused (a SEARCH of 100,000 UIDs fits).
const MAX_LINE: usize = 4 << 20;

/// The mailbox and credentials, from the environment only.
pub struct Account {
    tls: bool,
    host: String,
    port: u16,
    mailbox: String,
    user: String,
    password: String,
    /// Extra trusted roots (a private server's CA or self-signed cert).
    ca_file: Option<std::path::PathBuf>,
}

impl Account {
    /// Reads MAILROOM_IMAP_URL (`imaps://host[:port]/MAILBOX`, or
    /// `imap://` on loopback only), MAILROOM_IMAP_USER,
    /// MAILROOM_IMAP_PASSWORD and the optional MAILROOM_IMAP_CA_FILE.
    pub fn from_env() -> anyhow::Result<Self> {
        let var = |name: &str| {
            std::env::var(name).with_context(|| {
                format!(
                    "`inbound --imap` needs {name} in the environment (never in the config file)"
                )
            })
        };
        let text = var("MAILROOM_IMAP_URL")?;
        let url = url::Url::parse(&text).with_context(|| {
            format!("MAILROOM_IMAP_URL is `{text}`, expected imaps://host/MAILBOX")
        })?;
        let tls = match url.scheme() {
            "imaps" => true,
            "imap" => false,
            other => bail!(
                "MAILROOM_IMAP_URL has scheme `{other}`, expected `imaps` (or `imap` on loopback)"
            ),
        };
        let host = url
            .host_str()
            .context("MAILROOM_IMAP_URL has no host")?
            .trim_matches(['[', ']'])
            .to_owned();
        if !tls && !crate::transport::is_loopback(&host) {
            bail!(
                "MAILROOM_IMAP_URL is `imap://{host}`: cleartext IMAP is only allowed on loopback; \
                 use `imaps://` (TLS on port 993)"
            );
        }
        let mailbox = url.path().trim_start_matches('/');
        Ok(Self {
            tls,
            port: url.port().unwrap_or(if tls { 993 } else { 143 }),
            mailbox: if mailbox.is_empty() {
                "INBOX".into()
            } else {
                mailbox.to_owned()
            },
            host,
            user: var("MAILROOM_IMAP_USER")?,
            password: var("MAILROOM_IMAP_PASSWORD")?,
            ca_file: std::env::var_os("MAILROOM_IMAP_CA_FILE").map(Into::into),
        })
    }
}

/// Handles every unseen message of the mailbox.
pub async fn sweep(inputs: &Inputs<'_>, account: &Account) -> anyhow::Result<ExitCode> {
    let where_ = format!(
        "imap://{}:{}/{}",
        account.host, account.port, account.mailbox
    );
    let tcp = tokio::time::timeout(
        TIMEOUT,
        tokio::net::TcpStream::connect((account.host.as_str(), account.port)),
    )
    .await
    .map_err(|_| anyhow::anyhow!("timed out"))
    .and_then(|r| r.map_err(Into::into))
    .with_context(|| format!("cannot connect to `{where_}`"))?;
    let tally = if account.tls {
        let stream = tls(account, tcp).await?;
        session(inputs, account, stream).await
    } else {
        session(inputs, account, tcp).await
    }
    .with_context(|| format!("IMAP `{where_}`"))?;
    tally.summary(&format!("`{where_}`"));
    Ok(tally.exit())
}

async fn tls(
    account: &Account,
    tcp: tokio::net::TcpStream,
) -> anyhow::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    use rustls::pki_types::pem::PemObject;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = Vec::new();
    if let Some(path) = &account.ca_file {
        for cert in rustls::pki_types::CertificateDer::pem_file_iter(path)
            .with_context(|| format!("cannot read MAILROOM_IMAP_CA_FILE `{}`", path.display()))?
        {
            roots.push(cert.with_context(|| format!("`{}` is not PEM", path.display()))?);
        }
    }
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(roots, provider.clone())?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(account.host.clone())
        .with_context(|| format!("`{}` is not a host name", account.host))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    tokio::time::timeout(TIMEOUT, connector.connect(name, tcp))
        .await
        .map_err(|_| anyhow::anyhow!("the TLS handshake timed out"))?
        .context("the TLS handshake failed (is the certificate trusted? MAILROOM_IMAP_CA_FILE adds a root)")
}

/// One logged-in session.
struct Session<S> {
    io: BufReader<S>,
    tag: u32,
}

async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    inputs: &Inputs<'_>,
    account: &Account,
    stream: S,
) -> anyhow::Result<Tally> {
    let mut s = Session {
        io: BufReader::new(stream),
        tag: 0,
    };
    let greeting = s.line().await?;
    if !greeting.starts_with(b"* OK") {
        bail!("the server did not greet with `* OK`");
    }
    s.command(&format!(
        "LOGIN {} {}",
        quote(&account.user),
        quote(&account.password)
    ))
    .await
    .context("LOGIN failed; check MAILROOM_IMAP_USER and MAILROOM_IMAP_PASSWORD")?;
    s.command(&format!("SELECT {}", quote(&account.mailbox)))
        .await?;
    let mut uids = Vec::new();
    for (line, _) in s.command("UID SEARCH UNSEEN").await? {
        if let Some(rest) = line.strip_prefix(b"* SEARCH") {
            uids.extend(
                String::from_utf8_lossy(rest)
                    .split_whitespace()
                    .filter_map(|u| u.parse::<u32>().ok()),
            );
        }
    }
    let mut tally = Tally::default();
    for chunk in uids.chunks(BATCH) {
        let set = chunk
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let sizes = s
            .command(&format!("UID FETCH {set} (UID RFC822.SIZE)"))
            .await?;
        let small: Vec<u32> = sizes
            .iter()
            .filter_map(|(l, _)| Some((field(l, b"UID ")?, field(l, b"RFC822.SIZE ")?)))
            .filter(|(_, size)| (*size as usize) <= MAX_MESSAGE_BYTES)
            .map(|(uid, _)| uid)
            .collect();
        let mut bodies = std::collections::HashMap::new();
        if !small.is_empty() {
            let set = small
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",");
            for (line, literal) in s
                .command(&format!("UID FETCH {set} (UID BODY.PEEK[])"))
                .await?
            {
                if let (Some(uid), Some(body)) = (field(&line, b"UID "), literal) {
                    bodies.insert(uid, body);
                }
            }
        }
        let batch: Vec<_> = chunk
            .iter()
            .map(|u| receive(&inputs.ctx, bodies.get(u).map(Vec::as_slice)))
            .collect();
        let applied = apply(inputs, &batch).await?;
        let used: Vec<String> = chunk
            .iter()
            .zip(&applied)
            .filter(|(_, a)| !a.is_kept())
            .map(|(u, _)| u.to_string())
            .collect();
        if !used.is_empty() {
            s.command(&format!(
                "UID STORE {} +FLAGS.SILENT (\\Seen)",
                used.join(",")
            ))
            .await?;
        }
        for (uid, a) in chunk.iter().zip(&applied) {
            tally.add(&format!("uid {uid}"), a);
        }
    }
    let _ = s.command("LOGOUT").await;
    Ok(tally)
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    /// Sends a command; returns its untagged lines, each with the literal
    /// it carried, once the tagged reply is `OK`.
    async fn command(&mut self, cmd: &str) -> anyhow::Result<Vec<(Vec<u8>, Option<Vec<u8>>)>> {
        self.tag += 1;
        let tag = format!("m{}", self.tag);
        self.io
            .get_mut()
            .write_all(format!("{tag} {cmd}\r\n").as_bytes())
            .await?;
        self.io.get_mut().flush().await?;
        let verb = cmd.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        let mut out = Vec::new();
        loop {
            let mut line = self.line().await?;
            let mut literal = None;
            if let Some(n) = literal_len(&line) {
                let mut body = vec![0; n];
                tokio::time::timeout(TIMEOUT, self.io.read_exact(&mut body))
                    .await
                    .map_err(|_| anyhow::anyhow!("the server stopped sending"))??;
                literal = Some(body);
                line.extend_from_slice(&self.line().await?);
            }
            if let Some(rest) = line.strip_prefix(format!("{tag} ").as_bytes()) {
                if rest.starts_with(b"OK") {
                    return Ok(out);
                }
                let why = String::from_utf8_lossy(rest).trim().to_owned();
                let verb = if verb.starts_with("LOGIN") {
                    "LOGIN"
                } else {
                    &verb
                };
                bail!("`{verb}` was refused: `{why}`");
            }
            out.push((line, literal));
        }
    }

    /// One line (without CRLF), bounded.
    async fn line(&mut self) -> anyhow::Result<Vec<u8>> {
        let mut line = Vec::new();
        let mut limited = (&mut self.io).take(MAX_LINE as u64);
        let n = tokio::time::timeout(TIMEOUT, limited.read_until(b'\n', &mut line))
            .await
            .map_err(|_| anyhow::anyhow!("the server stopped answering"))??;
        if n == 0 || !line.ends_with(b"\n") {
            bail!("the server closed the connection (or sent a line over {MAX_LINE} bytes)");
        }
        while line.last().is_some_and(|b| matches!(b, b'\r' | b'\n')) {
            line.pop();
        }
        Ok(line)
    }
}

/// `n` of a line ending in `{n}` (a literal follows).
fn literal_len(line: &[u8]) -> Option<usize> {
    let body = line.strip_suffix(b"}")?;
    let open = body.iter().rposition(|b| *b == b'{')?;
    let n: usize = std::str::from_utf8(&body[open + 1..]).ok()?.parse().ok()?;
    (n <= MAX_MESSAGE_BYTES * 2).then_some(n)
}

/// The number after `name` in a FETCH line.
fn field(line: &[u8], name: &[u8]) -> Option<u32> {
    let at = line.windows(name.len()).position(|w| w == name)? + name.len();
    let digits: Vec<u8> = line[at..]
        .iter()
        .copied()
        .take_while(u8::is_ascii_digit)
        .collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

/// An IMAP quoted string.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_fields_and_quoting_read_as_imap_writes_them() {
        assert_eq!(literal_len(b"* 1 FETCH (UID 7 BODY[] {1234}"), Some(1234));
        assert_eq!(literal_len(b"* OK done"), None);
        assert_eq!(literal_len(b"* 1 FETCH {99999999999}"), None, "bounded");
        assert_eq!(
            field(b"* 3 FETCH (UID 17 RFC822.SIZE 2048)", b"UID "),
            Some(17)
        );
        assert_eq!(
            field(b"* 3 FETCH (UID 17 RFC822.SIZE 2048)", b"RFC822.SIZE "),
            Some(2048)
        );
        assert_eq!(quote(r#"pa"ss\word"#), r#""pa\"ss\\word""#);
    }
}
