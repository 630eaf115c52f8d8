//! The entry points: a run (leased, resumable, object by object, parents first) and the
//! retry runner's migration of given records.

use crmmap_engine::eval::Record;
use crmmap_engine::plan::Plan;
use crmmap_store::{LeaseAcquire, LeaseOptions, Run, RunStatus};
use serde_json::json;

use super::migrator::{FailureSink, Migrator};
use super::query::{SOQL_IDS_PER_QUERY, records_query};
use super::{
    Counts, DEFAULT_CHUNK, LEASE, LEASE_TTL, MigrateError, MigrateOptions, MigrateReport, Progress,
    RUN_KIND, RecordsSynced,
};
use crate::context::RunContext;
use crmmap_ids::{ObjectName, RecordId};

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
pub(super) async fn run_leased(
    ctx: &RunContext,
    options: &MigrateOptions,
    progress: &mut dyn Progress,
) -> Result<MigrateReport, MigrateError> {
    let plans = selected_plans(ctx, options)?;
    // One call (`/limits`) before any data call: an org already past crmmap's share of its
    // API allocation stops the run here ([`MigrateError::is_limit`]).
    let usage = ctx.salesforce.check_api_allocation().await?;

    let mut report = MigrateReport::empty(options.dry_run);
    report.salesforce_calls += 1;
    report.salesforce_usage = Some(usage);
    let resumed_run = if options.dry_run {
        None
    } else {
        start_or_resume(ctx, options, &plans, &mut report, progress).await?
    };

    let run_id = report.run_id.clone();
    let mut migrator = Migrator::new(
        ctx,
        options,
        run_id,
        &mut report,
        progress,
        FailureSink::Queue,
    );
    migrator.objects(&plans, resumed_run.as_ref()).await?;
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

/// The plans a run migrates, parents first, once its options are checked.
fn selected_plans<'c>(
    ctx: &'c RunContext,
    options: &MigrateOptions,
) -> Result<Vec<&'c Plan>, MigrateError> {
    if options.chunk_size == 0 || options.chunk_size > crmmap_monday::client::MAX_PAGE_SIZE as usize
    {
        return Err(MigrateError::ChunkSize(options.chunk_size));
    }
    for o in &options.objects {
        if ctx.plans.plan(o).is_none() {
            return Err(MigrateError::UnknownObject(o.to_string()));
        }
    }
    Ok(ctx
        .plans
        .in_order()
        .filter(|p| options.objects.is_empty() || options.objects.contains(&p.object))
        .collect())
}

/// Resumes the unfinished run with the same options (returned, with its progress), or
/// abandons one with other options and starts a new run; the run id goes in `report`.
async fn start_or_resume(
    ctx: &RunContext,
    options: &MigrateOptions,
    plans: &[&Plan],
    report: &mut MigrateReport,
    progress: &mut dyn Progress,
) -> Result<Option<Run>, MigrateError> {
    let store = &ctx.store;
    let run_options = json!({
        "objects": plans.iter().map(|p| p.object.clone()).collect::<Vec<_>>(),
        "full": options.full,
    });
    match store.unfinished_run(RUN_KIND).await? {
        Some(r) if r.options == run_options => {
            progress.message(&format!("resuming run {}", r.id));
            report.resumed = true;
            report.run_id = Some(r.id.clone());
            return Ok(Some(r));
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
    let id = uuid::Uuid::new_v4().to_string();
    store
        .start_run(&id, RUN_KIND, &run_options, ctx.now())
        .await?;
    report.run_id = Some(id);
    Ok(None)
}

/// Migrates the given records of one object now (the retry runner's entry point for
/// [`RETRY_KIND`](super::RETRY_KIND) items): reads them with the mapping's selection, writes what differs, links
/// and logs exactly like a run, and returns the records that failed, classified, instead of
/// queueing them (the caller holds their queue items). Records the selection does not match
/// are left alone (they are not counted as read). Watermarks and checkpoints are not touched.
pub async fn sync_records(
    ctx: &RunContext,
    object: &ObjectName,
    record_ids: &[RecordId],
    progress: &mut dyn Progress,
) -> Result<RecordsSynced, MigrateError> {
    let plan = ctx
        .plans
        .plan(object)
        .ok_or_else(|| MigrateError::UnknownObject(object.to_string()))?;
    let options = MigrateOptions::default();
    let mut report = MigrateReport::empty(false);
    let mut migrator = Migrator::new(
        ctx,
        &options,
        None,
        &mut report,
        progress,
        FailureSink::Collect(Vec::new()),
    );
    let mut counts = Counts::default();
    for ids in record_ids.chunks(DEFAULT_CHUNK.min(SOQL_IDS_PER_QUERY)) {
        let soql = records_query(plan, ids)?;
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
