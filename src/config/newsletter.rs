//! `[newsletter]` and `[render]`: who the newsletter is and how its emails
//! look, with This Week in Rust's values as the built-in defaults.
use serde::{Deserialize, Serialize};

use super::values::{ListId, Mailbox};

/// Who the newsletter is and how its emails are addressed.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Newsletter {
    /// Shown in the header and the pages, e.g. `This Week in Rust`.
    pub name: String,
    /// The From header: exactly one mailbox.
    pub from: Mailbox,
    /// Subject pattern; `{number}`, `{title}`, `{yyyy}`, `{mm}`, `{dd}`.
    pub subject: String,
    /// The web edition's URL pattern; same placeholders as `subject`.
    pub web_url: String,
    /// The List-Id header value, e.g. `This Week in Rust <twir.example.org>`.
    pub list_id: ListId,
    /// The privacy policy's URL, linked in the footer.
    pub privacy_url: String,
    /// Social links for the footer.
    pub social: Vec<SocialLink>,
    /// The sample recipient that `render` addresses its `.eml` to.
    pub sample_recipient: String,
    /// An optional Reply-To header: exactly one mailbox.
    pub reply_to: Option<Mailbox>,
    /// The Feedback-ID header (Gmail's feedback loop); `{number}` is the
    /// issue number. Unset: no header.
    pub feedback_id: Option<String>,
}

impl Default for Newsletter {
    fn default() -> Self {
        let link = |name: &str, url: &str| SocialLink {
            name: name.to_owned(),
            url: url.to_owned(),
        };
        Self {
            name: "This Week in Rust".to_owned(),
            from: Mailbox::parse("This Week in Rust <newsletter@this-week-in-rust.org>")
                .expect("the default From is one mailbox"),
            subject: "This Week in Rust {number}".to_owned(),
            web_url:
                "https://this-week-in-rust.org/blog/{yyyy}/{mm}/{dd}/this-week-in-rust-{number}/"
                    .to_owned(),
            list_id: ListId::parse("This Week in Rust <newsletter.this-week-in-rust.org>")
                .expect("the default List-Id is valid"),
            privacy_url: "https://this-week-in-rust.org/pages/privacy-policy.html".to_owned(),
            social: vec![
                link(
                    "Bluesky",
                    "https://bsky.app/profile/thisweekinrust.bsky.social",
                ),
                link("Mastodon", "https://mastodon.social/@thisweekinrust"),
                link("GitHub", "https://github.com/rust-lang/this-week-in-rust"),
            ],
            sample_recipient: "reader@example.com".to_owned(),
            reply_to: None,
            feedback_id: Some("{number}:newsletter:this-week-in-rust".to_owned()),
        }
    }
}

/// One footer link.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SocialLink {
    pub name: String,
    pub url: String,
}

/// How the email is rendered.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RenderSettings {
    /// Warn when the HTML part is larger than this many bytes (Gmail clips
    /// at about 102 KB, and the unsubscribe footer is what disappears).
    pub html_size_budget: usize,
    /// Plain-text wrap column (at most 78).
    pub text_width: usize,
}

impl Default for RenderSettings {
    fn default() -> Self {
        Self {
            html_size_budget: 104_448,
            text_width: 72,
        }
    }
}
