//! `empty-section`: a heading with nothing under it (before the next heading
//! of the same or higher level) but HTML comments, or a section whose
//! template placeholder comment (`<!-- QOTW goes here -->`) was never
//! replaced: the comment opens the section, or only comments follow it.
use super::doc::{Block, BlockKind, Doc};
use super::{Emitter, Rule, excerpt};

pub(crate) fn check(doc: &Doc, em: &mut Emitter<'_>) {
    if !em.enabled(Rule::EmptySection) {
        return;
    }
    for (i, block) in doc.blocks.iter().enumerate() {
        let BlockKind::Heading { level, text } = &block.kind else {
            continue;
        };
        let line = em.source()[block.range.clone()].trim();
        if em
            .ctx
            .empty_heading_allow
            .iter()
            .any(|re| re.is_match(line))
        {
            continue;
        }
        let rest = &doc.blocks[i + 1..];
        let mut subtree = rest.iter().take_while(|b| !ends_section(b, *level));
        if subtree.all(|b| b.kind == BlockKind::Comment) {
            em.at(
                Rule::EmptySection,
                block.range.clone(),
                format!("section `{}` is empty", excerpt(text, 60)),
                "write its content, or remove the heading",
            );
            continue;
        }
        let own: Vec<&Block> = rest
            .iter()
            .take_while(|b| !matches!(b.kind, BlockKind::Heading { .. }))
            .collect();
        if let Some(comment) = unreplaced_placeholder(&own, em) {
            let first_line = em.source()[comment.range.clone()]
                .lines()
                .next()
                .unwrap_or("");
            let what = if std::ptr::eq(comment, own[0]) {
                "still opens with its placeholder"
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

/// The first placeholder comment among a section's own blocks that either
/// opens the section or is followed by nothing but comments.
fn unreplaced_placeholder<'b>(own: &[&'b Block], em: &Emitter<'_>) -> Option<&'b Block> {
    // Blocks from this index on are all comments (one pass, not one per block).
    let comments_from = own
        .iter()
        .rposition(|b| b.kind != BlockKind::Comment)
        .map_or(0, |last| last + 1);
    own.iter().enumerate().find_map(|(j, block)| {
        let unfilled = j == 0 || j + 1 >= comments_from;
        let is_placeholder = block.kind == BlockKind::Comment
            && em
                .ctx
                .placeholder_comment
                .is_match(&em.source()[block.range.clone()]);
        (unfilled && is_placeholder).then_some(*block)
    })
}

#[cfg(test)]
mod tests {
    use crate::check::testing::{findings_with, only};
    use crate::config::CheckSettings;

    #[test]
    fn a_heading_followed_by_a_sibling_is_empty() {
        let body = "## News\n\n### Official\n\n### Foundation\n* [a](https://a.org)\n";
        assert_eq!(only("empty-section", body), [(8, 1)]);
    }

    #[test]
    fn a_heading_followed_by_only_comments_then_a_higher_heading_is_empty() {
        let body = "## A\n\n<!-- nothing yet -->\n\n# B\n\ntext\n";
        assert_eq!(only("empty-section", body), [(6, 1)]);
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
    fn a_section_opening_with_a_placeholder_comment_is_unfilled() {
        let body = "# Quote of the Week\n\n<!-- QOTW goes here -->\n\n[Please submit quotes](https://x.org)\n";
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
    fn allow_listed_headings_may_be_empty() {
        let settings = CheckSettings {
            empty_heading_allow: vec![r"^### \[Rust\]\(.*testing\)$".into()],
            ..CheckSettings::default()
        };
        let body = "### [Rust](https://r.org/testing)\n\n### [Rust](https://r.org/fcp)\n\n## Next\n\ntext\n";
        let found = findings_with(body, &settings);
        assert_eq!(found, [("empty-section", 8, 1)]);
    }
}
