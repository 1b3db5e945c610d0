//! [`Sql`]: a SQLite statement built together with its arguments, for
//! multi-row statements (PostgreSQL binds arrays instead, one statement
//! text for any count). Placeholders are plain `?`, which matters for
//! speed: sqlx-sqlite asks
//! SQLite for each parameter's name on every execution, which is linear in
//! the number of *named* or numbered parameters, so `$n` in a 5,000-value
//! statement turns quadratic.
//!
//! Values from a closed set (status words) and the import's fixed time are
//! written as literals; they keep the statement text the same from batch to
//! batch, so the prepared statement is reused.
use sqlx::error::BoxDynError;
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::{Arguments, AssertSqlSafe, Encode, Type};

use crate::domain::Status;

type Db = sqlx::Sqlite;

/// A statement under construction.
pub(super) struct Sql {
    text: String,
    args: SqliteArguments,
    error: Option<BoxDynError>,
}

impl Sql {
    /// Starts a statement with `text`.
    pub fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            args: SqliteArguments::default(),
            error: None,
        }
    }

    /// Appends SQL text.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Binds `value` and appends its placeholder.
    pub fn param<'t, T: Encode<'t, Db> + Type<Db>>(&mut self, value: T) -> &mut Self {
        if let Err(e) = self.args.add(value) {
            self.error.get_or_insert(e);
        }
        if let Err(e) = self.args.format_placeholder(&mut self.text) {
            self.error.get_or_insert(Box::new(e));
        }
        self
    }

    /// Appends a status word as a literal (a closed set of plain words).
    pub fn status(&mut self, status: Status) -> &mut Self {
        self.text.push('\'');
        self.text.push_str(status.as_str());
        self.text.push('\'');
        self
    }

    /// Appends an integer literal.
    pub fn int(&mut self, value: i64) -> &mut Self {
        self.text.push_str(&value.to_string());
        self
    }

    /// The finished query; fails if a value could not be encoded.
    pub fn build(self) -> anyhow::Result<Query<'static, Db, SqliteArguments>> {
        match self.error {
            Some(e) => Err(anyhow::anyhow!(e).context("cannot encode a query argument")),
            None => Ok(sqlx::query_with(AssertSqlSafe(self.text), self.args)),
        }
    }
}
