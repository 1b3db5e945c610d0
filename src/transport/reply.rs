//! Typed outcomes: of a message from SMTP reply codes (never from reply
//! text) and enhanced status codes, and of opening a connection.

/// What happened to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// 2xx after DATA; the reply (the relay's queue id is in it).
    Sent(String),
    /// 4xx, a timeout or a dropped connection before the message was
    /// complete: retry later.
    Deferred(String),
    /// The whole message went out but its reply never came (a timeout or a
    /// dropped connection after the final `.`): the relay may have taken
    /// it. Retried later, and counted as a possible duplicate.
    Unconfirmed(String),
    /// 5xx: never retried. `bounce` when the enhanced code says the
    /// mailbox does not exist (`5.1.1`-style), which suppresses the address.
    Failed { reply: String, bounce: bool },
    /// Not tried at all (no connection, or stopping): back to the queue
    /// without spending an attempt.
    NotTried(String),
    /// The relay refused the sender (5xx at MAIL FROM): the same for every
    /// recipient, so a relay configuration problem, never a recipient's
    /// failure. The run stops; the row goes back untried.
    RelayRefused(String),
}

/// One line for people: what happened, then the relay's reply.
impl std::fmt::Display for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Delivery::Sent(reply) => write!(f, "sent: {reply}"),
            Delivery::Deferred(reply) => write!(f, "deferred, to retry later: {reply}"),
            Delivery::Unconfirmed(reply) => {
                write!(
                    f,
                    "no reply after the whole message (it may have arrived): {reply}"
                )
            }
            Delivery::Failed {
                reply,
                bounce: true,
            } => write!(f, "refused, no such mailbox: {reply}"),
            Delivery::Failed {
                reply,
                bounce: false,
            } => write!(f, "refused: {reply}"),
            Delivery::NotTried(why) => write!(f, "not tried: {why}"),
            Delivery::RelayRefused(reply) => write!(f, "the relay refused the sender: {reply}"),
        }
    }
}

/// The relay refused us before any recipient: a 5xx to the greeting, EHLO,
/// AUTH or MAIL FROM, a failed TLS handshake (an unverifiable
/// certificate), or no STARTTLS when it is required. Retrying cannot help
/// until the configuration changes, so a run stops at once.
#[derive(Debug, thiserror::Error)]
#[error("the relay `{relay}` refused {stage}: {reply}; {fix}")]
pub struct RelayRefused {
    pub relay: String,
    /// `EHLO`, `STARTTLS`, `AUTH`, `MAIL FROM`, `the TLS handshake`, ….
    pub stage: &'static str,
    pub reply: String,
    /// What to check.
    pub fix: &'static str,
}

/// Why `Relay::connect` opened no connection.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The relay refused us; retrying cannot help until `[smtp]` or the
    /// relay changes.
    #[error("cannot connect to the SMTP relay `{}`", .0.relay)]
    Refused(#[source] RelayRefused),
    /// The relay is away (unreachable, silent, a 4xx): try again later.
    #[error("cannot connect to the SMTP relay `{relay}`")]
    Away {
        relay: String,
        #[source]
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl ConnectError {
    /// One line for a ledger reply or a log: this error and its root cause.
    pub fn reason(&self) -> String {
        let mut root: &dyn std::error::Error = self;
        while let Some(next) = root.source() {
            root = next;
        }
        format!("{self}: {root}")
    }
}

/// The `X.Y.Z` enhanced status code (RFC 3463) at the start of reply text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnhancedCode {
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

impl EnhancedCode {
    /// Parses the code at the start of `text`, if there is one.
    pub fn parse(text: &str) -> Option<Self> {
        let word = text.split_ascii_whitespace().next()?;
        let mut parts = word.split('.');
        let class: u8 = parts.next()?.parse().ok()?;
        let subject: u16 = parts.next()?.parse().ok()?;
        let detail: u16 = parts.next()?.parse().ok()?;
        (parts.next().is_none() && matches!(class, 2 | 4 | 5)).then_some(Self {
            class,
            subject,
            detail,
        })
    }

    /// Whether the code says the address itself is bad for good: no such
    /// mailbox (X.1.1), bad domain (X.1.2), bad syntax (X.1.3), mailbox
    /// moved (X.1.6), domain accepts no mail (X.1.10), mailbox disabled
    /// (X.2.1), all permanent (class 5).
    pub fn is_bad_mailbox(self) -> bool {
        self.class == 5
            && matches!(
                (self.subject, self.detail),
                (1, 1) | (1, 2) | (1, 3) | (1, 6) | (1, 10) | (2, 1)
            )
    }
}

/// The outcome of a negative reply `code` (e.g. 451, 550) with `text`.
pub fn from_reply(code: u16, text: &str) -> Delivery {
    let reply = format!("{code} {text}").trim_end().to_owned();
    match code / 100 {
        5 => Delivery::Failed {
            bounce: EnhancedCode::parse(text).is_some_and(EnhancedCode::is_bad_mailbox),
            reply,
        },
        2 => Delivery::Sent(reply),
        _ => Delivery::Deferred(reply),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enhanced_codes_are_read_from_the_start_of_the_reply_only() {
        let c = EnhancedCode::parse("5.1.1 <x@example.com>: User unknown").unwrap();
        assert_eq!((c.class, c.subject, c.detail), (5, 1, 1));
        assert!(c.is_bad_mailbox());
        assert_eq!(EnhancedCode::parse("User unknown 5.1.1"), None);
        assert_eq!(EnhancedCode::parse("Ok: queued as 4XYZ"), None);
        assert_eq!(EnhancedCode::parse("3.1.1 nonsense"), None);
        assert!(
            !EnhancedCode::parse("5.7.1 relay denied")
                .unwrap()
                .is_bad_mailbox()
        );
        assert!(
            !EnhancedCode::parse("4.1.1 try later")
                .unwrap()
                .is_bad_mailbox()
        );
    }

    #[test]
    fn reply_codes_decide_the_outcome_and_text_does_not() {
        assert_eq!(
            from_reply(550, "5.1.1 <x>: Recipient address rejected: User unknown"),
            Delivery::Failed {
                reply: "550 5.1.1 <x>: Recipient address rejected: User unknown".into(),
                bounce: true
            }
        );
        // "user unknown" in the text without the enhanced code is not a bounce.
        assert!(matches!(
            from_reply(550, "User unknown"),
            Delivery::Failed { bounce: false, .. }
        ));
        assert!(matches!(
            from_reply(554, "5.7.1 spam"),
            Delivery::Failed { bounce: false, .. }
        ));
        assert!(matches!(
            from_reply(451, "4.3.0 Try again"),
            Delivery::Deferred(_)
        ));
        assert!(matches!(
            from_reply(421, "5.1.1 odd but 4xx"),
            Delivery::Deferred(_)
        ));
    }
}
