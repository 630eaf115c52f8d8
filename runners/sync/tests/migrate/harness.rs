//! A world for migrator tests: both emulators over HTTP on 127.0.0.1 (port 0), real clients,
//! the shipped mappings, and a fresh store (an SQLite file in a temporary directory, or a
//! fresh PostgreSQL database from `CRMMAP_TEST_POSTGRES_URL`), from the test kit.

use crmmap_store::Store;
use crmmap_sync::RunContext;
use crmmap_testkit::{Database, Emulators, emulator_context};

pub use crmmap_testkit::Backend;

pub struct World {
    pub salesforce: crmmap_emu_salesforce::RunningEmulator,
    pub monday: crmmap_emu_monday::RunningEmulator,
    pub ctx: RunContext,
    db: Database,
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
        let db = Database::new(backend).await?;
        let store = db.connect().await;
        let Emulators { salesforce, monday } = Emulators::start_with(sf, md).await;
        let ctx = context(&salesforce, &monday, store);
        Some(World {
            salesforce,
            monday,
            ctx,
            db,
        })
    }

    pub fn store(&self) -> &Store {
        &self.ctx.store
    }

    /// A second context on the same emulators and database (another process after a crash).
    pub async fn reconnect(&self) -> RunContext {
        let store = self.db.connect().await;
        context(&self.salesforce, &self.monday, store)
    }

    pub async fn cleanup(self) {
        self.ctx.store.close().await;
        self.db.cleanup().await;
    }
}

/// The kit's context on the emulators, as the migrator's own monday user.
fn context(
    salesforce: &crmmap_emu_salesforce::RunningEmulator,
    monday: &crmmap_emu_monday::RunningEmulator,
    store: Store,
) -> RunContext {
    RunContext {
        monday_user_id: Some(67_214_742),
        ..emulator_context(&salesforce.base_url(), &monday.base_url(), store)
    }
}
