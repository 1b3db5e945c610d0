//! PostgreSQL's import batch, on one of the import's worker connections
//! (see `workers`): look up which of the batch's addresses the store
//! knows, take ids for the others from the table's sequence, and `COPY`
//! them and their history straight into `subscribers` and
//! `subscriber_history`; then apply the known rows one by one, as on
//! SQLite (`known`). A batch is one transaction.
//!
//! Why: the earlier shape (`COPY` into temporary tables, then one
//! statement inserting from there with `ON CONFLICT`, marking each row in
//! `import_seen` and returning the known ones) cost one backend 16 s of CPU
//! for 1,000,000 Mailchimp rows, where a bare `COPY` of the same rows into
//! `subscribers` with its indexes costs 5.8 s and their history 2.4 s
//! (measured alone with `psql`, load 3.7). The duplicates within the
//! import are now found in memory before a batch leaves (`firsts`), and the
//! rows are written once, by `COPY`, with no staging table.
//!
//! A writer outside the import (a subscribe through `serve`) may add one
//! of the batch's addresses between the look-up and the `COPY`: the `COPY`
//! then fails on the unique key, rolls back to the savepoint before it
//! (the ids it took are left unused), and the batch is looked up again.

use anyhow::Context;
use sqlx::PgConnection;

use super::ImportSummary;
use super::known::{Apply, known};
use crate::import::ImportRecord;
use crate::store::{Conn, ip_text, seconds};

/// Rows per `COPY` batch on PostgreSQL: large enough that the per-batch
/// statements cost little, small enough that a batch in flight (the
/// reader keeps a few) stays a few MB.
pub const COPY_BATCH: usize = 10_000;

/// What each connection of a PostgreSQL import runs first: no JIT, and no
/// wait for the disk at each batch's commit.
pub(super) const SETUP: [&str; 2] = [
    // Row estimates for arrays and joins of a batch can put a plan over
    // `jit_above_cost`: compiling each batch's plan once took 229 s of a
    // 1,000,000-row import, the work itself 71 s.
    "SET jit = off",
    // A batch's commit does not wait for its WAL to reach the disk: a
    // crash of the database server may forget the last batches' commits
    // (never part of one: each batch is a transaction), and running the
    // import again completes it, as after a killed import. `finish` waits
    // for everything once, at the end (`FLUSH`), so a finished import is
    // durable before it says so.
    "SET synchronous_commit = off",
];

/// Makes every commit of the import durable: a transaction with an id
/// commits synchronously, which flushes the WAL up to its commit record,
/// and with it every earlier commit of the import (the workers' included:
/// they have all committed when this runs).
pub(super) const FLUSH: &str =
    "SET synchronous_commit = on; BEGIN; SELECT pg_current_xact_id(); COMMIT";

/// Tries of one batch while writers outside the import keep adding its
/// addresses under it.
const TRIES: usize = 5;

/// One worker's connection, and the import's time.
pub(super) struct Copier {
    pub conn: Conn,
    pub now: i64,
}

impl Copier {
    /// Applies `rows` (each its address's first in the import, none
    /// erased) in one transaction; returns what it did once committed.
    pub async fn apply(&mut self, rows: &[ImportRecord]) -> anyhow::Result<ImportSummary> {
        let mut summary = ImportSummary::default();
        self.exec("BEGIN").await?;
        match self.apply_in_tx(rows, &mut summary).await {
            Ok(()) => {
                self.exec("COMMIT").await?;
                Ok(summary)
            }
            Err(e) => {
                let _ = self.exec("ROLLBACK").await;
                Err(e)
            }
        }
    }

    async fn apply_in_tx(
        &mut self,
        rows: &[ImportRecord],
        summary: &mut ImportSummary,
    ) -> anyhow::Result<()> {
        let all: Vec<&ImportRecord> = rows.iter().collect();
        let mut tries = 0;
        let mut known = loop {
            tries += 1;
            let known = known(&mut self.conn, &all).await?;
            let new: Vec<&ImportRecord> = all
                .iter()
                .copied()
                .filter(|r| !known.contains_key(r.email.key()))
                .collect();
            match self.copy_new(&new).await {
                Ok(()) => {
                    summary.added += new.len() as u64;
                    break known;
                }
                Err(e) if tries < TRIES && key_taken(&e) => continue,
                Err(e) => return Err(e).context("cannot add the new addresses"),
            }
        };
        let mut apply = Apply {
            conn: &mut self.conn,
            now: self.now,
            dry_run: false,
            summary,
        };
        for r in rows {
            if let Some(k) = known.remove(r.email.key()) {
                apply.update(&k, r).await?;
            }
        }
        Ok(())
    }

    /// Adds `rows`, none of them in the store when it was looked up, with
    /// their history: ids from the sequence, in file order, then two
    /// `COPY`s, after a savepoint to return to if one of them was added
    /// since.
    async fn copy_new(&mut self, rows: &[&ImportRecord]) -> sqlx::Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let Conn::Postgres(c) = &mut self.conn else {
            return Err(sqlx::Error::Protocol(
                "a COPY batch needs PostgreSQL".into(),
            ));
        };
        // The sequence behind `subscribers.id` (an identity column), named
        // as a literal so that it is resolved once, not once a row.
        let mut ids: Vec<i64> =
            sqlx::query_scalar("SELECT nextval('subscribers_id_seq') FROM generate_series(1, $1)")
                .bind(rows.len() as i64)
                .fetch_all(&mut *c)
                .await?;
        ids.sort_unstable();
        let (records, changes) = encode(rows, &ids, self.now);
        sqlx::query("SAVEPOINT batch").execute(&mut *c).await?;
        let copied = async {
            copy_in(
                c,
                "COPY subscribers (id, email, email_key, name, status, created_at, updated_at, \
                 consent_source, consent_at, consent_ip, confirmed_at, confirm_ip) \
                 FROM STDIN (FORMAT binary)",
                records,
            )
            .await?;
            copy_in(
                c,
                "COPY subscriber_history (subscriber_id, status, at, source, ip, reason) \
                 FROM STDIN (FORMAT binary)",
                changes,
            )
            .await
        }
        .await;
        match copied {
            Ok(_) => sqlx::query("RELEASE SAVEPOINT batch")
                .execute(&mut *c)
                .await
                .map(|_| ()),
            Err(e) => {
                sqlx::query("ROLLBACK TO SAVEPOINT batch")
                    .execute(&mut *c)
                    .await?;
                Err(e)
            }
        }
    }

    async fn exec(&mut self, statement: &'static str) -> anyhow::Result<()> {
        on_exec!(&mut self.conn, c => sqlx::query(statement).execute(&mut *c).await.map(|_| ()))
            .context("cannot write the import's batch")
    }
}

/// Whether `e` is a `COPY` that met an address added since the look-up.
fn key_taken(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| {
        d.code().as_deref() == Some("23505") && d.constraint() == Some("subscribers_by_key")
    })
}

/// The batch in `COPY`'s binary format: the subscribers (with `ids`, in
/// order), and each one's history.
fn encode(rows: &[&ImportRecord], ids: &[i64], now: i64) -> (Vec<u8>, Vec<u8>) {
    let mut records = BinaryCopy::with_capacity(rows.len() * 256);
    let mut changes = BinaryCopy::with_capacity(rows.len() * 96);
    for (r, &id) in rows.iter().zip(ids) {
        let c = &r.consent;
        records.row(12);
        records.int(id);
        records.text(Some(r.email.as_str()));
        records.text(Some(r.email.key()));
        records.text(r.name.as_deref());
        records.text(Some(r.status().as_str()));
        records.int(now);
        records.int(now);
        records.text(Some(&c.source.to_string()));
        records.int(seconds(c.at));
        records.text(ip_text(c.ip).as_deref());
        records.opt_int(c.confirmed_at.map(seconds));
        records.text(ip_text(c.confirm_ip).as_deref());
        for h in &r.history {
            changes.row(6);
            changes.int(id);
            changes.text(Some(h.status.as_str()));
            changes.int(seconds(h.at));
            changes.text(Some(&h.source.to_string()));
            changes.text(ip_text(h.ip).as_deref());
            changes.text(h.reason.as_deref());
        }
    }
    (records.finish(), changes.finish())
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
