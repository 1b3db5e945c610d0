//! `EmailAddress`: an addr-spec (`local@domain`) that is safe to put in a header.
use std::fmt;
use std::str::FromStr;

/// A validated email address. The domain part is stored lowercased, so two
/// addresses that differ only in the case of their domain compare equal; the
/// local part keeps its case (RFC 5321 lets it matter).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EmailAddress(String);

/// Why a string is not an email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not an email address: {reason}")]
pub struct EmailAddressError {
    /// What was given (control characters escaped).
    pub input: String,
    /// Why it was refused.
    pub reason: &'static str,
}

impl EmailAddress {
    /// Parses a bare address (no display name, no angle brackets).
    pub fn parse(input: &str) -> Result<Self, EmailAddressError> {
        let fail = |reason| EmailAddressError {
            input: input.escape_debug().to_string(),
            reason,
        };
        let s = input.trim();
        if s.chars().any(|c| c.is_control()) {
            return Err(fail("it contains a control character (CR, LF, tab, …)"));
        }
        if s.contains(['<', '>', ',', ';', ' ']) {
            return Err(fail("give the bare address, like `reader@example.com`"));
        }
        // Syntax per RFC 5322 addr-spec is delegated to the `email_address` crate.
        if !email_address::EmailAddress::is_valid(s) {
            return Err(fail("expected `local@domain`, like `reader@example.com`"));
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(|| fail("it has no `@`"))?;
        if !domain.contains('.') && domain != "localhost" {
            return Err(fail("the domain needs a dot, like `example.com`"));
        }
        Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the `@`, lowercased.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }
}

impl FromStr for EmailAddress {
    type Err = EmailAddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_addresses_are_accepted() {
        for ok in [
            "reader@example.com",
            "a.b+tag@sub.example.org",
            "x@localhost",
        ] {
            assert_eq!(EmailAddress::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn the_domain_is_compared_without_case_but_the_local_part_keeps_it() {
        let a = EmailAddress::parse("Reader@Example.COM").unwrap();
        assert_eq!(a.as_str(), "Reader@example.com");
        assert_eq!(a, EmailAddress::parse("Reader@example.com").unwrap());
        assert_ne!(a, EmailAddress::parse("reader@example.com").unwrap());
    }

    #[test]
    fn header_injection_and_junk_are_rejected() {
        for bad in [
            "a@example.com\r\nBcc: x@evil.test",
            "a@example.com\nX: y",
            "Name <a@example.com>",
            "a@b@example.com",
            "no-at-sign",
            "@example.com",
            "a@",
            "a@nodot",
            "",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
