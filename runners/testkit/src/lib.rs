//! crmmap's test kit, shared by the tests and benchmarks of every runner crate (a
//! dev-dependency only: no release binary links it).
//!
//! - [`Database`]: a fresh database per test, an SQLite file in a temporary directory or a
//!   PostgreSQL database created on the server of `CRMMAP_TEST_POSTGRES_URL` and dropped
//!   after; [`TestStore`] is one with a [`Store`](crmmap_store::Store) open on it.
//! - [`backend_tests!`]: one `#[tokio::test]` per backend for each scenario of a module.
//! - [`Emulators`]: both emulators on 127.0.0.1, clients for them ([`salesforce_client`],
//!   [`monday_client`]), a run context with the shipped mappings ([`emulator_context`],
//!   [`run_context`]), and the `crmmap.toml` that points the `crmmap` binary at them
//!   ([`Emulators::write_config`], [`cli_env`]).
//! - [`shipped_plans`] and [`shipped_plans_snapshot`]: the shipped mappings compiled, and the
//!   one snapshot of their plans (kept with the engine's tests) for other crates to compare
//!   with.
//! - [`record_id`]: a valid Salesforce record id from a short test name (`"00Q1"`).
//! - [`eventually`]: waits for another task's effect.

mod context;
mod database;
mod emulators;
mod ids;
mod macros;

pub use context::{
    SalesforceAuth, emulator_context, mappings_dir, monday_client, monday_config, run_context,
    salesforce_client, salesforce_config, shipped_plans, shipped_plans_snapshot, workspace_root,
};
pub use crmmap_store::Backend;
pub use database::{Database, POSTGRES_URL_ENV, TestStore};
pub use emulators::{Emulators, cli_env};
pub use ids::record_id;

/// Polls `probe` until it holds; panics naming `what` after 30 seconds. For waiting on a state
/// another task reaches (a lock waiter queued, an event handled), not for timing anything.
pub async fn eventually<F, Fut>(what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..3_000 {
        if probe().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("never reached: {what}");
}
