//! A new item: its record created from the item's values and links, the record id written
//! back into the key column, and the last-synced values of both sides recorded.

use crmmap_ids::RecordId;
use std::collections::BTreeMap;

use crmmap_engine::EvalError;
use crmmap_engine::eval::{self, Item};
use crmmap_engine::plan::Plan;
use crmmap_engine::value::{Value, monday};
use crmmap_ids::ColumnId;
use crmmap_store::{Action, NAME_KEY, SetValue, Side, column_key, field_key};
use serde_json::{Map, Value as Json};

use super::{
    ApplyError, Applying, Binding, Done, LAST_SEEN_KEY, column_read, key_value, read_field,
    skip_inactive, unselected_reason,
};
use crate::Webhook;

/// The columns read for a new item: the key, every column flowing to Salesforce, and the
/// board-relation columns of `->` links.
pub(crate) fn create_columns(plan: &Plan) -> Vec<ColumnId> {
    let mut cols = vec![plan.key_column.clone()];
    let wanted = plan.fields_to_salesforce().map(|f| &f.column).chain(
        plan.links
            .iter()
            .filter(|l| l.direction.to_salesforce())
            .map(|l| &l.column),
    );
    for column in wanted {
        if !cols.contains(column) {
            cols.push(column.clone());
        }
    }
    cols
}

pub(crate) fn engine_item(plan: &Plan, item: &crmmap_monday::Item) -> Result<Item, EvalError> {
    let mut out = Item {
        name: item.name.clone(),
        columns: BTreeMap::new(),
    };
    for f in plan.fields_to_salesforce() {
        if let Some(cv) = item.column(&f.column) {
            let v = monday::read(f.column_type, &column_read(cv), None)
                .map_err(|e| e.with_column(f.column.as_str()))?;
            out.columns.insert(f.column.clone(), v);
        }
    }
    Ok(out)
}

impl Webhook {
    pub(crate) async fn created(&self, at: &Applying<'_>) -> Result<Done, ApplyError> {
        let (plan, board, item) = (at.plan, at.board, at.item);
        let ctx = &self.inner.ctx;
        let Some(read) = self.read_item(item, create_columns(plan)).await? else {
            return Ok(Done::new(
                Action::Skipped,
                Some(plan),
                None,
                "item no longer exists",
            ));
        };
        if let Some(skip) = skip_inactive(plan, &read) {
            return Ok(skip);
        }
        let key = key_value(plan, &read);
        // Set when the item is a copy of a linked item (its key column holds that item's
        // record id): it gets a record of its own, and its key column is overwritten.
        let mut copy_of = None;
        match (ctx.store.link_by_item(board, item).await?, key) {
            (Some(link), Some(_)) => {
                return Ok(Done::new(
                    Action::Unchanged,
                    Some(plan),
                    Some(&link.record_id),
                    "item already linked",
                ));
            }
            (Some(link), None) => {
                // Linked, but the write-back did not happen (it failed or crashed): do it now.
                self.write_back(at, &link.record_id).await?;
                return Ok(Done::new(
                    Action::Linked,
                    Some(plan),
                    Some(&link.record_id),
                    "record id written back to the item",
                ));
            }
            (None, Some(id)) => match self.bind(plan, board, item, &id).await? {
                // Created with a record id: the migrator made it from Salesforce.
                Binding::Bound(id) => {
                    return Ok(Done::new(
                        Action::Linked,
                        Some(plan),
                        Some(&id),
                        "item already carries its record id",
                    ));
                }
                Binding::NotSelected => {
                    return Ok(Done::new(
                        Action::Skipped,
                        Some(plan),
                        None,
                        unselected_reason(plan, &id),
                    ));
                }
                // A copy of a linked item (monday's "Duplicate" copies the key column): a
                // person who duplicates an item wants a second record, so it is created like
                // any new item's, and the original's record is left alone.
                Binding::HeldBy(other) => copy_of = Some(other),
            },
            (None, None) => {}
        }
        let values = engine_item(plan, &read)?;
        let mut fields = eval::item_to_create(plan, &values, ctx.now())?;
        for l in plan.links.iter().filter(|l| l.direction.to_salesforce()) {
            let linked = read
                .column(&l.column)
                .map(|c| c.linked_item_ids.clone())
                .unwrap_or_default();
            // The last live linked item (links to archived or deleted items count as none).
            let live = self.live_linked_items(l, &linked).await?;
            if let Some(last) = live.last() {
                let ids = self.records_of_live(l, std::slice::from_ref(last)).await?;
                if let Some(id) = ids.into_iter().next() {
                    fields.fields.insert(l.via.clone(), Json::String(id));
                }
            }
        }
        let record_id = self.create_record(at, &fields).await?;
        // The id goes back into the key column; done again (harmlessly) if a retry comes here.
        let mut key = Map::new();
        key.insert(
            plan.key_column.to_string(),
            Json::String(record_id.to_string()),
        );
        ctx.monday
            .change_column_values(board, item, key, false)
            .await?;
        let mut set = vec![
            SetValue {
                key: NAME_KEY.to_owned(),
                value: Json::String(values.name.clone()),
                source: Side::Salesforce,
            },
            SetValue {
                key: column_key(&plan.key_column),
                value: Value::text(record_id.as_str()).to_json(),
                source: Side::Monday,
            },
            SetValue {
                key: LAST_SEEN_KEY.to_owned(),
                value: Value::DateTime(ctx.now()).to_json(),
                source: Side::Salesforce,
            },
        ];
        for (column, v) in &values.columns {
            set.push(SetValue {
                key: column_key(column),
                value: v.to_json(),
                source: Side::Salesforce,
            });
        }
        for (field, json) in &fields.fields {
            set.push(SetValue {
                key: field_key(field),
                value: read_field(plan, field, json).to_json(),
                source: Side::Salesforce,
            });
        }
        ctx.store
            .set_synced_values(board, item, &set, ctx.now())
            .await?;
        let reason = match copy_of {
            Some(other) => format!(
                "record created from the new item, a copy of item {other} (its key column held \
                 that item's record id and now holds the new one)"
            ),
            None => "record created from the new item".to_owned(),
        };
        Ok(Done::new(
            Action::Created,
            Some(plan),
            Some(&record_id),
            reason,
        ))
    }

    /// Writes the record id into the item's key column.
    pub(crate) async fn write_back(
        &self,
        at: &Applying<'_>,
        record_id: &RecordId,
    ) -> Result<(), ApplyError> {
        let (plan, board, item) = (at.plan, at.board, at.item);
        let mut key = Map::new();
        key.insert(
            plan.key_column.to_string(),
            Json::String(record_id.to_string()),
        );
        self.inner
            .ctx
            .monday
            .change_column_values(board, item, key, false)
            .await?;
        Ok(())
    }
}
