//! `mailroom preview`: the exact email in a local browser page that
//! follows the issue as it is edited.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::check::{self, CheckContext};
use crate::config::Settings;
use crate::output::{note, outln, warning};
use crate::web::preview::{Edition, Email, Ended, Problem, Watched};

/// Preview ISSUE.md in a browser, live.
///
/// Starts a local server on 127.0.0.1 (loopback only; `--port 0`, the
/// default, picks a free port), prints its URL and keeps running until
/// Ctrl-C. The page shows the exact email the sample recipient would get:
///
///   Desktop 600 px, Mobile 375 px, Dark mode   the HTML part
///   Plain text, Headers                         the text part, the MIME headers
///   Findings, Source                            `mailroom check`'s findings,
///                                               each linked to its line
///
/// Saving the issue (or `config.toml`) renders it again and the page reloads
/// by itself. The templates in `email-templates/` are compiled into the
/// binary: rebuild it (`cargo build`) and the preview restarts on the same
/// port. An issue that does not parse shows the error and its line until it
/// is fixed.
///
/// Example:
///   mailroom preview content/2025-11-12-this-week-in-rust.md --open
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The issue file.
    pub issue: PathBuf,
    /// The port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Open the page in the browser (`$BROWSER`, else `xdg-open`).
    #[arg(long)]
    pub open: bool,
}

/// Runs `preview`.
pub fn run(args: Args, settings: &Settings, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    CheckContext::new(&settings.check, settings.render.html_size_budget)
        .context("invalid `[check]` settings")?;
    // A mistyped path is an error at once, not a page waiting for a file
    // that never comes; an issue that reads but does not parse is shown on
    // the page until it is fixed.
    if let Err(e @ crate::issue::IssueError::Read { .. }) = crate::issue::read(&args.issue) {
        return Err(e.into());
    }
    let mut files = vec![args.issue.clone()];
    files.extend(config.map(Path::to_path_buf));
    let exe = std::env::current_exe().ok();
    let watched = Watched {
        build: Box::new({
            let (path, settings) = (args.issue.clone(), settings.clone());
            let config = config.map(Path::to_path_buf);
            move || match reload(config.as_deref(), &settings) {
                Ok(settings) => edition(&path, &settings),
                Err(e) => Edition {
                    file: path.display().to_string(),
                    source: read_source(&path),
                    email: Err(Problem {
                        message: format!("{e:#}"),
                        line: 0,
                    }),
                    findings: Vec::new(),
                },
            }
        }),
        files,
        exe: exe.clone(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (issue, open) = (args.issue.display().to_string(), args.open);
    let ended = runtime.block_on(crate::web::preview::run(watched, args.port, |url| {
        // Stdout closed early is no reason to stop serving the page.
        let _ = outln!("preview: {url} (watching `{issue}`; Ctrl-C stops)");
        if open {
            open_browser(url);
        }
    }))?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match (ended, exe) {
        (Ended::Rebuilt { port }, Some(exe)) => restart(&exe, port),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// The settings as the config file now says (it is watched too), or the
/// built-in ones when there is no file.
fn reload(config: Option<&Path>, settings: &Settings) -> anyhow::Result<Settings> {
    match config {
        Some(file) => Ok(crate::config::load(Some(file))?.settings),
        None => Ok(settings.clone()),
    }
}

/// One render of the issue: the email for the sample recipient and the
/// checker's findings, or the error that stopped it.
fn edition(path: &Path, settings: &Settings) -> Edition {
    let file = path.display().to_string();
    let source = read_source(path);
    let issue = match crate::issue::from_file(path) {
        Ok(issue) => issue,
        Err(e) => {
            let line = match &e {
                crate::issue::IssueError::Parse { error, .. } => error.line(),
                crate::issue::IssueError::Read { .. } => 0,
            };
            let message = match &e {
                crate::issue::IssueError::Read { source, .. } => format!("{e}: {source}"),
                _ => e.to_string(),
            };
            return Edition {
                file,
                source,
                email: Err(Problem { message, line }),
                findings: Vec::new(),
            };
        }
    };
    let email = CheckContext::new(&settings.check, settings.render.html_size_budget)
        .context("invalid `[check]` settings")
        .and_then(|ctx| Ok((ctx, super::render::preview(&issue, settings)?)))
        .map(|(ctx, p)| {
            let findings = check::check_issue(&issue, Some(&p.rendered), &ctx);
            (
                Email {
                    subject: p.rendered.subject.clone(),
                    headers: header_section(&p.eml),
                    html: p.html,
                    text: p.text,
                },
                findings,
            )
        });
    match email {
        Ok((email, findings)) => Edition {
            file,
            source: issue.source,
            email: Ok(email),
            findings,
        },
        Err(e) => Edition {
            file,
            source: issue.source,
            email: Err(Problem {
                message: format!("{e:#}"),
                line: 0,
            }),
            findings: Vec::new(),
        },
    }
}

/// The issue's text for the Source tab, within the issue size limit.
fn read_source(path: &Path) -> String {
    use std::io::Read;
    let mut bytes = Vec::new();
    let limit = crate::issue::limits::MAX_ISSUE_BYTES as u64;
    if let Ok(file) = std::fs::File::open(path) {
        let _ = file.take(limit).read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The MIME message's header section, folded lines joined.
fn header_section(eml: &[u8]) -> String {
    let text = String::from_utf8_lossy(eml);
    let end = text.find("\r\n\r\n").unwrap_or(text.len());
    text[..end]
        .replace("\r\n ", " ")
        .replace("\r\n\t", " ")
        .replace("\r\n", "\n")
}

/// Opens `url` with `$BROWSER` or the desktop's opener; a failure is a
/// warning, since the URL is printed anyway.
fn open_browser(url: &str) {
    let opener = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| {
            if cfg!(target_os = "macos") {
                "open".to_owned()
            } else {
                "xdg-open".to_owned()
            }
        });
    let spawned = std::process::Command::new(&opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        warning!("cannot open the browser with `{opener}` ({e}); open {url} yourself");
    }
}

/// Runs the rebuilt binary in place of this one, with the same arguments
/// on the same port; the open pages reconnect and reload.
fn restart(exe: &Path, port: u16) -> anyhow::Result<ExitCode> {
    note!("preview: the binary was rebuilt; restarting on port {port}");
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    args.retain(|a| a != "--open");
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--port" {
            args.drain(i..(i + 2).min(args.len()));
        } else if args[i].starts_with("--port=") {
            args.remove(i);
        } else {
            i += 1;
        }
    }
    args.push(format!("--port={port}"));
    let mut command = std::process::Command::new(exe);
    command.args(&args);
    #[cfg(unix)]
    {
        // Replace this process, so a rebuild does not leave a chain of
        // waiting parents; on success `exec` does not return.
        use std::os::unix::process::CommandExt;
        let error = command.exec();
        Err(error).with_context(|| format!("cannot restart `{}`", exe.display()))
    }
    #[cfg(not(unix))]
    {
        let status = command
            .status()
            .with_context(|| format!("cannot restart `{}`", exe.display()))?;
        Ok(ExitCode::from(
            u8::try_from(status.code().unwrap_or(1)).unwrap_or(1),
        ))
    }
}
