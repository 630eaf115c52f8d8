//! Fresh databases for each test: an SQLite file in a temporary directory, or a
//! PostgreSQL database created from `CRMMAP_TEST_POSTGRES_URL` and dropped after.

use crmmap_store::{Backend, Store, StoreOptions};
use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// The variable that points the suite at a PostgreSQL server.
pub const POSTGRES_URL_ENV: &str = "CRMMAP_TEST_POSTGRES_URL";

pub struct TestDb {
    url: String,
    store: Store,
    backend: Backend,
    _dir: Option<tempfile::TempDir>,
    pg: Option<PgDatabase>,
}

struct PgDatabase {
    admin_url: String,
    name: String,
    dropped: bool,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("crmmap-test.db").display());
        let store = Store::connect(&url).await.expect("open sqlite store");
        TestDb {
            url,
            store,
            backend: Backend::Sqlite,
            _dir: Some(dir),
            pg: None,
        }
    }

    /// A fresh database on the PostgreSQL server, or `None` (after saying so) when
    /// the variable is unset. Under CI a missing variable is a failure, never a skip.
    pub async fn postgres() -> Option<TestDb> {
        let Some(admin_url) = std::env::var(POSTGRES_URL_ENV)
            .ok()
            .filter(|u| !u.is_empty())
        else {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "{POSTGRES_URL_ENV} is not set: CI must run the store suite against PostgreSQL"
                );
            }
            eprintln!("skipped: set {POSTGRES_URL_ENV} to run against PostgreSQL");
            return None;
        };
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
        let url = url.to_string();
        let store = Store::connect(&url).await.expect("open postgres store");
        Some(TestDb {
            url,
            store,
            backend: Backend::Postgres,
            _dir: None,
            pg: Some(PgDatabase {
                admin_url,
                name,
                dropped: false,
            }),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// A second, independent store (its own pool) on the same database: another
    /// process, another Lambda instance, or this one after a crash.
    pub async fn connect_again(&self) -> Store {
        Store::connect(&self.url).await.expect("reconnect")
    }

    /// Like [`TestDb::connect_again`], with explicit pool options.
    pub async fn connect_again_with(&self, options: &StoreOptions) -> Store {
        Store::connect_with(&self.url, options)
            .await
            .expect("reconnect")
    }

    pub async fn cleanup(mut self) {
        self.store.close().await;
        if let Some(pg) = self.pg.as_mut() {
            drop_database(&pg.admin_url, &pg.name).await;
            pg.dropped = true;
        }
    }
}

async fn drop_database(admin_url: &str, name: &str) {
    let mut admin = PgConnection::connect(admin_url)
        .await
        .expect("connect to the test server");
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .expect("drop test database");
    let _ = admin.close().await;
}

impl Drop for TestDb {
    /// A failed test does not reach `cleanup`: drop its database anyway.
    fn drop(&mut self) {
        if let Some(pg) = self.pg.as_ref().filter(|pg| !pg.dropped) {
            let (admin_url, name) = (pg.admin_url.clone(), pg.name.clone());
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    rt.block_on(drop_database(&admin_url, &name));
                }
            })
            .join();
        }
    }
}

/// Polls `probe` until it returns true; panics after `tries` probes. For waiting on
/// a state another task reaches (a lock waiter queued), not for timing anything.
pub async fn wait_until<F, Fut>(what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..2_000 {
        if probe().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("never reached: {what}");
}
