//! MIME assembly: a message template rendered once per issue, personalized
//! per recipient by filling slots into the prepared bytes.
//!
//! The template is `multipart/alternative` (text first, HTML last), UTF-8,
//! quoted-printable, with From/To/Subject/Date/Message-ID/MIME-Version,
//! List-Id, List-Unsubscribe (https + mailto) and List-Unsubscribe-Post,
//! and optionally Reply-To, Feedback-ID and DKIM signatures ([`dkim`]).
pub mod dkim;
pub mod headers;
pub mod qp;
mod slots;
mod template;

use time::OffsetDateTime;

pub use headers::HeaderError;
pub use slots::{RecipientSlots, message_id};
pub use template::MessageTemplate;

use crate::config::Settings;
use crate::domain::{EmailAddress, IssueNumber};

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
    /// The Reply-To header, ready to write, when configured.
    pub reply_to: Option<String>,
    /// The Feedback-ID header value, when configured (set by [`prepare`],
    /// which knows the issue number).
    pub feedback_id: Option<String>,
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
        let reply_to = match &settings.newsletter.reply_to {
            Some(r) => Some(headers::mailbox("Reply-To", r)?.0),
            None => None,
        };
        Ok(Self {
            from,
            from_address,
            list_id,
            public_url,
            unsubscribe_mailto,
            date,
            reply_to,
            feedback_id: None,
        })
    }
}

/// The Feedback-ID for `issue` from `[newsletter] feedback_id`, e.g.
/// `{number}:newsletter:twir` → `625:newsletter:twir`: printable ASCII
/// without spaces, at most 128 characters.
pub fn feedback_id(pattern: &str, issue: IssueNumber) -> Result<String, HeaderError> {
    let value = pattern.replace("{number}", &issue.to_string());
    let ok = !value.is_empty() && value.len() <= 128 && value.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(value)
    } else {
        Err(HeaderError::BadValue {
            header: "Feedback-ID",
            value: value.escape_debug().to_string(),
            reason: "expected at most 128 printable ASCII characters without spaces, \
                     e.g. `{number}:newsletter:twir`",
        })
    }
}

/// The once-per-issue half of every send: the context from `settings`
/// and the template for issue `issue`, `rendered`, dated `date`; signed
/// per recipient when `[dkim]` is configured (its keys are read here).
pub fn prepare(
    rendered: &crate::model::Rendered,
    settings: &Settings,
    issue: IssueNumber,
    date: OffsetDateTime,
) -> anyhow::Result<(MessageTemplate, MessageContext)> {
    let mut ctx = MessageContext::from_settings(settings, date)?;
    let pattern = settings.newsletter.feedback_id.as_deref();
    if let Some(pattern) = pattern.filter(|p| !p.is_empty()) {
        ctx.feedback_id = Some(feedback_id(pattern, issue)?);
    }
    let mut template = MessageTemplate::build(rendered, &ctx)?;
    if let Some(signer) = dkim::Signer::from_settings(&settings.dkim)? {
        warn_unaligned(&signer, &ctx.from_address);
        template = template.signed(std::sync::Arc::new(signer));
    }
    Ok((template, ctx))
}

/// DMARC passes on DKIM only when `d=` aligns with the From domain
/// (relaxed: the same organizational domain). Without a public-suffix
/// list, "one is the other or a parent of it" is what can be checked.
fn warn_unaligned(signer: &dkim::Signer, from: &EmailAddress) {
    let (d, f) = (signer.domain(), from.domain());
    let aligned = d == f || f.ends_with(&format!(".{d}")) || d.ends_with(&format!(".{f}"));
    if !aligned {
        crate::output::warning!(
            "`[dkim] domain` `{d}` does not align with the From domain `{f}`: DMARC will not \
             pass on this signature; sign with `{f}` or a parent domain of it"
        );
    }
}

#[cfg(test)]
mod tests;
