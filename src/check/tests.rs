//! Whole-checker tests: ordering, switching rules off, the size budget.
use super::testing::{HEADER, diagnostics, findings_with};
use super::*;
use crate::config::CheckSettings;

fn rendered(html_len: usize) -> Rendered {
    Rendered {
        subject: String::new(),
        html: "x".repeat(html_len),
        text: String::new(),
        links: 0,
        link_urls: Vec::new(),
        web_url: String::new(),
    }
}

#[test]
fn diagnostics_come_sorted_by_line_and_column() {
    let body = "b INSERT_LINK_HERE a\u{1}\n\n[x](/rel) ZÃ¼rich\n";
    let found: Vec<_> = diagnostics(body)
        .into_iter()
        .map(|d| (d.line, d.column, d.rule))
        .collect();
    assert_eq!(
        found,
        [
            (6, 3, "unfinished"),
            (6, 21, "control-char"),
            (8, 5, "relative-link"),
            (8, 12, "mojibake")
        ]
    );
}

#[test]
fn the_emitter_locates_offsets_like_the_issue_does() {
    let issue = crate::issue::parse("i.md", &format!("{HEADER}ab\nçd 🦀 x\n")).unwrap();
    let ctx = CheckContext::new(&CheckSettings::default(), 1).unwrap();
    let em = Emitter::new(&issue, &ctx);
    for offset in 0..=issue.source.len() {
        assert_eq!(
            em.line_col(offset),
            issue.line_col(offset),
            "offset {offset}"
        );
    }
}

#[test]
fn the_emitter_spans_the_line_around_an_offset_without_its_break() {
    let issue = crate::issue::parse("i.md", &format!("{HEADER}ab\nçd 🦀 x")).unwrap();
    let ctx = CheckContext::new(&CheckSettings::default(), 1).unwrap();
    let em = Emitter::new(&issue, &ctx);
    for offset in 0..issue.source.len() {
        let span = em.line_span(offset);
        let expected = issue.source.lines().nth(em.line_of(offset) - 1).unwrap();
        assert_eq!(&issue.source[span.clone()], expected, "offset {offset}");
        assert!(span.contains(&offset) || issue.source.as_bytes()[offset] == b'\n');
    }
}

#[test]
fn a_disabled_rule_reports_nothing() {
    let settings = CheckSettings {
        disabled: vec!["unfinished".into()],
        ..CheckSettings::default()
    };
    assert_eq!(findings_with("[a](INSERT_LINK_HERE)\n", &settings), []);
}

#[test]
fn html_over_the_budget_is_a_warning_about_the_whole_issue() {
    let issue = crate::issue::parse("i.md", &format!("{HEADER}Body.\n")).unwrap();
    let ctx = CheckContext::new(&CheckSettings::default(), 100).unwrap();
    let over = check_issue(&issue, Some(&rendered(101)), &ctx);
    assert_eq!(over.len(), 1);
    assert_eq!(
        (over[0].rule, over[0].line, over[0].severity),
        ("html-size", 0, Severity::Warning)
    );
    assert!(over[0].message.contains("101 bytes"));
    assert_eq!(check_issue(&issue, Some(&rendered(100)), &ctx), []);
}

#[test]
fn deny_warnings_turns_warnings_into_errors() {
    let mut found = diagnostics("<blink>x</blink>\n");
    assert_eq!(count(&found), (0, 1));
    deny_warnings(&mut found);
    assert_eq!(count(&found), (1, 0));
}

#[test]
fn repeats_of_a_rule_on_one_line_are_capped_and_counted() {
    let body = format!("{}\n", "![](http://ex.org/a.png)".repeat(4000));
    let found = diagnostics(&body);
    let images: Vec<_> = found.iter().filter(|d| d.rule == "image").collect();
    assert_eq!(images.len(), emitter::MAX_PER_LINE + 1, "{images:#?}");
    let last = images.last().unwrap();
    assert_eq!((last.line, last.column), (6, 0), "the count comes last");
    // 4,000 images, each without alt text and over http.
    let more = 8000 - emitter::MAX_PER_LINE;
    assert_eq!(
        last.message,
        format!("and {more} more `image` findings on this line")
    );
}

#[test]
fn repeats_of_a_rule_across_lines_are_capped_and_counted() {
    let body = "`\n\n".repeat(emitter::MAX_PER_RULE + 7);
    let found = diagnostics(&body);
    let ticks: Vec<_> = found.iter().filter(|d| d.rule == "backticks").collect();
    assert_eq!(ticks.len(), emitter::MAX_PER_RULE + 1);
    let count = ticks.iter().find(|d| d.line == 0).unwrap();
    assert!(
        count
            .message
            .starts_with("and 7 more `backticks` findings in the issue"),
        "{}",
        count.message
    );
    assert_eq!(
        count.severity,
        Severity::Error,
        "the count still blocks a send"
    );
}

#[test]
fn messages_quote_at_most_an_excerpt_of_huge_values() {
    let word = format!("A{}_HERE", "B".repeat(100_000));
    let found = diagnostics(&format!("{word}\n"));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].message.len() < 200, "{}", found[0].message.len());
}
