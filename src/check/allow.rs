//! Inline suppression: `<!-- mailroom: allow RULE "reason" -->` switches
//! `RULE` off for the next line, or for the whole section when that line is
//! a heading. A comment after content on a line covers that line too.
//! The reason is required, so the next editor knows why; a malformed
//! comment is an `allow` error.
use std::ops::RangeInclusive;
use std::sync::LazyLock;

use regex::Regex;

use super::doc::{BlockKind, Doc};
use super::{Emitter, Rule, excerpt};

/// The most allow comments honoured; a file with more is not an issue
/// anyone edits by hand, and each finding is compared with every allow.
pub const MAX_ALLOWS: usize = 1000;

/// One honoured allow: the rule and the 1-based lines it covers.
#[derive(Debug, Clone)]
pub(crate) struct Allow {
    pub rule: Rule,
    pub lines: RangeInclusive<usize>,
}

static ALLOW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?s)^<!--\s*mailroom:\s*allow\b(.*?)(?:-->)?$"#).expect("valid regex")
});
static ARGS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?s)^\s+([A-Za-z0-9_-]+)(?:\s+"([^"]*)")?\s*$"#).expect("valid regex")
});

/// Finds the allow comments, hands the good ones to the emitter and
/// reports the malformed ones.
pub(crate) fn collect(doc: &Doc, em: &mut Emitter<'_>) {
    let source = em.source();
    let mut allows = Vec::new();
    for comment in doc.comments(source) {
        let text = &source[comment.clone()];
        if !text.contains("mailroom:") {
            continue; // most comments; the regex is for the few that are allows
        }
        let Some(caps) = ALLOW.captures(text) else {
            continue;
        };
        let at = comment.start..comment.end;
        let args = ARGS.captures(&caps[1]);
        let rule = args.as_ref().and_then(|a| Rule::from_name(&a[1]));
        let reason = args
            .as_ref()
            .and_then(|a| a.get(2))
            .map(|m| m.as_str().trim());
        match (args.as_ref(), rule, reason) {
            (None, ..) => em.at(
                Rule::Allow,
                at,
                "`mailroom: allow` needs a rule and a reason".to_owned(),
                "write `<!-- mailroom: allow RULE \"why this is fine\" -->`",
            ),
            (Some(a), None, _) => em.at(
                Rule::Allow,
                at,
                format!(
                    "`mailroom: allow` names unknown rule `{}`",
                    excerpt(&a[1], 30)
                ),
                format!("known rules: {}", Rule::ALL.map(Rule::name).join(", ")),
            ),
            (Some(_), Some(rule), None | Some("")) => em.at(
                Rule::Allow,
                at,
                format!("`mailroom: allow {}` gives no reason", rule.name()),
                format!(
                    "say why in quotes: `<!-- mailroom: allow {} \"kept for the archive\" -->`",
                    rule.name()
                ),
            ),
            (Some(_), Some(rule), Some(_)) if allows.len() < MAX_ALLOWS => {
                allows.push(Allow {
                    rule,
                    lines: covered(doc, em, comment),
                });
            }
            _ => {}
        }
    }
    em.set_allows(allows);
}

/// The lines an allow comment at `comment` covers.
fn covered(doc: &Doc, em: &Emitter<'_>, comment: std::ops::Range<usize>) -> RangeInclusive<usize> {
    let source = em.source();
    let own_line = em.line_of(comment.start);
    let line_start = source[..comment.start].rfind('\n').map_or(0, |i| i + 1);
    let after_content = !source[line_start..comment.start].trim().is_empty();
    // The next line that is neither blank nor another allow comment.
    let mut offset = source[comment.end..]
        .find('\n')
        .map_or(source.len(), |i| comment.end + i + 1);
    while offset < source.len() {
        let end = source[offset..]
            .find('\n')
            .map_or(source.len(), |i| offset + i + 1);
        let line = source[offset..end].trim();
        if !line.is_empty() && !ALLOW.is_match(line) {
            break;
        }
        offset = end;
    }
    let next = em.line_of(offset.min(source.len().saturating_sub(1)));
    if after_content {
        return own_line..=own_line;
    }
    let first = next;
    let heading = doc
        .blocks
        .iter()
        .enumerate()
        .find_map(|(i, b)| match b.kind {
            BlockKind::Heading { level, .. } if b.range.start == offset => Some((i, level)),
            _ => None,
        });
    let last = match heading {
        None => next,
        Some((i, level)) => doc.blocks[i + 1..]
            .iter()
            .find(|b| matches!(b.kind, BlockKind::Heading { level: l, .. } if l <= level))
            .map_or(usize::MAX, |b| em.line_of(b.range.start) - 1),
    };
    first..=last.max(first)
}

#[cfg(test)]
mod tests {
    use crate::check::testing::only;

    #[test]
    fn an_allow_covers_the_next_line_only() {
        let body = "<!-- mailroom: allow relative-link \"an anchor on the web edition\" -->\n\
                    [a](/a)\n[b](/b)\n";
        assert_eq!(only("relative-link", body), [(8, 5)]);
    }

    #[test]
    fn an_allow_above_a_heading_covers_its_whole_section_and_subsections() {
        let body = "<!-- mailroom: allow empty-subsection \"kept for the archive\" -->\n\
                    ## Jobs\n\n### Remote\n\n## Events\n\n### Online\n";
        assert_eq!(only("empty-subsection", body), [(13, 1)]);
    }

    #[test]
    fn an_allow_after_content_covers_its_own_line() {
        let body = "[a](/a) <!-- mailroom: allow relative-link \"web only\" -->\n[b](/b)\n";
        assert_eq!(only("relative-link", body), [(7, 5)]);
    }

    #[test]
    fn an_allow_for_another_rule_changes_nothing() {
        let body = "<!-- mailroom: allow image \"x\" -->\n[a](/a)\n";
        assert_eq!(only("relative-link", body), [(7, 5)]);
    }

    #[test]
    fn an_allow_without_a_reason_or_with_an_unknown_rule_is_an_error() {
        let body = "<!-- mailroom: allow relative-link -->\n[a](/a)\n\n\
                    <!-- mailroom: allow relative-links \"typo\" -->\n[b](/b)\n";
        assert_eq!(only("allow", body), [(6, 1), (9, 1)]);
        assert_eq!(only("relative-link", body), [(7, 5), (10, 5)]);
    }
}
