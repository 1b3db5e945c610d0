//! What people and scripts see, in the project's one voice: results on
//! stdout ([`outln!`], [`stdout`]), notes and `warning: …` lines on stderr
//! ([`note!`], [`warning!`]), the `error: …` chain, and counted nouns
//! ([`plural`]).
//!
//! A reader that closes stdout early (`mailroom status | head`) ends the
//! command quietly with [`CLOSED_PIPE_EXIT`]: every stdout write goes
//! through here, which notes the closed pipe so `main` can tell it from a
//! real failure however the error was wrapped on the way up. Writes to
//! stderr never fail a command: a closed terminal must not stop a send.
use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// The exit status after stdout closed early: 128 + SIGPIPE (13), what a
/// shell reports for `cat`, `git` or `yes` killed by the signal in the same
/// pipeline, so `set -o pipefail` scripts see mailroom as they see them,
/// and a cut-short export never looks complete.
pub const CLOSED_PIPE_EXIT: u8 = 141;

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static JSON_LOGS: AtomicBool = AtomicBool::new(false);
static LOGS_ASKED: AtomicBool = AtomicBool::new(false);

/// Whether a stdout write found the reader gone.
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// Notes a closed pipe; returns the error, of the same kind, saying that
/// stdout failed.
fn noted(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::BrokenPipe {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
    io::Error::new(e.kind(), format!("cannot write to stdout: {e}"))
}

/// Writes `args` to stdout (see [`outln!`]).
pub fn out(args: fmt::Arguments) -> anyhow::Result<()> {
    let mut lock = io::stdout().lock();
    lock.write_fmt(args)
        .and_then(|()| lock.flush())
        .map_err(|e| noted(e).into())
}

/// Buffered stdout for long outputs (lists, exports); flush it at the end.
/// Its errors are plain `io::Error`s, so CSV and JSON writers take it.
pub fn stdout() -> io::BufWriter<Stdout> {
    io::BufWriter::with_capacity(64 * 1024, Stdout(io::stdout().lock()))
}

/// Locked stdout that notes a closed pipe; see [`stdout`].
pub struct Stdout(io::StdoutLock<'static>);

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf).map_err(noted)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush().map_err(noted)
    }
}

/// Notes an error from a stdout writer this module did not make (such as
/// `anstream`'s), saying what failed.
pub fn stdout_error(e: io::Error) -> anyhow::Error {
    noted(e).into()
}

/// Writes a line to stdout: `outln!("sent {n}")?`. A closed pipe or a full
/// disk is an error the caller returns (`main` ends quietly on the first).
macro_rules! outln {
    () => { $crate::output::out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::out(format_args!("{}\n", format_args!($($arg)*))) };
}
pub(crate) use outln;

/// Writes a line to stderr, such as `store: …` or `send: …`; never fails.
macro_rules! note {
    ($($arg:tt)*) => { $crate::output::note_line(format_args!($($arg)*)) };
}
pub(crate) use note;

/// Writes `warning: …` to stderr; never fails.
macro_rules! warning {
    ($($arg:tt)*) => { $crate::output::warning_line(format_args!($($arg)*)) };
}
pub(crate) use warning;

/// Switches notes and warnings to `tracing` events, so that with
/// `--log-format json` a service's stderr holds only JSON lines.
pub fn use_json_logs() {
    JSON_LOGS.store(true, Ordering::Relaxed);
}

/// Notes that the user asked for log output (`RUST_LOG`, `-v`, or
/// `--log-format json`), for events that would otherwise only repeat a note.
pub fn logs_asked_for() {
    LOGS_ASKED.store(true, Ordering::Relaxed);
}

/// Whether [`logs_asked_for`] was called: log the structured twin of a note
/// only then.
pub fn logs_asked() -> bool {
    LOGS_ASKED.load(Ordering::Relaxed)
}

/// See [`note!`].
pub fn note_line(args: fmt::Arguments) {
    if JSON_LOGS.load(Ordering::Relaxed) {
        tracing::info!(target: "mailroom", "{args}");
    } else {
        let _ = writeln!(io::stderr().lock(), "{args}");
    }
}

/// See [`warning!`].
pub fn warning_line(args: fmt::Arguments) {
    if JSON_LOGS.load(Ordering::Relaxed) {
        tracing::warn!(target: "mailroom", "{args}");
    } else {
        let _ = writeln!(io::stderr().lock(), "warning: {args}");
    }
}

/// Writes `question: ` to stderr and flushes, before reading an answer.
pub fn prompt(question: &str) {
    let mut err = io::stderr().lock();
    let _ = write!(err, "{question}: ");
    let _ = err.flush();
}

/// Writes `error: …` and each cause on its own `caused by:` line to
/// stderr; never fails. Causes that only repeat the line above are left out.
pub fn error_chain(err: &anyhow::Error) {
    if JSON_LOGS.load(Ordering::Relaxed) {
        tracing::error!(target: "mailroom", "{err:#}");
        return;
    }
    let mut stderr = io::stderr().lock();
    let _ = writeln!(stderr, "error: {err}");
    let mut last = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !last.ends_with(&text) {
            let _ = writeln!(stderr, "  caused by: {text}");
        }
        last = text;
    }
}

/// A noun for [`plural`]: a regular one (`"run"`, from a `&str`), whose
/// plural is made by English rules, or an irregular pair (`("person",
/// "people")`, `("message was", "messages were")`), used as given.
#[derive(Debug, Clone, Copy)]
pub struct Noun<'a> {
    one: &'a str,
    many: Option<&'a str>,
}

impl<'a> From<&'a str> for Noun<'a> {
    fn from(one: &'a str) -> Self {
        Noun { one, many: None }
    }
}

impl<'a> From<(&'a str, &'a str)> for Noun<'a> {
    fn from((one, many): (&'a str, &'a str)) -> Self {
        Noun {
            one,
            many: Some(many),
        }
    }
}

/// `n` and the noun, plural unless `n` is 1: `1 run`, `2 runs`, `0 rows`,
/// `3 entries`, `2 addresses`; irregular ones as a pair:
/// `plural(2, ("message was", "messages were"))` is `2 messages were`.
pub fn plural<'a>(n: u64, noun: impl Into<Noun<'a>>) -> String {
    let Noun { one, many } = noun.into();
    if n == 1 {
        return format!("1 {one}");
    }
    if let Some(many) = many {
        return format!("{n} {many}");
    }
    let consonant_y = one.strip_suffix('y').filter(|stem| {
        stem.chars()
            .last()
            .is_some_and(|c| !"aeiou".contains(c.to_ascii_lowercase()))
    });
    match consonant_y {
        Some(stem) => format!("{n} {stem}ies"),
        None if ["s", "x", "z", "ch", "sh"].iter().any(|e| one.ends_with(e)) => {
            format!("{n} {one}es")
        }
        None => format!("{n} {one}s"),
    }
}

/// Whether stderr is a terminal (colours, progress bars, prompts).
pub fn stderr_is_terminal() -> bool {
    io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_is_plural() {
        assert_eq!(plural(1, "run"), "1 run");
        assert_eq!(plural(2, "run"), "2 runs");
        assert_eq!(plural(0, "row"), "0 rows");
        assert_eq!(plural(1, "row"), "1 row");
        assert_eq!(plural(3, "entry"), "3 entries");
        assert_eq!(plural(2, "day"), "2 days");
        assert_eq!(plural(2, "address"), "2 addresses");
        assert_eq!(plural(2, "match"), "2 matches");
        assert_eq!(plural(1, "address"), "1 address");
    }

    #[test]
    fn an_irregular_noun_is_used_as_given() {
        assert_eq!(plural(1, ("person", "people")), "1 person");
        assert_eq!(plural(0, ("person", "people")), "0 people");
        let were = ("message was", "messages were");
        assert_eq!(plural(1, were), "1 message was");
        assert_eq!(plural(2, were), "2 messages were");
        assert_eq!(plural(3, ("reply", "replies")), "3 replies");
    }

    #[test]
    fn a_broken_pipe_is_noted_and_other_errors_are_not() {
        let _ = noted(io::Error::from(io::ErrorKind::StorageFull));
        assert!(!stdout_closed());
        let e = noted(io::Error::from(io::ErrorKind::BrokenPipe));
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe, "the same kind");
        assert!(e.to_string().starts_with("cannot write to stdout: "), "{e}");
        assert!(stdout_closed());
    }
}
