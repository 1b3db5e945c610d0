//! Diagnostics for people (compiler style, with ANSI colour that
//! `anstream` strips when stdout is not a terminal) and for CI (JSON lines).
use anstyle::{AnsiColor, Style};
use unicode_width::UnicodeWidthChar;

use crate::model::{Diagnostic, Severity};

const BOLD: Style = Style::new().bold();
const GUTTER: Style = AnsiColor::Blue.on_default().bold();
const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const HELP: Style = AnsiColor::Cyan.on_default().bold();

/// Every diagnostic in compiler style, then a summary line.
pub fn human(file: &str, source: &str, diagnostics: &[Diagnostic]) -> String {
    let width = diagnostics
        .iter()
        .map(|d| d.line.to_string().len())
        .max()
        .unwrap_or(1);
    let lines: Vec<&str> = source.lines().collect();
    let mut out = String::new();
    for d in diagnostics {
        one(&mut out, file, &lines, d, width);
    }
    out.push_str(&summary(file, diagnostics));
    out
}

fn one(out: &mut String, file: &str, lines: &[&str], d: &Diagnostic, width: usize) {
    let (label, style) = severity_style(d.severity);
    let pad = " ".repeat(width);
    out.push_str(&format!(
        "{style}{label}[{}]{style:#}{BOLD}: {}{BOLD:#}\n",
        d.rule, d.message
    ));
    let location = match (d.line, d.column) {
        (0, _) => file.to_owned(),
        (line, 0) => format!("{file}:{line}"),
        (line, column) => format!("{file}:{line}:{column}"),
    };
    out.push_str(&format!("{pad}{GUTTER}-->{GUTTER:#} {location}\n"));
    let snippet = (d.column > 0)
        .then(|| d.line.checked_sub(1).and_then(|i| lines.get(i)))
        .flatten();
    if let Some(text) = snippet {
        let (shown, caret_at, caret_len) = caret(text, d.column, d.len);
        out.push_str(&format!("{pad} {GUTTER}|{GUTTER:#}\n"));
        out.push_str(&format!("{GUTTER}{:>width$} |{GUTTER:#} {shown}\n", d.line));
        out.push_str(&format!(
            "{pad} {GUTTER}|{GUTTER:#} {}{style}{}{style:#}\n",
            " ".repeat(caret_at),
            "^".repeat(caret_len)
        ));
    }
    if let Some(fix) = &d.fix {
        out.push_str(&format!(
            "{pad} {GUTTER}={GUTTER:#} {HELP}help{HELP:#}: {fix}\n"
        ));
    }
    out.push('\n');
}

/// Characters of the line shown before the finding's column, when the
/// line is too long to show whole.
const CONTEXT_BEFORE: usize = 40;
/// The most characters of a line shown; a longer line is cut to a window
/// around the finding, marked with `…`, so output stays small whatever the
/// line's length.
const WINDOW: usize = 100;

/// The line as shown (a window of it when long; tabs expanded, invisible
/// characters made visible), and the display column and width of the caret
/// for a span of `len` characters starting at 1-based `column`.
fn caret(line: &str, column: usize, len: usize) -> (String, usize, usize) {
    let column = column.max(1);
    let first = if line.len() > WINDOW {
        (column - 1).saturating_sub(CONTEXT_BEFORE)
    } else {
        0
    };
    let mut shown = String::new();
    let (mut at, mut span) = (0, 0);
    if first > 0 {
        shown.push('…');
        at += 1;
    }
    let mut chars = line.chars().skip(first);
    for (k, c) in chars.by_ref().take(WINDOW).enumerate() {
        let i = first + k;
        let (text, w) = match c {
            '\t' => ("    ".to_owned(), 4),
            c if c.is_control() => ("\u{fffd}".to_owned(), 1),
            c => (c.to_string(), c.width().unwrap_or(0)),
        };
        shown.push_str(&text);
        if i + 1 < column {
            at += w;
        } else if i + 1 < column + len.max(1) {
            span += w;
        }
    }
    if chars.next().is_some() {
        shown.push('…');
    }
    (shown, at, span.max(1))
}

fn severity_style(severity: Severity) -> (&'static str, Style) {
    match severity {
        Severity::Error => ("error", ERROR),
        Severity::Warning => ("warning", WARNING),
    }
}

/// `error: 3 errors, 1 warning in `issue.md`` (or the all-clear).
pub fn summary(file: &str, diagnostics: &[Diagnostic]) -> String {
    let (errors, warnings) = super::count(diagnostics);
    let plural = |n: usize, word| crate::output::plural(n as u64, word);
    match (errors, warnings) {
        (0, 0) => format!("{BOLD}ok{BOLD:#}: no problems in `{file}`\n"),
        (0, w) => format!(
            "{WARNING}warning{WARNING:#}: {} in `{file}`\n",
            plural(w, "warning")
        ),
        (e, w) => format!(
            "{ERROR}error{ERROR:#}: {}, {} in `{file}`\n",
            plural(e, "error"),
            plural(w, "warning")
        ),
    }
}

/// One JSON object per line and per diagnostic: file, rule, severity, line,
/// column, len, message, fix.
pub fn json(file: &str, diagnostics: &[Diagnostic]) -> String {
    #[derive(serde::Serialize)]
    struct Line<'a> {
        file: &'a str,
        #[serde(flatten)]
        diagnostic: &'a Diagnostic,
    }
    let mut out = String::new();
    for diagnostic in diagnostics {
        let line = serde_json::to_string(&Line { file, diagnostic }).expect("serializable");
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// An issue file that could not be read or parsed, as one JSON line in the
/// shape of a diagnostic: rule `parse` (or `read`), severity `error`, the
/// line when known (0 for the whole file).
pub fn json_error(file: &str, error: &crate::issue::IssueError) -> String {
    use crate::issue::IssueError;
    let (rule, line, message) = match error {
        IssueError::Read { source, .. } => ("read", 0, format!("{error}: {source}")),
        IssueError::Parse { error: e, .. } => ("parse", e.line(), e.to_string()),
    };
    let value = serde_json::json!({
        "file": file,
        "rule": rule,
        "severity": "error",
        "line": line,
        "column": 0,
        "len": 0,
        "message": message,
        "fix": null,
    });
    format!("{value}\n")
}

#[cfg(test)]
mod tests;
