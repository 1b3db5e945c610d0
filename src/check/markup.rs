//! Markdown that does not do what its author meant: `raw-markdown` (link
//! syntax that reaches the reader as text), `duplicate-label` (a reference
//! label defined twice) and `mailchimp` (merge tags and list-manage.com
//! tracking or unsubscribe links left over from the hosted service; its
//! sign-up form is a link an editor may choose).
use std::collections::HashMap;
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use regex_automata::meta;

use super::context::builtin_bytes_for_short_text;
use super::doc::{Doc, within};
use super::{Emitter, Rule, excerpt};

/// `](http…` (or with a space or line break between `]` and `(`): the
/// rest of a link that did not parse.
static BROKEN_LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^\\])(\]\s*\(\s*<?(?:https?|mailto):)").expect("valid regex")
});
/// `[text][label]` shown as is: no definition for `label`.
static UNDEFINED_REF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^\\!])(\[[^\[\]\n]+\]\[([^\[\]\n]*)\])").expect("valid regex")
});
/// A reference definition `[label]: …`, matched against one line: no part
/// of it can span a line break. The label runs to `]` and the target to
/// ASCII white space (as CommonMark's link destination does), matched as
/// bytes (`builtin_bytes_for_short_text`).
static DEFINITION: LazyLock<meta::Regex> = LazyLock::new(|| {
    builtin_bytes_for_short_text(
        r"^[ \t]*(?:>[ \t]*)*(\[((?-u:[^\]\n])+)\]):[ \t]*((?-u:[^ \t\n\x0B\x0C\r])*)",
    )
});
static MERGE_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\*\|[A-Za-z0-9_:]+\|\*").expect("valid regex"));
/// A list-manage.com link, matched against the lines that name it: no
/// part of it can span a line break either. It runs to ASCII white space,
/// `)`, `>` or `]`, matched as bytes (`builtin_bytes_for_short_text`).
static LIST_MANAGE: LazyLock<meta::Regex> = LazyLock::new(|| {
    builtin_bytes_for_short_text(r"(?i-u:(?:https?://)?[a-z0-9.-]*list-manage\.com(?:[^\s)>\]])*)")
});

pub(crate) fn check(doc: &Doc, em: &mut Emitter<'_>) {
    if em.enabled(Rule::RawMarkdown) {
        raw_markdown(doc, em);
    }
    if em.enabled(Rule::DuplicateLabel) {
        duplicate_labels(doc, em);
    }
    if em.enabled(Rule::Mailchimp) {
        mailchimp(doc, em);
    }
}

/// Runs of text events with only whitespace (soft breaks) between them,
/// as byte ranges of the source: what a reader sees as one stretch of text.
fn text_runs(doc: &Doc, source: &str) -> Vec<Range<usize>> {
    let mut runs: Vec<Range<usize>> = Vec::new();
    for r in &doc.texts {
        match runs.last_mut() {
            Some(last) if source[last.end..r.start.max(last.end)].trim().is_empty() => {
                last.end = last.end.max(r.end);
            }
            _ => runs.push(r.clone()),
        }
    }
    runs
}

fn raw_markdown(doc: &Doc, em: &mut Emitter<'_>) {
    let source = em.source();
    for run in text_runs(doc, source) {
        let text = &source[run.clone()];
        // Most text has no bracket left: skip the regexes (and building them).
        if !text.contains(']') {
            continue;
        }
        // `](http…` or `](mailto…`: no scheme, no match (nor regex to build).
        let has_scheme = text.contains("http") || text.contains("mailto");
        let links = has_scheme.then(|| BROKEN_LINK.captures_iter(text));
        for caps in links.into_iter().flatten() {
            let m = caps.get(1).expect("group 1");
            let at = run.start + m.start()..run.start + m.end();
            // Up to the closing parenthesis: a line break there means the
            // link was wrapped by an editor.
            let rest = &text[m.start()..];
            let close = rest.find(')').unwrap_or(rest.len());
            let broken = rest[..close].contains('\n');
            let (message, fix) = if broken {
                (
                    "a link broken across lines: `](http…` reaches the reader as text",
                    "join the link onto one line: a URL cannot hold a line break",
                )
            } else {
                (
                    "`](http…` reaches the reader as text: this link did not parse",
                    "write `[text](URL)` with nothing between `]` and `(`, and balance the brackets",
                )
            };
            em.at(Rule::RawMarkdown, at, message.to_owned(), fix);
        }
        if !text.contains("][") {
            continue;
        }
        for caps in UNDEFINED_REF.captures_iter(text) {
            let m = caps.get(1).expect("group 1");
            let label = if caps[2].is_empty() {
                m.as_str()[1..].split(']').next().unwrap_or("")
            } else {
                &caps[2]
            };
            em.at(
                Rule::RawMarkdown,
                run.start + m.start()..run.start + m.end(),
                format!(
                    "`{}` reaches the reader as text: no `[{}]: URL` defines its label",
                    excerpt(m.as_str(), 60),
                    excerpt(label, 40)
                ),
                "add the definition (`[label]: https://…`), or correct the label's spelling",
            );
        }
    }
}

/// CommonMark's label matching: case-insensitive, whitespace collapsed.
fn normalize(label: &str) -> String {
    label
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn duplicate_labels(doc: &Doc, em: &mut Emitter<'_>) {
    let source = em.source();
    let body = em.issue.body_offset;
    let mut seen: HashMap<String, (usize, String)> = HashMap::new();
    // Every definition holds `]:`; most issues have none, and then the
    // regex is not built.
    let spans = lines_holding(em, &source[body..], "]:");
    if spans.is_empty() {
        return;
    }
    let mut caps = DEFINITION.create_captures();
    for span in spans {
        let (start, line) = (span.start, &source[span]);
        DEFINITION.captures(line, &mut caps);
        let (Some(whole), Some(label), Some(target)) =
            (caps.get_group(1), caps.get_group(2), caps.get_group(3))
        else {
            continue;
        };
        let at = start + whole.start..start + whole.end;
        let (Some(label), Some(target)) = (line.get(label.range()), line.get(target.range()))
        else {
            continue;
        };
        if label.starts_with('^') || within(&doc.verbatim, at.start) {
            continue; // a footnote, or code
        }
        let target = target.to_owned();
        match seen.get(&normalize(label)) {
            None => {
                seen.insert(normalize(label), (em.line_of(at.start), target));
            }
            Some((line, first)) => {
                let differs = if *first == target {
                    "to the same target".to_owned()
                } else {
                    format!("to `{}`", excerpt(first, 60))
                };
                let message = format!(
                    "reference label `{}` is already defined on line {line} ({differs}); \
                     Markdown engines disagree on which definition wins",
                    excerpt(label, 40)
                );
                em.at(
                    Rule::DuplicateLabel,
                    at,
                    message,
                    "keep one definition, or give the other link a label of its own",
                );
            }
        }
    }
}

fn mailchimp(doc: &Doc, em: &mut Emitter<'_>) {
    let source = em.source();
    let body = em.issue.body_offset;
    let comments = doc.comments(source);
    let visible = |offset: usize| !within(&comments, offset);
    let tags = if source[body..].contains("*|") {
        MERGE_TAG.find_iter(&source[body..]).collect()
    } else {
        Vec::new()
    };
    for m in tags {
        if visible(body + m.start()) {
            em.at(
                Rule::Mailchimp,
                body + m.start()..body + m.end(),
                format!(
                    "Mailchimp merge tag `{}` reaches the reader as text",
                    excerpt(m.as_str(), 40)
                ),
                "delete it: mailroom fills in the unsubscribe link and the recipient itself",
            );
        }
    }
    let lowered = source[body..].to_ascii_lowercase();
    let mut links = Vec::new();
    for span in lines_holding(em, &lowered, "list-manage.com") {
        let (start, line) = (span.start, &source[span]);
        links.extend(
            LIST_MANAGE
                .find_iter(line)
                .filter_map(|m| Some((start + m.start(), line.get(m.range())?))),
        );
    }
    for (start, text) in links {
        // The sign-up form is a link an editor chose (TWiR's intro has
        // one); tracking redirects and unsubscribe/profile pages are what
        // Mailchimp's own emails leave behind.
        let path = text.to_ascii_lowercase();
        let signup = path
            .split_once("list-manage.com")
            .is_some_and(|(_, rest)| rest.starts_with("/subscribe"));
        if visible(start) && !signup {
            em.at(
                Rule::Mailchimp,
                start..start + text.len(),
                format!(
                    "a Mailchimp `list-manage.com` link: `{}`",
                    excerpt(text, 60)
                ),
                "link to the page itself: a list-manage.com tracking or unsubscribe link leads \
                 through Mailchimp, and mailroom adds the unsubscribe link itself",
            );
        }
    }
}

/// The lines of the body that hold `needle`, each once, as byte ranges of
/// the source. `body` is the body's text, or a copy of it with the same
/// byte offsets (ASCII-lowercased).
fn lines_holding(em: &Emitter<'_>, body: &str, needle: &str) -> Vec<Range<usize>> {
    let offset = em.issue.body_offset;
    let mut spans: Vec<Range<usize>> = Vec::new();
    for (at, _) in body.match_indices(needle) {
        if spans.last().is_none_or(|last| offset + at > last.end) {
            spans.push(em.line_span(offset + at));
        }
    }
    spans
}

#[cfg(test)]
mod tests;
