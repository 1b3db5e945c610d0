//! PostgreSQL's import batch: the rows go to the server with `COPY … FROM
//! STDIN` into temporary tables, and one statement adds the new addresses,
//! their history and their marks in `import_seen` from there.
//!
//! Why: 1,000,000 Mailchimp rows took 37–62 s through the array inserts
//! (500 rows a statement, three statements a batch, every new id and
//! address sent back to the client and bound again). Profiled with
//! `pg_stat_statements` and the backend's CPU time, the server's share was
//! the inserts into `subscribers` (28.8 s of 36.5 s), mostly the maintenance
//! of its four indexes; the client spent 6 s of CPU parsing and encoding,
//! and the rest was round trips and waiting. `COPY` in the binary format
//! (no text escaping, no parameter limit) of 10,000 rows at a time, and
//! one set-based statement that keeps the ids on the server, cut the
//! round trips to four per 10,000 rows and the client's CPU to 5 s: 35.1 s
//! against 37.7 s, run back to back at load 2.7 (`ONLY=import
//! scripts/bench-scale`). What is left is the server's: 25.1 s of 33.4 s
//! in the one statement, writing the rows and keeping their indexes.
//!
//! That statement, measured alone (`EXPLAIN ANALYZE`, 10,000 new rows into
//! a store of 1,000,000): the insert into `subscribers` is 60% of it, the
//! history 23%, `import_seen` 8%. Dropping the redundant unique index on
//! `email` (migration 0006) and not waiting for the disk at each chunk's
//! commit cut the statement's total from 33.7 s to 32.3 s in one paired run
//! (`pg_stat_statements`, load 3–3.5), no wall-clock change that the
//! shared machine's noise could show. What is left is the floor: `COPY`
//! of 50,000 rows into `subscribers` with no index at all takes 0.37 s
//! here (7.4 µs a row, `INSERT … SELECT` 0.40 s), so the heaps alone of
//! 1,000,000 subscribers and 1,000,000 history rows are about 15 s of one
//! backend's CPU before any index.
//!
//! The statement's snapshot does not see its own inserts, so the rows it
//! returns are the batch's addresses the store already held: those go on
//! to the same per-row rules as on SQLite (`known`).
use anyhow::Context;
use sqlx::PgConnection;

use super::ImportSession;
use super::known::Known;
use crate::domain::SubscriberId;
use crate::import::ImportRecord;
use crate::store::{Conn, ip_text, seconds, status_from};

/// Rows per `COPY` batch on PostgreSQL: large enough that the per-batch
/// statements cost little, small enough that a batch in flight (the
/// reader keeps a few) stays a few MB.
pub const COPY_BATCH: usize = 10_000;

/// What the import's own connection runs first, on PostgreSQL: no JIT, no
/// wait for the disk at each chunk's commit, and the temporary tables a
/// batch is copied into (they live as long as the connection does).
pub(super) const SETUP: [&str; 4] = [
    // The merge's row estimates for unanalysed temporary tables are far
    // too high (1.7 million for 10,000 rows), which put it over
    // `jit_above_cost`: compiling each batch's plan took 229 s of a
    // 1,000,000-row import, the work itself 71 s. The import's own
    // connection does without JIT.
    "SET jit = off",
    // A chunk's commit does not wait for its WAL to reach the disk: a
    // crash of the database server may forget the last chunks' commits
    // (never part of one: each chunk is a transaction), and running the
    // import again completes it, as after a killed import. `finish` waits
    // for everything once, at the end (`FLUSH`), so a finished import is
    // durable before it says so.
    "SET synchronous_commit = off",
    "CREATE TEMP TABLE import_rows (ord BIGINT NOT NULL, email TEXT NOT NULL, \
     email_key TEXT NOT NULL, name TEXT, status TEXT NOT NULL, consent_source TEXT NOT NULL, \
     consent_at BIGINT NOT NULL, consent_ip TEXT, confirmed_at BIGINT, confirm_ip TEXT, \
     file BIGINT NOT NULL, line BIGINT NOT NULL)",
    "CREATE TEMP TABLE import_changes (ord BIGINT NOT NULL, seq BIGINT NOT NULL, \
     status TEXT NOT NULL, at BIGINT NOT NULL, source TEXT NOT NULL, ip TEXT, reason TEXT)",
];

/// Makes every commit of the import durable: a transaction with an id
/// commits synchronously, which flushes the WAL up to its commit record,
/// and with it every earlier commit of the import.
pub(super) const FLUSH: &str =
    "SET synchronous_commit = on; BEGIN; SELECT pg_current_xact_id(); COMMIT";

/// Adds the batch's new addresses with their history and marks them seen;
/// returns the rows the store already held, with what it holds. `$1` is
/// the import's time.
const MERGE: &str = "WITH added AS ( \
     INSERT INTO subscribers (email, email_key, name, status, created_at, updated_at, \
     consent_source, consent_at, consent_ip, confirmed_at, confirm_ip) \
     SELECT email, email_key, name, status, $1, $1, consent_source, consent_at, consent_ip, \
     confirmed_at, confirm_ip FROM import_rows ORDER BY ord \
     ON CONFLICT (email_key) DO NOTHING RETURNING id, email_key), \
   history AS ( \
     INSERT INTO subscriber_history (subscriber_id, status, at, source, ip, reason) \
     SELECT a.id, c.status, c.at, c.source, c.ip, c.reason \
     FROM added a JOIN import_rows r USING (email_key) JOIN import_changes c USING (ord) \
     ORDER BY a.id, c.seq), \
   seen AS ( \
     INSERT INTO import_seen (id, file, line, status) \
     SELECT a.id, r.file, r.line, r.status FROM added a JOIN import_rows r USING (email_key)) \
   SELECT r.ord, s.id, s.name, s.status FROM import_rows r \
   LEFT JOIN subscribers s USING (email_key) \
   WHERE NOT EXISTS (SELECT 1 FROM added a WHERE a.email_key = r.email_key)";

/// A row of the batch the merge did not add: its `ord`, and the store's
/// id, name and status for it (none when another writer added it after
/// the merge began).
type Other = (i64, Option<i64>, Option<String>, Option<String>);

impl ImportSession {
    /// Copies `rows` (unique addresses, none erased) to the server, adds
    /// the new ones there, and returns the others with what the store
    /// holds for them.
    pub(super) async fn copy_batch<'r>(
        &mut self,
        rows: &[&'r ImportRecord],
    ) -> anyhow::Result<Vec<(&'r ImportRecord, Known)>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let (records, changes) = self.encode(rows);
        let Conn::Postgres(c) = &mut self.conn else {
            anyhow::bail!("a COPY batch needs PostgreSQL");
        };
        let context = "cannot add the new addresses";
        sqlx::query("TRUNCATE import_rows, import_changes")
            .execute(&mut *c)
            .await
            .context(context)?;
        copy_in(c, "COPY import_rows FROM STDIN (FORMAT binary)", records)
            .await
            .context(context)?;
        copy_in(c, "COPY import_changes FROM STDIN (FORMAT binary)", changes)
            .await
            .context(context)?;
        let others: Vec<Other> = sqlx::query_as(MERGE)
            .bind(self.now)
            .fetch_all(&mut *c)
            .await
            .context(context)?;
        self.summary.added += (rows.len() - others.len()) as u64;
        let mut known = Vec::with_capacity(others.len());
        let mut raced = Vec::new();
        for (ord, id, name, status) in others {
            let r = *usize::try_from(ord)
                .ok()
                .and_then(|i| rows.get(i))
                .context("the store returned a row this batch does not have")?;
            match (id, status) {
                (Some(id), Some(status)) => {
                    let status = status_from(status)?;
                    let id = SubscriberId::new(id);
                    known.push((r, Known { id, name, status }));
                }
                // Added by another writer after this statement began:
                // read it as it is now.
                _ => raced.push(r),
            }
        }
        if !raced.is_empty() {
            let mut now = self.known(&raced).await?;
            for r in raced {
                let k = now.remove(r.email.key()).with_context(|| {
                    format!("{}: `{}` vanished during the import", r.origin, r.email)
                })?;
                known.push((r, k));
            }
        }
        Ok(known)
    }

    /// The batch in `COPY`'s binary format: the rows (`ord` is the index
    /// in `rows`), and each row's history.
    fn encode(&mut self, rows: &[&ImportRecord]) -> (Vec<u8>, Vec<u8>) {
        let mut records = BinaryCopy::with_capacity(rows.len() * 256);
        let mut changes = BinaryCopy::with_capacity(rows.len() * 64);
        for (ord, r) in rows.iter().enumerate() {
            let c = &r.consent;
            let file = self.file_index(&r.origin.file);
            records.row(12);
            records.int(ord as i64);
            records.text(Some(r.email.as_str()));
            records.text(Some(r.email.key()));
            records.text(r.name.as_deref());
            records.text(Some(r.status().as_str()));
            records.text(Some(&c.source.to_string()));
            records.int(seconds(c.at));
            records.text(ip_text(c.ip).as_deref());
            records.opt_int(c.confirmed_at.map(seconds));
            records.text(ip_text(c.confirm_ip).as_deref());
            records.int(file);
            records.int(r.origin.line as i64);
            for (seq, h) in r.history.iter().enumerate() {
                changes.row(7);
                changes.int(ord as i64);
                changes.int(seq as i64);
                changes.text(Some(h.status.as_str()));
                changes.int(seconds(h.at));
                changes.text(Some(&h.source.to_string()));
                changes.text(ip_text(h.ip).as_deref());
                changes.text(h.reason.as_deref());
            }
        }
        (records.finish(), changes.finish())
    }
}

/// Runs a `COPY … FROM STDIN` with `data` as its input.
async fn copy_in(c: &mut PgConnection, statement: &str, data: Vec<u8>) -> sqlx::Result<u64> {
    let mut copy = c.copy_in_raw(statement).await?;
    if let Err(e) = copy.send(data).await {
        let _ = copy.abort(e.to_string()).await;
        return Err(e);
    }
    copy.finish().await
}

/// PostgreSQL's binary `COPY` format, for the columns an import writes
/// (`BIGINT` and `TEXT`): a header, then per row a field count and each
/// field as a length (-1 for NULL) and its bytes, then a trailer. Written
/// by hand because it is this small and sqlx has no encoder for it; text
/// goes as its UTF-8 bytes, so tabs, newlines, quotes and backslashes need
/// no escaping.
struct BinaryCopy {
    buf: Vec<u8>,
}

impl BinaryCopy {
    fn with_capacity(bytes: usize) -> Self {
        let mut buf = Vec::with_capacity(bytes + 32);
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&0i32.to_be_bytes()); // flags: no OIDs
        buf.extend_from_slice(&0i32.to_be_bytes()); // no header extension
        Self { buf }
    }

    fn row(&mut self, fields: i16) {
        self.buf.extend_from_slice(&fields.to_be_bytes());
    }

    fn int(&mut self, v: i64) {
        self.buf.extend_from_slice(&8i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    fn opt_int(&mut self, v: Option<i64>) {
        match v {
            Some(v) => self.int(v),
            None => self.buf.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }

    fn text(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                // A field over 2 GiB cannot reach here: import bounds
                // fields far lower.
                let len = i32::try_from(s.len()).unwrap_or(i32::MAX);
                self.buf.extend_from_slice(&len.to_be_bytes());
                self.buf.extend_from_slice(s.as_bytes());
            }
            None => self.buf.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }

    fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::BinaryCopy;

    #[test]
    fn binary_copy_frames_a_null_an_int_and_text_with_its_byte_length() {
        let mut b = BinaryCopy::with_capacity(0);
        b.row(3);
        b.text(None);
        b.int(7);
        b.text(Some("é\t\"\\"));
        let out = b.finish();
        let mut want = b"PGCOPY\n\xff\r\n\0".to_vec();
        want.extend_from_slice(&[0; 8]);
        want.extend_from_slice(&[0, 3]);
        want.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        want.extend_from_slice(&[0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7]);
        want.extend_from_slice(&[0, 0, 0, 5]);
        want.extend_from_slice("é\t\"\\".as_bytes());
        want.extend_from_slice(&[0xff, 0xff]);
        assert_eq!(out, want);
    }
}
