//! `subscribers import`: a reader thread parses the file into batches while
//! the store applies them in short chunks; a progress bar on a terminal.
//! Rejected rows are listed, and make the exit status 65.
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::mpsc;

use time::OffsetDateTime;

use crate::import::{Format, Row, files::Input};
use crate::output::{note, outln, plural, warning};
use crate::store::{ImportSession, ImportSummary, Store};

/// Batches in flight between the reader and the store; bounds memory.
const QUEUE: usize = 4;

type Batch = anyhow::Result<Vec<Row>>;

/// The exit code when rows were rejected (sysexits' `EX_DATAERR`): every
/// other row was imported, but a script must be able to tell that some
/// were not.
pub const EXIT_REJECTED: u8 = 65;

/// `subscribers import`.
pub async fn run(
    store: &Store,
    path: &Path,
    format: Option<Format>,
    dry_run: bool,
    max_entry: u64,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let now = crate::domain::now();
    let mut input = Input::open(path, max_entry)?;
    let format = match format {
        Some(f) => f,
        None => input.detect_format()?,
    };
    input.check_layouts(format, now)?;
    let progress = progress_bar(input.total_bytes());
    let (tx, mut rx) = mpsc::channel::<Batch>(QUEUE);
    let batch_rows = store.import_batch_rows();
    let reader = {
        let progress = progress.clone();
        std::thread::spawn(move || {
            if let Err(e) = read_batches(input, format, now, batch_rows, &progress, &tx) {
                let _ = tx.blocking_send(Err(e));
            }
        })
    };
    let mut session = store.begin_import(dry_run).await?;
    let mut rows = 0u64;
    let mut failed = None;
    while let Some(batch) = rx.recv().await {
        let applied = match batch {
            Ok(batch) => {
                rows += batch.len() as u64;
                session.apply(batch).await
            }
            Err(e) => Err(e),
        };
        match applied {
            Ok(notices) => {
                for notice in notices {
                    progress.suspend(|| warning!("{notice}"));
                }
            }
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    drop(rx);
    let _ = reader.join();
    progress.finish_and_clear();
    if let Some(e) = failed {
        return Err(stopped(session, e, dry_run).await);
    }
    let summary = session.finish().await?;
    report(&summary, rows, started, dry_run)?;
    Ok(if summary.rejected > 0 {
        ExitCode::from(EXIT_REJECTED)
    } else {
        ExitCode::SUCCESS
    })
}

/// The error for an import that stopped part-way: what was already
/// imported stays (each chunk is whole), and a rerun completes it.
async fn stopped(session: ImportSession, e: anyhow::Error, dry_run: bool) -> anyhow::Error {
    let s = session.summary();
    if dry_run {
        return e.context("the dry run stopped");
    }
    if s.added + s.updated == 0 {
        return e.context("the import stopped; nothing was written");
    }
    let done = match session.finish().await {
        Ok(s) => format!("{}; those rows are in the store", counts(&s)),
        Err(_) => "its earlier chunks are in the store; the last one was rolled back".to_owned(),
    };
    e.context(format!(
        "the import stopped part-way ({done}); fix the problem and run the same \
         import again to complete it (rows already imported come out `unchanged`)"
    ))
}

/// Parses every CSV of `input` and sends its rows in batches.
fn read_batches(
    input: Input,
    format: Format,
    now: OffsetDateTime,
    batch_rows: usize,
    progress: &ProgressBar,
    tx: &mpsc::Sender<Batch>,
) -> anyhow::Result<()> {
    input.for_each_csv(|name, reader| {
        let reader = progress.wrap_read(reader);
        let mut batch = Vec::with_capacity(batch_rows);
        for row in crate::import::parse(reader, name, format, now)? {
            batch.push(row?);
            if batch.len() == batch_rows {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_rows));
                tx.blocking_send(Ok(full)).context("the import stopped")?;
            }
        }
        if !batch.is_empty() {
            tx.blocking_send(Ok(batch)).context("the import stopped")?;
        }
        Ok(())
    })
}

fn progress_bar(total_bytes: u64) -> ProgressBar {
    let bar = ProgressBar::new(total_bytes);
    let style = ProgressStyle::with_template(
        "{spinner} importing [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )
    .map(|s| s.progress_chars("=> "));
    if let Ok(style) = style {
        bar.set_style(style);
    }
    bar
}

fn counts(s: &ImportSummary) -> String {
    format!(
        "added {}, updated {}, unchanged {}, suppressed {}, rejected {}",
        s.added, s.updated, s.unchanged, s.suppressed, s.rejected
    )
}

fn report(s: &ImportSummary, rows: u64, started: Instant, dry_run: bool) -> anyhow::Result<()> {
    outln!("{}", counts(s))?;
    if dry_run {
        outln!("dry run: nothing was written")?;
    }
    // A rate over less than a second is mostly start-up ("2 rows in
    // 0.18 s (11 rows/s)"): it is shown only once it means something.
    let secs = started.elapsed().as_secs_f64();
    if secs >= 1.0 {
        note!(
            "{} in {secs:.2} s ({:.0} rows/s)",
            plural(rows, "row"),
            rows as f64 / secs
        );
    } else {
        note!("{} in {secs:.2} s", plural(rows, "row"));
    }
    if s.rejected > 0 {
        let applied = if dry_run {
            "would be imported"
        } else {
            "were imported"
        };
        warning!(
            "{} of {} rejected (listed above); the other {} {applied}",
            s.rejected,
            plural(rows, "row"),
            rows - s.rejected,
        );
    }
    Ok(())
}
