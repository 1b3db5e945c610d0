//! `tracing` on stderr: without `-v`, only mailroom's own warnings and
//! errors, written in the project's voice (`warning: …`, never a level and
//! a module path); `-v` and `-vv` for diagnostics with their targets;
//! `serve` logs one line per request; `--log-format json` makes every line
//! (notes and warnings included) a JSON object, for services.
use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// `--log-format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object per line, with a timestamp (for journald, Docker
    /// and log collectors).
    Json,
}

/// Sets up `tracing` (once; later calls do nothing). `RUST_LOG` overrides
/// the filter.
pub fn init(serve: bool, verbose: u8, format: LogFormat) {
    let default = match (verbose, serve || format == LogFormat::Json) {
        (0, false) => "mailroom=warn",
        (0, true) => "mailroom=info,warn",
        (1, _) => "mailroom=debug,info",
        _ => "trace",
    };
    let from_env = tracing_subscriber::EnvFilter::try_from_default_env().ok();
    if from_env.is_some() || verbose > 0 || format == LogFormat::Json {
        crate::output::logs_asked_for();
    }
    let filter = from_env.unwrap_or_else(|| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match (format, verbose == 0 && !serve) {
        (LogFormat::Json, _) => {
            crate::output::use_json_logs();
            builder.json().with_current_span(false).try_init()
        }
        (LogFormat::Text, true) => builder.with_ansi(false).event_format(Voice).try_init(),
        (LogFormat::Text, false) => builder
            .with_ansi(crate::output::stderr_is_terminal())
            .without_time()
            .try_init(),
    };
}

/// Formats an event as `warning: message key=value` (see the module docs).
struct Voice;

impl<S, N> FormatEvent<S, N> for Voice
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let word = match *event.metadata().level() {
            Level::ERROR => "error",
            Level::WARN => "warning",
            Level::INFO => "note",
            Level::DEBUG | Level::TRACE => "debug",
        };
        write!(writer, "{word}: ")?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn without_v_a_warning_reads_warning_colon_without_level_or_module_path() {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || Writer(sink.clone()))
            .with_ansi(false)
            .event_format(Voice)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(target: "mailroom::token", "the key file `k` is readable by others");
            tracing::error!(subscriber = 7, "confirmation not mailed");
        });
        let text = String::from_utf8(buf.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            "warning: the key file `k` is readable by others\n\
             error: confirmation not mailed subscriber=7\n"
        );
    }

    struct Writer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Writer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
