//! Each address's first row in this import, in memory: what PostgreSQL's
//! parallel import uses instead of the `import_seen` table (see `workers`).
//!
//! Batches go to several connections at once, so "which row came first"
//! must be settled before a batch leaves: here, in file order, as the rows
//! arrive. Held in memory (the identity key and a 16-byte record), about
//! 100 MB per million distinct addresses; SQLite and dry runs keep their
//! temporary tables, whose memory stays flat.
use std::collections::HashMap;

use super::ImportSession;
use super::seen::Earlier;
use crate::domain::Status;
use crate::import::{ImportRecord, Notice, Origin};

/// Where an address's first row was: an index into the session's files,
/// its line, the status it gave.
#[derive(Clone, Copy)]
struct First {
    file: u32,
    line: u64,
    status: Status,
}

/// The first row of every address seen so far, by identity key.
///
/// Hashed with foldhash (seeded per process), not std's SipHash: SipHash
/// was 8% of the client's CPU in a 1,000,000-row import (`perf`), the
/// largest single item on the session's thread.
#[derive(Default)]
pub(super) struct Firsts {
    by_key: HashMap<Box<str>, First, foldhash::fast::RandomState>,
}

impl ImportSession {
    /// Keeps the rows that are their address's first in this import, in
    /// order; adds a notice for each other row (a duplicate, or a conflict
    /// between files), exactly as `seen` words them.
    pub(super) fn first_rows_only(
        &mut self,
        rows: Vec<ImportRecord>,
        notices: &mut Vec<Notice>,
    ) -> Vec<ImportRecord> {
        let mut kept = Vec::with_capacity(rows.len());
        for r in rows {
            if let Some(first) = self.firsts.by_key.get(r.email.key()).copied() {
                let earlier = Earlier::new(
                    Origin {
                        file: self
                            .files
                            .get(first.file as usize)
                            .cloned()
                            .unwrap_or_default(),
                        line: first.line,
                    },
                    first.status,
                );
                notices.push(self.repeat(&r, earlier));
                continue;
            }
            // An import's files number a handful (a Mailchimp zip's three).
            let file = self.file_index(&r.origin.file) as u32;
            let first = First {
                file,
                line: r.origin.line,
                status: r.status(),
            };
            self.firsts.by_key.insert(r.email.key().into(), first);
            kept.push(r);
        }
        kept
    }
}
