//! A board-relation change: the linked items' records (live items only) written to the
//! lookup field, unless the relation is the one crmmap wrote.

use crmmap_dsl::model::ColumnType;
use crmmap_engine::eval::{self};
use crmmap_engine::plan::{LinkPlan, Plan};
use crmmap_engine::value::{Value, monday};
use crmmap_ids::{ItemId, RecordId};
use crmmap_monday::ColumnValue;
use crmmap_store::{Action, Side, column_key, link_key};
use serde_json::{Value as Json, json};

use super::{ApplyError, Applying, Binding, Done, Synced, key_value, set_values, synced_value};
use crate::Webhook;

impl Webhook {
    /// The live items among `items` (linked through `link`), in the order given, with the
    /// target's key column. Archived, deleted and missing items are left out: a link to an
    /// inactive item counts as no link (read with `exclude_nonactive`).
    pub(crate) async fn live_linked_items(
        &self,
        link: &LinkPlan,
        items: &[ItemId],
    ) -> Result<Vec<crmmap_monday::Item>, ApplyError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let target = self.target_plan(link)?;
        let read = self
            .inner
            .ctx
            .monday
            .active_items_by_id(items, Some(std::slice::from_ref(&target.key_column)))
            .await?;
        Ok(items
            .iter()
            .filter_map(|i| read.iter().find(|r| r.id == *i).cloned())
            .collect())
    }

    pub(crate) fn target_plan(&self, link: &LinkPlan) -> Result<&Plan, ApplyError> {
        self.plans()
            .plan(&link.target)
            .ok_or_else(|| ApplyError::Other(format!("link target `{}` has no plan", link.target)))
    }

    /// The records of linked items, in order. Archived, deleted and missing items count as
    /// unlinked, and so does an item whose key column names no record the target's mapping
    /// syncs; an active item without a record yet is an error, retried later (its create may
    /// still be on its way).
    pub(crate) async fn records_of_items(
        &self,
        link: &LinkPlan,
        items: &[ItemId],
    ) -> Result<Vec<String>, ApplyError> {
        let live = self.live_linked_items(link, items).await?;
        self.records_of_live(link, &live).await
    }

    /// The records of live linked items (see [`Webhook::records_of_items`]).
    pub(crate) async fn records_of_live(
        &self,
        link: &LinkPlan,
        items: &[crmmap_monday::Item],
    ) -> Result<Vec<String>, ApplyError> {
        let store = &self.inner.ctx.store;
        let board = link.target_board;
        let mut out = Vec::new();
        for i in items {
            let item = i.id;
            if let Some(l) = store.link_by_item(board, item).await? {
                out.push(l.record_id.to_string());
                continue;
            }
            let target = self.target_plan(link)?;
            let Some(id) = key_value(target, i) else {
                return Err(ApplyError::Other(format!(
                    "linked item {} has no salesforce record yet",
                    i.id
                )));
            };
            match self.bind(target, board, item, &id).await? {
                Binding::Bound(id) => out.push(id.to_string()),
                Binding::NotSelected => {
                    tracing::info!(
                        item = %i.id,
                        "linked item is not a record the target's mapping syncs; counted as unlinked"
                    );
                }
                // A copy of another item: its own record comes with its create event.
                Binding::HeldBy(_) => {
                    return Err(ApplyError::Other(format!(
                        "linked item {} has no salesforce record yet (it is a copy of a linked item)",
                        i.id
                    )));
                }
            }
        }
        Ok(out)
    }

    pub(crate) async fn links_changed(
        &self,
        at: &Applying<'_>,
        record_id: &RecordId,
        link: &LinkPlan,
        cv: &ColumnValue,
        previous: &Json,
        synced: &Synced,
    ) -> Result<Done, ApplyError> {
        let plan = at.plan;
        let column = &link.column;
        let current_items = &cv.linked_item_ids;
        let current: Vec<String> = current_items.iter().map(ToString::to_string).collect();
        let before: Vec<String> = match synced_value(synced, &column_key(column)) {
            Some(Value::Labels(ids)) => ids,
            Some(_) => Vec::new(),
            None => match monday::read_webhook(ColumnType::BoardRelation, previous, None) {
                Ok(Value::Labels(ids)) => ids,
                _ => Vec::new(),
            },
        };
        let added: Vec<ItemId> = current_items
            .iter()
            .filter(|i| !before.contains(&i.to_string()))
            .copied()
            .collect();
        let removed: Vec<String> = before
            .iter()
            .filter(|i| !current.contains(i))
            .cloned()
            .collect();
        // The relation as crmmap last wrote it (from Salesforce, or from an earlier event):
        // seeing it again is an echo.
        let link_state = synced
            .get(&link_key(column))
            .map(|v| v.value.as_str().map(str::to_owned));
        if let Some(target) = &link_state
            && current.len() <= 1
            && self.records_of_items(link, current_items).await?.last() == target.as_ref()
        {
            return Ok(Done::new(
                Action::Unchanged,
                Some(plan),
                Some(record_id),
                format!("links of `{column}` are the ones crmmap wrote (echo or no change)"),
            )
            .remembering(set_values(vec![(
                column_key(column),
                Value::Labels(current.clone()).to_json(),
                Side::Monday,
            )])));
        }
        let added_records = self.records_of_items(link, &added).await?;
        // Removed items may be gone already: their records come from the store only.
        let mut removed_records = Vec::new();
        for r in &removed {
            let linked = match ItemId::parse(r) {
                Ok(item) => {
                    self.inner
                        .ctx
                        .store
                        .link_by_item(link.target_board, item)
                        .await?
                }
                // Not a monday item id: no item of the store.
                Err(_) => None,
            };
            if let Some(l) = linked {
                removed_records.push(l.record_id.to_string());
            } else {
                removed_records.push(r.clone());
            }
        }
        let remember_links = (
            column_key(column),
            Value::Labels(current.clone()).to_json(),
            Side::Monday,
        );
        let Some(writes) = eval::link_change(plan, column, &added_records, &removed_records) else {
            return Ok(Done::new(
                Action::Unchanged,
                Some(plan),
                Some(record_id),
                format!("links of `{column}` unchanged"),
            )
            .remembering(set_values(vec![remember_links])));
        };
        let updated = self.update_record(at, record_id, &writes, synced).await?;
        let mut remember = vec![remember_links];
        if let Some(v) = updated.written.fields.get(&link.via) {
            remember.push((link_key(column), v.clone(), Side::Monday));
        }
        Ok(self
            .update_done(
                plan,
                record_id,
                &updated,
                &format!("`{column}` → {}", link.via),
                Vec::new(),
            )
            .remembering(self.update_values(plan, &updated, remember)))
    }
}

/// The JSON form of a record id list (for tests and tools reading last-synced links).
pub fn links_json(ids: &[String]) -> Json {
    json!({ "labels": ids })
}
