//! Sending a chunk's mutations and storing their outcomes: links, last-synced values, the
//! sync log, failures.

use crmmap_engine::plan::Plan;
use crmmap_ids::{ColumnId, ItemId};
use crmmap_monday::{CreateRecovery, ItemMutation, MondayError};
use crmmap_store::Action;

use super::chunk::{Batch, Pending};
use super::error::stops_the_run;
use super::migrator::Migrator;
use super::{Counts, MigrateError};

impl Migrator<'_> {
    /// Sends a chunk's mutations in batches (a dry run only counts them) and stores each
    /// outcome.
    pub(super) async fn send(
        &mut self,
        plan: &Plan,
        batch: Batch,
        counts: &mut Counts,
    ) -> Result<(), MigrateError> {
        let Batch {
            mut mutations,
            mut pending,
        } = batch;
        let board = plan.board;
        if !self.options.dry_run {
            self.unlink_inactive_targets(plan, &mut mutations, &mut pending, counts)
                .await?;
        }
        if mutations.is_empty() {
            return Ok(());
        }
        self.report.monday_write_requests += self.ctx.monday.plan_batches(&mutations).len() as u64;
        self.report.monday_complexity += mutations
            .iter()
            .map(ItemMutation::estimated_cost)
            .sum::<u64>();
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
            match result.map(|done| done.item_id) {
                Ok(item) => self.written(plan, p, item, counts).await?,
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
                        self.ctx.store.delete_link(board, *item).await?;
                    }
                    self.fail(
                        plan,
                        &p.record_id,
                        p.item_id,
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

    /// Stores what a successful write did.
    pub(super) async fn written(
        &mut self,
        plan: &Plan,
        p: &Pending,
        returned_item: ItemId,
        counts: &mut Counts,
    ) -> Result<(), MigrateError> {
        let store = &self.ctx.store;
        let board = plan.board;
        let now = self.ctx.now();
        let (item, action) = match p.item_id {
            Some(item) => (item, Action::Updated),
            None => {
                store
                    .upsert_link(board, returned_item, &plan.sobject, &p.record_id, now)
                    .await?;
                self.created_items.insert(returned_item);
                (returned_item, Action::Created)
            }
        };
        let rows = p
            .desired
            .synced_rows(p.name_written, p.columns.iter(), p.links.iter());
        store.set_synced_values(board, item, &rows, now).await?;
        let mut changed: Vec<&str> = p.columns.iter().map(ColumnId::as_str).collect();
        changed.extend(p.links.iter().map(ColumnId::as_str));
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
}
