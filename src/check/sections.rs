//! `empty-section`: a heading with nothing under it (before the next heading
//! of the same or higher level) but HTML comments, or a section whose
//! template placeholder comment (`<!-- QOTW goes here -->`) was never
//! replaced: only comments and the section's standing text (`Please
//! submit…`) follow it. `empty-subsection` (a warning): the same for a
//! heading below the issue's top heading level.
use super::doc::{Block, BlockKind, Doc};
use super::{Emitter, Rule, excerpt};

pub(crate) fn check(doc: &Doc, em: &mut Emitter<'_>) {
    if !em.enabled(Rule::EmptySection) && !em.enabled(Rule::EmptySubsection) {
        return;
    }
    // Sub-sections are headings below the issue's top heading level.
    let top = doc
        .blocks
        .iter()
        .filter_map(|b| match b.kind {
            BlockKind::Heading { level, .. } => Some(level),
            _ => None,
        })
        .min()
        .unwrap_or(1);
    for (i, block) in doc.blocks.iter().enumerate() {
        let BlockKind::Heading { level, text } = &block.kind else {
            continue;
        };
        // Consulted only for a heading about to be reported: the allow
        // list is compiled on first use (`CheckContext::heading_allowed`).
        let line = em.source()[block.range.clone()].trim();
        let reported = |rule, em: &Emitter<'_>| em.enabled(rule) && !em.ctx.heading_allowed(line);
        let rest = &doc.blocks[i + 1..];
        let subtree: Vec<&Block> = rest
            .iter()
            .take_while(|b| !ends_section(b, *level))
            .collect();
        if subtree.iter().all(|b| b.kind == BlockKind::Comment) {
            let (rule, what) = if *level > top {
                (Rule::EmptySubsection, "sub-section")
            } else {
                (Rule::EmptySection, "section")
            };
            if reported(rule, em) {
                em.at(
                    rule,
                    block.range.clone(),
                    format!("{what} `{}` is empty", excerpt(text, 60)),
                    "write its content, or remove the heading",
                );
            }
            continue;
        }
        let own: Vec<&Block> = rest
            .iter()
            .take_while(|b| !matches!(b.kind, BlockKind::Heading { .. }))
            .collect();
        if let Some(comment) = unreplaced_placeholder(&own, em)
            && reported(Rule::EmptySection, em)
        {
            let first_line = em.source()[comment.range.clone()]
                .lines()
                .next()
                .unwrap_or("");
            let what = if std::ptr::eq(comment, own[0]) {
                "was never filled in: nothing but standing text follows its placeholder"
            } else {
                "has nothing after its placeholder"
            };
            em.at(
                Rule::EmptySection,
                comment.range.start..comment.range.start + first_line.len(),
                format!(
                    "section `{}` {what} `{}`",
                    excerpt(text, 60),
                    excerpt(first_line.trim(), 50)
                ),
                "fill in the section, then delete the placeholder comment",
            );
        }
    }
}

/// Whether `block` is a heading of level `level` or higher (fewer `#`).
fn ends_section(block: &Block, level: u8) -> bool {
    matches!(block.kind, BlockKind::Heading { level: l, .. } if l <= level)
}

/// The first placeholder comment of a section's own blocks (before its
/// first sub-heading) that was never filled in. A comment that opens the
/// section is unfilled when only comments and the section's standing text
/// (`Please submit…`) follow it; a later one (after the section's intro)
/// when only comments follow it and no list of entries sits right above it.
fn unreplaced_placeholder<'b>(own: &[&'b Block], em: &Emitter<'_>) -> Option<&'b Block> {
    let source = em.source();
    let standing = |b: &Block| em.ctx.standing_text.is_match(&source[b.range.clone()]);
    // Blocks from these indexes on are all comments, or all comments and
    // standing text (one pass each, not one per comment).
    let comments_from = own
        .iter()
        .rposition(|b| b.kind != BlockKind::Comment)
        .map_or(0, |last| last + 1);
    // Standing text, and a block introduced by standing text ending in a
    // colon (`This Week in Rust is edited by:` and its list of names).
    let mut introduced = vec![false; own.len()];
    for j in 1..own.len() {
        let before = &source[own[j - 1].range.clone()];
        introduced[j] = standing(own[j - 1]) && before.trim_end().ends_with(':');
    }
    let standing_from = own
        .iter()
        .enumerate()
        .rposition(|(j, b)| b.kind != BlockKind::Comment && !standing(b) && !introduced[j])
        .map_or(0, |last| last + 1);
    let mut list_above = false;
    for (j, block) in own.iter().enumerate() {
        if block.kind != BlockKind::Comment {
            list_above = is_list(&source[block.range.clone()]);
            continue;
        }
        if !em
            .ctx
            .placeholder_comment
            .is_match(&source[block.range.clone()])
        {
            continue;
        }
        let unfilled = if j == 0 {
            standing_from <= 1
        } else {
            j >= comments_from && !list_above
        };
        if unfilled {
            return Some(*block);
        }
    }
    None
}

/// Whether a block's source starts with a list marker (`*`, `-`, `+`, `1.`).
fn is_list(block: &str) -> bool {
    let t = block.trim_start();
    let digits = t.len() - t.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let rest = &t[digits..];
    if digits > 0 {
        return rest.starts_with(". ") || rest.starts_with(") ");
    }
    ["* ", "- ", "+ ", "*\n", "-\n"]
        .iter()
        .any(|m| t.starts_with(m))
}

#[cfg(test)]
mod tests {
    use crate::check::testing::{findings_with, only};
    use crate::config::CheckSettings;

    #[test]
    fn a_sub_heading_followed_by_a_sibling_is_an_empty_subsection_warning() {
        let body = "## News\n\n### Official\n\n### Foundation\n* [a](https://a.org)\n";
        assert_eq!(only("empty-subsection", body), [(8, 1)]);
        assert_eq!(only("empty-section", body), []);
        let found = crate::check::testing::diagnostics(body);
        assert_eq!(found[0].severity, crate::model::Severity::Warning);
    }

    #[test]
    fn a_heading_followed_by_only_comments_then_a_higher_heading_is_empty() {
        let body = "## A\n\n<!-- nothing yet -->\n\n# B\n\ntext\n";
        assert_eq!(only("empty-subsection", body), [(6, 1)]);
    }

    #[test]
    fn the_last_heading_with_nothing_after_it_is_empty() {
        assert_eq!(only("empty-section", "Intro.\n\n## Jobs\n"), [(8, 1)]);
    }

    #[test]
    fn a_heading_whose_subsections_have_content_is_not_empty() {
        let body = "## Updates\n<!-- Dear contributors: read the README -->\n\n### Tools\n* [a](https://a.org)\n";
        assert_eq!(only("empty-section", body), []);
    }

    #[test]
    fn a_placeholder_comment_above_a_filled_section_is_fine_and_reported_once_when_not() {
        let filled = "## Crate of the Week\n\n<!-- COTW goes here -->\n\nThis week's crate is \
                      [foo](https://foo.rs), a crate.\n\n[Please submit your suggestions and votes \
                      for next week][submit]!\n\n[submit]: https://users.rust-lang.org/t/2704\n\n\
                      ## Next\n\ntext\n";
        assert_eq!(crate::check::testing::findings(filled), []);
        let unfilled = filled.replace(
            "This week's crate is [foo](https://foo.rs), a crate.\n\n",
            "",
        );
        assert_eq!(
            crate::check::testing::findings(&unfilled),
            [("empty-section", 8, 1)]
        );
    }

    #[test]
    fn a_section_opening_with_a_placeholder_comment_is_unfilled() {
        let body = "# Quote of the Week\n\n<!-- QOTW goes here -->\n\n[Please submit quotes](https://x.org)\n\n# Next\n\nx\n";
        assert_eq!(only("empty-section", body), [(8, 1)]);
    }

    #[test]
    fn a_placeholder_comment_followed_only_by_comments_is_unfilled() {
        let body = "### Approved RFCs\n\nThese were approved:\n\n<!-- RFCs go here -->\n<!-- * []() -->\n\n### Next\n\nx\n";
        assert_eq!(only("empty-section", body), [(10, 1)]);
    }

    #[test]
    fn a_placeholder_comment_followed_by_content_is_fine() {
        let body = "### CFP\n\nIntro.\n\n<!-- CFPs go here -->\n*No calls this week.*\n";
        assert_eq!(only("empty-section", body), []);
    }

    #[test]
    fn entries_added_above_the_placeholder_fill_the_section() {
        let body = "## CFP - Events\n\nAre you a speaker?\n\n* [**Conf**](https://c.org) | 2026\n\n\
                    <!-- CFPs go here -->\n\n## Next\n\nx\n";
        assert_eq!(only("empty-section", body), []);
        let empty = body.replace("* [**Conf**](https://c.org) | 2026\n\n", "");
        assert_eq!(only("empty-section", &empty), [(10, 1)]);
    }

    #[test]
    fn allow_listed_headings_may_be_empty() {
        let settings = CheckSettings {
            empty_heading_allow: vec![r"^### \[Rust\]\(.*testing\)$".into()],
            ..CheckSettings::default()
        };
        let body = "### [Rust](https://r.org/testing)\n\n### [Rust](https://r.org/fcp)\n\n## Next\n\ntext\n";
        let found = findings_with(body, &settings);
        assert_eq!(found, [("empty-subsection", 8, 1)]);
    }
}
