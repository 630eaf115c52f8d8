//! One run's state and its per-object loop: pages of records in chunks, checkpoints and
//! watermarks, the sync log and per-record failures.

use crmmap_engine::eval::Record;
use crmmap_engine::plan::Plan;
use crmmap_ids::{ItemId, RecordId};
use crmmap_store::{Action, LogEntry, ObjectStep, Run, RunnerKind, Store, Watermark, WatermarkKey};
use futures::StreamExt as _;
use serde_json::{Value as Json, json};

use super::query::{id_of, object_query, parse_position, position_of};
use super::report::counts_json;
use super::{
    Counts, FIRST_RETRY_DELAY, MigrateError, MigrateOptions, MigrateReport, ObjectReport,
    PHASE_RECORDS, Progress, RETRY_KIND, RecordFailure, WATERMARK_LAG,
};
use crate::context::RunContext;

pub(super) struct Migrator<'a> {
    pub(super) ctx: &'a RunContext,
    pub(super) options: &'a MigrateOptions,
    /// The watermark never moves past this (see [`WATERMARK_LAG`]).
    pub(super) watermark_cap: time::OffsetDateTime,
    pub(super) run_id: Option<String>,
    pub(super) report: &'a mut MigrateReport,
    pub(super) progress: &'a mut dyn Progress,
    /// Where per-record failures go: the retry queue (a run), or back to the caller (the
    /// retry queue itself, which classifies them).
    pub(super) failures: FailureSink,
    /// Items this run created (or matched by their Salesforce-id column): live by construction,
    /// so a link to one of them needs no read to check it is not archived or deleted.
    pub(super) created_items: std::collections::HashSet<ItemId>,
}

/// Where a migrator sends per-record failures.
pub(super) enum FailureSink {
    /// Queued for retry (a run).
    Queue,
    /// Collected for the caller ([`sync_records`]).
    Collect(Vec<RecordFailure>),
}

impl<'a> Migrator<'a> {
    /// A migrator of `ctx` for one run (`run_id`; none for a dry run or given records).
    pub(super) fn new(
        ctx: &'a RunContext,
        options: &'a MigrateOptions,
        run_id: Option<String>,
        report: &'a mut MigrateReport,
        progress: &'a mut dyn Progress,
        failures: FailureSink,
    ) -> Migrator<'a> {
        Migrator {
            ctx,
            options,
            watermark_cap: ctx.now() - WATERMARK_LAG,
            run_id,
            report,
            progress,
            failures,
            created_items: std::collections::HashSet::new(),
        }
    }
}

impl Migrator<'_> {
    /// Migrates `plans` in order, skipping the objects `resumed` has done and resuming the
    /// one it was in; stops early (the report says so) when a stop was asked for.
    pub(super) async fn objects(
        &mut self,
        plans: &[&Plan],
        resumed: Option<&Run>,
    ) -> Result<(), MigrateError> {
        for plan in plans {
            let saved = resumed.and_then(|r| r.object(&plan.object));
            if let Some(p) = saved.filter(|p| p.done) {
                let counts: Counts = serde_json::from_value(p.counts.clone()).unwrap_or_default();
                let object_report = ObjectReport {
                    object: plan.object.clone(),
                    counts,
                    skipped_done: true,
                };
                self.progress.object_finished(&object_report);
                self.report.objects.push(object_report);
                continue;
            }
            let (start, counts) = match saved {
                Some(p) => (
                    p.position.as_deref().and_then(parse_position),
                    serde_json::from_value(p.counts.clone()).unwrap_or_default(),
                ),
                None => (None, Counts::default()),
            };
            let finished = self
                .object(plan, start, counts)
                .await
                .map_err(|e| MigrateError::of_board(plan, e))?;
            if !finished {
                self.report.stopped = true;
                break;
            }
        }
        Ok(())
    }

    pub(super) fn store(&self) -> Option<&Store> {
        (!self.options.dry_run).then_some(&self.ctx.store)
    }

    pub(super) async fn log(&self, entry: LogEntry) -> Result<(), MigrateError> {
        if let Some(store) = self.store() {
            store.append_log(&entry).await?;
        }
        Ok(())
    }

    pub(super) fn entry(&self, action: Action, plan: &Plan, record_id: &RecordId) -> LogEntry {
        let mut e = LogEntry::new(self.ctx.now(), RunnerKind::Migrate, action)
            .object(plan.object.clone())
            .record(record_id.as_str());
        if let Some(id) = &self.run_id {
            e = e.trigger(id.clone());
        }
        e
    }

    /// Migrates one object; `false` when a stop was asked for.
    pub(super) async fn object(
        &mut self,
        plan: &Plan,
        resume_at: Option<Watermark>,
        mut counts: Counts,
    ) -> Result<bool, MigrateError> {
        let start = match resume_at {
            Some(w) => Some(w),
            None if self.options.full => None,
            None => {
                let object = &plan.object;
                self.ctx
                    .store
                    .watermark(WatermarkKey::Records(object))
                    .await?
            }
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
                .save_progress(
                    run,
                    &plan.object,
                    ObjectStep::Done,
                    &counts_json(&counts),
                    self.ctx.now(),
                )
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

    /// A watermark never ahead of [`Migrator::watermark_cap`] (see [`WATERMARK_LAG`]).
    pub(super) fn capped(&self, w: Watermark) -> Watermark {
        if w.modstamp > self.watermark_cap {
            Watermark::new(self.watermark_cap, "")
        } else {
            w
        }
    }

    pub(super) async fn checkpoint(
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
            id_of(last),
        ) else {
            return Ok(());
        };
        let Ok(w) = Watermark::from_salesforce(stamp, id.as_str()) else {
            return Ok(());
        };
        let object = &plan.object;
        store
            .advance_watermark(
                WatermarkKey::Records(object),
                &self.capped(w.clone()),
                self.ctx.now(),
            )
            .await?;
        store
            .save_progress(
                run,
                object,
                ObjectStep::At {
                    phase: PHASE_RECORDS,
                    position: Some(&position_of(&w)),
                },
                &counts_json(counts),
                self.ctx.now(),
            )
            .await?;
        Ok(())
    }

    /// Logs a record's failure and queues it for retry.
    pub(super) async fn fail(
        &mut self,
        plan: &Plan,
        record_id: &RecordId,
        item_id: Option<ItemId>,
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
        self.progress
            .failed(&plan.object, record_id.as_str(), &reason);
        if self.store().is_none() {
            return Ok(());
        }
        let mut e = self
            .entry(Action::Failed, plan, record_id)
            .reason(reason.clone());
        if let Some(item) = item_id {
            e = e.item(plan.board, item);
        }
        self.log(e).await?;
        if let FailureSink::Collect(failures) = &mut self.failures {
            failures.push(RecordFailure {
                record_id: record_id.to_string(),
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
}
