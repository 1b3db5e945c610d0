//! `unfinished`: leftover placeholders in text, header values and link
//! targets, and links whose target is empty.
use super::doc::Doc;
use super::{Emitter, Rule, excerpt};

pub(crate) fn check(doc: &Doc, em: &mut Emitter<'_>) {
    if !em.enabled(Rule::Unfinished) {
        return;
    }
    let source = em.source();
    // One regex pass over the whole source (cheaper than one per text
    // event); a match counts when it starts in the header or in text.
    for m in em.ctx.placeholders.find_iter(source) {
        if m.start() >= em.issue.body_offset && !in_text(&doc.texts, m.start()) {
            continue;
        }
        em.at(
            Rule::Unfinished,
            m.range(),
            format!("leftover placeholder `{}`", excerpt(&source[m.range()], 60)),
            "replace it with the real text",
        );
    }
    for link in &doc.links {
        let what = if link.image {
            "image source"
        } else {
            "link target"
        };
        if link.dest.trim().is_empty() {
            em.at(
                Rule::Unfinished,
                link.range.clone(),
                format!("empty {what}"),
                format!("fill in the {what}, or remove the link"),
            );
        } else if em.ctx.placeholders.is_match(&link.dest) {
            let raw = &source[link.range.clone()];
            let at = raw
                .rfind(link.dest.as_str())
                .map_or(link.range.clone(), |i| {
                    link.range.start + i..link.range.start + i + link.dest.len()
                });
            em.at(
                Rule::Unfinished,
                at,
                format!("placeholder {what} `{}`", excerpt(&link.dest, 60)),
                "replace it with the real URL",
            );
        }
    }
}

/// Whether `offset` falls inside one of the sorted, disjoint `texts`.
fn in_text(texts: &[std::ops::Range<usize>], offset: usize) -> bool {
    let i = texts.partition_point(|r| r.end <= offset);
    texts.get(i).is_some_and(|r| r.start <= offset)
}

#[cfg(test)]
mod tests {
    use crate::check::testing::{HEADER, findings, only};

    #[test]
    fn placeholder_link_targets_are_found_where_they_are() {
        let body = "Intro.\n\nSee [the thread](INSERT_LINK_HERE).\n";
        // line 8, column of `INSERT_LINK_HERE`
        assert_eq!(only("unfinished", body), [(8, 18)]);
    }

    #[test]
    fn placeholder_tokens_and_template_variables_in_text_are_found() {
        let body = "Issue $twir_issue_number, link REDDIT_LINK_HERE.\n";
        assert_eq!(only("unfinished", body), [(6, 7), (6, 32)]);
    }

    #[test]
    fn empty_link_targets_are_found() {
        assert_eq!(only("unfinished", "* [A title]()\n"), [(6, 3)]);
    }

    #[test]
    fn placeholders_in_comments_code_and_real_links_are_not_reported() {
        let body = "<!-- * [ - ]() INSERT_LINK_HERE -->\n\nUse `$HOME` and [a](https://x.org/INSERT).\n\n    $indented_code\n";
        assert_eq!(findings(body), []);
    }

    #[test]
    fn the_header_fields_are_searched_too() {
        let text = HEADER.replace("This Week in Rust 625", "This Week in Rust $number");
        let issue = crate::issue::parse("i.md", &format!("{text}Body.\n")).unwrap();
        let ctx = crate::check::CheckContext::new(&Default::default(), 1).unwrap();
        let found = crate::check::check_issue(&issue, None, &ctx);
        assert!(found.iter().any(|d| d.rule == "unfinished" && d.line == 1));
    }
}
