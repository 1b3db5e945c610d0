//! Erasure on request (GDPR art. 17): remove a person, keep only a keyed
//! hash of their address as a suppression, so that no import, `add` or web
//! subscription brings them back.
//!
//! Why keyed (HMAC with a secret kept outside the store) and not a plain
//! hash: addresses are guessable. Anyone holding a leaked store could hash
//! a list of known addresses and see which were erased here, and so who
//! had been a subscriber. Without the key, a hash in the store reveals
//! nothing. The key is derived from the token secret (`[web] secret_file`
//! or `MAILROOM_WEB__SECRET`), which lives beside the store and is never
//! in it; the older secrets of `[web] previous_secrets_file` are tried
//! too, so rotating the secret keeps every suppression.
use std::sync::Arc;

use super::row::Cols;
use super::sql::Sql;
use super::{Exec, Store, Tx, seconds};
use crate::domain::EmailAddress;
use crate::token::Keyring;
use anyhow::Context;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// What is told to the hash so it is never equal to a token's MAC.
const ERASURE_TAG: &[u8] = b"mailroom-erasure-v1\0";

/// The keys erasure hashes are made with: one per token secret, the
/// current one first.
#[derive(Clone)]
pub(super) struct ErasureKeys(Arc<[Vec<u8>]>);

impl std::fmt::Debug for ErasureKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ErasureKeys({}, redacted)", self.0.len())
    }
}

impl ErasureKeys {
    /// The hashes `email` may be stored under, the current secret's first.
    pub(super) fn hashes(&self, email: &EmailAddress) -> Vec<String> {
        self.0.iter().map(|k| hash(k, email)).collect()
    }
}

/// The subscriber an erasure found: id, stored address, name, and the
/// consent and confirmation IPs.
type Found = (i64, String, Option<String>, [Option<String>; 2]);

/// What [`Store::erase`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EraseOutcome {
    /// The subscriber is gone; only the hash is left.
    Erased(Erasure),
    /// There is no subscriber with that address, but it was erased before.
    AlreadyErased,
    /// No subscriber has that address, and it was never erased.
    NotFound,
}

/// What an erasure removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// The address as it was stored.
    pub email: String,
    /// Whether a name was stored.
    pub had_name: bool,
    /// How many IP addresses the consent record held (0 to 2).
    pub ips: u32,
    /// History entries removed (with their times, sources, IPs, reasons).
    pub history: u64,
    /// Delivery records removed (which issues were sent to the address).
    pub deliveries: u64,
}

/// The store holds erased addresses and there is no secret to check an
/// address against them.
fn no_key() -> anyhow::Error {
    anyhow::anyhow!(
        "this store holds addresses erased on request, and recognising them needs the token \
         secret they were hashed with; set MAILROOM_WEB__SECRET or point `[web] secret_file` \
         at the file (`mailroom.secret` beside the store)"
    )
}

impl Store {
    /// The store, able to recognise (and make) erasures with `keyring`'s
    /// secrets.
    pub fn with_erasure_keys(mut self, keyring: &Keyring) -> Self {
        let keys: Vec<Vec<u8>> = keyring
            .all()
            .map(|secret| {
                let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
                    .expect("HMAC takes any key length");
                mac.update(ERASURE_TAG);
                mac.finalize().into_bytes().to_vec()
            })
            .collect();
        self.erasure = Some(ErasureKeys(keys.into()));
        self
    }

    /// The hashes `email` may be stored under (one per secret, the current
    /// one first); an error when there is no secret.
    pub(super) fn erasure_hashes(&self, email: &EmailAddress) -> anyhow::Result<Vec<String>> {
        Ok(self.erasure_keys()?.hashes(email))
    }

    /// The erasure keys; an error when there is no secret.
    pub(super) fn erasure_keys(&self) -> anyhow::Result<ErasureKeys> {
        self.erasure.clone().ok_or_else(no_key)
    }

    /// Removes the subscriber with `email` and everything about them, and
    /// keeps the address's keyed hash as a suppression.
    pub async fn erase(&self, email: &EmailAddress) -> anyhow::Result<EraseOutcome> {
        let hashes = self.erasure_hashes(email)?;
        let mut tx = self.begin_write().await?;
        if let Tx::Sqlite(t) = &mut tx {
            // Deleted rows are overwritten with zeros, not left in free
            // pages. (PostgreSQL leaves them on disk until VACUUM.)
            sqlx::query("PRAGMA secure_delete = ON")
                .execute(&mut **t)
                .await
                .context("cannot prepare the erasure")?;
        }
        let sql = format!(
            "SELECT id, email, name, consent_ip, confirm_ip FROM subscribers \
             WHERE email_key = $1{}",
            tx.for_update()
        );
        let found: Option<Found> = on_tx!(&mut tx, t => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(email.key())
                .fetch_optional(&mut **t)
                .await
                .with_context(|| format!("cannot look up `{email}`"))?;
            row.map(|r| -> anyhow::Result<_> {
                Ok((
                    r.int("id")?,
                    r.text("email")?,
                    r.opt_text("name")?,
                    [r.opt_text("consent_ip")?, r.opt_text("confirm_ip")?],
                ))
            })
            .transpose()?
        });
        let Some((id, stored, name, ips)) = found else {
            let erased = erased_among(&mut tx, &hashes).await?;
            return Ok(if erased {
                EraseOutcome::AlreadyErased
            } else {
                EraseOutcome::NotFound
            });
        };
        let mut counts = [0u64; 2];
        for (i, statement) in [
            "DELETE FROM subscriber_history WHERE subscriber_id = $1",
            "DELETE FROM deliveries WHERE subscriber_id = $1",
            "DELETE FROM subscribe_requests WHERE subscriber_id = $1",
            "DELETE FROM confirmation_queue WHERE subscriber_id = $1",
            "DELETE FROM subscribers WHERE id = $1",
        ]
        .into_iter()
        .enumerate()
        {
            let done = on_tx!(&mut tx, t => sqlx::query(statement)
                .bind(id)
                .execute(&mut **t)
                .await
                .map(|r| r.rows_affected()))
            .with_context(|| format!("cannot erase `{email}`"))?;
            if let Some(n) = counts.get_mut(i) {
                *n = done;
            }
        }
        on_tx!(&mut tx, t => sqlx::query(
            "INSERT INTO erased_addresses (hash, erased_at) VALUES ($1, $2) \
             ON CONFLICT (hash) DO NOTHING",
        )
        .bind(&hashes[0])
        .bind(seconds(crate::domain::now()))
        .execute(&mut **t)
        .await
        .map(|_| ()))
        .with_context(|| format!("cannot record the erasure of `{email}`"))?;
        tx.commit().await.context("cannot commit the erasure")?;
        if let super::Pool::Sqlite(p) = &self.pool {
            // The write-ahead log still holds the pages as they were
            // before; copy the zeroed pages into the file and empty the log.
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(p)
                .await
                .context("cannot checkpoint the erasure")?;
        }
        Ok(EraseOutcome::Erased(Erasure {
            email: stored,
            had_name: name.is_some(),
            ips: ips.iter().filter(|ip| ip.is_some()).count() as u32,
            history: counts[0],
            deliveries: counts[1],
        }))
    }

    /// Whether `email` was erased (checked inside the caller's transaction).
    pub(super) async fn is_erased<'a>(
        &self,
        conn: impl Into<Exec<'a>>,
        email: &EmailAddress,
    ) -> anyhow::Result<bool> {
        let mut conn = conn.into();
        if !any_erased(&mut conn).await? {
            return Ok(false);
        }
        let hashes = self.erasure_hashes(email)?;
        erased_among(&mut conn, &hashes).await
    }
}

/// Whether the store holds any erasure (then addresses must be checked).
pub(super) async fn any_erased<'a>(conn: impl Into<Exec<'a>>) -> anyhow::Result<bool> {
    let sql = "SELECT 1 FROM erased_addresses LIMIT 1";
    let any = match conn.into() {
        Exec::Sqlite(c) => sqlx::query(sql)
            .fetch_optional(&mut *c)
            .await
            .map(|r| r.is_some()),
        Exec::Postgres(c) => sqlx::query(sql)
            .fetch_optional(&mut *c)
            .await
            .map(|r| r.is_some()),
    };
    any.context("cannot read the erased addresses")
}

/// Which of `hashes` are stored: `IN (…)` on SQLite, `= ANY($1)` on
/// PostgreSQL.
pub(super) async fn stored_hashes<'a>(
    conn: impl Into<Exec<'a>>,
    hashes: &[&str],
) -> anyhow::Result<Vec<String>> {
    if hashes.is_empty() {
        return Ok(Vec::new());
    }
    let context = "cannot read the erased addresses";
    match conn.into() {
        Exec::Sqlite(c) => {
            let mut sql = Sql::new("SELECT hash FROM erased_addresses WHERE hash IN (");
            for (i, h) in hashes.iter().enumerate() {
                sql.push(if i == 0 { "" } else { ", " }).param(*h);
            }
            sql.push(")");
            let rows = sql.build()?.fetch_all(&mut *c).await.context(context)?;
            rows.iter().map(|r| r.text("hash")).collect()
        }
        Exec::Postgres(c) => {
            let rows = sqlx::query("SELECT hash FROM erased_addresses WHERE hash = ANY($1)")
                .bind(hashes)
                .fetch_all(&mut *c)
                .await
                .context(context)?;
            rows.iter().map(|r| r.text("hash")).collect()
        }
    }
}

async fn erased_among(conn: impl Into<Exec<'_>>, hashes: &[String]) -> anyhow::Result<bool> {
    let refs: Vec<&str> = hashes.iter().map(String::as_str).collect();
    Ok(!stored_hashes(conn, &refs).await?.is_empty())
}

/// HMAC-SHA256 of the address's identity under `key`, as hex.
fn hash(key: &[u8], email: &EmailAddress) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(email.key().as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
