//! Link rules: `relative-link`, `duplicate-link`, `tracking-param` and
//! `image` (for Markdown images; raw `<img>` tags are in `html`).
use std::collections::HashMap;
use std::ops::Range;

use super::doc::{Doc, LinkRef};
use super::{Emitter, Rule, excerpt};

pub(crate) fn check(doc: &Doc, em: &mut Emitter<'_>) {
    for link in &doc.links {
        let dest = link.dest.trim();
        if dest.is_empty() || em.ctx.placeholders.is_match(dest) {
            continue; // reported by `unfinished`
        }
        if dest.starts_with("*|") {
            continue; // a Mailchimp merge tag, reported by `mailchimp`
        }
        let at = dest_span(em.source(), link);
        if !has_scheme(dest) && !dest.starts_with('#') {
            let fix = if dest.starts_with("www.") {
                format!("did you mean `https://{}`?", excerpt(dest, 60))
            } else {
                "use an absolute `https://…` URL".to_owned()
            };
            em.at(
                Rule::RelativeLink,
                at.clone(),
                format!(
                    "link target `{}` has no scheme; it breaks in an email",
                    excerpt(dest, 60)
                ),
                fix,
            );
        }
        tracking(em, dest, at.clone());
        if link.image {
            image(em, link, dest, at);
        }
    }
    if em.enabled(Rule::DuplicateLink) {
        duplicates(doc, em);
    }
}

/// Whether `url` starts with `scheme:` (RFC 3986).
pub(crate) fn has_scheme(url: &str) -> bool {
    let Some((scheme, _)) = url.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The span of the target inside the link's source, or the whole link.
fn dest_span(source: &str, link: &LinkRef) -> Range<usize> {
    let raw = &source[link.range.clone()];
    match raw.rfind(link.dest.trim()) {
        Some(i) => link.range.start + i..link.range.start + i + link.dest.trim().len(),
        None => link.range.clone(),
    }
}

/// Warns about tracking query parameters in `url`, giving the clean URL.
pub(crate) fn tracking(em: &mut Emitter<'_>, url: &str, at: Range<usize>) {
    let (base, fragment) = url
        .split_once('#')
        .map_or((url, None), |(b, f)| (b, Some(f)));
    let Some((path, query)) = base.split_once('?') else {
        return;
    };
    let (tracked, kept): (Vec<&str>, Vec<&str>) = query
        .split('&')
        .filter(|p| !p.is_empty())
        .partition(|p| em.ctx.is_tracking_param(p.split('=').next().unwrap_or("")));
    if tracked.is_empty() {
        return;
    }
    let mut clean = path.to_owned();
    if !kept.is_empty() {
        clean = format!("{clean}?{}", kept.join("&"));
    }
    if let Some(f) = fragment {
        clean = format!("{clean}#{f}");
    }
    let names: Vec<String> = tracked
        .iter()
        .take(5)
        .map(|p| format!("`{}`", excerpt(p.split('=').next().unwrap_or(""), 30)))
        .collect();
    em.at(
        Rule::TrackingParam,
        at,
        format!("link carries tracking parameter {}", names.join(", ")),
        format!("link to `{}` instead", excerpt(&clean, 80)),
    );
}

fn image(em: &mut Emitter<'_>, link: &LinkRef, dest: &str, at: Range<usize>) {
    if link.text.trim().is_empty() {
        em.at(
            Rule::Image,
            link.range.clone(),
            "image has no alt text".to_owned(),
            "describe the image inside `![…]`; some readers never load images",
        );
    }
    if has_scheme(dest) && !dest.to_ascii_lowercase().starts_with("https:") {
        em.at(
            Rule::Image,
            at,
            format!("image source `{}` is not https", excerpt(dest, 60)),
            "use an https URL; mail clients block or warn about insecure images",
        );
    }
}

/// Warns when two entries (list items without sub-items) of one section
/// link the same URL. Items with sub-items, such as an event's organizer
/// line, repeat by design and are not compared.
fn duplicates(doc: &Doc, em: &mut Emitter<'_>) {
    let mut seen: HashMap<(Option<usize>, &str), (usize, usize)> = HashMap::new();
    for link in doc.links.iter().filter(|l| !l.image) {
        let Some(item) = link.item.filter(|&i| doc.leaf_items[i]) else {
            continue;
        };
        let url = link.dest.trim().trim_end_matches('/');
        if url.is_empty() || url.starts_with('#') {
            continue;
        }
        match seen.get(&(link.section, url)) {
            None => {
                seen.insert((link.section, url), (item, link.range.start));
            }
            Some(&(first_item, _)) if first_item == item => {}
            Some(&(_, first_offset)) => {
                let first_line = em.line_of(first_offset);
                let at = dest_span(em.source(), link);
                em.at(
                    Rule::DuplicateLink,
                    at,
                    format!(
                        "`{}` is already linked in this section, on line {first_line}",
                        excerpt(link.dest.trim(), 60)
                    ),
                    "remove the duplicate entry",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests;
