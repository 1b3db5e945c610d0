//! `mailroom check`: find unfinished or broken content before it reaches
//! subscribers; `--fix` repairs mis-encoded text in place.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::check::{self, CheckContext, report};
use crate::config::Settings;
use crate::issue::IssueError;
use crate::model::Diagnostic;
use crate::output::{note, plural};

/// Check ISSUE.md for leftover placeholders, empty sections, mis-encoded
/// text, broken links and more.
///
/// Exit status: 0 no errors (warnings allowed), 1 errors found,
/// 2 the file could not be read or parsed.
#[derive(Debug, clap::Args)]
#[command(after_help = check::rules_help())]
pub struct Args {
    /// The issue file.
    pub issue: PathBuf,
    /// `table` (compiler style, coloured on a terminal) or `json` (one
    /// object per line: file, rule, severity, line, column, len, message, fix).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Treat warnings as errors.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Switch RULE off for this run (repeatable). To allow one finding
    /// instead, put `<!-- mailroom: allow RULE "reason" -->` above its line
    /// or section.
    #[arg(long, value_name = "RULE")]
    pub allow: Vec<String>,
    /// Repair mis-encoded text in place, keeping the original as ISSUE.md.bak.
    #[arg(long)]
    pub fix: bool,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Compiler-style diagnostics for people (`human` and `text` work too).
    #[value(alias = "human", alias = "text")]
    Table,
    /// One JSON object per line.
    Json,
}

/// Runs `check`.
pub fn run(args: Args, settings: &Settings) -> anyhow::Result<ExitCode> {
    let mut ctx = CheckContext::new(&settings.check, settings.render.html_size_budget)
        .context("invalid `[check]` settings")?;
    ctx.allow(&args.allow)?;
    if args.fix {
        fix(&args.issue)?;
    }
    let issue = match crate::issue::from_file(&args.issue) {
        Ok(issue) => issue,
        Err(e) if args.format == Format::Json => {
            // CI reads stdout as JSON lines: the parse error is one too.
            let file = args.issue.display().to_string();
            print_text(&report::json_error(&file, &e))?;
            return Ok(ExitCode::from(2));
        }
        Err(e) => return Err(e.into()),
    };
    let render_ctx = crate::render::RenderContext::new(settings);
    let rendered = crate::render::render_issue(&issue, &render_ctx)
        .with_context(|| format!("cannot render `{}`", args.issue.display()))?;
    let mut diagnostics = check::check_issue(&issue, Some(&rendered), &ctx);
    if args.deny_warnings {
        check::deny_warnings(&mut diagnostics);
    }
    print(&args, &issue.source, &diagnostics)?;
    let (errors, _) = check::count(&diagnostics);
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print(args: &Args, source: &str, diagnostics: &[Diagnostic]) -> anyhow::Result<()> {
    let file = args.issue.display().to_string();
    let text = match args.format {
        Format::Table => report::human(&file, source, diagnostics),
        Format::Json => report::json(&file, diagnostics),
    };
    print_text(&text)
}

fn print_text(text: &str) -> anyhow::Result<()> {
    let mut out = anstream::stdout().lock();
    // A reader that stopped early (`| head`) ends the run quietly in `main`.
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(crate::output::stdout_error)
}

/// Repairs mojibake in `path`, keeping `<path>.bak`; reports what it did
/// on stderr.
fn fix(path: &Path) -> anyhow::Result<()> {
    let read_error = |source| IssueError::Read {
        path: path.to_owned(),
        source,
    };
    let size = std::fs::metadata(path).map_err(read_error)?.len();
    crate::issue::limits::check_size(usize::try_from(size).unwrap_or(usize::MAX)).map_err(
        |error| IssueError::Parse {
            path: path.to_owned(),
            error,
        },
    )?;
    let text = std::fs::read_to_string(path).map_err(read_error)?;
    let (repaired, findings) = check::mojibake::repair(&text);
    let fixed = findings.iter().filter(|m| m.repair().is_some()).count();
    let left = findings.len() - fixed;
    if fixed == 0 {
        note!("fix: nothing to repair in `{}`", path.display());
        return Ok(());
    }
    let mut backup = path.as_os_str().to_owned();
    backup.push(".bak");
    let backup = PathBuf::from(backup);
    std::fs::copy(path, &backup).with_context(|| {
        format!(
            "cannot keep a backup of `{}` as `{}`",
            path.display(),
            backup.display()
        )
    })?;
    std::fs::write(path, repaired).with_context(|| format!("cannot write `{}`", path.display()))?;
    note!(
        "fix: repaired {} in `{}`; the original is `{}`{}",
        plural(fixed as u64, "mis-encoded run"),
        path.display(),
        backup.display(),
        if left > 0 {
            format!("; {} left for you", plural(left as u64, "ambiguous run"))
        } else {
            String::new()
        }
    );
    Ok(())
}
