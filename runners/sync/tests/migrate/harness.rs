//! A world for migrator tests: both emulators over HTTP on 127.0.0.1 (port 0), real clients,
//! the shipped mappings, and a fresh store (an SQLite file in a temporary directory, or a
//! fresh PostgreSQL database from `CRMMAP_TEST_POSTGRES_URL`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crmmap_monday::{MondayClient, MondayConfig};
use crmmap_salesforce::{AuthFlow, SalesforceClient};
use crmmap_store::Store;
use crmmap_sync::RunContext;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// The variable that points the suite at a PostgreSQL server.
pub const POSTGRES_URL_ENV: &str = "CRMMAP_TEST_POSTGRES_URL";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct World {
    pub salesforce: crmmap_emu_salesforce::RunningEmulator,
    pub monday: crmmap_emu_monday::RunningEmulator,
    pub ctx: RunContext,
    store_url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

pub fn mappings_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../mappings")
}

impl World {
    /// A world on `backend`, or `None` (after saying so) when PostgreSQL is not configured.
    pub async fn new(backend: Backend) -> Option<World> {
        World::with(backend, Default::default(), Default::default()).await
    }

    pub async fn with(
        backend: Backend,
        sf: crmmap_emu_salesforce::EmulatorOptions,
        md: crmmap_emu_monday::EmulatorOptions,
    ) -> Option<World> {
        let (store_url, dir, pg) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("crmmap-test.db").display());
                (url, Some(dir), None)
            }
            Backend::Postgres => {
                let Some(admin) = std::env::var(POSTGRES_URL_ENV)
                    .ok()
                    .filter(|u| !u.is_empty())
                else {
                    if std::env::var_os("CI").is_some() {
                        panic!(
                            "{POSTGRES_URL_ENV} is not set: CI must run the migrator suite against PostgreSQL"
                        );
                    }
                    eprintln!("skipped: set {POSTGRES_URL_ENV} to run against PostgreSQL");
                    return None;
                };
                let name = format!("crmmap_migrate_{}", uuid::Uuid::new_v4().simple());
                let mut conn = PgConnection::connect(&admin)
                    .await
                    .expect("connect to postgres");
                sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let _ = conn.close().await;
                let mut url = url::Url::parse(&admin).expect("postgres url");
                url.set_path(&format!("/{name}"));
                (url.to_string(), None, Some((admin, name)))
            }
        };
        let store = Store::connect(&store_url).await.expect("open store");
        let salesforce = crmmap_emu_salesforce::start(sf)
            .await
            .expect("salesforce emulator");
        let monday = crmmap_emu_monday::start(md).await.expect("monday emulator");
        let ctx = context(&salesforce, &monday, store);
        Some(World {
            salesforce,
            monday,
            ctx,
            store_url,
            _dir: dir,
            pg,
        })
    }

    pub fn store(&self) -> &Store {
        &self.ctx.store
    }

    /// A second context on the same emulators and database (another process after a crash).
    pub async fn reconnect(&self) -> RunContext {
        let store = Store::connect(&self.store_url).await.expect("reopen store");
        context(&self.salesforce, &self.monday, store)
    }

    pub async fn cleanup(mut self) {
        self.ctx.store.close().await;
        if let Some((admin, name)) = self.pg.take() {
            drop_database(&admin, &name).await;
        }
    }
}

async fn drop_database(admin: &str, name: &str) {
    if let Ok(mut conn) = PgConnection::connect(admin).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut conn)
            .await;
        let _ = conn.close().await;
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(drop_database(&admin, &name));
                }
            })
            .join();
        }
    }
}

/// Clients for the emulators with the default credentials, and the shipped mappings.
pub fn context(
    salesforce: &crmmap_emu_salesforce::RunningEmulator,
    monday: &crmmap_emu_monday::RunningEmulator,
    store: Store,
) -> RunContext {
    let creds = crmmap_emu_salesforce::Credentials::default();
    let sf = crmmap_salesforce::Config::new(
        salesforce.base_url(),
        AuthFlow::Password {
            client_id: creds.client_id,
            client_secret: creds.client_secret.into(),
            username: creds.username,
            password: creds.password.into(),
        },
    );
    let mut md = MondayConfig::new("emulator-token")
        .with_api_url(url::Url::parse(&monday.base_url()).expect("monday url"));
    md.retry_base_delay = Duration::from_millis(5);
    md.retry_max_delay = Duration::from_millis(50);
    let plans = crmmap_sync::mappings::load(&[mappings_dir()]).expect("shipped mappings load");
    RunContext {
        plans: Arc::new(plans),
        salesforce: Arc::new(SalesforceClient::new(sf).expect("salesforce client")),
        monday: Arc::new(MondayClient::new(md).expect("monday client")),
        store,
        clock: crmmap_sync::system_clock(),
        monday_user_id: Some(67_214_742),
    }
}
