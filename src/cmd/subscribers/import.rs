//! `subscribers import`: a reader thread parses the file into batches while
//! the store applies them in one transaction; a progress bar on a terminal.
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::mpsc;

use crate::import::{Format, Row, files::Input};
use crate::output::{note, outln, plural, warning};
use crate::store::{IMPORT_BATCH, ImportSummary, Store};

/// Batches in flight between the reader and the store; bounds memory.
const QUEUE: usize = 4;

type Batch = anyhow::Result<Vec<Row>>;

/// `subscribers import`.
pub async fn run(
    store: &Store,
    path: &Path,
    format: Option<Format>,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut input = Input::open(path)?;
    let format = match format {
        Some(f) => f,
        None => input.detect_format()?,
    };
    let progress = progress_bar(input.total_bytes());
    let (tx, mut rx) = mpsc::channel::<Batch>(QUEUE);
    let reader = {
        let progress = progress.clone();
        std::thread::spawn(move || {
            if let Err(e) = read_batches(input, format, &progress, &tx) {
                let _ = tx.blocking_send(Err(e));
            }
        })
    };
    let mut session = store.begin_import().await?;
    let mut rows = 0u64;
    while let Some(batch) = rx.recv().await {
        let batch = batch?;
        rows += batch.len() as u64;
        for rejected in session.apply(batch).await? {
            progress.suspend(|| warning!("{rejected}"));
        }
    }
    let _ = reader.join();
    progress.finish_and_clear();
    let summary = if dry_run {
        session.rollback().await?
    } else {
        session.commit().await?
    };
    report(&summary, rows, started, dry_run)?;
    Ok(ExitCode::SUCCESS)
}

/// Parses every CSV of `input` and sends its rows in batches.
fn read_batches(
    input: Input,
    format: Format,
    progress: &ProgressBar,
    tx: &mpsc::Sender<Batch>,
) -> anyhow::Result<()> {
    let now = crate::domain::now();
    input.for_each_csv(|name, reader| {
        let reader = progress.wrap_read(reader);
        let mut batch = Vec::with_capacity(IMPORT_BATCH);
        for row in crate::import::parse(reader, name, format, now)? {
            batch.push(row?);
            if batch.len() == IMPORT_BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(IMPORT_BATCH));
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

fn report(s: &ImportSummary, rows: u64, started: Instant, dry_run: bool) -> anyhow::Result<()> {
    outln!(
        "added {}, updated {}, unchanged {}, suppressed {}, rejected {}",
        s.added,
        s.updated,
        s.unchanged,
        s.suppressed,
        s.rejected
    )?;
    if dry_run {
        outln!("dry run: nothing was written")?;
    }
    let secs = started.elapsed().as_secs_f64();
    note!(
        "{} in {secs:.2} s ({:.0} rows/s)",
        plural(rows, "row"),
        rows as f64 / secs.max(1e-9)
    );
    Ok(())
}
