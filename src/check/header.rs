//! `header`: required fields present and non-empty; `Date:` and `Number:`
//! agree with a date or number carried in the file name, and a title that
//! ends in a number agrees with `Number:`.
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::{Emitter, Rule};
use crate::model::Leniency;

static NAME_DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d{4}-\d{2}-\d{2})").expect("valid regex"));
static NAME_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(?:this-week-in-rust|twir)[-_]?(\d+)").expect("valid regex"));
static TITLE_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d+)\s*$").expect("valid regex"));

pub(crate) fn check(em: &mut Emitter<'_>) {
    if !em.enabled(Rule::Header) {
        return;
    }
    required_fields(em);
    lenient(em);
    let issue = em.issue;
    let header = &issue.header;
    let number = header.number.get().to_string();
    let date = header.date.to_string();
    // Each regex runs only where it could match: compiling the Unicode `\d`
    // ones costs 0.2-0.3 ms apiece, a tenth of `render`'s whole run, and
    // most names and titles fail these byte tests (`scripts/bench-render`).
    if let Some(m) = Some(&issue.source_name)
        .filter(|name| name.contains('-'))
        .and_then(|name| NAME_DATE.captures(name))
        .map(|c| c[1].to_owned())
        && m != date
    {
        let at = value_span(em, "Date");
        em.at(
            Rule::Header,
            at,
            format!(
                "`Date:` is `{date}` but the file name `{}` says `{m}`",
                issue.source_name
            ),
            "correct `Date:` or rename the file",
        );
    }
    // Every spelling of `twir` and `this-week-in-rust` has a `w` (which
    // case-folds to nothing else).
    if let Some(m) = Some(&issue.source_name)
        .filter(|name| name.contains(['w', 'W']))
        .and_then(|name| NAME_NUMBER.captures(name))
        .map(|c| c[1].to_owned())
        && m.trim_start_matches('0') != number
    {
        let at = value_span(em, "Number");
        em.at(
            Rule::Header,
            at,
            format!(
                "`Number:` is `{number}` but the file name `{}` says `{m}`",
                issue.source_name
            ),
            "correct `Number:` or rename the file",
        );
    }
    if let Some(m) = title_number(&header.title)
        && m.trim_start_matches('0') != number
    {
        let at = value_span(em, "Title");
        em.at(
            Rule::Header,
            at,
            format!(
                "`Title:` ends in `{}` but `Number:` is `{number}`",
                super::excerpt(&m, 20)
            ),
            "make the title and the number agree",
        );
    }
}

/// What `TITLE_NUMBER` captures: the run of digits ending the title. An
/// all-ASCII run (`This Week in Rust 625`) is taken without the regex,
/// whose Unicode `\d` and `\s` cost ~0.25 ms per process to compile, a
/// fortieth of `render`'s run (`scripts/bench-render`); any other digit
/// goes to the regex, so the answer is the regex's.
fn title_number(title: &str) -> Option<String> {
    // `\s` is Unicode White_Space, what `trim_end` removes; `\d` is a
    // subset of `char::is_numeric`.
    let trimmed = title.trim_end();
    if !trimmed.chars().last().is_some_and(char::is_numeric) {
        return None;
    }
    let before = trimmed.trim_end_matches(|c: char| c.is_ascii_digit());
    if before.len() < trimmed.len() && !before.chars().last().is_some_and(char::is_numeric) {
        return Some(trimmed[before.len()..].to_owned());
    }
    TITLE_NUMBER.captures(title).map(|c| c[1].to_owned())
}

/// `header-format` warnings for the older forms the parser accepted.
fn lenient(em: &mut Emitter<'_>) {
    for note in &em.issue.header.lenient {
        match note {
            Leniency::UnpaddedDate { found, .. } => {
                let date = em.issue.header.date;
                let at = value_span(em, "Date");
                em.at(
                    Rule::HeaderFormat,
                    at,
                    format!(
                        "`Date:` is `{}`, read as `{date}`",
                        super::excerpt(found, 20)
                    ),
                    format!("write `Date: {date}`"),
                );
            }
            Leniency::NumberFromTitle { line } => {
                let number = em.issue.header.number;
                let at = line_span(em, *line);
                em.at(
                    Rule::HeaderFormat,
                    at,
                    format!("the header has no `Number:`; `{number}` is taken from the title"),
                    format!("add `Number: {number}` to the header"),
                );
            }
        }
    }
}

fn required_fields(em: &mut Emitter<'_>) {
    let header = &em.issue.header;
    let last_line = header.fields.last().map_or(1, |f| f.line);
    let number_from_title = header
        .lenient
        .iter()
        .any(|l| matches!(l, Leniency::NumberFromTitle { .. }));
    for key in &em.ctx.required_header_fields {
        match header.field(key) {
            None if number_from_title && key.eq_ignore_ascii_case("Number") => {}
            Some(f) if !f.value.is_empty() => {}
            Some(_) => {
                let at = value_span(em, key);
                em.at(
                    Rule::Header,
                    at,
                    format!("`{key}:` is empty"),
                    format!("give `{key}:` a value"),
                );
            }
            None => {
                let at = line_span(em, last_line);
                em.at(
                    Rule::Header,
                    at,
                    format!("the header has no `{key}:` field"),
                    format!("add a `{key}: …` line to the header"),
                );
            }
        }
    }
}

/// The span of a header field's value (or its whole line when empty).
fn value_span(em: &Emitter<'_>, key: &str) -> Range<usize> {
    let Some(field) = em.issue.header.field(key) else {
        return 0..0;
    };
    let line = line_span(em, field.line);
    let text = &em.source()[line.clone()];
    let colon = text.find(':').map_or(0, |c| c + 1);
    let start = colon + (text[colon..].len() - text[colon..].trim_start().len());
    if field.value.is_empty() {
        line
    } else {
        line.start + start..line.start + start + field.value.len()
    }
}

/// The byte span of 1-based line `line`, without its newline.
fn line_span(em: &Emitter<'_>, line: usize) -> Range<usize> {
    let source = em.source();
    let start: usize = source
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    let len = source[start..].find('\n').unwrap_or(source.len() - start);
    start..start + len
}

#[cfg(test)]
mod tests {
    use crate::check::testing::HEADER;
    use crate::check::{CheckContext, check_issue};
    use crate::config::CheckSettings;

    fn header_findings(name: &str, text: &str) -> Vec<(usize, usize, String)> {
        let issue = crate::issue::parse(name, &format!("{text}Body.\n")).unwrap();
        let ctx = CheckContext::new(&CheckSettings::default(), 1).unwrap();
        check_issue(&issue, None, &ctx)
            .into_iter()
            .filter(|d| d.rule == "header")
            .map(|d| (d.line, d.column, d.message))
            .collect()
    }

    #[test]
    fn a_missing_required_field_is_reported_on_the_last_header_line() {
        let text = HEADER.replace("Category: This Week in Rust\n", "");
        assert_eq!(
            header_findings("issue.md", &text),
            [],
            "the email never uses Category"
        );
        let settings = CheckSettings {
            required_header_fields: vec!["Title".into(), "Author".into()],
            ..CheckSettings::default()
        };
        let issue = crate::issue::parse("i.md", &format!("{text}Body.\n")).unwrap();
        let ctx = CheckContext::new(&settings, 1).unwrap();
        let found = check_issue(&issue, None, &ctx);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].line, found[0].column), (3, 1));
        assert!(found[0].message.contains("`Author:`"));
    }

    #[test]
    fn older_header_forms_are_header_format_warnings_with_the_fix() {
        let text = HEADER
            .replace("Number: 625\n", "")
            .replace("2025-11-12", "2025-1-2");
        let issue = crate::issue::parse("i.md", &format!("{text}Body.\n")).unwrap();
        let ctx = CheckContext::new(&CheckSettings::default(), 1).unwrap();
        let found: Vec<_> = check_issue(&issue, None, &ctx)
            .into_iter()
            .map(|d| (d.rule, d.severity, d.line, d.fix.unwrap_or_default()))
            .collect();
        let warning = crate::model::Severity::Warning;
        assert_eq!(
            found,
            [
                (
                    "header-format",
                    warning,
                    1,
                    "add `Number: 625` to the header".into()
                ),
                (
                    "header-format",
                    warning,
                    2,
                    "write `Date: 2025-01-02`".into()
                ),
            ]
        );
    }

    #[test]
    fn a_date_that_disagrees_with_the_file_name_is_reported_at_the_value() {
        let found = header_findings("2025-11-05-this-week-in-rust.md", HEADER);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].0, found[0].1), (3, 7));
        assert!(found[0].2.contains("`2025-11-05`"));
    }

    #[test]
    fn the_title_number_is_what_the_regex_captures_whatever_the_digits() {
        for title in [
            "This Week in Rust 625",
            "This Week in Rust 625 \u{3000}",
            "Rust 0625\t",
            "625",
            "No number",
            "",
            "Ends in Arabic-Indic \u{663}\u{664}",
            "Mixed \u{663}42",
            "Roman \u{2167}",
            "Fullwidth \u{ff11}\u{ff12}",
            "Superscript 4\u{b2}",
        ] {
            let regex = super::TITLE_NUMBER.captures(title).map(|c| c[1].to_owned());
            assert_eq!(super::title_number(title), regex, "{title:?}");
        }
    }

    #[test]
    fn a_number_that_disagrees_with_the_file_name_or_title_is_reported() {
        assert_eq!(header_findings("this-week-in-rust-624.md", HEADER)[0].0, 2);
        let text = HEADER.replace("Rust 625", "Rust 624");
        assert_eq!(header_findings("issue.md", &text)[0].0, 1);
    }

    #[test]
    fn a_file_name_that_agrees_or_carries_nothing_is_fine() {
        assert_eq!(
            header_findings("2025-11-12-this-week-in-rust.md", HEADER),
            []
        );
        assert_eq!(header_findings("twir-625.md", HEADER), []);
        assert_eq!(header_findings("000_8dcd2075dd7da271.txt", HEADER), []);
    }
}
