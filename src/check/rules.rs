//! The rule catalogue: every rule's short stable name, severity and summary.
use crate::model::Severity;

/// One checker rule. Its [`name`](Rule::name) is stable: it appears in
/// output, in `--format json` and in `[check] disabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    Unfinished,
    EmptySection,
    Mojibake,
    ControlChar,
    Header,
    RelativeLink,
    Backticks,
    EmptyItem,
    UnsafeHtml,
    HtmlSize,
    DuplicateLink,
    TrackingParam,
    HtmlTag,
    Image,
}

impl Rule {
    /// Every rule, errors first.
    pub const ALL: [Rule; 14] = [
        Rule::Unfinished,
        Rule::EmptySection,
        Rule::Mojibake,
        Rule::ControlChar,
        Rule::Header,
        Rule::RelativeLink,
        Rule::Backticks,
        Rule::EmptyItem,
        Rule::UnsafeHtml,
        Rule::HtmlSize,
        Rule::DuplicateLink,
        Rule::TrackingParam,
        Rule::HtmlTag,
        Rule::Image,
    ];

    /// The short stable name, e.g. `unfinished`.
    pub const fn name(self) -> &'static str {
        match self {
            Rule::Unfinished => "unfinished",
            Rule::EmptySection => "empty-section",
            Rule::Mojibake => "mojibake",
            Rule::ControlChar => "control-char",
            Rule::Header => "header",
            Rule::RelativeLink => "relative-link",
            Rule::Backticks => "backticks",
            Rule::EmptyItem => "empty-item",
            Rule::UnsafeHtml => "unsafe-html",
            Rule::HtmlSize => "html-size",
            Rule::DuplicateLink => "duplicate-link",
            Rule::TrackingParam => "tracking-param",
            Rule::HtmlTag => "html-tag",
            Rule::Image => "image",
        }
    }

    /// Errors block a send to subscribers; warnings do not.
    pub const fn severity(self) -> Severity {
        match self {
            Rule::HtmlSize
            | Rule::DuplicateLink
            | Rule::TrackingParam
            | Rule::HtmlTag
            | Rule::Image => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// One line saying what the rule finds.
    pub const fn summary(self) -> &'static str {
        match self {
            Rule::Unfinished => {
                "leftover placeholders (INSERT_LINK_HERE, $template_vars) and empty or placeholder link targets"
            }
            Rule::EmptySection => {
                "a heading with no content, or a section still holding only its `<!-- … goes here -->` comment"
            }
            Rule::Mojibake => {
                "UTF-8 text mis-decoded as Windows-1252 (`Ã¼`, `â€“`) or Mac Roman (`√≥`); --fix repairs it"
            }
            Rule::ControlChar => "control characters other than tab and newline",
            Rule::Header => {
                "a missing header field, or a Number/Date/Title that disagrees with the file name or each other"
            }
            Rule::RelativeLink => "a link target with no scheme (relative links break in email)",
            Rule::Backticks => "an unbalanced backtick on a line",
            Rule::EmptyItem => "an empty list item",
            Rule::UnsafeHtml => {
                "<style>, <script>, <iframe>, <form> and the like, or style/on… attributes: removed from the email, since they could hide the unsubscribe link"
            }
            Rule::HtmlSize => {
                "the rendered HTML is over [render] html_size_budget (Gmail clips it)"
            }
            Rule::DuplicateLink => "the same URL linked from two entries of one section",
            Rule::TrackingParam => "tracking parameters (utm_*, …) in a link",
            Rule::HtmlTag => "raw HTML tags outside [check] allowed_html_tags",
            Rule::Image => "an image without alt text, or with a non-https source",
        }
    }

    /// The rule called `name`, if any.
    pub fn from_name(name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// The rule list for `mailroom check --help`.
pub fn rules_help() -> String {
    let mut help = String::from("Rules (switch one off with `[check] disabled` in config.toml):\n");
    for rule in Rule::ALL {
        let severity = match rule.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        help.push_str(&format!(
            "  {:<15} {:<8} {}\n",
            rule.name(),
            severity,
            rule.summary()
        ));
    }
    help
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_unique_and_round_trip() {
        for rule in Rule::ALL {
            assert_eq!(Rule::from_name(rule.name()), Some(rule));
        }
        let mut names: Vec<_> = Rule::ALL.iter().map(|r| r.name()).collect();
        names.dedup();
        assert_eq!(names.len(), Rule::ALL.len());
    }

    #[test]
    fn the_help_lists_every_rule_with_its_severity() {
        let help = rules_help();
        for rule in Rule::ALL {
            let line = help
                .lines()
                .find(|l| l.trim_start().starts_with(rule.name()));
            assert!(line.is_some(), "{} missing from help", rule.name());
        }
        assert!(help.contains("html-size       warning"));
    }
}
