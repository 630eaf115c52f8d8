//! Board relations of a chunk: the items a record's links point at (or the link parked until
//! its target has one), and links to archived or deleted items left out.

use crmmap_engine::eval::LinkWrite;
use crmmap_engine::plan::Plan;
use crmmap_ids::{ColumnId, ItemId, RecordId};
use crmmap_monday::ItemMutation;
use crmmap_monday::client::cost;
use crmmap_store::{Action, NewParkedLink};
use serde_json::{Value as Json, json};
use time::OffsetDateTime;

use super::chunk::Pending;
use super::lookup::Items;
use super::migrator::Migrator;
use super::{Counts, MigrateError};

impl Migrator<'_> {
    /// The board-relation values of a record's link writes, by column: a cleared column, or
    /// the target record's item. A target without an item yet is parked (and logged) for the
    /// links phase.
    pub(super) async fn link_values(
        &mut self,
        plan: &Plan,
        record_id: &RecordId,
        writes: &[LinkWrite],
        items: &Items,
        now: OffsetDateTime,
        counts: &mut Counts,
    ) -> Result<Vec<(ColumnId, Json)>, MigrateError> {
        let mut links = Vec::new();
        for l in writes {
            let Some(target_text) = &l.record_id else {
                links.push((l.column.clone(), json!({ "item_ids": [] })));
                continue;
            };
            let Ok(target_record) = RecordId::parse(target_text) else {
                let reason = format!(
                    "column {}: `{target_text}` is no salesforce id, not linked",
                    l.column
                );
                self.log(self.entry(Action::Skipped, plan, record_id).reason(reason))
                    .await?;
                continue;
            };
            if let Some(target) = items.targets.get(&l.target, &target_record) {
                links.push((
                    l.column.clone(),
                    json!({ "item_ids": [item_id_json(*target)] }),
                ));
                continue;
            }
            counts.parked += 1;
            let Some(store) = self.store() else {
                continue;
            };
            let parked = NewParkedLink {
                object: plan.object.clone(),
                record_id: record_id.clone(),
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
        // A target that is not a monday id names no item: it is not live.
        let mut ids: Vec<ItemId> = ids.iter().filter_map(|t| ItemId::parse(t).ok()).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(std::collections::HashSet::new());
        }
        let mut columns: Vec<ColumnId> = plan
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
        Ok(live.into_iter().map(|i| i.id.to_string()).collect())
    }

    /// Leaves out of the batch the links to archived or deleted items: a board relation is
    /// written only with live items. The link is not recorded as synced, so a later run writes
    /// it once the target record has a live item. A change left with nothing to write is
    /// dropped (the record counts as unchanged). Targets this run created are taken as live
    /// without a read (a first migration links almost only to them): one archived within the
    /// minutes since is linked all the same, which monday shows as a link to an archived item.
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
            .filter(|t| ItemId::parse(t).map_or(true, |i| !self.created_items.contains(&i)))
            .collect();
        if targets.is_empty() {
            return Ok(());
        }
        let live = self.live_items(plan, &targets).await?;
        let inactive: std::collections::HashSet<String> =
            targets.into_iter().filter(|t| !live.contains(t)).collect();
        let board = plan.board;
        let mut i = 0;
        while i < mutations.len() {
            let (Some(m), Some(p)) = (mutations.get_mut(i), pending.get_mut(i)) else {
                break;
            };
            let dead: Vec<(ColumnId, String)> = p
                .links
                .iter()
                .flat_map(|c| {
                    link_targets(m, c)
                        .into_iter()
                        .filter(|t| inactive.contains(t))
                        .map(move |t| (c.clone(), t))
                })
                .collect();
            for (column, target) in &dead {
                p.links.retain(|c| c != column);
                if let ItemMutation::CreateItem { column_values, .. }
                | ItemMutation::ChangeColumnValues { column_values, .. } = m
                {
                    column_values.remove(column.as_str());
                }
                let mut entry = self
                    .entry(Action::Skipped, plan, &p.record_id)
                    .reason(format!(
                        "column {column}: linked item {target} is archived or deleted, not linked"
                    ));
                if let Some(item) = &p.item_id {
                    entry = entry.item(board, *item);
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
}

/// The items a mutation links in a board-relation column (`{"item_ids": [...]}`).
pub(super) fn link_targets(m: &ItemMutation, column: &ColumnId) -> Vec<String> {
    let values = match m {
        ItemMutation::CreateItem { column_values, .. }
        | ItemMutation::ChangeColumnValues { column_values, .. } => column_values,
        _ => return Vec::new(),
    };
    values
        .get(column.as_str())
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

/// An item id for `item_ids`: a number (monday's documented form).
pub(super) fn item_id_json(id: ItemId) -> Json {
    Json::from(id.get())
}
