//! Typed setting values that end up in email headers, parsed once at load:
//! the From mailbox, the public URL, the List-Id and the unsubscribe
//! mailbox. Each keeps the text as written (`Deref<Target = str>`) and
//! refuses anything that could break or add to a header.
use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Serialize};

use crate::domain::EmailAddress;

/// A secret string: `Debug`, `Display` and `Serialize` print `[redacted]`.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("[redacted]")
    }
}

/// Refuses line breaks and other control characters, and says which.
fn single_line(value: &str) -> Result<(), String> {
    match value.chars().find(|c| c.is_control()) {
        Some(c) => Err(format!(
            "contains a line break or control character ({}); it goes into a header and \
             must be one line",
            c.escape_debug()
        )),
        None => Ok(()),
    }
}

/// Defines the string wrapper boilerplate: `Deref<Target = str>`, `Display`,
/// `Serialize` as the text, `Deserialize` through `parse`.
macro_rules! text_value {
    ($name:ident) => {
        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.text
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.text)
            }
        }
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.text)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Exactly one mailbox: `Display Name <local@domain>` or a bare address
/// (`[newsletter] from`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    text: String,
    name: Option<String>,
    address: EmailAddress,
}
text_value!(Mailbox);

impl Mailbox {
    /// Parses one mailbox. Two mailboxes, a group (`Team: a@x, b@y;`) or
    /// an unquoted `,` in the name are refused: lettre's parser keeps the
    /// first mailbox of a list and drops the rest, which silently changed
    /// the sender, so the structure is checked here, quote-aware, before
    /// the address goes to [`EmailAddress::parse`].
    pub fn parse(text: &str) -> Result<Self, String> {
        single_line(text)?;
        let t = text.trim();
        let mut in_quotes = false;
        let mut escaped = false;
        let mut angles = Vec::new();
        for (i, c) in t.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if in_quotes => escaped = true,
                '"' => in_quotes = !in_quotes,
                _ if in_quotes => {}
                ',' => return Err(two_mailboxes()),
                ':' | ';' => {
                    return Err("is a group (`Name: a@x, b@y;`); give exactly one mailbox, \
                                like `News <news@example.org>`"
                        .to_owned());
                }
                '<' | '>' => angles.push((i, c)),
                _ => {}
            }
        }
        if in_quotes {
            return Err("has an unclosed `\"` in the display name".to_owned());
        }
        let (name, addr) = match angles.as_slice() {
            [] => (None, t),
            [(open, '<'), (close, '>')] if *close == t.len() - 1 => {
                let name = t[..*open].trim();
                let name = name
                    .strip_prefix('"')
                    .and_then(|n| n.strip_suffix('"'))
                    .unwrap_or(name);
                (
                    (!name.is_empty()).then(|| name.to_owned()),
                    &t[open + 1..*close],
                )
            }
            [_, _, _, ..] => return Err(two_mailboxes()),
            _ => {
                return Err(
                    "is not `Name <address>` or a bare address (check the `<` and `>`)".to_owned(),
                );
            }
        };
        let address = EmailAddress::parse(addr).map_err(|e| format!("has {e}"))?;
        Ok(Self {
            text: t.to_owned(),
            name,
            address,
        })
    }

    /// The display name, if there is one (unquoted).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The address.
    pub fn address(&self) -> &EmailAddress {
        &self.address
    }
}

fn two_mailboxes() -> String {
    "holds more than one mailbox; give exactly one, like `News <news@example.org>` \
     (quote a name that has a comma: `\"Rust, Weekly\" <news@example.org>`)"
        .to_owned()
}

/// Characters that would end or split a URL inside `List-Unsubscribe: <…>`
/// or an HTML attribute.
const URL_BREAKERS: &[char] = &['<', '>', ',', '"', '\'', '\\', '`', '{', '}', '|', '^'];

/// The absolute base URL of the web service (`[web] public_url`): https,
/// or http on a loopback host; no user, query or fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    text: String,
}
text_value!(PublicUrl);

impl PublicUrl {
    /// Parses and checks a base URL.
    pub fn parse(text: &str) -> Result<Self, String> {
        single_line(text)?;
        if let Some(c) = text
            .chars()
            .find(|c| c.is_whitespace() || URL_BREAKERS.contains(c))
        {
            return Err(format!(
                "contains `{c}`, which can break the List-Unsubscribe header; percent-encode it"
            ));
        }
        let url = url::Url::parse(text)
            .map_err(|e| format!("is not an absolute URL ({e}); use `https://host/path`"))?;
        let host = url.host().ok_or("has no host")?;
        let loopback = match &host {
            url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
            url::Host::Ipv4(ip) => ip.is_loopback(),
            url::Host::Ipv6(ip) => ip.is_loopback(),
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => {
                return Err(
                    "is http on a public host; subscribers' links must be https (http only \
                     for 127.0.0.1, ::1 or localhost)"
                        .to_owned(),
                );
            }
            other => return Err(format!("has the scheme `{other}`; use https")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("contains a user name or password; remove it".to_owned());
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err("has a `?` query or `#` fragment; give the base URL only".to_owned());
        }
        Ok(Self {
            text: text.to_owned(),
        })
    }
}

/// A List-Id (RFC 2919): an optional phrase, then `<label.namespace>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListId {
    text: String,
}
text_value!(ListId);

impl ListId {
    /// Parses `Name <list.example.org>` or `<list.example.org>`.
    pub fn parse(text: &str) -> Result<Self, String> {
        single_line(text)?;
        let t = text.trim();
        let shape = "is not `Name <list-label.example.org>` (RFC 2919)";
        let (phrase, rest) = t.split_once('<').ok_or(shape)?;
        let id = rest.strip_suffix('>').ok_or(shape)?;
        if phrase.contains('>') || id.contains(['<', '>']) {
            return Err(shape.to_owned());
        }
        let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
        let labels: Vec<&str> = id.split('.').collect();
        if id.len() > 255
            || labels.len() < 2
            || labels.iter().any(|l| l.is_empty() || !l.chars().all(atext))
        {
            return Err(format!(
                "has the id `{id}`; it must be dot-separated letters, digits and `-`, like \
                 `news.example.org`, at most 255 characters"
            ));
        }
        Ok(Self { text: t.to_owned() })
    }
}

/// The bare address in `List-Unsubscribe: <mailto:…?subject=…>`
/// (`[web] unsubscribe_mailto`): only characters a mailto URI carries as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailtoAddress {
    text: String,
    address: EmailAddress,
}
text_value!(MailtoAddress);

impl MailtoAddress {
    /// Parses a bare address fit for a mailto URI.
    pub fn parse(text: &str) -> Result<Self, String> {
        single_line(text)?;
        let address = EmailAddress::parse(text).map_err(|e| format!("has {e}"))?;
        let safe = |c: char| c.is_ascii_alphanumeric() || "@.-_+".contains(c);
        if let Some(c) = address.as_str().chars().find(|c| !safe(*c)) {
            return Err(format!(
                "contains `{c}`, which a mailto link would have to encode; use letters, \
                 digits and `.-_+`"
            ));
        }
        Ok(Self {
            text: address.to_string(),
            address,
        })
    }

    /// The address.
    pub fn address(&self) -> &EmailAddress {
        &self.address
    }
}

#[cfg(test)]
#[path = "values_tests.rs"]
mod tests;
