//! crmmap's runners: everything that does I/O around the pure engine.
//!
//! ```text
//! crmmap.toml + env ──config──▶ Settings ──context──▶ RunContext (plans, clients, store)
//!                                                     ├─ migrate: Salesforce pages → monday writes
//!                                                     └─ webhook: monday events → Salesforce writes
//! ```

pub mod change_events;
pub mod config;
pub mod context;
pub mod failure;
pub mod mappings;
pub mod migrate;
pub mod retention;
pub mod schema;

pub use config::{ConfigError, Settings};
pub use context::{Clock, RunContext, system_clock};
