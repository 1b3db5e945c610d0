//! Lint rules over a parsed issue and its rendered email.
//!
//! [`check_issue`] is pure: `Issue` (+ optional `Rendered`) → sorted
//! [`Diagnostic`]s located by file line and column. The sender runs the same
//! call and refuses to mail subscribers while any error remains. Repeats of
//! a rule are capped per line and per issue ([`emitter`]), so the output
//! stays small however many findings a hostile issue holds.
mod allow;
mod context;
mod doc;
mod emitter;
mod header;
mod html;
mod links;
mod markup;
pub mod mojibake;
mod placeholders;
pub mod report;
mod rules;
mod sections;
mod text;

pub use context::{CheckContext, ContextError};
pub use doc::markdown_options;
pub(crate) use links::has_scheme;
pub use rules::{Rule, rules_help};

use crate::model::{Diagnostic, Issue, Rendered, Severity};
pub(crate) use emitter::Emitter;

/// Checks an issue, and its rendered email when there is one (for the size
/// budget). Diagnostics are sorted by line, then column, then rule; a count
/// of left-out findings ends its line.
pub fn check_issue(
    issue: &Issue,
    rendered: Option<&Rendered>,
    ctx: &CheckContext,
) -> Vec<Diagnostic> {
    let doc = doc::Doc::parse(issue);
    let mut em = Emitter::new(issue, ctx);
    allow::collect(&doc, &mut em);
    placeholders::check(&doc, &mut em);
    sections::check(&doc, &mut em);
    mojibake::check(&mut em);
    text::check(&doc, &mut em);
    header::check(&mut em);
    links::check(&doc, &mut em);
    html::check(&doc, &mut em);
    markup::check(&doc, &mut em);
    if let Some(rendered) = rendered {
        check_size(rendered, &mut em);
    }
    let mut out = em.finish();
    // A finding not tied to a column (a count of the findings left out)
    // comes after the line's other findings.
    out.sort_by_key(|d| (d.line, d.column == 0, d.column, d.rule));
    out
}

/// Counts errors and warnings.
pub fn count(diagnostics: &[Diagnostic]) -> (usize, usize) {
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    (errors, diagnostics.len() - errors)
}

/// Turns every warning into an error (`--deny-warnings`).
pub fn deny_warnings(diagnostics: &mut [Diagnostic]) {
    for d in diagnostics {
        d.severity = Severity::Error;
    }
}

fn check_size(rendered: &Rendered, em: &mut Emitter<'_>) {
    let size = rendered.html.len();
    let budget = em.ctx.html_size_budget;
    if size > budget {
        em.whole(
            Rule::HtmlSize,
            format!("the HTML part is {size} bytes, over the {budget}-byte budget"),
            "Gmail clips larger messages and hides the unsubscribe footer; shorten the issue \
             or raise `[render] html_size_budget`",
        );
    }
}

/// `text` shortened to `max` characters for a message, invisible characters
/// escaped so the reader sees what is there.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() || ('\u{e000}'..='\u{f8ff}').contains(&c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests;
