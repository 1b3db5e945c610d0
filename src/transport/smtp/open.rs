//! Opening a connection to the relay: greeting, EHLO, TLS (implicit or
//! STARTTLS, certificates always verified, with `[smtp] ca_file` as extra
//! roots) and AUTH, telling a relay that refuses us (retrying cannot help)
//! from one that is away (retry later).
use anyhow::Context;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::Mechanism;
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::Ehlo;
use lettre::transport::smtp::extension::Extension;

use super::{Connection, Relay, helo};
use crate::config::TlsMode;
use crate::transport::reply::{ConnectError, RelayRefused};

impl Relay {
    pub(super) async fn connect_inner(&self) -> Result<Connection, ConnectError> {
        let addr = (self.host.as_str(), self.port);
        let mut helo_only = false;
        let mut conn = if self.tls == TlsMode::Tls {
            let tls = Some(self.tls_parameters().map_err(|e| self.away(e))?);
            let t = Some(self.timeouts.connect);
            AsyncSmtpConnection::connect_tokio1(addr, t, &self.hello, tls, None)
                .await
                .map_err(|e| self.refusal("the TLS handshake or EHLO", e, true))?
        } else {
            match AsyncSmtpConnection::connect_with_transport(
                Box::new(self.tcp().await?),
                &self.hello,
            )
            .await
            {
                Ok(conn) => conn,
                // A 5xx to EHLO: try HELO on a new connection (RFC 5321
                // §4.1.4); if that fails too, the EHLO refusal is the news.
                Err(e) if e.is_permanent() => {
                    helo_only = true;
                    let helo = helo::HeloStream::new(self.tcp().await?);
                    AsyncSmtpConnection::connect_with_transport(Box::new(helo), &self.hello)
                        .await
                        .map_err(|_| self.refusal("the greeting or EHLO (and HELO)", e, false))?
                }
                Err(e) => return Err(self.refusal("the greeting or EHLO", e, false)),
            }
        };
        if self.tls == TlsMode::Starttls {
            if !conn.can_starttls() {
                return Err(self.refused("STARTTLS", "not offered".into(), NO_STARTTLS));
            }
            let tls = self.tls_parameters().map_err(|e| self.away(e))?;
            conn.starttls(tls, &self.hello)
                .await
                .map_err(|e| self.refusal("STARTTLS", e, true))?;
        }
        if let Some(creds) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], creds)
                .await
                .map_err(|e| {
                    // A 5xx, or no mechanism in common; a 4xx or a dropped
                    // connection is the relay being away.
                    if e.is_permanent() || e.is_client() {
                        self.refused("AUTH", error_text(&e), BAD_AUTH)
                    } else {
                        self.away(anyhow::anyhow!(error_text(&e)))
                    }
                })?;
        }
        let smtputf8 = conn.server_info().supports_feature(Extension::SmtpUtfEight);
        let pipelining = !helo_only && self.offers_pipelining(&mut conn).await?;
        Ok(Connection {
            conn,
            timeouts: self.timeouts,
            smtputf8,
            pipelining,
        })
    }

    /// Whether the relay offers PIPELINING (RFC 2920). lettre keeps only
    /// the EHLO keywords it uses, so the session says EHLO once more (RFC
    /// 5321 §4.1.4 allows it; it resets nothing a new transaction needs)
    /// and reads the keyword from that reply: one round trip per
    /// connection, against two saved per message. A refused second EHLO
    /// means no pipelining; a lost connection is the relay being away.
    async fn offers_pipelining(
        &self,
        conn: &mut AsyncSmtpConnection,
    ) -> Result<bool, ConnectError> {
        let ehlo = tokio::time::timeout(
            self.timeouts.command,
            conn.command(Ehlo::new(self.hello.clone())),
        );
        match ehlo.await {
            Ok(Ok(reply)) => Ok(reply.message().any(|line| {
                line.split_ascii_whitespace()
                    .next()
                    .is_some_and(|k| k.eq_ignore_ascii_case("PIPELINING"))
            })),
            Ok(Err(e)) if e.status().is_some() => Ok(false),
            Ok(Err(e)) => Err(self.away(anyhow::anyhow!(error_text(&e)))),
            Err(_) => Err(self.away(anyhow::anyhow!(
                "no reply to EHLO within {}s",
                self.timeouts.command.as_secs()
            ))),
        }
    }

    /// Our own socket, to set TCP_NODELAY (lettre does not): the
    /// end-of-data `.` is a separate small write that Nagle's algorithm
    /// would otherwise hold until the body is acked.
    async fn tcp(&self) -> Result<tokio::net::TcpStream, ConnectError> {
        let addr = (self.host.as_str(), self.port);
        let tcp = tokio::time::timeout(self.timeouts.connect, tokio::net::TcpStream::connect(addr))
            .await
            .map_err(|_| {
                self.away(anyhow::anyhow!(
                    "no connection within {}s (`[smtp] connect_timeout_secs`)",
                    self.timeouts.connect.as_secs()
                ))
            })?
            .map_err(|e| self.away(e))?;
        tcp.set_nodelay(true).map_err(|e| self.away(e))?;
        Ok(tcp)
    }

    /// `e` as a [`RelayRefused`] when retrying cannot help (a 5xx reply, or
    /// with `tls` a failed handshake), else as it is (the relay is away).
    fn refusal(&self, stage: &'static str, e: SmtpError, tls: bool) -> ConnectError {
        if e.is_permanent() {
            self.refused(stage, error_text(&e), CHECK_RELAY)
        } else if tls && (e.is_tls() || is_handshake_failure(&e)) {
            self.refused(stage, error_text(&e), BAD_CERT)
        } else {
            self.away(anyhow::anyhow!(error_text(&e)))
        }
    }

    fn refused(&self, stage: &'static str, reply: String, fix: &'static str) -> ConnectError {
        ConnectError::Refused(RelayRefused {
            relay: self.name(),
            stage,
            reply,
            fix,
        })
    }

    /// The refusal of a 5xx `reply` to MAIL FROM.
    pub fn sender_refused(&self, reply: String) -> RelayRefused {
        RelayRefused {
            relay: self.name(),
            stage: "the sender at MAIL FROM",
            reply,
            fix: BAD_SENDER,
        }
    }

    /// Certificate verification is always on: the system's roots plus
    /// `[smtp] ca_file`, for `[smtp] host`.
    fn tls_parameters(&self) -> anyhow::Result<TlsParameters> {
        let mut builder = TlsParameters::builder(self.host.clone());
        if let Some(roots) = &self.roots {
            builder = builder.add_root_certificate(roots.clone());
        }
        Ok(builder.build()?)
    }
}

const NO_STARTTLS: &str = "`[smtp] tls = \"starttls\"` requires it and mailroom never falls \
     back to cleartext: use the relay's TLS port with `tls = \"tls\"`, or a relay that offers it";
const BAD_AUTH: &str = "check `[smtp] username` and `MAILROOM_SMTP__PASSWORD`, and that the \
     relay offers AUTH PLAIN or LOGIN";
const BAD_CERT: &str = "the relay's certificate could not be verified for `[smtp] host`; for a \
     private relay, point `[smtp] ca_file` at the PEM of its CA (or self-signed certificate)";
const BAD_SENDER: &str = "a relay configuration problem, not the recipients': check that the \
     relay lets this account send as `[newsletter] from`, and `[smtp] username`";
const CHECK_RELAY: &str = "a relay configuration problem: check `[smtp]` and the relay's rules";

/// The certificates in the PEM file `path`.
pub(super) fn read_roots(path: &std::path::Path) -> anyhow::Result<Certificate> {
    let pem = std::fs::read(path)
        .with_context(|| format!("cannot read `[smtp] ca_file` `{}`", path.display()))?;
    let cert = Certificate::from_pem(&pem).with_context(|| {
        format!(
            "`[smtp] ca_file` `{}` is not a PEM certificate file",
            path.display()
        )
    })?;
    if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
        anyhow::bail!(
            "`[smtp] ca_file` `{}` holds no `BEGIN CERTIFICATE` block",
            path.display()
        );
    }
    Ok(cert)
}

/// The text of an SMTP error, each cause once (see `cause`).
fn error_text(e: &SmtpError) -> String {
    super::cause::describe(e)
}

/// Whether a TLS handshake failed on the certificate or the protocol
/// (tokio-rustls reports those as `InvalidData` I/O errors), as opposed to
/// the network.
fn is_handshake_failure(e: &SmtpError) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::InvalidData;
        }
        source = s.source();
    }
    false
}
