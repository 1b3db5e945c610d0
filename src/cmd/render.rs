//! `mailroom render`: turn an issue into the exact email subscribers receive.
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use time::{OffsetDateTime, Time};

use crate::check::{CheckContext, ContextError};
use crate::config::Settings;
use crate::domain::EmailAddress;
use crate::message::RecipientSlots;
use crate::model::{Diagnostic, Issue, Rendered, Slot};
use crate::output::{note, outln, plural, warning};
use crate::render::markdown::{Collector, Parsed};
use crate::render::{RenderContext, render_issue, render_parsed};

/// The unsubscribe token shown in preview output (real sends use signed tokens).
pub const SAMPLE_TOKEN: &str = "sample-token";

/// Render ISSUE.md into the email subscribers receive.
///
/// Writes three files into DIR (default `./out`), named after the issue file
/// without its extension:
///
///   <stem>.html  the HTML part, CSS inlined (open it in a browser)
///   <stem>.txt   the plain-text part
///   <stem>.eml   the complete MIME message, addressed to
///                `[newsletter] sample_recipient` (open it in a mail client)
///
/// The per-recipient slots (To, Message-ID, unsubscribe URLs) are filled
/// with the sample recipient's values; everything else is byte for byte
/// what every subscriber gets. The message's Date is the issue's date at
/// 00:00 UTC, so rendering the same issue twice gives identical files.
///
/// On success prints one line (subject, HTML bytes, text bytes, links) and
/// exits 0. Warnings, such as an HTML part over `[render] html_size_budget`
/// (Gmail clips at about 102 KB and the unsubscribe footer disappears), go to
/// stderr. A file that cannot be read or parsed exits 2, naming the line.
///
/// Example: mailroom render content/2025-11-12-this-week-in-rust.md --out /tmp/twir
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The issue file: a `Title:/Number:/Date:` header, a blank line, then Markdown.
    pub issue: PathBuf,
    /// The directory to write `<stem>.html`, `<stem>.txt` and `<stem>.eml` into.
    #[arg(long, value_name = "DIR", default_value = "out")]
    pub out: PathBuf,
}

/// The three outputs of one render.
#[derive(Debug)]
pub struct Preview {
    pub rendered: Rendered,
    pub html: String,
    pub text: String,
    pub eml: Vec<u8>,
}

/// Runs `render`, loading the config from `config` (see [`crate::config::load`]).
pub fn run(args: Args, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    // The config loads on its own thread (~0.35 ms) while this one reads
    // and parses the issue (~1 ms), which needs no settings; the parse that
    // checks the issue's bounds also keeps the body's events for the
    // renderer (`issue::parse_lending`), so the Markdown is parsed once
    // here. With the reading on the helper thread instead, this one waited
    // for it and then parsed again: 6.89 against 6.47 ms median (400 runs
    // each, interleaved). A config error still wins over an issue error, as
    // when they ran in turn.
    // The checker (for the note below) runs beside the renderer: it needs
    // only the issue and `[check]`, and the whole process takes the longer
    // of the two rather than their sum. Both helper threads start on
    // another CPU than this one (`thread::spawn`), and the checker only
    // once it has its inputs: a thread woken by a message is queued on the
    // sender's CPU, as a new one is on its parent's.
    let loading = {
        let config = config.map(Path::to_owned);
        // Only the settings leave the thread: the rest is freed there, in
        // the thread's own malloc arena, which the checker's thread takes
        // over. Freed here, those blocks came back to this thread through
        // its cache, and reallocating them later took that arena's lock
        // while the checker was allocating: the threads then waited on
        // each other and, woken, shared one CPU (strace: futex waits on
        // the arena's lock). 6.20 against 6.69 ms median, 400 runs each,
        // interleaved, with the repository's `config.toml`.
        crate::thread::spawn(move || crate::config::load(config.as_deref()).map(|l| l.settings))
    };
    let bytes = match crate::issue::read(&args.issue) {
        Ok(bytes) => bytes,
        Err(e) => {
            loaded(loading)?;
            return Err(e.into());
        }
    };
    let read = parse_issue(&args.issue, &bytes);
    let settings = loaded(loading)?;
    let (issue, parsed) = read?;
    let checking = {
        let (issue, settings) = (Arc::clone(&issue), Arc::clone(&settings));
        crate::thread::spawn(move || findings(&issue, check_context(&settings)))
    };
    let preview = preview_parsed(&issue, &settings, parsed);
    let found = checking.join().ok().flatten();
    let preview = preview?;
    let stem = args
        .issue
        .file_stem()
        .context("the issue path has no file name")?
        .to_string_lossy();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create output directory `{}`", args.out.display()))?;
    write(
        &args.out.join(format!("{stem}.html")),
        preview.html.as_bytes(),
    )?;
    write(
        &args.out.join(format!("{stem}.txt")),
        preview.text.as_bytes(),
    )?;
    write(&args.out.join(format!("{stem}.eml")), &preview.eml)?;

    let r = &preview.rendered;
    let budget = settings.render.html_size_budget;
    if preview.html.len() > budget {
        warning!(
            "the HTML part is {} bytes, over the {budget}-byte budget; Gmail clips \
             messages over about 102 KB and hides the unsubscribe footer, so shorten the issue",
            preview.html.len()
        );
    }
    if let Some(found) = found {
        note_findings(&args.issue, &found);
    }
    outln!(
        "{}: html {} bytes ({:.1} KB), text {} bytes, {} -> {}/{stem}.{{html,txt,eml}}",
        r.subject,
        preview.html.len(),
        preview.html.len() as f64 / 1024.0,
        preview.text.len(),
        plural(r.links as u64, "link"),
        args.out.display(),
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The settings the config thread loaded.
fn loaded(
    loading: std::thread::JoinHandle<Result<Settings, crate::config::ConfigError>>,
) -> anyhow::Result<Arc<Settings>> {
    match loading.join() {
        Ok(settings) => Ok(Arc::new(settings?)),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Parses the issue read from `path`, keeping the body's events when the
/// renderer can use them.
fn parse_issue<'b>(
    path: &Path,
    bytes: &'b [u8],
) -> Result<(Arc<Issue>, Option<Parsed<'b>>), crate::issue::IssueError> {
    let mut events = Collector::new(bytes.len());
    let (issue, lent) = crate::issue::parse_file_lending(path, bytes, |e| events.push(e))?;
    Ok((Arc::new(issue), lent.then(|| events.finish())))
}

/// The checker's context for `render`: only the errors and the
/// header-format warnings are shown, so the other warning rules are not run.
fn check_context(settings: &Settings) -> Result<CheckContext, ContextError> {
    let ctx = CheckContext::new(&settings.check, settings.render.html_size_budget)?;
    Ok(ctx.without_warnings_except(&[crate::check::Rule::HeaderFormat]))
}

/// The checker's findings (the HTML size is `render`'s own warning), or
/// none with a warning when `[check]` is unusable.
fn findings(issue: &Issue, ctx: Result<CheckContext, ContextError>) -> Option<Vec<Diagnostic>> {
    match ctx {
        Ok(ctx) => Some(crate::check::check_issue(issue, None, &ctx)),
        Err(e) => {
            warning!("the issue was not checked: invalid `[check]` settings: {e}");
            None
        }
    }
}

/// On stderr: the header forms read leniently (they decide the number and
/// date the email carries), then how many checker errors the issue has,
/// since `send` refuses it until they are fixed.
fn note_findings(path: &Path, found: &[Diagnostic]) {
    for d in found
        .iter()
        .filter(|d| d.rule == crate::check::Rule::HeaderFormat.name())
    {
        warning!("`{}` line {}: {}", path.display(), d.line, d.message);
    }
    let (errors, _) = crate::check::count(found);
    if errors > 0 {
        note!(
            "note: `{}` has {}; `mailroom check {}` lists them, and `send` refuses the \
             issue until they are fixed",
            path.display(),
            plural(errors as u64, "checker error"),
            path.display()
        );
    }
}

/// Renders an issue and personalizes it for the configured sample recipient.
pub fn preview(issue: &Issue, settings: &Settings) -> anyhow::Result<Preview> {
    preview_parsed(issue, settings, None)
}

/// As [`preview`], from the body's events if already parsed.
fn preview_parsed(
    issue: &Issue,
    settings: &Settings,
    parsed: Option<Parsed<'_>>,
) -> anyhow::Result<Preview> {
    let ctx = RenderContext::new(settings);
    let rendered = match parsed {
        Some(parsed) => render_parsed(issue, &ctx, parsed),
        None => render_issue(issue, &ctx),
    }
    .with_context(|| format!("cannot render `{}`", issue.source_name))?;
    let date = OffsetDateTime::new_utc(issue.header.date, Time::MIDNIGHT);
    let (template, ctx) = crate::message::prepare(&rendered, settings, issue.header.number, date)?;
    let sample = EmailAddress::parse(&settings.newsletter.sample_recipient)
        .context("`[newsletter] sample_recipient` in the config")?;
    let slots = RecipientSlots::new(&ctx, issue.header.number, sample, SAMPLE_TOKEN)?;
    let marker = Slot::UnsubscribeUrl.marker();
    Ok(Preview {
        html: rendered.html.replace(marker, &slots.unsubscribe_url),
        text: rendered.text.replace(marker, &slots.unsubscribe_url),
        eml: template.personalize(&slots),
        rendered,
    })
}

/// Replaces `path` with `bytes` by removing the old file first. Overwriting
/// in place (or renaming over it) is much slower on ext4: its `auto_da_alloc`
/// safeguard flushes a file that replaced another before the call returns,
/// which cost ~4 ms per render here, more than the rendering itself.
fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => std::fs::write(path, bytes),
    }
    .with_context(|| format!("cannot write `{}`", path.display()))
}
