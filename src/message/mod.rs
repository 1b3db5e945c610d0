//! MIME assembly: a message template rendered once per issue, personalized
//! per recipient by filling slots into the prepared bytes.
//!
//! The template is `multipart/alternative` (text first, HTML last), UTF-8,
//! quoted-printable, with From/To/Subject/Date/Message-ID/MIME-Version,
//! List-Id, List-Unsubscribe (https + mailto) and List-Unsubscribe-Post.
pub mod headers;
pub mod qp;
mod slots;
mod template;

use time::OffsetDateTime;

pub use headers::HeaderError;
pub use slots::{RecipientSlots, message_id};
pub use template::MessageTemplate;

use crate::config::Settings;
use crate::domain::EmailAddress;

/// What the MIME stage needs besides the rendered issue.
#[derive(Debug, Clone)]
pub struct MessageContext {
    /// The From header, ready to write.
    pub from: String,
    /// The From address (its domain names Message-IDs).
    pub from_address: EmailAddress,
    /// The List-Id header value.
    pub list_id: String,
    /// Base URL of the web service, for unsubscribe links.
    pub public_url: String,
    /// The mailto address in List-Unsubscribe.
    pub unsubscribe_mailto: EmailAddress,
    /// The Date header.
    pub date: OffsetDateTime,
}

impl MessageContext {
    /// Builds the context from settings, validating every header-bound value.
    pub fn from_settings(settings: &Settings, date: OffsetDateTime) -> Result<Self, HeaderError> {
        let (from, from_address) = headers::mailbox("From", &settings.newsletter.from)?;
        let list_id = headers::single_line("List-Id", &settings.newsletter.list_id)?.to_owned();
        let public_url =
            headers::single_line("List-Unsubscribe", &settings.web.public_url)?.to_owned();
        let (_, unsubscribe_mailto) =
            headers::mailbox("List-Unsubscribe", &settings.web.unsubscribe_mailto)?;
        Ok(Self {
            from,
            from_address,
            list_id,
            public_url,
            unsubscribe_mailto,
            date,
        })
    }
}

/// The once-per-issue half of every send: the context from `settings`
/// and the template for `rendered`, dated `date`.
pub fn prepare(
    rendered: &crate::model::Rendered,
    settings: &Settings,
    date: OffsetDateTime,
) -> Result<(MessageTemplate, MessageContext), HeaderError> {
    let ctx = MessageContext::from_settings(settings, date)?;
    let template = MessageTemplate::build(rendered, &ctx)?;
    Ok((template, ctx))
}

#[cfg(test)]
mod tests;
