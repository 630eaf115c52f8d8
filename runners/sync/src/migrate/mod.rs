//! The migrator: Salesforce records → monday items, incremental, resumable and idempotent.
//!
//! ```text
//! for each object, parents first:
//!   SOQL (mapping selection AND after the watermark) ORDER BY SystemModstamp, Id  ── pages
//!     └─ chunks of ≤ 500 records:
//!          store links (one query) ──▶ linked: prior = last-synced values (no monday read)
//!          unlinked ──▶ one items_page_by_column_values on the Salesforce-id column
//!                        (found: link it, prior = the item; else: create)
//!          engine::record_to_item(prior) ──▶ only what differs ──▶ batched mutations
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

mod desired;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crmmap_dsl::model::ItemDeletePolicy;
use crmmap_engine::eval::{self, Prior, Record};
use crmmap_engine::plan::Plan;
use crmmap_monday::client::cost;
use crmmap_monday::{CreateRecovery, ItemMutation, MondayError, PageRequest};
use crmmap_salesforce::soql::{Condition, Direction, Literal, Soql};
use crmmap_store::{
    Action, LeaseAcquire, LeaseHolder, LeaseOptions, LogEntry, NewParkedLink, RunStatus,
    RunnerKind, Store, StoreError, Watermark,
};
use futures::StreamExt as _;
use serde_json::{Map, Value as Json, json};

use crate::context::RunContext;

pub use desired::{Desired, link_key, prior_from_synced};

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

/// A flag that asks a running migration to stop after the chunk in progress (Ctrl-C, a
/// Lambda nearing its time limit). The run stays resumable.
#[derive(Clone, Debug, Default)]
pub struct StopSignal(Arc<AtomicBool>);

impl StopSignal {
    /// A signal not yet raised.
    pub fn new() -> StopSignal {
        StopSignal::default()
    }

    /// Asks the run to stop.
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was asked for.
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What to migrate and how.
#[derive(Clone, Debug)]
pub struct MigrateOptions {
    /// Objects to migrate by mapping name; every object when empty. Always run parents first.
    pub objects: Vec<String>,
    /// Compute and report the plan; write nothing anywhere.
    pub dry_run: bool,
    /// Ignore the watermarks and read every selected record.
    pub full: bool,
    /// Records per lookup and write chunk (1..=500).
    pub chunk_size: usize,
    /// Stops the run between chunks.
    pub stop: StopSignal,
    /// How long to wait for another migration to finish before giving up with
    /// [`MigrateError::Busy`] (zero: do not wait).
    pub lease_wait: std::time::Duration,
    /// Who runs it, for the message a concurrent run gets (`crmmap migrate`, the schedule).
    pub runner: String,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        MigrateOptions {
            objects: Vec::new(),
            dry_run: false,
            full: false,
            chunk_size: DEFAULT_CHUNK,
            stop: StopSignal::new(),
            lease_wait: std::time::Duration::ZERO,
            runner: "crmmap migrate".to_owned(),
        }
    }
}

/// Per-object counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    /// Records read from Salesforce.
    pub read: u64,
    /// Items created.
    pub created: u64,
    /// Items updated.
    pub updated: u64,
    /// Records whose item already held every value.
    pub unchanged: u64,
    /// Existing items found by their Salesforce-id column and linked instead of created.
    pub matched: u64,
    /// Board-relation links set.
    pub links: u64,
    /// Links parked until their target has an item.
    pub parked: u64,
    /// Records that failed (logged and queued for retry).
    pub failed: u64,
    /// Items archived or deleted because their record was deleted in Salesforce.
    #[serde(default)]
    pub deleted: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.read += o.read;
        self.created += o.created;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
        self.matched += o.matched;
        self.links += o.links;
        self.parked += o.parked;
        self.failed += o.failed;
        self.deleted += o.deleted;
    }
}

/// One object's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectReport {
    /// The mapping's object name.
    pub object: String,
    /// What happened (or, in a dry run, would happen).
    pub counts: Counts,
    /// Whether the object was already done in the resumed run and skipped.
    pub skipped_done: bool,
}

/// What a run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrateReport {
    /// The run id (`None` for a dry run).
    pub run_id: Option<String>,
    /// Whether an unfinished run was resumed.
    pub resumed: bool,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// Whether the run stopped early on a [`StopSignal`] (resumable).
    pub stopped: bool,
    /// Per object, in the order run.
    pub objects: Vec<ObjectReport>,
    /// Salesforce query pages read (API calls).
    pub salesforce_calls: u64,
    /// monday read requests (Salesforce-id lookups).
    pub monday_reads: u64,
    /// monday mutation requests (batches) sent, or that a dry run would send.
    pub monday_write_requests: u64,
    /// Estimated monday complexity of the writes and reads.
    pub monday_complexity: u64,
    /// The Salesforce org's API usage, as last seen (`Sforce-Limit-Info`, or `/limits` before
    /// the run).
    pub salesforce_usage: Option<crmmap_salesforce::ApiUsage>,
}

impl MigrateReport {
    /// The counts of all objects together.
    pub fn total(&self) -> Counts {
        let mut t = Counts::default();
        for o in &self.objects {
            t.add(&o.counts);
        }
        t
    }

    /// Whether any record failed.
    pub fn has_failures(&self) -> bool {
        self.objects.iter().any(|o| o.counts.failed > 0)
    }
}

/// A field of a planned change: column, Salesforce field, and old → new as people read them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldChange {
    /// The monday column (or `name`).
    pub column: String,
    /// The Salesforce field it comes from (empty for the name and links).
    pub field: String,
    /// What the item holds now.
    pub old: String,
    /// What it would hold.
    pub new: String,
}

/// What a dry run would do to one record's item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedChange {
    /// The object.
    pub object: String,
    /// The Salesforce record.
    pub record_id: String,
    /// `create` or `update`.
    pub action: PlannedAction,
    /// The item, when it exists.
    pub item_id: Option<String>,
    /// The fields that would change.
    pub changes: Vec<FieldChange>,
}

/// The kind of a planned change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlannedAction {
    /// A new item.
    Create,
    /// An existing item.
    Update,
}

/// Where a run reports progress: a progress bar, log lines, nothing.
pub trait Progress: Send + Sync {
    /// An object starts; `total` is how many records the query selected, when known.
    fn object_started(&mut self, _object: &str, _total: Option<u64>) {}
    /// More records of the object were processed.
    fn records_done(&mut self, _object: &str, _done: u64, _counts: &Counts) {}
    /// An object is done.
    fn object_finished(&mut self, _report: &ObjectReport) {}
    /// A dry run found a change.
    fn planned(&mut self, _change: &PlannedChange) {}
    /// A record failed (already logged in the store).
    fn failed(&mut self, _object: &str, _record_id: &str, _message: &str) {}
    /// Anything else worth a line.
    fn message(&mut self, _text: &str) {}
}

/// Reports nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// Why a run stopped with an error (per-record failures never stop it).
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// `--object` names an object no mapping declares.
    #[error("unknown object `{0}`: it is not declared in the mappings")]
    UnknownObject(String),
    /// The chunk size is out of range.
    #[error("chunk size must be between 1 and 500, not {0}")]
    ChunkSize(usize),
    /// Salesforce failed for a whole request (after the client's retries).
    #[error("salesforce: {0}")]
    Salesforce(#[from] crmmap_salesforce::Error),
    /// A SOQL statement could not be built.
    #[error("cannot build the query for `{object}`: {message}")]
    Soql {
        /// The object.
        object: String,
        /// Why.
        message: String,
    },
    /// monday failed for a whole request (after the client's retries).
    #[error("monday: {0}")]
    Monday(#[from] MondayError),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Another migration holds the lease: this one wrote nothing.
    #[error("another migration is running: {0}")]
    Busy(LeaseHolder),
    /// An object's mapping names a monday board (or group) that does not exist or that the
    /// token cannot see: a configuration error. The run stopped there and unlinked nothing.
    #[error(
        "the mapping of `{object}` names monday board {board}, which does not exist or is not \
         accessible to crmmap's token ({message}); fix the mapping's board or the token's \
         access: nothing was unlinked"
    )]
    BoardMissing {
        /// The mapping's object.
        object: String,
        /// The board id the mapping names.
        board: String,
        /// monday's answer.
        message: String,
    },
}

impl MigrateError {
    /// Whether an API limit stopped the run: monday's daily call limit, or the Salesforce
    /// org's API allocation past crmmap's share. The checkpoint is saved; the next run after
    /// the reset resumes it.
    pub fn is_limit(&self) -> bool {
        match self {
            MigrateError::Monday(e) => matches!(e, MondayError::DailyLimit { .. }),
            MigrateError::Salesforce(e) => salesforce_allocation(e),
            _ => false,
        }
    }

    /// Whether the configuration names something the APIs do not have (a missing board).
    pub fn is_config(&self) -> bool {
        matches!(self, MigrateError::BoardMissing { .. })
    }

    /// A monday error of `plan`'s requests, as the run reports it: a missing board or group
    /// is the mapping's [`MigrateError::BoardMissing`], naming the board monday named (the
    /// mapping's own, or a linked object's), else the mapping's.
    fn of_board(plan: &Plan, e: MigrateError) -> MigrateError {
        let (board, message) = match e {
            MigrateError::Monday(MondayError::InvalidBoardId { board_id, message }) => {
                (board_id, message)
            }
            MigrateError::Monday(MondayError::GroupNotFound { message }) => (None, message),
            other => return other,
        };
        MigrateError::BoardMissing {
            object: plan.object.clone(),
            board: board.unwrap_or_else(|| plan.board.to_string()),
            message,
        }
    }
}

/// Whether a Salesforce error is the org's API allocation reached (crmmap's headroom, or
/// Salesforce's own `REQUEST_LIMIT_EXCEEDED`): a run stops on it like on monday's daily
/// limit. The one place that decides.
fn salesforce_allocation(e: &crmmap_salesforce::Error) -> bool {
    matches!(
        e,
        crmmap_salesforce::Error::AllocationReached { .. }
            | crmmap_salesforce::Error::RequestLimitExceeded { .. }
    )
}

/// Whether a per-item monday error stops the whole run instead of failing its record: the
/// daily limit (every later call fails too) and a missing board or group (a configuration
/// error).
fn stops_the_run(e: &MondayError) -> bool {
    matches!(
        e,
        MondayError::DailyLimit { .. }
            | MondayError::InvalidBoardId { .. }
            | MondayError::GroupNotFound { .. }
    )
}

/// Runs a migration (or plans one, with `dry_run`). Resumes the most recent unfinished run
/// with the same options. Per-record failures are in the report; an `Err` means the run could
/// not continue (its checkpoint is kept, the next run resumes from it).
///
/// A run that writes holds the lease [`LEASE`] from before it reads anything until it ends;
/// while another run holds it, this one waits up to `options.lease_wait`, then returns
/// [`MigrateError::Busy`] having written nothing.
pub async fn run(
    ctx: &RunContext,
    options: &MigrateOptions,
    progress: &mut dyn Progress,
) -> Result<MigrateReport, MigrateError> {
    if options.dry_run {
        return run_leased(ctx, options, progress).await;
    }
    let lease_options = LeaseOptions {
        ttl: LEASE_TTL,
        wait: options.lease_wait,
        ..LeaseOptions::default()
    };
    let holder = crmmap_store::process_description(&options.runner);
    let lease = match ctx
        .store
        .acquire_lease(LEASE, &holder, &lease_options, ctx.clock.clone())
        .await?
    {
        LeaseAcquire::Acquired(lease) => lease,
        LeaseAcquire::Held(by) => return Err(MigrateError::Busy(by)),
    };
    lease.on_lost({
        let stop = options.stop.clone();
        move || stop.stop()
    });
    let result = run_leased(ctx, options, progress).await;
    if lease.is_lost() {
        progress.message(
            "the migration lease was lost (another run may have taken it over): stopped early",
        );
    }
    if let Err(e) = lease.release().await {
        // The lease expires (SQLite) or goes with its session (PostgreSQL) anyway.
        progress.message(&format!("cannot release the migration lease: {e}"));
    }
    result
}

/// [`run`] once the lease is held (or for a dry run, which needs none).
async fn run_leased(
    ctx: &RunContext,
    options: &MigrateOptions,
    progress: &mut dyn Progress,
) -> Result<MigrateReport, MigrateError> {
    if options.chunk_size == 0 || options.chunk_size > crmmap_monday::client::MAX_PAGE_SIZE as usize
    {
        return Err(MigrateError::ChunkSize(options.chunk_size));
    }
    for o in &options.objects {
        if ctx.plans.plan(o).is_none() {
            return Err(MigrateError::UnknownObject(o.clone()));
        }
    }
    let plans: Vec<&Plan> = ctx
        .plans
        .in_order()
        .filter(|p| options.objects.is_empty() || options.objects.contains(&p.object))
        .collect();
    // One call (`/limits`) before any data call: an org already past crmmap's share of its
    // API allocation stops the run here ([`MigrateError::is_limit`]).
    let usage = ctx.salesforce.check_api_allocation().await?;

    let mut report = MigrateReport {
        run_id: None,
        resumed: false,
        dry_run: options.dry_run,
        stopped: false,
        objects: Vec::new(),
        salesforce_calls: 0,
        monday_reads: 0,
        monday_write_requests: 0,
        monday_complexity: 0,
        salesforce_usage: None,
    };
    report.salesforce_calls += 1;
    report.salesforce_usage = Some(usage);

    let run_options = json!({
        "objects": plans.iter().map(|p| p.object.clone()).collect::<Vec<_>>(),
        "full": options.full,
    });
    let mut resumed_run = None;
    if !options.dry_run {
        let store = &ctx.store;
        match store.unfinished_run(RUN_KIND).await? {
            Some(r) if r.options == run_options => {
                progress.message(&format!("resuming run {}", r.id));
                report.resumed = true;
                report.run_id = Some(r.id.clone());
                resumed_run = Some(r);
            }
            Some(r) => {
                progress.message(&format!(
                    "abandoning unfinished run {} (other options); watermarks keep its progress",
                    r.id
                ));
                store
                    .finish_run(&r.id, RunStatus::Failed, ctx.now())
                    .await?;
            }
            None => {}
        }
        if report.run_id.is_none() {
            let id = uuid::Uuid::new_v4().to_string();
            store
                .start_run(&id, RUN_KIND, &run_options, ctx.now())
                .await?;
            report.run_id = Some(id);
        }
    }

    let mut migrator = Migrator {
        ctx,
        options,
        watermark_cap: ctx.now() - WATERMARK_LAG,
        run_id: report.run_id.clone(),
        report: &mut report,
        progress,
        failures: FailureSink::Queue,
    };
    for plan in &plans {
        let progress_saved = resumed_run.as_ref().and_then(|r| r.object(&plan.object));
        if let Some(p) = progress_saved.filter(|p| p.done) {
            let counts: Counts = serde_json::from_value(p.counts.clone()).unwrap_or_default();
            let object_report = ObjectReport {
                object: plan.object.clone(),
                counts,
                skipped_done: true,
            };
            migrator.progress.object_finished(&object_report);
            migrator.report.objects.push(object_report);
            continue;
        }
        let (start, counts) = match progress_saved {
            Some(p) => (
                p.position.as_deref().and_then(parse_position),
                serde_json::from_value(p.counts.clone()).unwrap_or_default(),
            ),
            None => (None, Counts::default()),
        };
        let finished = migrator
            .object(plan, start, counts)
            .await
            .map_err(|e| MigrateError::of_board(plan, e))?;
        if !finished {
            migrator.report.stopped = true;
            break;
        }
    }
    if !migrator.report.stopped {
        migrator.parked_links(&plans).await?;
    }
    if let Some(usage) = ctx.salesforce.api_usage() {
        report.salesforce_usage = Some(usage);
    }
    if let (false, false, Some(id)) = (options.dry_run, report.stopped, &report.run_id) {
        ctx.store
            .finish_run(id, RunStatus::Finished, ctx.now())
            .await?;
    }
    Ok(report)
}

/// Migrates the given records of one object now (the retry runner's entry point for
/// [`RETRY_KIND`] items): reads them with the mapping's selection, writes what differs, links
/// and logs exactly like a run, and returns the records that failed, classified, instead of
/// queueing them (the caller holds their queue items). Records the selection does not match
/// are left alone (they are not counted as read). Watermarks and checkpoints are not touched.
pub async fn sync_records(
    ctx: &RunContext,
    object: &str,
    record_ids: &[String],
    progress: &mut dyn Progress,
) -> Result<RecordsSynced, MigrateError> {
    let plan = ctx
        .plans
        .plan(object)
        .ok_or_else(|| MigrateError::UnknownObject(object.to_owned()))?;
    let options = MigrateOptions::default();
    let mut report = MigrateReport {
        run_id: None,
        resumed: false,
        dry_run: false,
        stopped: false,
        objects: Vec::new(),
        salesforce_calls: 0,
        monday_reads: 0,
        monday_write_requests: 0,
        monday_complexity: 0,
        salesforce_usage: None,
    };
    let mut migrator = Migrator {
        ctx,
        options: &options,
        watermark_cap: ctx.now() - WATERMARK_LAG,
        run_id: None,
        report: &mut report,
        progress,
        failures: FailureSink::Collect(Vec::new()),
    };
    let mut counts = Counts::default();
    for ids in record_ids.chunks(DEFAULT_CHUNK.min(SOQL_IDS_PER_QUERY)) {
        let mut q = Soql::select(select_fields(plan))
            .from(plan.sobject.clone())
            .where_(Condition::in_list(
                "Id",
                ids.iter().map(|i| Literal::String(i.clone())),
            ));
        if let Some(w) = plan.select.where_clause() {
            q = q.and_where(Condition::trusted(w));
        }
        let soql = q.build().map_err(|e| MigrateError::Soql {
            object: plan.object.clone(),
            message: e.to_string(),
        })?;
        let records = ctx.salesforce.query_collect(soql).await?;
        let records: Vec<Record> = records.into_iter().map(|r| r.fields).collect();
        if !records.is_empty() {
            migrator
                .chunk(plan, &records, &mut counts)
                .await
                .map_err(|e| MigrateError::of_board(plan, e))?;
        }
    }
    let failures = match migrator.failures {
        FailureSink::Collect(f) => f,
        FailureSink::Queue => Vec::new(),
    };
    Ok(RecordsSynced { counts, failures })
}

/// Ids per `Id IN (…)` query: keeps the SOQL well under Salesforce's 100,000-character limit
/// (an Id literal is 21 characters).
const SOQL_IDS_PER_QUERY: usize = 200;

/// A checkpoint position: `<SystemModstamp RFC 3339>|<Id>`.
fn position_of(w: &Watermark) -> String {
    let t = w
        .modstamp
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    format!("{t}|{}", w.last_id)
}

fn parse_position(p: &str) -> Option<Watermark> {
    let (t, id) = p.split_once('|')?;
    Watermark::from_salesforce(t, id).ok()
}

/// The fields read of each record: the mapping's, and for Leads `IsConverted` (a converted
/// Lead refuses updates; see [`Desired::converted`]).
fn select_fields(plan: &Plan) -> Vec<String> {
    let mut fields = plan.select.fields.clone();
    if plan.sobject == "Lead" && !fields.iter().any(|f| f == "IsConverted") {
        fields.push("IsConverted".to_owned());
    }
    fields
}

/// The SOQL of one object: the mapping's selection, after `start` when given, ordered so that
/// a watermark of (SystemModstamp, Id) neither skips nor repeats records sharing a timestamp.
pub fn object_query(plan: &Plan, start: Option<&Watermark>) -> Result<String, MigrateError> {
    let mut q = Soql::select(select_fields(plan)).from(plan.sobject.clone());
    if let Some(w) = plan.select.where_clause() {
        q = q.where_(Condition::trusted(w));
    }
    if let Some(after) = start.map(after_watermark) {
        q = q.and_where(after);
    }
    in_watermark_order(plan, q)
}

/// The records of the object deleted in Salesforce after `start` (for `queryAll`), in the
/// same order and with the same watermark as [`object_query`].
pub fn deleted_query(plan: &Plan, start: Option<&Watermark>) -> Result<String, MigrateError> {
    let mut q = Soql::select(["Id", "SystemModstamp"])
        .from(plan.sobject.clone())
        .where_(Condition::eq("IsDeleted", Literal::Bool(true)));
    if let Some(after) = start.map(after_watermark) {
        q = q.and_where(after);
    }
    in_watermark_order(plan, q)
}

/// Records after a watermark: stamped later, or stamped alike with a greater Id. A capped
/// watermark (no Id, see [`WATERMARK_LAG`]) means everything stamped at or after it.
fn after_watermark(w: &Watermark) -> Condition {
    let at = Literal::DateTime(w.modstamp);
    if w.last_id.is_empty() {
        return Condition::ge("SystemModstamp", at);
    }
    Condition::gt("SystemModstamp", at.clone()).or(Condition::eq("SystemModstamp", at)
        .and(Condition::gt("Id", Literal::String(w.last_id.clone()))))
}

fn in_watermark_order(plan: &Plan, q: Soql) -> Result<String, MigrateError> {
    q.order_by("SystemModstamp", Direction::Asc)
        .order_by("Id", Direction::Asc)
        .build()
        .map_err(|e| MigrateError::Soql {
            object: plan.object.clone(),
            message: e.to_string(),
        })
}

/// The writes a record needs, ready to send.
struct Pending {
    record_id: String,
    item_id: Option<String>,
    desired: Desired,
    /// Columns written (for the store), links written.
    columns: Vec<String>,
    links: Vec<String>,
    name_written: bool,
    matched: bool,
}

struct Migrator<'a> {
    ctx: &'a RunContext,
    options: &'a MigrateOptions,
    /// The watermark never moves past this (see [`WATERMARK_LAG`]).
    watermark_cap: time::OffsetDateTime,
    run_id: Option<String>,
    report: &'a mut MigrateReport,
    progress: &'a mut dyn Progress,
    /// Where per-record failures go: the retry queue (a run), or back to the caller (the
    /// retry queue itself, which classifies them).
    failures: FailureSink,
}

/// Where a migrator sends per-record failures.
enum FailureSink {
    /// Queued for retry (a run).
    Queue,
    /// Collected for the caller ([`sync_records`]).
    Collect(Vec<RecordFailure>),
}

/// A record that failed in [`sync_records`], classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFailure {
    /// The record.
    pub record_id: String,
    /// What the retry queue should do with it.
    pub class: crate::failure::FailureClass,
    /// Why (with the column and field, when one is to blame).
    pub reason: String,
}

/// What [`sync_records`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordsSynced {
    /// What was read and written.
    pub counts: Counts,
    /// The records that failed.
    pub failures: Vec<RecordFailure>,
}

impl Migrator<'_> {
    fn store(&self) -> Option<&Store> {
        (!self.options.dry_run).then_some(&self.ctx.store)
    }

    async fn log(&self, entry: LogEntry) -> Result<(), MigrateError> {
        if let Some(store) = self.store() {
            store.append_log(&entry).await?;
        }
        Ok(())
    }

    fn entry(&self, action: Action, plan: &Plan, record_id: &str) -> LogEntry {
        let mut e = LogEntry::new(self.ctx.now(), RunnerKind::Migrate, action)
            .object(plan.object.clone())
            .record(record_id);
        if let Some(id) = &self.run_id {
            e = e.trigger(id.clone());
        }
        e
    }

    /// Migrates one object; `false` when a stop was asked for.
    async fn object(
        &mut self,
        plan: &Plan,
        resume_at: Option<Watermark>,
        mut counts: Counts,
    ) -> Result<bool, MigrateError> {
        let start = match resume_at {
            Some(w) => Some(w),
            None if self.options.full => None,
            None => self.ctx.store.watermark(&plan.sobject_key()).await?,
        };
        let soql = object_query(plan, start.as_ref())?;
        let mut pages = self.ctx.salesforce.query_pages::<Record>(soql);
        let mut started = false;
        let mut done = 0u64;
        let unchanged_before = counts.unchanged;
        while let Some(page) = pages.next().await {
            let page = page?;
            self.report.salesforce_calls += 1;
            if !started {
                self.progress
                    .object_started(&plan.object, Some(page.total_size));
                started = true;
            }
            for chunk in page.records.chunks(self.options.chunk_size) {
                if self.options.stop.is_stopped() {
                    return Ok(false);
                }
                self.chunk(plan, chunk, &mut counts).await?;
                done += chunk.len() as u64;
                if let Some(last) = chunk.last() {
                    self.checkpoint(plan, last, &counts).await?;
                }
                self.progress.records_done(&plan.object, done, &counts);
            }
        }
        if !started {
            self.progress.object_started(&plan.object, Some(0));
        }
        if self.options.stop.is_stopped() {
            return Ok(false);
        }
        self.deletions(plan, &mut counts).await?;
        let fresh_unchanged = counts.unchanged - unchanged_before;
        if fresh_unchanged > 0 {
            let e = LogEntry::new(self.ctx.now(), RunnerKind::Migrate, Action::Unchanged)
                .object(plan.object.clone())
                .reason(format!("{fresh_unchanged} records already up to date"));
            let e = match &self.run_id {
                Some(id) => e.trigger(id.clone()),
                None => e,
            };
            self.log(e).await?;
        }
        if let (Some(store), Some(run)) = (self.store(), &self.run_id) {
            store
                .mark_object_done(run, &plan.object, &counts_json(&counts), self.ctx.now())
                .await?;
        }
        let object_report = ObjectReport {
            object: plan.object.clone(),
            counts,
            skipped_done: false,
        };
        self.progress.object_finished(&object_report);
        self.report.objects.push(object_report);
        Ok(true)
    }

    /// Records deleted in Salesforce since the last look (`queryAll`, after the object's
    /// deletion watermark), applied to their items by the mapping's `on salesforce delete`
    /// policy: logged (the item stays linked), or the item archived or deleted and unlinked.
    /// Salesforce keeps deleted records for 15 days: a deletion older than that when the
    /// migrator next runs is not seen.
    async fn deletions(&mut self, plan: &Plan, counts: &mut Counts) -> Result<(), MigrateError> {
        let key = format!("{}#deleted", plan.sobject_key());
        let since = self.ctx.store.watermark(&key).await?;
        let soql = deleted_query(plan, since.as_ref())?;
        let mut pages = self.ctx.salesforce.query_all_pages::<Record>(soql);
        let mut last: Option<Watermark> = None;
        while let Some(page) = pages.next().await {
            self.report.salesforce_calls += 1;
            for row in page?.records {
                let (Some(id), Some(stamp)) = (
                    row.get("Id").and_then(Json::as_str),
                    row.get("SystemModstamp").and_then(Json::as_str),
                ) else {
                    continue;
                };
                self.deleted_record(plan, id, counts).await?;
                if let Ok(w) = Watermark::from_salesforce(stamp, id) {
                    last = Some(w);
                }
            }
        }
        if let (Some(store), Some(w)) = (self.store(), last) {
            store
                .advance_watermark(&key, &self.capped(w), self.ctx.now())
                .await?;
        }
        Ok(())
    }

    /// One record of [`Self::deletions`].
    async fn deleted_record(
        &mut self,
        plan: &Plan,
        id: &str,
        counts: &mut Counts,
    ) -> Result<(), MigrateError> {
        let Some(link) = self.ctx.store.link_by_record(&plan.sobject, id).await? else {
            return Ok(());
        };
        let policy = plan.on_salesforce_delete;
        let entry = |m: &Self, action| {
            m.entry(action, plan, id)
                .item(link.board_id.clone(), link.item_id.clone())
        };
        if policy == ItemDeletePolicy::Log {
            let reason = format!(
                "deleted in salesforce; item {} stays (on salesforce delete log)",
                link.item_id
            );
            return self.log(entry(self, Action::Skipped).reason(reason)).await;
        }
        counts.deleted += 1;
        let done = format!("{}d", policy.keyword());
        if self.options.dry_run {
            let note = format!(
                "{} {id} was deleted in salesforce: item {} would be {done}",
                plan.object, link.item_id
            );
            self.progress.message(&note);
            return Ok(());
        }
        let result = match policy {
            ItemDeletePolicy::Delete => self.ctx.monday.delete_item(&link.item_id).await,
            _ => self.ctx.monday.archive_item(&link.item_id).await,
        };
        self.report.monday_write_requests += 1;
        match result {
            Ok(_) | Err(MondayError::ItemGone { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        self.ctx
            .store
            .delete_link(&link.board_id, &link.item_id)
            .await?;
        let reason = format!(
            "deleted in salesforce: item {done} (on salesforce delete {})",
            policy.keyword()
        );
        self.log(entry(self, Action::Deleted).reason(reason)).await
    }

    /// A watermark never ahead of [`Migrator::watermark_cap`] (see [`WATERMARK_LAG`]).
    fn capped(&self, w: Watermark) -> Watermark {
        if w.modstamp > self.watermark_cap {
            Watermark::new(self.watermark_cap, "")
        } else {
            w
        }
    }

    async fn checkpoint(
        &self,
        plan: &Plan,
        last: &Record,
        counts: &Counts,
    ) -> Result<(), MigrateError> {
        let (Some(store), Some(run)) = (self.store(), &self.run_id) else {
            return Ok(());
        };
        let (Some(stamp), Some(id)) = (
            last.get("SystemModstamp").and_then(Json::as_str),
            last.get("Id").and_then(Json::as_str),
        ) else {
            return Ok(());
        };
        let Ok(w) = Watermark::from_salesforce(stamp, id) else {
            return Ok(());
        };
        store
            .advance_watermark(&plan.sobject_key(), &self.capped(w.clone()), self.ctx.now())
            .await?;
        store
            .save_progress(
                run,
                &plan.object,
                PHASE_RECORDS,
                Some(&position_of(&w)),
                &counts_json(counts),
                self.ctx.now(),
            )
            .await?;
        Ok(())
    }

    /// Looks up, evaluates and writes one chunk of records.
    async fn chunk(
        &mut self,
        plan: &Plan,
        records: &[Record],
        counts: &mut Counts,
    ) -> Result<(), MigrateError> {
        let board = plan.board.to_string();
        let ids: Vec<String> = records
            .iter()
            .filter_map(|r| r.get("Id").and_then(Json::as_str).map(str::to_owned))
            .collect();
        counts.read += records.len() as u64;

        // Items the store knows.
        let mut item_of: HashMap<String, String> = self
            .ctx
            .store
            .links_by_records(&plan.object, &ids)
            .await?
            .into_iter()
            .map(|l| (l.record_id, l.item_id))
            .collect();

        // Items that exist on monday with the record's Id but that the store does not know
        // (created by an interrupted run, by hand, or by the old batch job).
        let unlinked: Vec<String> = ids
            .iter()
            .filter(|id| !item_of.contains_key(*id))
            .cloned()
            .collect();
        let mut found: HashMap<String, crmmap_monday::Item> = HashMap::new();
        if !unlinked.is_empty() {
            let mut columns = vec![plan.key_column.clone()];
            columns.extend(plan.fields_to_monday().map(|f| f.column.clone()));
            let request = PageRequest {
                limit: crmmap_monday::client::MAX_PAGE_SIZE,
                column_ids: Some(columns.clone()),
                query_params: None,
            };
            let items = self
                .ctx
                .monday
                .items_by_column_values(&board, &plan.key_column, &unlinked, &request)
                .await?;
            self.report.monday_reads += 1;
            self.report.monday_complexity += cost::read(
                crmmap_monday::client::MAX_PAGE_SIZE.into(),
                Some(columns.len()),
            );
            for item in items {
                // Archived and deleted items are no partners: a record keeps to live items.
                if item.inactive().is_some() {
                    continue;
                }
                let Some(rid) = item
                    .column(&plan.key_column)
                    .and_then(|c| c.text.clone())
                    .filter(|t| !t.is_empty())
                else {
                    continue;
                };
                // Several items with one Id (the old job's duplicates): keep the oldest.
                let keep = match found.get(&rid) {
                    Some(other) => id_number(&item.id) < id_number(&other.id),
                    None => true,
                };
                if keep {
                    found.insert(rid, item);
                }
            }
        }

        // monday edits of these items still waiting in the retry queue (one query).
        let known: Vec<String> = item_of
            .values()
            .cloned()
            .chain(found.values().map(|i| i.id.clone()))
            .collect();
        let mut queued: HashMap<String, Vec<Json>> = HashMap::new();
        for q in self
            .ctx
            .store
            .queued_item_events(WEBHOOK_RETRY_KIND, &board, &known)
            .await?
        {
            queued.entry(q.item_id).or_default().push(q.event);
        }

        let mut pending: Vec<Pending> = Vec::new();
        let mut mutations: Vec<ItemMutation> = Vec::new();
        let now = self.ctx.now();
        for record in records {
            let Some(record_id) = record.get("Id").and_then(Json::as_str) else {
                continue;
            };
            let mut matched = false;
            let (item_id, prior) = if let Some(item) = item_of.get(record_id) {
                let values = self.ctx.store.synced_values(&board, item).await?;
                (Some(item.clone()), Some(prior_from_synced(&values)))
            } else if let Some(item) = found.get(record_id) {
                matched = true;
                match desired::prior_from_item(plan, item) {
                    Ok(p) => (Some(item.id.clone()), Some(p)),
                    // An unreadable value: treat it as unknown and write ours.
                    Err(_) => (
                        Some(item.id.clone()),
                        Some(Prior {
                            name: Some(item.name.clone()),
                            ..Prior::default()
                        }),
                    ),
                }
            } else {
                (None, None)
            };
            if let (true, Some(store), Some(item)) = (matched, self.store(), &item_id) {
                store
                    .upsert_link(&board, item, &plan.object, record_id, now)
                    .await?;
                item_of.insert(record_id.to_owned(), item.clone());
                self.log(
                    self.entry(Action::Linked, plan, record_id)
                        .item(board.clone(), item.clone())
                        .reason("existing item found by its salesforce id column"),
                )
                .await?;
            }
            if matched {
                counts.matched += 1;
            }

            let evaluated = eval::record_to_item(plan, record, prior.as_ref(), now)
                .and_then(|w| Desired::of(plan, record, now).map(|d| (w, d)));
            let (writes, desired) = match evaluated {
                Ok(x) => x,
                Err(e) => {
                    let message = e.to_string();
                    self.fail(
                        plan,
                        record_id,
                        item_id.as_deref(),
                        e.column.as_deref(),
                        (crate::failure::FailureClass::Permanent, &message),
                    )
                    .await?;
                    counts.failed += 1;
                    continue;
                }
            };
            let (writes, kept) = match item_id.as_deref().and_then(|i| queued.get(i)) {
                Some(events) => keep_queued(plan, record, events, writes),
                None => (writes, Vec::new()),
            };
            if let (false, Some(item)) = (kept.is_empty(), &item_id) {
                let reason = format!(
                    "monday edits of {} wait in the retry queue and win their conflict: left for \
                     the queued event to write to salesforce",
                    kept.join(", ")
                );
                self.progress
                    .message(&format!("{} {record_id}: {reason}", plan.object));
                self.log(
                    self.entry(Action::Skipped, plan, record_id)
                        .item(board.clone(), item.clone())
                        .reason(reason),
                )
                .await?;
            }

            let mut column_values: Map<String, Json> = writes
                .column_values
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let columns: Vec<String> = writes.column_values.keys().cloned().collect();
            let mut links = Vec::new();
            for l in &writes.links {
                match &l.record_id {
                    None => {
                        column_values.insert(l.column.clone(), json!({ "item_ids": [] }));
                        links.push(l.column.clone());
                    }
                    Some(target_record) => {
                        let target = self
                            .ctx
                            .store
                            .link_by_record(&l.target, target_record)
                            .await?;
                        match target {
                            Some(t) => {
                                column_values.insert(
                                    l.column.clone(),
                                    json!({ "item_ids": [item_id_json(&t.item_id)] }),
                                );
                                links.push(l.column.clone());
                            }
                            None => {
                                counts.parked += 1;
                                if let Some(store) = self.store() {
                                    store
                                        .park_link(
                                            &NewParkedLink {
                                                object: plan.object.clone(),
                                                record_id: record_id.to_owned(),
                                                column_id: l.column.clone(),
                                                target_object: l.target.clone(),
                                                target_record_id: target_record.clone(),
                                                reason: format!(
                                                    "{} {target_record} has no item yet",
                                                    l.target
                                                ),
                                            },
                                            now,
                                        )
                                        .await?;
                                    self.log(self.entry(Action::Parked, plan, record_id).reason(
                                        format!(
                                            "column {} waits for {} {target_record}",
                                            l.column, l.target
                                        ),
                                    ))
                                    .await?;
                                }
                            }
                        }
                    }
                }
            }

            if column_values.is_empty() && writes.name.is_none() {
                counts.unchanged += 1;
                continue;
            }
            let create = item_id.is_none();
            if self.options.dry_run {
                let change = planned_change(
                    plan,
                    record_id,
                    &item_id,
                    prior.as_ref(),
                    &desired,
                    &writes,
                    &links,
                );
                self.progress.planned(&change);
                if create {
                    counts.created += 1;
                } else {
                    counts.updated += 1;
                }
                counts.links += links.len() as u64;
            }
            let name_written = writes.name.is_some();
            let mutation = match &item_id {
                None => ItemMutation::CreateItem {
                    board_id: board.clone(),
                    item_name: writes.name.clone().unwrap_or_else(|| record_id.to_owned()),
                    column_values,
                    group_id: None,
                    create_labels_if_missing: writes.create_labels,
                },
                Some(item) => {
                    if let Some(name) = &writes.name {
                        column_values.insert(
                            crmmap_monday::documents::ITEM_NAME_COLUMN.to_owned(),
                            Json::String(name.clone()),
                        );
                    }
                    ItemMutation::ChangeColumnValues {
                        board_id: board.clone(),
                        item_id: item.clone(),
                        column_values,
                        create_labels_if_missing: writes.create_labels,
                    }
                }
            };
            mutations.push(mutation);
            pending.push(Pending {
                record_id: record_id.to_owned(),
                item_id,
                desired,
                columns,
                links,
                name_written: name_written || create,
                matched,
            });
        }

        if !self.options.dry_run {
            self.unlink_inactive_targets(plan, &mut mutations, &mut pending, counts)
                .await?;
        }
        if mutations.is_empty() {
            return Ok(());
        }
        self.report.monday_write_requests += self.ctx.monday.plan_batches(&mutations).len() as u64;
        self.report.monday_complexity += mutations.iter().map(mutation_cost).sum::<u64>();
        if self.options.dry_run {
            return Ok(());
        }
        // A batch whose outcome is unknown is reconciled by the key column each create writes
        // (the record's Id): items monday made are linked, only missing ones are created.
        let results = self
            .ctx
            .monday
            .execute_recovering(&mutations, CreateRecovery::ByKeyColumn(&plan.key_column))
            .await?;
        // The daily limit or a missing board stops the run after the results that came
        // back are stored; this chunk's checkpoint is not saved, so the next run reads it
        // again (its written records are linked by then, and write nothing).
        let mut stop: Option<MondayError> = None;
        for (p, result) in pending.iter().zip(results) {
            match result {
                Ok(done) => self.written(plan, p, &done.item_id, counts).await?,
                Err(e) if stops_the_run(&e) => {
                    stop.get_or_insert(e);
                }
                Err(e) => {
                    let column = match &e {
                        MondayError::ColumnValue { column_id, .. } => column_id.clone(),
                        _ => None,
                    };
                    if let (MondayError::ItemGone { .. }, Some(item)) = (&e, &p.item_id) {
                        // The item was deleted on monday: forget it; the retry recreates it.
                        self.ctx.store.delete_link(&board, item).await?;
                    }
                    self.fail(
                        plan,
                        &p.record_id,
                        p.item_id.as_deref(),
                        column.as_deref(),
                        (crate::failure::monday(&e), &e.to_string()),
                    )
                    .await?;
                    counts.failed += 1;
                }
            }
        }
        match stop {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// The items among `ids` that are live, read with `exclude_nonactive` (archived and deleted
    /// items are no partners to link to), with only the key columns of `plan`'s link targets.
    async fn live_items(
        &mut self,
        plan: &Plan,
        ids: &[String],
    ) -> Result<std::collections::HashSet<String>, MigrateError> {
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return Ok(std::collections::HashSet::new());
        }
        let mut columns: Vec<String> = plan
            .links
            .iter()
            .filter_map(|l| self.ctx.plans.plan(&l.target))
            .map(|t| t.key_column.clone())
            .collect();
        columns.sort();
        columns.dedup();
        let live = self
            .ctx
            .monday
            .active_items_by_id(&ids, Some(&columns))
            .await?;
        self.report.monday_reads +=
            ids.len().div_ceil(crmmap_monday::client::MAX_ITEMS_BY_ID) as u64;
        self.report.monday_complexity += cost::read(ids.len() as u64, Some(columns.len()));
        Ok(live.into_iter().map(|i| i.id).collect())
    }

    /// Leaves out of the batch the links to archived or deleted items: a board relation is
    /// written only with live items. The link is not recorded as synced, so a later run writes
    /// it once the target record has a live item. A change left with nothing to write is
    /// dropped (the record counts as unchanged).
    async fn unlink_inactive_targets(
        &mut self,
        plan: &Plan,
        mutations: &mut Vec<ItemMutation>,
        pending: &mut Vec<Pending>,
        counts: &mut Counts,
    ) -> Result<(), MigrateError> {
        let targets: Vec<String> = mutations
            .iter()
            .zip(pending.iter())
            .flat_map(|(m, p)| p.links.iter().flat_map(move |c| link_targets(m, c)))
            .collect();
        if targets.is_empty() {
            return Ok(());
        }
        let live = self.live_items(plan, &targets).await?;
        let board = plan.board.to_string();
        let mut i = 0;
        while i < mutations.len() {
            let (Some(m), Some(p)) = (mutations.get_mut(i), pending.get_mut(i)) else {
                break;
            };
            let dead: Vec<(String, String)> = p
                .links
                .iter()
                .flat_map(|c| {
                    link_targets(m, c)
                        .into_iter()
                        .filter(|t| !live.contains(t))
                        .map(move |t| (c.clone(), t))
                })
                .collect();
            for (column, target) in &dead {
                p.links.retain(|c| c != column);
                if let ItemMutation::CreateItem { column_values, .. }
                | ItemMutation::ChangeColumnValues { column_values, .. } = m
                {
                    column_values.remove(column);
                }
                let mut entry = self
                    .entry(Action::Skipped, plan, &p.record_id)
                    .reason(format!(
                        "column {column}: linked item {target} is archived or deleted, not linked"
                    ));
                if let Some(item) = &p.item_id {
                    entry = entry.item(board.clone(), item.clone());
                }
                self.log(entry).await?;
            }
            let emptied = matches!(
                m,
                ItemMutation::ChangeColumnValues { column_values, .. } if column_values.is_empty()
            );
            if emptied {
                mutations.remove(i);
                pending.remove(i);
                counts.unchanged += 1;
            } else {
                i += 1;
            }
        }
        Ok(())
    }

    /// Stores what a successful write did.
    async fn written(
        &mut self,
        plan: &Plan,
        p: &Pending,
        returned_item: &str,
        counts: &mut Counts,
    ) -> Result<(), MigrateError> {
        let store = &self.ctx.store;
        let board = plan.board.to_string();
        let now = self.ctx.now();
        let (item, action) = match &p.item_id {
            Some(item) => (item.clone(), Action::Updated),
            None => {
                store
                    .upsert_link(&board, returned_item, &plan.object, &p.record_id, now)
                    .await?;
                (returned_item.to_owned(), Action::Created)
            }
        };
        let rows = p
            .desired
            .synced_rows(p.name_written, p.columns.iter(), p.links.iter());
        store.set_synced_values(&board, &item, &rows, now).await?;
        let mut changed: Vec<&str> = p.columns.iter().map(String::as_str).collect();
        changed.extend(p.links.iter().map(String::as_str));
        if p.name_written {
            changed.push("name");
        }
        let reason = if p.matched {
            format!("matched existing item; wrote {}", changed.join(", "))
        } else {
            format!("wrote {}", changed.join(", "))
        };
        self.log(
            self.entry(action, plan, &p.record_id)
                .item(board, item)
                .reason(reason),
        )
        .await?;
        match action {
            Action::Created => counts.created += 1,
            _ => counts.updated += 1,
        }
        counts.links += p.links.len() as u64;
        Ok(())
    }

    /// Logs a record's failure and queues it for retry.
    async fn fail(
        &mut self,
        plan: &Plan,
        record_id: &str,
        item_id: Option<&str>,
        column: Option<&str>,
        failure: (crate::failure::FailureClass, &str),
    ) -> Result<(), MigrateError> {
        let (class, message) = failure;
        let field = column
            .and_then(|c| plan.field_for_column(c))
            .map(|f| f.field.clone());
        let mut reason = message.to_owned();
        if let Some(c) = column {
            reason.push_str(&format!(" [column {c}"));
            if let Some(f) = &field {
                reason.push_str(&format!(", field {f}"));
            }
            reason.push(']');
        }
        self.progress.failed(&plan.object, record_id, &reason);
        if self.store().is_none() {
            return Ok(());
        }
        let mut e = self
            .entry(Action::Failed, plan, record_id)
            .reason(reason.clone());
        if let Some(item) = item_id {
            e = e.item(plan.board.to_string(), item);
        }
        self.log(e).await?;
        if let FailureSink::Collect(failures) = &mut self.failures {
            failures.push(RecordFailure {
                record_id: record_id.to_owned(),
                class,
                reason,
            });
            return Ok(());
        }
        let now = self.ctx.now();
        self.ctx
            .store
            .enqueue_retry(
                RETRY_KIND,
                &format!("{}:{record_id}", plan.object),
                &json!({ "object": plan.object, "record_id": record_id }),
                &reason,
                now + FIRST_RETRY_DELAY,
                now,
            )
            .await?;
        Ok(())
    }

    /// Completes parked links whose source and target both have items now.
    async fn parked_links(&mut self, plans: &[&Plan]) -> Result<(), MigrateError> {
        let store = self.ctx.store.clone();
        for plan in plans {
            let parked = store.parked_for_object(&plan.object).await?;
            if parked.is_empty() {
                continue;
            }
            let board = plan.board.to_string();
            let mut mutations = Vec::new();
            let mut applied = Vec::new();
            for p in parked {
                let Some(source) = store
                    .link_by_record(&plan.object, &p.link.record_id)
                    .await?
                else {
                    continue;
                };
                // A link the record has since pointed elsewhere (or at this very target, written
                // inline) is done: the newer decision wins.
                let synced = store.synced_values(&board, &source.item_id).await?;
                let superseded = synced
                    .iter()
                    .any(|v| v.key == link_key(&p.link.column_id) && v.synced_at >= p.parked_at);
                if superseded {
                    if !self.options.dry_run {
                        store.delete_parked(p.id).await?;
                    }
                    continue;
                }
                let Some(target) = store
                    .link_by_record(&p.link.target_object, &p.link.target_record_id)
                    .await?
                else {
                    continue;
                };
                mutations.push(ItemMutation::ChangeColumnValues {
                    board_id: board.clone(),
                    item_id: source.item_id.clone(),
                    column_values: Map::from_iter([(
                        p.link.column_id.clone(),
                        json!({ "item_ids": [item_id_json(&target.item_id)] }),
                    )]),
                    create_labels_if_missing: false,
                });
                applied.push((p, source.item_id));
            }
            if !self.options.dry_run {
                // A target item archived or deleted since: the link stays parked.
                let targets: Vec<String> = mutations
                    .iter()
                    .zip(&applied)
                    .flat_map(|(m, (p, _))| link_targets(m, &p.link.column_id))
                    .collect();
                let live = self.live_items(plan, &targets).await?;
                (mutations, applied) = mutations
                    .into_iter()
                    .zip(applied)
                    .filter(|(m, (p, _))| {
                        link_targets(m, &p.link.column_id)
                            .iter()
                            .all(|t| live.contains(t))
                    })
                    .unzip();
            }
            if mutations.is_empty() {
                continue;
            }
            let mut counts = Counts::default();
            if self.options.dry_run {
                counts.links += mutations.len() as u64;
            } else {
                self.report.monday_write_requests +=
                    self.ctx.monday.plan_batches(&mutations).len() as u64;
                self.report.monday_complexity += mutations.iter().map(mutation_cost).sum::<u64>();
                let results = self
                    .ctx
                    .monday
                    .execute(&mutations)
                    .await
                    .map_err(|e| MigrateError::of_board(plan, e.into()))?;
                let mut stop: Option<MondayError> = None;
                for ((p, item), result) in applied.iter().zip(results) {
                    match result {
                        Err(e) if stops_the_run(&e) => {
                            stop.get_or_insert(e);
                        }
                        Ok(_) => {
                            let now = self.ctx.now();
                            store
                                .set_synced_values(
                                    &board,
                                    item,
                                    &[crmmap_store::SetValue {
                                        key: link_key(&p.link.column_id),
                                        value: Json::String(p.link.target_record_id.clone()),
                                        source: crmmap_store::Side::Monday,
                                    }],
                                    now,
                                )
                                .await?;
                            store.delete_parked(p.id).await?;
                            self.log(
                                self.entry(Action::Linked, plan, &p.link.record_id)
                                    .item(board.clone(), item.clone())
                                    .reason(format!(
                                        "parked link completed: column {} → {} {}",
                                        p.link.column_id,
                                        p.link.target_object,
                                        p.link.target_record_id
                                    )),
                            )
                            .await?;
                            counts.links += 1;
                        }
                        Err(e) => {
                            self.fail(
                                plan,
                                &p.link.record_id,
                                Some(item),
                                Some(&p.link.column_id),
                                (crate::failure::monday(&e), &e.to_string()),
                            )
                            .await?;
                            counts.failed += 1;
                        }
                    }
                }
                if let Some(e) = stop {
                    return Err(MigrateError::of_board(plan, e.into()));
                }
            }
            match self
                .report
                .objects
                .iter_mut()
                .find(|o| o.object == plan.object)
            {
                Some(o) => o.counts.add(&counts),
                None => self.report.objects.push(ObjectReport {
                    object: plan.object.clone(),
                    counts,
                    skipped_done: false,
                }),
            }
        }
        Ok(())
    }
}

trait PlanKey {
    /// The watermark key: the object's mapping name (two mappings of one sObject with
    /// different selections keep separate watermarks).
    fn sobject_key(&self) -> String;
}

impl PlanKey for Plan {
    fn sobject_key(&self) -> String {
        self.object.clone()
    }
}

fn counts_json(c: &Counts) -> Json {
    serde_json::to_value(c).unwrap_or(Json::Null)
}

fn mutation_cost(m: &ItemMutation) -> u64 {
    match m {
        ItemMutation::CreateItem { .. } => cost::CREATE_ITEM,
        ItemMutation::ChangeColumnValues { .. } => cost::CHANGE_COLUMN_VALUES,
        _ => cost::DELETE_OR_ARCHIVE,
    }
}

/// Leaves out of `writes` what monday edits still queued for Salesforce (`events`, the item's
/// pending webhook events as queued) win: each is a monday change after the last sync, so
/// where the migrator would overwrite it both sides changed and the conflict policy decides
/// (the field's, else the object's; for the name and links the object's). `prefer monday`
/// keeps monday's edit; `newest` keeps it when its `triggerTime` is after the record's
/// `LastModifiedDate` (a tie or an unknown time goes to Salesforce, as in the webhook);
/// `prefer salesforce` writes as usual. Columns that do not flow to Salesforce are written as
/// usual (the queued event cannot carry them anywhere). A queued create holds every column.
/// Returns the writes left and the columns kept for the queue.
pub fn keep_queued(
    plan: &Plan,
    record: &Record,
    events: &[Json],
    mut writes: eval::ItemWrites,
) -> (eval::ItemWrites, Vec<String>) {
    use crmmap_dsl::model::ConflictPolicy;
    const NAME: &str = "name";
    let modified = record
        .get("LastModifiedDate")
        .and_then(Json::as_str)
        .and_then(|t| crmmap_engine::value::parse_datetime(t).ok());
    // The latest queued edit of each column (`None`: the whole item).
    let mut edited: BTreeMap<Option<String>, Option<time::OffsetDateTime>> = BTreeMap::new();
    for event in events {
        let column = match event.get("type").and_then(Json::as_str) {
            Some("update_column_value") => match event.get("columnId").and_then(Json::as_str) {
                Some(c) => Some(c.to_owned()),
                None => continue,
            },
            Some("update_name") => Some(NAME.to_owned()),
            Some("create_pulse") => None,
            _ => continue,
        };
        let at = event
            .get("triggerTime")
            .and_then(Json::as_str)
            .and_then(|t| {
                time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
            });
        let slot = edited.entry(column).or_insert(at);
        *slot = (*slot).max(at);
    }
    let monday_wins = |column: &str| -> bool {
        let policy = if column == NAME {
            (!plan.name_to_salesforce.is_empty()).then_some(plan.conflict)
        } else if let Some(f) = plan.field_for_column(column) {
            f.direction.to_salesforce().then_some(f.conflict)
        } else {
            plan.link_for_column(column)
                .filter(|l| l.direction.to_salesforce())
                .map(|_| plan.conflict)
        };
        let at = match (edited.get(&Some(column.to_owned())), edited.get(&None)) {
            (Some(a), Some(b)) => Some((*a).max(*b)),
            (Some(a), None) | (None, Some(a)) => Some(*a),
            (None, None) => None,
        };
        let Some(at) = at else {
            return false;
        };
        match policy {
            Some(ConflictPolicy::PreferMonday) => true,
            Some(ConflictPolicy::PreferNewest) => at.zip(modified).is_some_and(|(m, s)| m > s),
            Some(ConflictPolicy::PreferSalesforce) | None => false,
        }
    };
    let mut kept = Vec::new();
    if writes.name.is_some() && monday_wins(NAME) {
        writes.name = None;
        kept.push(NAME.to_owned());
    }
    let columns: Vec<String> = writes.column_values.keys().cloned().collect();
    for c in columns {
        if monday_wins(&c) {
            writes.column_values.remove(&c);
            kept.push(c);
        }
    }
    writes.links.retain(|l| {
        let win = monday_wins(&l.column);
        if win {
            kept.push(l.column.clone());
        }
        !win
    });
    (writes, kept)
}

/// Item ids go into `item_ids` as numbers when they are numeric (monday's documented form).
/// The items a mutation links in a board-relation column (`{"item_ids": [...]}`).
fn link_targets(m: &ItemMutation, column: &str) -> Vec<String> {
    let values = match m {
        ItemMutation::CreateItem { column_values, .. }
        | ItemMutation::ChangeColumnValues { column_values, .. } => column_values,
        _ => return Vec::new(),
    };
    values
        .get(column)
        .and_then(|v| v.get("item_ids"))
        .and_then(Json::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(|id| match id {
                    Json::Number(n) => Some(n.to_string()),
                    Json::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn item_id_json(id: &str) -> Json {
    id.parse::<u64>()
        .map_or_else(|_| Json::String(id.to_owned()), Json::from)
}

fn id_number(id: &str) -> u64 {
    id.parse().unwrap_or(u64::MAX)
}

fn planned_change(
    plan: &Plan,
    record_id: &str,
    item_id: &Option<String>,
    prior: Option<&Prior>,
    desired: &Desired,
    writes: &eval::ItemWrites,
    links: &[String],
) -> PlannedChange {
    let empty = Prior::default();
    let prior = prior.unwrap_or(&empty);
    let mut changes = Vec::new();
    if let Some(name) = &writes.name {
        changes.push(FieldChange {
            column: "name".into(),
            field: String::new(),
            old: prior.name.clone().unwrap_or_else(|| "(empty)".into()),
            new: name.clone(),
        });
    }
    let mut columns: BTreeMap<&str, ()> = BTreeMap::new();
    for c in writes.column_values.keys() {
        columns.insert(c, ());
    }
    for c in columns.keys() {
        let field = if *c == plan.key_column {
            "Id".to_owned()
        } else {
            plan.field_for_column(c)
                .map(|f| f.field.clone())
                .unwrap_or_default()
        };
        changes.push(FieldChange {
            column: (*c).to_owned(),
            field,
            old: desired::show(prior.columns.get(*c)),
            new: desired::show(desired.columns.get(*c)),
        });
    }
    for l in links {
        let via = plan
            .links
            .iter()
            .find(|x| &x.column == l && x.direction.to_monday())
            .map(|x| x.via.clone())
            .unwrap_or_default();
        changes.push(FieldChange {
            column: l.clone(),
            field: via,
            old: prior
                .links
                .get(l)
                .cloned()
                .flatten()
                .unwrap_or_else(|| "(empty)".into()),
            new: desired
                .links
                .get(l)
                .cloned()
                .flatten()
                .unwrap_or_else(|| "(empty)".into()),
        });
    }
    PlannedChange {
        object: plan.object.clone(),
        record_id: record_id.to_owned(),
        action: if item_id.is_none() {
            PlannedAction::Create
        } else {
            PlannedAction::Update
        },
        item_id: item_id.clone(),
        changes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn lead() -> Plan {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../mappings");
        let plans = crate::mappings::load(&[dir]).expect("shipped mappings");
        plans.plan("Lead").expect("lead").clone()
    }

    #[test]
    fn the_query_orders_by_stamp_then_id_and_resumes_after_ties() {
        let plan = lead();
        let first = object_query(&plan, None).unwrap();
        assert!(first.starts_with("SELECT Id, SystemModstamp, "), "{first}");
        assert!(
            first.ends_with(
                "FROM Lead WHERE ((Role__c = 'Partner' AND CreatedDate >= 2024-07-01T00:00:00Z)) \
                 ORDER BY SystemModstamp ASC, Id ASC"
            ),
            "{first}"
        );
        let w = Watermark::new(datetime!(2026-01-02 03:04:05.678 UTC), "00Q5g000000000AEAQ");
        let next = object_query(&plan, Some(&w)).unwrap();
        assert!(
            next.contains(
                "(SystemModstamp > 2026-01-02T03:04:05.678Z OR (SystemModstamp = \
                 2026-01-02T03:04:05.678Z AND Id > '00Q5g000000000AEAQ'))"
            ),
            "{next}"
        );
        let capped = Watermark::new(datetime!(2026-01-02 03:04:05 UTC), "");
        let next = object_query(&plan, Some(&capped)).unwrap();
        assert!(
            next.contains("SystemModstamp >= 2026-01-02T03:04:05Z"),
            "{next}"
        );
        assert!(!next.contains("Id > ''"), "{next}");
    }

    #[test]
    fn checkpoint_positions_round_trip() {
        let w = Watermark::new(datetime!(2026-01-02 03:04:05.678 UTC), "001xx0000000001AAA");
        assert_eq!(parse_position(&position_of(&w)), Some(w));
        assert_eq!(parse_position("garbage"), None);
    }

    #[test]
    fn desired_values_leave_nothing_to_write() {
        let plan = lead();
        let record = serde_json::json!({
            "Id": "00Q5g000000000AEAQ", "Company": "Acme", "LastName": "Reyes",
            "Status": "MOU", "Capacity_Building_Needs__c": "Curriculum;Train the trainer",
            "State": "Oregon", "IsConverted": true, "ConvertedAccountId": "0015g0000000001AAA",
        });
        let record = record.as_object().unwrap();
        let now = datetime!(2026-01-02 03:04:05 UTC);
        let desired = Desired::of(&plan, record, now).unwrap();
        let written = eval::record_to_item(&plan, record, None, now).unwrap();
        let keys: Vec<String> = written.column_values.keys().cloned().collect();
        let links: Vec<String> = written.links.iter().map(|l| l.column.clone()).collect();
        let rows = desired.synced_rows(true, keys.iter(), links.iter());
        let synced: Vec<crmmap_store::SyncedValue> = rows
            .into_iter()
            .map(|r| crmmap_store::SyncedValue {
                key: r.key,
                value: r.value,
                source: r.source,
                synced_at: now,
            })
            .collect();
        let prior = prior_from_synced(&synced);
        let again = eval::record_to_item(&plan, record, Some(&prior), now).unwrap();
        assert!(again.is_empty(), "{again:?}");
    }
}
