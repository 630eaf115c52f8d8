//! The migrator: Salesforce records → monday items, incremental, resumable and idempotent.
//!
//! ```text
//! for each object, parents first:
//!   SOQL (mapping selection AND after the watermark) ORDER BY SystemModstamp, Id  ── pages
//!     └─ chunks of ≤ 500 records:
//!          store links (one query) ──▶ linked: prior = last-synced values (no monday read)
//!          unlinked ──▶ one items_page_by_column_values on the Salesforce-id column
//!                        (found: link it, prior = the item; else: create)
//!          engine::evaluate(record, prior) ──▶ only what differs ──▶ batched mutations
//!          results ──▶ links, last-synced values, sync log, retry queue
//!          checkpoint (run progress) + watermark (SystemModstamp, Id)
//! then parked links whose target now has an item ──▶ board-relation writes
//! ```
//!
//! - Board relations are written with the record when the target's item is known (parents
//!   are synced first); otherwise the link is parked in the store and completed by the links
//!   phase of this run or of a later one.
//! - A run killed at any point resumes: the watermark and the checkpoint only move after a
//!   chunk's results are stored, and a record whose create reached monday but whose link did
//!   not reach the store is found again by its Salesforce-id column instead of duplicated.
//! - A per-record failure (an evaluation error, a rejected value) is logged with the record,
//!   column and message, queued for retry ([`RETRY_KIND`]) and does not stop the run.
//! - One migration at a time: a run that writes holds the store's lease [`LEASE`] (a manual
//!   `crmmap migrate` and the schedule may overlap). A second run waits for it up to
//!   [`MigrateOptions::lease_wait`], else stops with [`MigrateError::Busy`] before reading or
//!   writing anything. A run that loses its lease (see `crmmap_store::Lease`) stops after the
//!   chunk in progress. A dry run writes nothing and takes no lease.
//! - A monday edit whose webhook event waits in the retry queue ([`WEBHOOK_RETRY_KIND`]) is a
//!   monday change made after the last sync: where the migrator would overwrite it, the
//!   field's conflict policy decides. `prefer monday` (or `newest` with the edit newer than the
//!   record's `LastModifiedDate`) leaves the column to the queued event, which writes it to
//!   Salesforce; `prefer salesforce` writes the record's value as usual. See [`keep_queued`].

mod chunk;
mod deletions;
mod desired;
mod error;
mod links;
mod lookup;
mod migrator;
mod options;
mod parked;
mod query;
mod queued;
mod report;
mod run;
mod write;

pub use desired::{Desired, column_read, prior_from_synced};
pub use error::MigrateError;
pub use options::{MigrateOptions, StopSignal};
pub use query::{deleted_query, object_query};
pub use queued::keep_queued;
pub use report::{
    Counts, FieldChange, MigrateReport, NoProgress, ObjectReport, PlannedAction, PlannedChange,
    Progress, RecordFailure, RecordsSynced,
};
pub use run::{run, sync_records};

/// The run kind of migrations in the store's run checkpoints.
pub const RUN_KIND: &str = "migrate";

/// The retry-queue kind of webhook events (`crmmap_webhook::RETRY_KIND`): their queued
/// monday edits are weighed by [`keep_queued`] before the migrator writes their items.
pub const WEBHOOK_RETRY_KIND: &str = "webhook_event";

/// The store lease a migration that writes holds: one at a time.
pub const LEASE: &str = "migrate";

/// How long the lease outlives its holder's last renewal on SQLite (a crashed run blocks the
/// next one this long at most; PostgreSQL frees it when the session ends).
pub const LEASE_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// The retry-queue kind of records that failed to migrate. Payload:
/// `{"object": "Lead", "record_id": "00Q…"}`; dedup key `<object>:<record id>`.
pub const RETRY_KIND: &str = "migrate_record";

/// Records looked up and written together (one Salesforce-id lookup per chunk; monday serves
/// at most 500 items per page).
pub const DEFAULT_CHUNK: usize = 500;

/// The phase name saved in checkpoints while records are processed.
const PHASE_RECORDS: &str = "records";

/// How far behind the run's start the watermark stays.
///
/// UNCERTAIN: Salesforce sets `SystemModstamp` when a transaction starts and makes the row
/// visible when it commits, and does not document the gap; a record committed after our query
/// with a stamp below the highest one we saw would be skipped forever. Keeping the watermark
/// this far behind the run's start (and never ahead of it, whatever stamps records carry, e.g.
/// under clock skew) means such records are read again by the next run: at the cost of
/// re-reading recent records, which then write nothing. The one place that makes the choice.
pub const WATERMARK_LAG: time::Duration = time::Duration::minutes(2);

/// How long a failed record waits before its first retry.
const FIRST_RETRY_DELAY: time::Duration = time::Duration::minutes(1);

/// The shipped mapping of Leads, for unit tests.
#[cfg(test)]
fn lead_plan() -> crmmap_engine::plan::Plan {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../mappings");
    let plans = crate::mappings::load(&[dir]).expect("shipped mappings");
    plans.plan("Lead").expect("lead").clone()
}
