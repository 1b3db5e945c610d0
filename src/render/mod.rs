//! Render an issue into the HTML and plain-text parts of its email.
//!
//! The Markdown body, without control characters ([`clean`]), is parsed once
//! ([`markdown::parse`]) and its lists made tight ([`tight`]); the HTML part
//! is pulldown-cmark's HTML inside the askama chrome with its CSS inlined
//! ([`chrome`]), and the text part is written from the same events ([`text`]).
mod chrome;
mod html;
pub mod markdown;
mod preheader;
mod sanitize;
mod stand_in;
mod strip;
pub mod text;
mod tight;

use thiserror::Error;

use crate::config::{Newsletter, RenderSettings, Settings};
use crate::model::{Header, Issue, Rendered};

/// What rendering needs besides the issue.
pub struct RenderContext<'a> {
    pub newsletter: &'a Newsletter,
    pub settings: &'a RenderSettings,
}

impl<'a> RenderContext<'a> {
    /// The `[newsletter]` and `[render]` parts of `settings`.
    pub fn new(settings: &'a Settings) -> Self {
        Self {
            newsletter: &settings.newsletter,
            settings: &settings.render,
        }
    }
}

/// Why an issue could not be rendered.
#[derive(Debug, Error)]
pub enum RenderError {
    /// `render.text_width` is outside what email allows.
    #[error("`render.text_width` is `{0}`; set it between 20 and 78 in `config.toml`")]
    TextWidth(usize),
    /// The askama chrome failed (a bug in `email-templates/`).
    #[error("cannot fill the email template `email-templates/issue.html`")]
    Template(#[from] askama::Error),
    /// css-inline could not process the HTML.
    #[error("cannot inline the CSS of `email-templates/email.css`")]
    Inline(#[from] css_inline::InlineError),
}

/// The widest text part allowed (RFC 5322 recommends lines of at most 78).
pub const MAX_TEXT_WIDTH: usize = 78;

/// Renders the HTML and text parts, the subject and the web link of `issue`.
pub fn render_issue(issue: &Issue, ctx: &RenderContext) -> Result<Rendered, RenderError> {
    let body = crate::issue::clean::strip_controls(issue.body());
    render_parsed(issue, ctx, markdown::parse(&body))
}

/// As [`render_issue`], from the body's events already parsed: `parsed`
/// must be [`markdown::parse`] of the body without its control characters
/// (as [`crate::issue::parse_lending`] lends them, when it does).
pub fn render_parsed(
    issue: &Issue,
    ctx: &RenderContext,
    parsed: markdown::Parsed<'_>,
) -> Result<Rendered, RenderError> {
    let width = ctx.settings.text_width;
    if !(20..=MAX_TEXT_WIDTH).contains(&width) {
        return Err(RenderError::TextWidth(width));
    }
    let header = &issue.header;
    let events = tight::tighten(parsed.events);
    let frame = chrome::Frame {
        newsletter: ctx.newsletter,
        subject: expand_pattern(&ctx.newsletter.subject, header),
        web_url: expand_pattern(&ctx.newsletter.web_url, header),
        dateline: dateline(header),
        preheader: preheader::preheader(header, &events),
    };
    // The text part first, and the events dropped as soon as both parts
    // are written from them: css-inline's tree then reuses their memory.
    // Seed 000: 1,048 page faults per `render` against 1,196 (`perf stat`);
    // no difference in time measured, but a lower peak.
    let text = chrome::text_part(&frame, &text::body_text(&events, width))?;
    let sanitized = sanitize::sanitize(&events);
    drop(events);
    // css-inline reads the page with tokens for the texts and link targets
    // (`stand_in`); the real content is inlined only if they do not fit.
    let capacity = issue.body().len() * 3 / 2;
    let mut stand_ins = stand_in::StandIns::default();
    let tokened = html::body_html(&sanitized, capacity, Some(&mut stand_ins));
    let html = match chrome::html_part_standing_in(&frame, &tokened, &stand_ins)? {
        Some(html) => html,
        None => chrome::html_part(&frame, &html::body_html(&sanitized, capacity, None))?,
    };
    Ok(Rendered {
        subject: frame.subject,
        html,
        text,
        links: parsed.link_urls.len(),
        link_urls: parsed.link_urls,
        web_url: frame.web_url,
    })
}

/// `issue 625 — 12 Nov 2025`
fn dateline(header: &Header) -> String {
    let date = header.date;
    format!(
        "issue {} — {} {} {}",
        header.number.get(),
        date.day(),
        &date.month().to_string()[..3],
        date.year()
    )
}

/// Expands `{number}`, `{title}`, `{yyyy}`, `{mm}` and `{dd}` in `pattern`;
/// other braces are kept as written. Expanded values are not re-expanded.
pub fn expand_pattern(pattern: &str, header: &Header) -> String {
    let mut out = String::with_capacity(pattern.len() + header.title.len());
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        let close = after.find('}').map_or(after.len(), |c| c + 1);
        let date = header.date;
        match &after[..close] {
            "{number}" => out.push_str(&header.number.get().to_string()),
            "{title}" => out.push_str(&header.title),
            "{yyyy}" => out.push_str(&format!("{:04}", date.year())),
            "{mm}" => out.push_str(&format!("{:02}", u8::from(date.month()))),
            "{dd}" => out.push_str(&format!("{:02}", date.day())),
            other => out.push_str(other),
        }
        rest = &after[close..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod client_tests;
#[cfg(test)]
mod tests;
