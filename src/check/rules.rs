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
    RawMarkdown,
    DuplicateLabel,
    Mailchimp,
    Allow,
    EmptySubsection,
    HeaderFormat,
}

impl Rule {
    /// Every rule, errors first.
    pub const ALL: [Rule; 20] = [
        Rule::Unfinished,
        Rule::EmptySection,
        Rule::RawMarkdown,
        Rule::DuplicateLabel,
        Rule::Mailchimp,
        Rule::Allow,
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
        Rule::EmptySubsection,
        Rule::HeaderFormat,
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
            Rule::RawMarkdown => "raw-markdown",
            Rule::DuplicateLabel => "duplicate-label",
            Rule::Mailchimp => "mailchimp",
            Rule::Allow => "allow",
            Rule::EmptySubsection => "empty-subsection",
            Rule::HeaderFormat => "header-format",
        }
    }

    /// Errors block a send to subscribers; warnings do not.
    pub const fn severity(self) -> Severity {
        match self {
            Rule::HtmlSize
            | Rule::DuplicateLink
            | Rule::TrackingParam
            | Rule::HtmlTag
            | Rule::Image
            | Rule::EmptySubsection
            | Rule::HeaderFormat => Severity::Warning,
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
            Rule::RawMarkdown => {
                "Markdown that reaches the reader as text: `](http`, `[text][label]`, a link broken across lines"
            }
            Rule::DuplicateLabel => {
                "a reference label (`[label]: URL`) defined twice; Markdown engines disagree on which wins"
            }
            Rule::Mailchimp => {
                "Mailchimp leftovers: `*|UNSUB|*`-style merge tags, list-manage.com links"
            }
            Rule::Allow => {
                "a `<!-- mailroom: allow RULE \"reason\" -->` comment with an unknown rule or no reason"
            }
            Rule::EmptySubsection => {
                "a sub-section heading with no content (below the top heading level)"
            }
            Rule::HeaderFormat => {
                "a header accepted in an older form: `Date: 2020-12-2`, or no `Number:` (taken from the title)"
            }
        }
    }

    /// The rule called `name`, if any.
    pub fn from_name(name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// The rule list for `mailroom check --help`.
pub fn rules_help() -> String {
    let mut help = String::from(
        "Rules (switch one off with `--allow RULE` or `[check] disabled` in config.toml, \
         or for one line or section with `<!-- mailroom: allow RULE \"reason\" -->` above it):\n",
    );
    for rule in Rule::ALL {
        let severity = match rule.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        help.push_str(&format!(
            "  {:<17} {:<8} {}\n",
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
        assert!(help.contains("html-size         warning"));
    }
}
