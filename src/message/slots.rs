//! Per-recipient values: the address, a stable Message-ID, and unsubscribe URLs.
use sha2::{Digest, Sha256};

use super::MessageContext;
use super::headers::HeaderError;
use crate::domain::{EmailAddress, IssueNumber};

/// Everything that differs between two recipients' copies of one issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientSlots {
    /// The `To` address.
    pub to: EmailAddress,
    /// `<…@…>`, the same for every attempt at this (issue, recipient).
    pub message_id: String,
    /// One-click unsubscribe page, `https://…/unsubscribe/<token>`.
    pub unsubscribe_url: String,
    /// `mailto:…?subject=unsubscribe-<token>`.
    pub unsubscribe_mailto: String,
}

impl RecipientSlots {
    /// Builds the slots for `to`, whose unsubscribe token is `token`
    /// (URL-safe characters only: it goes into a header and a URL).
    pub fn new(
        ctx: &MessageContext,
        issue: IssueNumber,
        to: EmailAddress,
        token: &str,
    ) -> Result<Self, HeaderError> {
        let url_safe = |c: char| c.is_ascii_alphanumeric() || "-_.~".contains(c);
        if token.is_empty() || !token.chars().all(url_safe) {
            return Err(HeaderError::ControlCharacter {
                header: "List-Unsubscribe",
                value: token.escape_debug().to_string(),
            });
        }
        Ok(Self {
            message_id: message_id(issue, &to, ctx.from_address.domain()),
            unsubscribe_url: format!(
                "{}/unsubscribe/{token}",
                ctx.public_url.trim_end_matches('/')
            ),
            unsubscribe_mailto: format!(
                "mailto:{}?subject=unsubscribe-{token}",
                ctx.unsubscribe_mailto
            ),
            to,
        })
    }
}

/// A Message-ID that depends only on the issue and the recipient, so a retried
/// send is recognizably the same message. The address is hashed, not shown.
pub fn message_id(issue: IssueNumber, to: &EmailAddress, domain: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(issue.get().to_be_bytes());
    hash.update(to.as_str().as_bytes());
    let digest = hash.finalize();
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("<issue-{issue}.{hex}@{domain}>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    #[test]
    fn message_ids_are_stable_per_issue_and_recipient() {
        let n = IssueNumber::new(625).unwrap();
        let a = message_id(n, &addr("a@example.com"), "example.org");
        assert_eq!(a, message_id(n, &addr("a@EXAMPLE.com"), "example.org"));
        assert_ne!(a, message_id(n, &addr("b@example.com"), "example.org"));
        assert_ne!(
            a,
            message_id(
                IssueNumber::new(626).unwrap(),
                &addr("a@example.com"),
                "example.org"
            )
        );
        assert!(
            a.starts_with("<issue-625.") && a.ends_with("@example.org>"),
            "{a}"
        );
        assert!(!a.contains("a@example.com"));
    }
}
