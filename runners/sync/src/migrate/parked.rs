//! The links phase of a run: links parked until their target had an item, completed once the
//! source and the target both have live items.

use crmmap_engine::plan::Plan;
use crmmap_ids::{ItemId, ObjectName, RecordId};
use crmmap_monday::{ItemMutation, MondayError};
use crmmap_store::{Action, ParkedLink, SetValue, Side, SyncedKey};
use serde_json::{Map, Value as Json, json};

use super::error::stops_the_run;
use super::links::{item_id_json, link_targets};
use super::migrator::Migrator;
use super::{Counts, MigrateError, ObjectReport};

/// A parked link ready to write, with the item of its source record.
struct Completion {
    parked: ParkedLink,
    item: ItemId,
}

impl Migrator<'_> {
    /// Completes parked links whose source and target both have items now.
    pub(super) async fn parked_links(&mut self, plans: &[&Plan]) -> Result<(), MigrateError> {
        for plan in plans {
            let parked = self.ctx.store.parked_for_object(&plan.object).await?;
            if parked.is_empty() {
                continue;
            }
            let (mut mutations, mut done) = self.parked_mutations(plan, parked).await?;
            if !self.options.dry_run {
                // A target item archived or deleted since: the link stays parked.
                let targets: Vec<String> = mutations
                    .iter()
                    .zip(&done)
                    .flat_map(|(m, c)| link_targets(m, &c.parked.link.column_id))
                    .collect();
                let live = self.live_items(plan, &targets).await?;
                (mutations, done) = mutations
                    .into_iter()
                    .zip(done)
                    .filter(|(m, c)| {
                        link_targets(m, &c.parked.link.column_id)
                            .iter()
                            .all(|t| live.contains(t))
                    })
                    .unzip();
            }
            if mutations.is_empty() {
                continue;
            }
            let counts = if self.options.dry_run {
                Counts {
                    links: mutations.len() as u64,
                    ..Counts::default()
                }
            } else {
                self.send_parked(plan, &mutations, &done).await?
            };
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

    /// The mutations of `plan`'s parked links whose source and target records have items
    /// (links and values read once for all of them), each with its link and source item. A
    /// link the record has since pointed elsewhere (or at this very target, written inline) is
    /// done: the newer decision wins, and the parked link is deleted.
    async fn parked_mutations(
        &self,
        plan: &Plan,
        parked: Vec<ParkedLink>,
    ) -> Result<(Vec<ItemMutation>, Vec<Completion>), MigrateError> {
        let store = &self.ctx.store;
        let board = plan.board;
        let wanted: Vec<(&ObjectName, RecordId)> = parked
            .iter()
            .flat_map(|p| {
                [
                    (&plan.object, p.link.record_id.clone()),
                    (&p.link.target_object, p.link.target_record_id.clone()),
                ]
            })
            .collect();
        let items = self.items_of_records(&wanted).await?;
        let sources: Vec<ItemId> = parked
            .iter()
            .filter_map(|p| items.get(&plan.object, &p.link.record_id).copied())
            .collect();
        let synced = store.synced_values_by_items(board, &sources).await?;
        let mut mutations = Vec::new();
        let mut done = Vec::new();
        for p in parked {
            let Some(source) = items.get(&plan.object, &p.link.record_id) else {
                continue;
            };
            let superseded = synced.get(source).is_some_and(|values| {
                values.iter().any(|v| {
                    v.key == SyncedKey::Link(p.link.column_id.clone()) && v.synced_at >= p.parked_at
                })
            });
            if superseded {
                if !self.options.dry_run {
                    store.delete_parked(p.id).await?;
                }
                continue;
            }
            let Some(target) = items.get(&p.link.target_object, &p.link.target_record_id) else {
                continue;
            };
            mutations.push(ItemMutation::ChangeColumnValues {
                board_id: board,
                item_id: *source,
                column_values: Map::from_iter([(
                    p.link.column_id.to_string(),
                    json!({ "item_ids": [item_id_json(*target)] }),
                )]),
                create_labels_if_missing: false,
            });
            done.push(Completion {
                item: *source,
                parked: p,
            });
        }
        Ok((mutations, done))
    }

    /// Sends the completed links and stores each outcome: the link as synced and the parked
    /// link gone, or the record failed.
    async fn send_parked(
        &mut self,
        plan: &Plan,
        mutations: &[ItemMutation],
        done: &[Completion],
    ) -> Result<Counts, MigrateError> {
        let store = self.ctx.store.clone();
        let board = plan.board;
        let mut counts = Counts::default();
        self.report.monday_write_requests += self.ctx.monday.plan_batches(mutations).len() as u64;
        self.report.monday_complexity += mutations
            .iter()
            .map(ItemMutation::estimated_cost)
            .sum::<u64>();
        let results = self
            .ctx
            .monday
            .execute(mutations)
            .await
            .map_err(|e| MigrateError::of_board(plan, e.into()))?;
        let mut stop: Option<MondayError> = None;
        for (Completion { parked: p, item }, result) in done.iter().zip(results) {
            match result {
                Err(e) if stops_the_run(&e) => {
                    stop.get_or_insert(e);
                }
                Ok(_) => {
                    let now = self.ctx.now();
                    let value = SetValue {
                        key: SyncedKey::Link(p.link.column_id.clone()),
                        value: Json::String(p.link.target_record_id.to_string()),
                        source: Side::Monday,
                    };
                    store.set_synced_values(board, *item, &[value], now).await?;
                    store.delete_parked(p.id).await?;
                    let reason = format!(
                        "parked link completed: column {} → {} {}",
                        p.link.column_id, p.link.target_object, p.link.target_record_id
                    );
                    self.log(
                        self.entry(Action::Linked, plan, &p.link.record_id)
                            .item(board, *item)
                            .reason(reason),
                    )
                    .await?;
                    counts.links += 1;
                }
                Err(e) => {
                    self.fail(
                        plan,
                        &p.link.record_id,
                        Some(*item),
                        Some(p.link.column_id.as_str()),
                        (crate::failure::monday(&e), &e.to_string()),
                    )
                    .await?;
                    counts.failed += 1;
                }
            }
        }
        match stop {
            Some(e) => Err(MigrateError::of_board(plan, e.into())),
            None => Ok(counts),
        }
    }
}
