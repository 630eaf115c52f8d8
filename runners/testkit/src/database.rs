//! Fresh databases for each test: an SQLite file in a temporary directory, or a PostgreSQL
//! database created on the server of `CRMMAP_TEST_POSTGRES_URL` and dropped after.

use crmmap_store::{Backend, Store, StoreOptions};
use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// The variable that points the suites at a PostgreSQL server.
pub const POSTGRES_URL_ENV: &str = "CRMMAP_TEST_POSTGRES_URL";

/// A fresh, empty database, removed when dropped.
pub struct Database {
    url: String,
    backend: Backend,
    _dir: Option<tempfile::TempDir>,
    pg: Option<Created>,
}

/// A database this test created on the PostgreSQL server.
struct Created {
    admin_url: String,
    name: String,
}

/// The PostgreSQL server's URL, or `None` (after saying so) when the variable is unset. Under
/// CI a missing variable is a failure, never a skip.
fn postgres_server() -> Option<String> {
    let url = std::env::var(POSTGRES_URL_ENV)
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("{POSTGRES_URL_ENV} is not set: CI must run the suites against PostgreSQL");
        }
        eprintln!("skipped: set {POSTGRES_URL_ENV} to run against PostgreSQL");
    }
    url
}

impl Database {
    /// A fresh database on `backend`, or `None` (after saying so) when it is PostgreSQL and
    /// `CRMMAP_TEST_POSTGRES_URL` is unset.
    pub async fn new(backend: Backend) -> Option<Database> {
        match backend {
            Backend::Sqlite => Some(Database::sqlite()),
            Backend::Postgres => Database::postgres().await,
        }
    }

    /// An SQLite file in a fresh temporary directory.
    pub fn sqlite() -> Database {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("crmmap-test.db").display());
        Database {
            url,
            backend: Backend::Sqlite,
            _dir: Some(dir),
            pg: None,
        }
    }

    /// A database created on the PostgreSQL server, or `None` (after saying so) when
    /// `CRMMAP_TEST_POSTGRES_URL` is unset.
    pub async fn postgres() -> Option<Database> {
        let admin_url = postgres_server()?;
        let name = format!("crmmap_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .expect("connect to the test server");
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .expect("create test database");
        admin.close().await.expect("close admin connection");
        let mut url = url::Url::parse(&admin_url).expect("test server url");
        url.set_path(&format!("/{name}"));
        Some(Database {
            url: url.to_string(),
            backend: Backend::Postgres,
            _dir: None,
            pg: Some(Created { admin_url, name }),
        })
    }

    /// The store URL of the database.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A store (its own pool) on the database.
    pub async fn connect(&self) -> Store {
        Store::connect(&self.url).await.expect("open store")
    }

    /// Like [`Database::connect`], with explicit pool options.
    pub async fn connect_with(&self, options: &StoreOptions) -> Store {
        Store::connect_with(&self.url, options)
            .await
            .expect("open store")
    }

    /// Drops a PostgreSQL database now (a test that fails before it gets here has it dropped
    /// when the value is dropped).
    pub async fn cleanup(mut self) {
        if let Some(pg) = self.pg.take() {
            drop_database(&pg.admin_url, &pg.name)
                .await
                .expect("drop test database");
        }
    }
}

async fn drop_database(admin_url: &str, name: &str) -> Result<(), sqlx::Error> {
    let mut admin = PgConnection::connect(admin_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    let _ = admin.close().await;
    Ok(())
}

impl Drop for Database {
    /// A failed test does not reach `cleanup`: drop its database anyway (on a thread of its
    /// own, since the test's runtime may be gone or busy).
    fn drop(&mut self) {
        if let Some(Created { admin_url, name }) = self.pg.take() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    let _ = rt.block_on(drop_database(&admin_url, &name));
                }
            })
            .join();
        }
    }
}

/// A fresh database with a store open on it: the fixture of the store's own suite.
pub struct TestStore {
    db: Database,
    store: Store,
}

impl TestStore {
    /// A fresh database on `backend` and a store on it, or `None` (after saying so) when it is
    /// PostgreSQL and `CRMMAP_TEST_POSTGRES_URL` is unset.
    pub async fn open(backend: Backend) -> Option<TestStore> {
        let db = Database::new(backend).await?;
        let store = db.connect().await;
        Some(TestStore { db, store })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    pub fn url(&self) -> &str {
        self.db.url()
    }

    /// A second, independent store (its own pool) on the same database: another process,
    /// another Lambda instance, or this one after a crash.
    pub async fn connect_again(&self) -> Store {
        self.db.connect().await
    }

    /// Like [`TestStore::connect_again`], with explicit pool options.
    pub async fn connect_again_with(&self, options: &StoreOptions) -> Store {
        self.db.connect_with(options).await
    }

    /// Closes the store and drops the database.
    pub async fn cleanup(self) {
        self.store.close().await;
        self.db.cleanup().await;
    }
}
