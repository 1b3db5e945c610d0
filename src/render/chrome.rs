//! The newsletter chrome around the content: askama templates in
//! `email-templates/` for both parts, and css-inline for the HTML one.
use std::sync::LazyLock;

use askama::Template;
use css_inline::CSSInliner;

use super::RenderError;
use super::stand_in::StandIns;
use crate::config::Newsletter;
use crate::model::Slot;

/// The per-issue values the chrome shows.
pub struct Frame<'a> {
    pub newsletter: &'a Newsletter,
    pub subject: String,
    pub web_url: String,
    /// `issue 625 — 12 Nov 2025`
    pub dateline: String,
    /// The hidden line an inbox shows after the subject.
    pub preheader: String,
}

/// The stylesheet, inlined into every element it matches.
pub const CSS: &str = include_str!("../../email-templates/email.css");
/// The `@media` rules and cosmetic extras, kept in a
/// `<style data-css-inline="keep">` block: it stays where the template puts
/// it, after `<meta charset>`.
pub const MEDIA_CSS: &str = include_str!("../../email-templates/email-media.css");

#[derive(Template)]
#[template(path = "issue.html")]
struct HtmlPage<'a> {
    frame: &'a Frame<'a>,
    css: &'static str,
    media_css: &'static str,
    filler: &'static str,
    content: &'a str,
    unsubscribe: &'static str,
}

#[derive(Template)]
#[template(path = "issue.txt")]
struct TextPage<'a> {
    frame: &'a Frame<'a>,
    body: &'a str,
    unsubscribe: &'static str,
}

/// One inliner per process, built on first use.
static INLINER: LazyLock<CSSInliner<'static>> = LazyLock::new(|| {
    CSSInliner::options()
        .load_remote_stylesheets(false)
        .minify_css(true)
        .preallocate_node_capacity(4096)
        .build()
});

/// The complete HTML part: chrome + `content`, every style inlined except
/// the `@media` rules.
pub fn html_part(frame: &Frame<'_>, content: &str) -> Result<String, RenderError> {
    Ok(INLINER.inline(&page(frame, content)?)?)
}

/// As [`html_part`], for `content` whose texts and link targets are
/// `stand_ins`' tokens; `None` when they cannot be put back one for one
/// (then inline the real content).
pub fn html_part_standing_in(
    frame: &Frame<'_>,
    content: &str,
    stand_ins: &StandIns<'_>,
) -> Result<Option<String>, RenderError> {
    let page = page(frame, content)?;
    if !stand_ins.fit(&page) {
        return Ok(None);
    }
    Ok(stand_ins.restore(&INLINER.inline(&page)?))
}

fn page(frame: &Frame<'_>, content: &str) -> Result<String, RenderError> {
    Ok(HtmlPage {
        frame,
        css: CSS,
        media_css: MEDIA_CSS,
        filler: super::preheader::FILLER,
        content,
        unsubscribe: Slot::UnsubscribeUrl.marker(),
    }
    .render()?)
}

/// The complete text part: chrome + the wrapped `body`.
pub fn text_part(frame: &Frame<'_>, body: &str) -> Result<String, RenderError> {
    let mut text = TextPage {
        frame,
        body,
        unsubscribe: Slot::UnsubscribeUrl.marker(),
    }
    .render()?;
    text.push('\n');
    Ok(text)
}
