//! A store to test against, on either backend: a fresh SQLite file or a
//! fresh database in the private PostgreSQL cluster ([`super::pg`]).
//! [`both_backends!`] turns one test body into a test per backend.
use mailroom::store::{Location, Store};

use super::pg;

/// Where a test's store lives.
pub struct TestDb {
    pub url: String,
    pub password: Option<&'static str>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A new SQLite file in a temp dir.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        TestDb {
            url: format!("sqlite://{}", dir.path().join("t.db").display()),
            password: None,
            _dir: Some(dir),
        }
    }

    /// A new database in the tests' PostgreSQL cluster.
    pub fn postgres() -> TestDb {
        TestDb {
            url: pg::fresh_database(),
            password: Some(pg::PASSWORD),
            _dir: None,
        }
    }

    /// Whether this is the PostgreSQL one.
    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }

    /// Where the store is, with the password.
    pub fn location(&self) -> Location<'_> {
        Location {
            url: &self.url,
            password: self.password,
        }
    }

    /// Opens the store, creating (and migrating) it.
    pub async fn open(&self) -> Store {
        Store::create(self.location())
            .await
            .expect("create the store")
            .0
    }

    /// Creates the store, then opens it with durable commits.
    pub async fn open_durable(&self) -> Store {
        self.open().await.close().await;
        Store::open_durable(self.location())
            .await
            .expect("open the store")
    }
}

/// `both_backends! { async fn name(db) { … } }` defines the module `name`
/// with the tests `sqlite` and `postgres`, each running the body with `db`
/// a fresh [`TestDb`] of that backend.
#[macro_export]
macro_rules! both_backends {
    ($(#[$meta:meta])* async fn $name:ident($db:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $db = $crate::common::db::TestDb::sqlite();
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let $db = $crate::common::db::TestDb::postgres();
                $body
            }
        }
    };
}
