//! Opening an import: one CSV file, or a Mailchimp zip whose CSVs are read
//! suppressions first. Reading only; parsing stays in the sibling modules.
//!
//! A zip is bounded before it is read: at most [`MAX_ZIP_ENTRIES`]
//! entries, and each CSV at most a limit ([`MAX_ENTRY_BYTES`] by default)
//! unpacked, as its header says. A header that lies is caught while
//! reading: the zip crate fails an entry that unpacks past its declared
//! size. A plain CSV needs no size limit: it streams, and
//! its size on disk is its real size.
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::Context;
use time::OffsetDateTime;

use super::{Format, status_from_file_name};
use crate::domain::Status;

/// The most entries a zip may hold; a Mailchimp export holds three CSVs.
pub const MAX_ZIP_ENTRIES: usize = 1000;

/// The most bytes one CSV in a zip may unpack to by default (about 3
/// million Mailchimp rows). A bigger real export can be imported with a
/// higher limit, or unzipped and imported CSV by CSV (on disk, a file's
/// size is its real size).
pub const MAX_ENTRY_BYTES: u64 = 1 << 30;

/// An opened import file.
pub struct Input {
    path: PathBuf,
    kind: Kind,
}

enum Kind {
    Csv(File),
    /// The archive and the indexes of its CSV entries, in reading order.
    Zip(zip::ZipArchive<File>, Vec<usize>),
}

impl Input {
    /// Opens `path`: a zip (by its `PK` signature) or a CSV file. A zip
    /// entry may unpack to at most `max_entry` bytes.
    pub fn open(path: &Path, max_entry: u64) -> anyhow::Result<Self> {
        let mut file =
            File::open(path).with_context(|| format!("cannot open `{}`", path.display()))?;
        let mut magic = [0u8; 4];
        let n = file.read(&mut magic).unwrap_or(0);
        let file = File::open(path).with_context(|| format!("cannot open `{}`", path.display()))?;
        let kind = if n == 4 && magic == *b"PK\x03\x04" {
            let mut archive = zip::ZipArchive::new(file)
                .with_context(|| format!("`{}` is not a readable zip", path.display()))?;
            anyhow::ensure!(
                archive.len() <= MAX_ZIP_ENTRIES,
                "`{}` holds {} entries, over the limit of {MAX_ZIP_ENTRIES}; a Mailchimp \
                 export holds three CSV files",
                path.display(),
                archive.len()
            );
            let order = csv_entries(&mut archive, path, max_entry)?;
            Kind::Zip(archive, order)
        } else {
            Kind::Csv(file)
        };
        Ok(Self {
            path: path.to_owned(),
            kind,
        })
    }

    /// The bytes the CSVs hold (uncompressed), for a progress bar.
    pub fn total_bytes(&mut self) -> u64 {
        match &mut self.kind {
            Kind::Csv(f) => f.metadata().map_or(0, |m| m.len()),
            Kind::Zip(archive, order) => order
                .iter()
                .filter_map(|&i| archive.by_index(i).ok().map(|e| e.size()))
                .sum(),
        }
    }

    /// The format: Mailchimp for a zip or a CSV whose first line names an
    /// `Email Address` column, mailroom's export for a JSON array, plain
    /// otherwise (which recognises mailroom's CSV export by its header).
    pub fn detect_format(&self) -> anyhow::Result<Format> {
        if matches!(self.kind, Kind::Zip(..)) {
            return Ok(Format::Mailchimp);
        }
        let file = File::open(&self.path)
            .with_context(|| format!("cannot open `{}`", self.path.display()))?;
        let mut first = Vec::new();
        BufReader::new(file)
            .take(64 * 1024)
            .read_until(b'\n', &mut first)
            .with_context(|| format!("cannot read `{}`", self.path.display()))?;
        let first = String::from_utf8_lossy(&first);
        let first = first.trim_start_matches('\u{feff}').trim_start();
        Ok(if first.starts_with('[') {
            Format::Mailroom
        } else if first.contains("Email Address")
            && (matches!(self.kind, Kind::Zip(..))
                || status_from_file_name(&file_name(&self.path)).is_some())
        {
            Format::Mailchimp
        } else {
            Format::Plain
        })
    }

    /// Reads the header of every CSV in a zip, so that a file with an
    /// unusable layout stops the import before anything is written. (A
    /// single CSV's header is read before its first row anyway.)
    pub fn check_layouts(&mut self, format: Format, now: OffsetDateTime) -> anyhow::Result<()> {
        let display = file_name(&self.path);
        if let Kind::Zip(archive, order) = &mut self.kind {
            for &i in order.iter() {
                let entry = archive
                    .by_index(i)
                    .with_context(|| format!("cannot read `{display}`"))?;
                let name = format!("{display}/{}", entry.name().unwrap_or_default());
                super::parse(entry, &name, format, now)?;
            }
        }
        Ok(())
    }

    /// Calls `each(name, reader)` for every CSV, in reading order.
    pub fn for_each_csv(
        self,
        mut each: impl FnMut(&str, &mut dyn Read) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let display = file_name(&self.path);
        match self.kind {
            Kind::Csv(mut f) => each(&display, &mut f),
            Kind::Zip(mut archive, order) => {
                for i in order {
                    let mut entry = archive
                        .by_index(i)
                        .with_context(|| format!("cannot read `{display}`"))?;
                    let name = format!("{display}/{}", entry.name().unwrap_or_default());
                    each(&name, &mut entry)?;
                }
                Ok(())
            }
        }
    }
}

fn too_big(name: &str, size: u64, max: u64) -> String {
    format!(
        "`{name}` unpacks to {size} bytes, over the limit of {} MiB for one file in a \
         zip (is this a zip bomb?); if it is a real export, raise the limit with \
         `--max-unzipped-mib` or unzip it and import its CSV files",
        max >> 20
    )
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The CSV entries of a Mailchimp zip, suppressions first: an address that
/// is in both `unsubscribed_*` and `subscribed_*` then stays suppressed (the
/// later row is reported as a conflict).
fn csv_entries(
    archive: &mut zip::ZipArchive<File>,
    path: &Path,
    max_entry: u64,
) -> anyhow::Result<Vec<usize>> {
    let mut entries = Vec::new();
    for i in 0..archive.len() {
        let name = match archive.name_for_index(i) {
            Some(Ok(name)) => name.into_owned(),
            _ => continue,
        };
        if !name.to_ascii_lowercase().ends_with(".csv") {
            continue;
        }
        let status = status_from_file_name(&name).with_context(|| {
            format!(
                "`{}` holds `{name}`, whose name has no status word (`subscribed`, \
                 `unsubscribed`, `cleaned`); is this a Mailchimp audience export?",
                path.display()
            )
        })?;
        let size = archive.by_index_raw(i).map_or(0, |e| e.size());
        anyhow::ensure!(
            size <= max_entry,
            "{}",
            too_big(&format!("{}/{name}", file_name(path)), size, max_entry)
        );
        let rank = if status == Status::Subscribed { 1 } else { 0 };
        entries.push((rank, name, i));
    }
    anyhow::ensure!(
        !entries.is_empty(),
        "`{}` holds no CSV files; expected Mailchimp's `subscribed_*.csv`, \
         `unsubscribed_*.csv` and `cleaned_*.csv`",
        path.display()
    );
    entries.sort();
    Ok(entries.into_iter().map(|(_, _, i)| i).collect())
}
