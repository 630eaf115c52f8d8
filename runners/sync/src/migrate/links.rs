//! Board relations: links to archived or deleted items left out, and parked links completed
//! once their target has an item.

use crmmap_engine::eval::LinkWrite;
use crmmap_engine::plan::Plan;
use crmmap_monday::client::cost;
use crmmap_monday::{ItemMutation, MondayError};
use crmmap_store::{Action, NewParkedLink};
use serde_json::{Map, Value as Json, json};
use time::OffsetDateTime;

use super::chunk::Pending;
use super::desired::link_key;
use super::error::stops_the_run;
use super::migrator::Migrator;
use super::write::mutation_cost;
use super::{Counts, MigrateError, ObjectReport};

impl Migrator<'_> {
    /// The board-relation values of a record's link writes, added to `column_values`: a
    /// cleared column, or the target record's item. A target without an item yet is parked
    /// (and logged) for the links phase. Returns the link columns written.
    pub(super) async fn link_values(
        &mut self,
        plan: &Plan,
        record_id: &str,
        writes: &[LinkWrite],
        now: OffsetDateTime,
        column_values: &mut Map<String, Json>,
        counts: &mut Counts,
    ) -> Result<Vec<String>, MigrateError> {
        let mut links = Vec::new();
        for l in writes {
            let Some(target_record) = &l.record_id else {
                column_values.insert(l.column.clone(), json!({ "item_ids": [] }));
                links.push(l.column.clone());
                continue;
            };
            let target = self
                .ctx
                .store
                .link_by_record(&l.target, target_record)
                .await?;
            if let Some(t) = target {
                column_values.insert(
                    l.column.clone(),
                    json!({ "item_ids": [item_id_json(&t.item_id)] }),
                );
                links.push(l.column.clone());
                continue;
            }
            counts.parked += 1;
            let Some(store) = self.store() else {
                continue;
            };
            let parked = NewParkedLink {
                object: plan.object.clone(),
                record_id: record_id.to_owned(),
                column_id: l.column.clone(),
                target_object: l.target.clone(),
                target_record_id: target_record.clone(),
                reason: format!("{} {target_record} has no item yet", l.target),
            };
            store.park_link(&parked, now).await?;
            let reason = format!("column {} waits for {} {target_record}", l.column, l.target);
            self.log(self.entry(Action::Parked, plan, record_id).reason(reason))
                .await?;
        }
        Ok(links)
    }

    /// The items among `ids` that are live, read with `exclude_nonactive` (archived and deleted
    /// items are no partners to link to), with only the key columns of `plan`'s link targets.
    pub(super) async fn live_items(
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
    pub(super) async fn unlink_inactive_targets(
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

    /// Completes parked links whose source and target both have items now.
    pub(super) async fn parked_links(&mut self, plans: &[&Plan]) -> Result<(), MigrateError> {
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

/// The items a mutation links in a board-relation column (`{"item_ids": [...]}`).
pub(super) fn link_targets(m: &ItemMutation, column: &str) -> Vec<String> {
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

/// An item id for `item_ids`: a number when it is numeric (monday's documented form).
pub(super) fn item_id_json(id: &str) -> Json {
    id.parse::<u64>()
        .map_or_else(|_| Json::String(id.to_owned()), Json::from)
}
