//! [`Cols`]: reading a result row's columns by name the same way on either
//! backend, so row decoders are written once.
use anyhow::Context;
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

/// Typed access to a row's columns by name; every error names the column.
pub(super) trait Cols {
    fn int(&self, name: &str) -> anyhow::Result<i64>;
    fn opt_int(&self, name: &str) -> anyhow::Result<Option<i64>>;
    fn text(&self, name: &str) -> anyhow::Result<String>;
    fn opt_text(&self, name: &str) -> anyhow::Result<Option<String>>;

    /// A count or other non-negative integer (negative reads as 0).
    fn count(&self, name: &str) -> anyhow::Result<u64> {
        Ok(u64::try_from(self.int(name)?).unwrap_or(0))
    }
}

macro_rules! impl_cols {
    ($row:ty) => {
        impl Cols for $row {
            fn int(&self, name: &str) -> anyhow::Result<i64> {
                self.try_get(name)
                    .with_context(|| format!("cannot read column `{name}`"))
            }
            fn opt_int(&self, name: &str) -> anyhow::Result<Option<i64>> {
                self.try_get(name)
                    .with_context(|| format!("cannot read column `{name}`"))
            }
            fn text(&self, name: &str) -> anyhow::Result<String> {
                self.try_get(name)
                    .with_context(|| format!("cannot read column `{name}`"))
            }
            fn opt_text(&self, name: &str) -> anyhow::Result<Option<String>> {
                self.try_get(name)
                    .with_context(|| format!("cannot read column `{name}`"))
            }
        }
    };
}

impl_cols!(SqliteRow);
impl_cols!(PgRow);
