//! The crmmap state store: everything the runners remember between two calls.
//!
//! ```text
//!  webhook runner ─┐                         ┌─ SQLite (embedded default, `sqlite://crmmap.db`)
//!                  ├──▶ Store (sqlx pool) ───┤
//!  migrator ───────┘                         └─ PostgreSQL (`postgres://...`, shared by Lambdas)
//! ```
//!
//! One [`Store`] type serves both runners and both backends:
//!
//! | what | methods | used by |
//! |---|---|---|
//! | item ↔ record links | [`Store::upsert_link`], [`Store::link_by_item`], [`Store::link_by_record`] | both |
//! | last-synced values (echo and change detection) | [`Store::set_synced_values`], [`Store::synced_values`] | both |
//! | processed events (idempotency) | [`Store::begin_event`], [`Store::finish_event`], [`Store::record_skipped_event`], [`Store::prune_events`] | webhook |
//! | create intents (crash-safe create) | [`Store::record_create_intent`], [`Store::complete_create_intent`] | webhook |
//! | per-item ordering | [`Store::lock_item`] → [`ItemGuard`] | webhook |
//! | named leases (one migrator at a time; one event process on SQLite) | [`Store::acquire_lease`] → [`Lease`], [`Store::lease_holder`] | migrator, `crmmap serve`, `crmmap retry` |
//! | one event on one item: lock + claim, then values + outcome + log (+ retry) in one commit | [`Store::begin_item_event`] → [`EventScope::finish`]; a queued event, completing its retry item in that commit: [`Store::begin_item_retry`] → [`EventScope::finish`] / [`EventScope::leave`] | webhook |
//! | sync log | [`Store::append_log`], [`Store::query_log`] | both, `crmmap log` |
//! | watermarks | [`Store::watermark`], [`Store::advance_watermark`] | migrator |
//! | run checkpoints | [`Store::start_run`], [`Store::save_progress`], [`Store::unfinished_run`] | migrator |
//! | parked links | [`Store::park_link`], [`Store::parked_for_target`] | migrator |
//! | monday edits waiting in the retry queue, by item | [`Store::queued_item_events`] | migrator |
//! | retry queue | [`Store::enqueue_retry`], [`Store::claim_due_retries`] → [`Store::start_retry`] → [`Store::complete_retry`] / [`Store::fail_retry`] / [`Store::release_retry`], [`Store::requeue_dead_where`] | both |
//! | Salesforce change events: each record's newest applied change, each channel's replay id | [`Store::record_position`], [`Store::set_record_position`], [`Store::replay_checkpoint`], [`Store::save_replay_checkpoint`] | webhook (`/events/salesforce`), the Pub/Sub subscriber |
//! | circuit breakers of the retry queue | [`Store::open_breaker`], [`Store::open_breakers`], [`Store::close_breaker`] | webhook, `crmmap retry` |
//!
//! The store never reads the clock: every method that records or compares a time
//! takes `now`. Times are kept in UTC with microsecond precision on both backends.
//! Migrations (`migrations/sqlite`, `migrations/postgres`) are applied by
//! [`Store::connect`]; applying them again is a no-op.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use crmmap_store::{Store, EventStart, EventOutcome};
//! use time::macros::datetime;
//!
//! let store = Store::connect("sqlite::memory:").await?;
//! let now = datetime!(2026-01-01 12:00 UTC);
//! use crmmap_ids::{BoardId, ItemId, RecordId, SObjectName};
//! let lead = SObjectName::new("Lead");
//! let record = RecordId::parse("00Q000000000001")?;
//! store.upsert_link(BoardId::new(9378000505), ItemId::new(123), &lead, &record, now).await?;
//! assert_eq!(store.link_by_record(&lead, &record).await?.unwrap().item_id, ItemId::new(123));
//!
//! assert_eq!(store.begin_event("b95777fd072aab62280dfb409b81232b", now).await?, EventStart::Started);
//! store.finish_event("b95777fd072aab62280dfb409b81232b", EventOutcome::Applied, None, now).await?;
//! assert_eq!(store.begin_event("b95777fd072aab62280dfb409b81232b", now).await?, EventStart::AlreadyApplied);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod breaker;
mod db;
mod error;
mod events;
mod intents;
pub mod keys;
mod lease;
mod links;
mod lock;
mod log;
mod parked;
mod queued;
mod replay_checkpoint;
mod retry;
mod runs;
mod salesforce_events;
mod scope;
mod scrub;
mod url;
mod watermark;

use std::fmt;
use std::sync::Arc;

pub use breaker::{BreakerChange, OpenBreaker};
pub use db::{StoreOptions, normalize_time};
pub use error::{Result, StoreError};
pub use events::{EVENT_LEASE, EventOutcome, EventStart, event_dedup_key};
pub use intents::{CreateIntent, IntentStatus};
pub use keys::{
    CONVERTED_KEY, LAST_SEEN_KEY, NAME_KEY, SyncedKey, UnknownKey, column_key, field_key, link_key,
    rule_key, sent_key,
};
pub use lease::{Lease, LeaseAcquire, LeaseClock, LeaseHolder, LeaseOptions, process_description};
pub use links::{Link, SetValue, Side, SyncedValue};
pub use lock::{ItemGuard, record_lock_item};
pub use log::{Action, LogEntry, LogFilter, LogRow, RunnerKind};
pub use parked::{NewParkedLink, ParkedLink};
pub use queued::QueuedEdit;
pub use replay_checkpoint::ReplayCheckpoint;
pub use retry::{
    ClaimedRetry, FailOutcome, Failure, FailureClass, RequeueFilter, RetryCounts, RetryItem,
    RetryPolicy, RetryStatus,
};
pub use runs::{ObjectProgress, ObjectStep, Run, RunStatus};
pub use salesforce_events::RecordPosition;
pub use scope::{Completion, EventScope, ItemEvent, RetryRequest};
pub use scrub::{MAX_SUMMARY_CHARS, scrub_secrets};
pub use url::{
    Backend, DATABASE_URL_ENV, DEFAULT_URL, PGSSLMODE_ENV, effective_url, redact_url, tls_warning,
};
pub use watermark::{Watermark, WatermarkKey};

use db::Pool;

/// A handle on the state store. Cheap to clone: clones share one connection pool.
///
/// Build one per process (or per Lambda instance) with [`Store::connect`] and pass
/// clones around.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    /// PostgreSQL: the pool whose connections hold and wait for item locks.
    lock_pool: Option<sqlx::PgPool>,
    /// The URL with its password redacted.
    url: String,
    /// SQLite files: the background WAL checkpoints.
    checkpointer: Option<db::Checkpointer>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .field("url", &self.inner.url)
            .finish()
    }
}

impl Store {
    /// Opens the store and applies pending migrations.
    ///
    /// - `sqlite://PATH` opens (and creates when missing) an SQLite file in WAL mode,
    ///   with a busy timeout and foreign keys on; `sqlite::memory:` is a private
    ///   in-memory database (for tests).
    /// - `postgres://...` / `postgresql://...` opens a pool on PostgreSQL.
    ///
    /// Migrations run on every connect and are idempotent; on PostgreSQL concurrent
    /// connects (several Lambda instances) are serialized by an advisory lock. Errors
    /// show the URL with its password redacted.
    pub async fn connect(url: &str) -> Result<Store> {
        Store::connect_with(url, &StoreOptions::default()).await
    }

    /// [`Store::connect`] with explicit pool sizes and timeouts.
    pub async fn connect_with(url: &str, options: &StoreOptions) -> Result<Store> {
        let (pool, lock_pool) = Pool::connect(url, options).await?;
        let checkpointer = pool.checkpointer(url);
        Ok(Store {
            inner: Arc::new(Inner {
                pool,
                lock_pool,
                url: redact_url(url),
                checkpointer,
            }),
        })
    }

    /// Which backend this store runs on.
    pub fn backend(&self) -> Backend {
        self.inner.pool.backend()
    }

    /// The URL the store was opened with, password redacted.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// Closes the pool: waits for checked-out connections to come back, then closes
    /// them. Other clones of this store can no longer be used afterwards.
    pub async fn close(&self) {
        if let Some(c) = &self.inner.checkpointer {
            c.stop();
        }
        self.inner.pool.close().await;
        if let Some(locks) = &self.inner.lock_pool {
            locks.close().await;
        }
    }

    /// Checks that the database answers (for `GET /health`).
    pub async fn ping(&self) -> Result<()> {
        db::with_pool!(self.pool(), pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// The version of the newest applied migration (for diagnostics).
    pub async fn schema_version(&self) -> Result<i64> {
        let (v,): (Option<i64>,) = db::with_pool!(self.pool(), pool => {
            sqlx::query_as("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(pool)
                .await?
        });
        Ok(v.unwrap_or(0))
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.inner.pool
    }
}

/// Parses a text column that holds an id ([`crmmap_ids`]): ids are typed once read.
pub(crate) fn parse_id<T: std::str::FromStr>(column: &'static str, value: &str) -> Result<T> {
    value.parse().map_err(|_| StoreError::Corrupt {
        column,
        value: value.to_owned(),
    })
}

/// Parses a text column that holds one of a fixed set of names.
pub(crate) fn parse_enum<T>(
    column: &'static str,
    value: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T> {
    parse(value).ok_or_else(|| StoreError::Corrupt {
        column,
        value: value.to_owned(),
    })
}
