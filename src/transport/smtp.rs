//! One SMTP connection through lettre's `AsyncSmtpConnection`, driven
//! command by command: a rejected recipient gets `RSET` and the connection
//! is kept (lettre's own `send` closes it on any negative reply), and every
//! reply has RFC 5321's timeout (§4.5.3.2): `[smtp] timeout_secs` (5
//! minutes) for each command, `data_timeout_secs` (10 minutes) for the
//! reply to the final `.`, whose loss makes the message a possible
//! duplicate rather than a plain retry.
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use lettre::Address;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate};
use lettre::transport::smtp::commands::{Data, Mail, Quit, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, MailParameter};
use lettre::transport::smtp::response::Response;

use super::data::DataBlock;
use super::reply::{self, ConnectError, Delivery};

mod cause;
mod helo;
mod open;
use crate::config::{SmtpSettings, TlsMode};
use crate::domain::EmailAddress;
use open::read_roots;

/// Everything needed to open connections to the relay; validated once.
#[derive(Clone)]
pub struct Relay {
    host: String,
    port: u16,
    tls: TlsMode,
    credentials: Option<Credentials>,
    timeouts: Timeouts,
    hello: ClientId,
    /// Extra trusted roots from `[smtp] ca_file`.
    roots: Option<Certificate>,
}

/// How long to wait, per RFC 5321 §4.5.3.2.
#[derive(Debug, Clone, Copy)]
struct Timeouts {
    /// The TCP connection and TLS handshake.
    connect: Duration,
    /// Each reply but the last.
    command: Duration,
    /// The reply to the final `.`.
    data: Duration,
}

impl Relay {
    /// Checks the `[smtp]` settings: `tls = "none"` only to a loopback host
    /// unless `allow_insecure`, and a password whenever there is a username.
    pub fn from_settings(s: &SmtpSettings) -> anyhow::Result<Self> {
        if s.tls == TlsMode::None && !is_loopback(&s.host) && !s.allow_insecure {
            anyhow::bail!(
                "`[smtp] tls = \"none\"` sends mail and passwords in clear to `{}`; use \
                 `starttls` or `tls`, or set `[smtp] allow_insecure = true` if you must",
                s.host
            );
        }
        let credentials = if s.username.is_empty() {
            None
        } else {
            let password = s.password.as_ref().with_context(|| {
                format!(
                    "`[smtp] username` is `{}` but no password is set; export \
                     `MAILROOM_SMTP__PASSWORD`",
                    s.username
                )
            })?;
            Some(Credentials::new(
                s.username.clone(),
                password.expose().to_owned(),
            ))
        };
        let roots = s.ca_file.as_deref().map(read_roots).transpose()?;
        let secs = |n: u64| Duration::from_secs(n.max(1));
        Ok(Self {
            roots,
            // `[::1]` and `::1` both name an IPv6 address; sockets want it bare.
            host: s
                .host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port: s.port,
            tls: s.tls,
            credentials,
            timeouts: Timeouts {
                connect: secs(s.connect_timeout_secs),
                command: secs(s.timeout_secs),
                data: secs(s.data_timeout_secs),
            },
            hello: ClientId::default(),
        })
    }

    /// `host:port` (`[::1]:25` for an IPv6 address), for messages.
    pub fn name(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Opens a connection: greeting, EHLO (HELO if the relay rejects it),
    /// TLS as configured, AUTH.
    pub async fn connect(&self) -> Result<Connection, ConnectError> {
        let t = self.timeouts;
        let limit = t.connect + t.command * 4;
        match tokio::time::timeout(limit, self.connect_inner()).await {
            Ok(result) => result,
            Err(_) => Err(self.away(anyhow::anyhow!("no answer within {}s", limit.as_secs()))),
        }
    }

    /// A connection failure that a later attempt may get past.
    fn away(&self, cause: impl Into<anyhow::Error>) -> ConnectError {
        ConnectError::Away {
            relay: self.name(),
            cause: cause.into().into(),
        }
    }
}

/// An open SMTP session that sends one message at a time.
pub struct Connection {
    conn: AsyncSmtpConnection,
    timeouts: Timeouts,
    smtputf8: bool,
    /// The relay offers PIPELINING (RFC 2920): MAIL, RCPT and DATA go out
    /// together.
    pipelining: bool,
}

/// What [`Connection::send`] left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// The session can carry another message.
    Reusable,
    /// The session is gone (timeout, drop, 421): reconnect.
    Broken,
}

impl Connection {
    /// Sends `message` from `from` to `to`: MAIL, RCPT, DATA, the bytes.
    pub async fn send(
        &mut self,
        from: &Address,
        to: &EmailAddress,
        message: &[u8],
    ) -> (Delivery, After) {
        let mut message = message.to_vec();
        self.send_gated(from, to, &mut message, async { true })
            .await
    }

    /// Like [`send`](Self::send), but awaits `gate` after the relay has
    /// accepted DATA and before the message goes out: the sender makes a
    /// durable note there that this message may reach its recipient. A
    /// `false` gate gives up the message untried. `message`'s buffer is
    /// lent to the DATA phase: it may come back as sent (dot-stuffed, with
    /// the end-of-data line), to be cleared and reused.
    pub async fn send_gated(
        &mut self,
        from: &Address,
        to: &EmailAddress,
        message: &mut Vec<u8>,
        gate: impl Future<Output = bool>,
    ) -> (Delivery, After) {
        let Ok(rcpt) = Address::from_str(to.as_str()) else {
            let reply = format!("mailroom: `{to}` is not an SMTP address");
            return (
                Delivery::Failed {
                    reply,
                    bounce: false,
                },
                After::Reusable,
            );
        };
        let mut params = Vec::new();
        if !to.as_str().is_ascii() {
            if !self.smtputf8 {
                let reply = format!("mailroom: `{to}` needs SMTPUTF8, which the relay lacks");
                return (
                    Delivery::Failed {
                        reply,
                        bounce: false,
                    },
                    After::Reusable,
                );
            }
            params.push(MailParameter::SmtpUtfEight);
        }
        let (t, last) = (self.timeouts.command, self.timeouts.data);
        let pipelining = self.pipelining;
        let c = &mut self.conn;
        let steps = async {
            let mail = Mail::new(Some(from.clone()), params);
            let rcpt = Rcpt::new(rcpt, vec![]);
            if pipelining {
                envelope_pipelined(c, t, mail, rcpt).await?;
            } else {
                step(t, "MAIL", c.command(mail))
                    .await
                    .map_err(Step::at_mail)?;
                step(t, "RCPT", c.command(rcpt)).await?;
                step(t, "DATA", c.command(Data)).await?;
            }
            if !gate.await {
                return Err(Step::Gated);
            }
            let end = match DataBlock::new(std::mem::take(message)) {
                Ok(block) => {
                    let end = step(last, "the message", c.command(&block)).await;
                    *message = block.into_bytes();
                    end
                }
                Err(bytes) => {
                    *message = bytes;
                    step(last, "the message", c.message(message)).await
                }
            };
            end.map_err(Step::after_data)
        };
        let result = steps.await;
        match result {
            Ok(resp) => (Delivery::Sent(reply_text(&resp)), After::Reusable),
            Err(Step::Reply(code, text)) => (refusal(code, &text, false), self.reset(code).await),
            Err(Step::SenderRefused(code, text)) => {
                (refusal(code, &text, true), self.reset(code).await)
            }
            // The relay refused MAIL or RCPT yet went on into DATA: the
            // session is out of step, so it is dropped mid-DATA (the relay
            // discards an unfinished message).
            Err(Step::Desync(code, text, sender)) => (refusal(code, &text, sender), After::Broken),
            Err(Step::Lost(why)) => (Delivery::Deferred(why), After::Broken),
            Err(Step::Unconfirmed(why)) => (Delivery::Unconfirmed(why), After::Broken),
            // Mid-DATA: the session cannot be reset cleanly; drop it.
            Err(Step::Gated) => (
                Delivery::NotTried("mailroom: stopped before sending".to_owned()),
                After::Broken,
            ),
        }
    }

    /// After a negative reply: `RSET` to keep the session, unless the
    /// relay is closing it (421) or does not answer.
    async fn reset(&mut self, code: u16) -> After {
        if code == 421 {
            return After::Broken;
        }
        match tokio::time::timeout(self.timeouts.command, self.conn.command(Rset)).await {
            Ok(Ok(_)) => After::Reusable,
            _ => After::Broken,
        }
    }

    /// Says goodbye (best effort, bounded by the timeout).
    pub async fn quit(mut self) {
        let _ = tokio::time::timeout(self.timeouts.command, self.conn.command(Quit)).await;
    }
}

/// Awaits one reply within `timeout`: a negative reply becomes its code and
/// text; a timeout or a network error means the session is lost.
async fn step(
    timeout: Duration,
    what: &str,
    fut: impl Future<Output = Result<Response, SmtpError>>,
) -> Result<Response, Step> {
    match tokio::time::timeout(timeout, fut).await {
        Err(_) => Err(Step::Lost(format!(
            "mailroom: no reply to {what} within {}s",
            timeout.as_secs()
        ))),
        Ok(Ok(resp)) => Ok(resp),
        Ok(Err(e)) => match e.status() {
            Some(code) => {
                let text = std::error::Error::source(&e)
                    .map(ToString::to_string)
                    .unwrap_or_default();
                Err(Step::Reply(code.to_string().parse().unwrap_or(451), text))
            }
            None => Err(Step::Lost(format!(
                "mailroom: connection lost at {what}: {e}"
            ))),
        },
    }
}

enum Step {
    Reply(u16, String),
    /// A 5xx to MAIL FROM: the sender, the same for every recipient.
    SenderRefused(u16, String),
    /// No reply (timeout, dropped connection) before the message was sent.
    Lost(String),
    /// No reply after the message, final `.` included, was sent.
    Unconfirmed(String),
    /// The sender's gate said not to send after all.
    Gated,
    /// A pipelined MAIL or RCPT was refused (`true`: the sender, as
    /// [`Step::SenderRefused`]), yet DATA was accepted.
    Desync(u16, String, bool),
}

/// What a refusal before the message means: the sender refused (a relay
/// problem, the run stops) or this recipient's outcome.
fn refusal(code: u16, text: &str, sender: bool) -> Delivery {
    if sender {
        Delivery::RelayRefused(format!("{code} {text}").trim_end().to_owned())
    } else {
        reply::from_reply(code, text)
    }
}

/// MAIL, RCPT and DATA in one write, then their three replies in order
/// (RFC 2920 PIPELINING): one round trip instead of three. Every reply is
/// read even after a refusal, so the session stays in step.
async fn envelope_pipelined(
    c: &mut AsyncSmtpConnection,
    t: Duration,
    mail: Mail,
    rcpt: Rcpt,
) -> Result<(), Step> {
    let batch = Envelope3(mail, rcpt);
    let mail = step(t, "MAIL", c.command(&batch))
        .await
        .map_err(Step::at_mail);
    if let Err(Step::Lost(why)) = mail {
        return Err(Step::Lost(why));
    }
    let rcpt = step(t, "RCPT", c.read_response()).await;
    if let Err(Step::Lost(why)) = rcpt {
        return Err(Step::Lost(why));
    }
    let data = step(t, "DATA", c.read_response()).await;
    match (mail.and(rcpt), data) {
        (Ok(_), data) => data.map(drop),
        (_, Err(Step::Lost(why))) => Err(Step::Lost(why)),
        (Err(Step::Reply(code, text)), Ok(_)) => Err(Step::Desync(code, text, false)),
        (Err(Step::SenderRefused(code, text)), Ok(_)) => Err(Step::Desync(code, text, true)),
        (Err(refused), _) => Err(refused),
    }
}

/// `MAIL FROM`, `RCPT TO` and `DATA`, written as one batch.
struct Envelope3(Mail, Rcpt);

impl std::fmt::Display for Envelope3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}{}", self.0, self.1, Data)
    }
}

impl Step {
    fn at_mail(self) -> Step {
        match self {
            Step::Reply(code, text) if code >= 500 => Step::SenderRefused(code, text),
            other => other,
        }
    }

    fn after_data(self) -> Step {
        match self {
            Step::Lost(why) => Step::Unconfirmed(format!(
                "{why} (after the whole message was sent: it may have been delivered)"
            )),
            other => other,
        }
    }
}

fn reply_text(resp: &Response) -> String {
    let lines: Vec<&str> = resp.message().collect();
    format!("{} {}", resp.code(), lines.join(" "))
        .trim_end()
        .to_owned()
}

/// Whether `host` names this machine: `localhost` or a loopback address.
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay(env: &[(&str, &str)]) -> anyhow::Result<Relay> {
        let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        let settings = crate::config::from_sources(include_str!("../../config.toml"), env)?;
        Relay::from_settings(&settings.smtp)
    }

    #[test]
    fn cleartext_is_refused_off_loopback_and_a_username_needs_the_password() {
        let remote = [
            ("MAILROOM_SMTP__TLS", "none"),
            ("MAILROOM_SMTP__HOST", "smtp.example.com"),
        ];
        let err = relay(&remote).err().expect("refused").to_string();
        assert!(err.contains("allow_insecure"), "{err}");
        let mut allowed = remote.to_vec();
        allowed.push(("MAILROOM_SMTP__ALLOW_INSECURE", "true"));
        assert!(relay(&allowed).is_ok());
        assert!(
            relay(&[("MAILROOM_SMTP__TLS", "none")]).is_ok(),
            "loopback is fine"
        );
        let user = [("MAILROOM_SMTP__USERNAME", "twir")];
        let err = relay(&user).err().expect("refused").to_string();
        assert!(err.contains("MAILROOM_SMTP__PASSWORD"), "{err}");
        let with_pw = [user[0], ("MAILROOM_SMTP__PASSWORD", "hunter2")];
        assert!(relay(&with_pw).is_ok());
    }

    #[test]
    fn a_missing_or_non_pem_ca_file_is_named_in_the_error() {
        let missing = [("MAILROOM_SMTP__CA_FILE", "/nonexistent/relay-ca.pem")];
        let err = format!("{:#}", relay(&missing).err().expect("refused"));
        assert!(
            err.contains("cannot read `[smtp] ca_file` `/nonexistent/relay-ca.pem`"),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let junk = junk.display().to_string();
        let err = format!(
            "{:#}",
            relay(&[("MAILROOM_SMTP__CA_FILE", &junk)]).err().unwrap()
        );
        assert!(err.contains("holds no `BEGIN CERTIFICATE` block"), "{err}");
    }

    #[test]
    fn bracketed_and_bare_ipv6_hosts_are_stored_bare_and_named_bracketed() {
        for host in ["[::1]", "::1"] {
            let r = relay(&[
                ("MAILROOM_SMTP__HOST", host),
                ("MAILROOM_SMTP__PORT", "2525"),
                ("MAILROOM_SMTP__TLS", "none"),
            ])
            .unwrap();
            assert_eq!(
                (r.host.as_str(), r.name()),
                ("::1", "[::1]:2525".to_owned())
            );
        }
    }

    #[test]
    fn the_final_reply_waits_ten_minutes_and_the_others_five_by_default() {
        let r = relay(&[]).unwrap();
        assert_eq!(r.timeouts.command, Duration::from_secs(300));
        assert_eq!(r.timeouts.data, Duration::from_secs(600));
    }

    #[test]
    fn only_loopback_hosts_count_as_local() {
        for h in ["localhost", "127.0.0.1", "::1", "[::1]", "127.8.9.10"] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["smtp.example.com", "10.0.0.1", "localhost.example.com"] {
            assert!(!is_loopback(h), "{h}");
        }
    }
}
