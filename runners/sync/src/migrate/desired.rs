//! What a record makes of its monday item, as the runner keeps it: the engine's values of the
//! item (evaluated once with its writes, [`crmmap_engine::eval::evaluate`]) with the record's
//! conversion state, turned into the store's last-synced rows after a write; and the [`Prior`]
//! the next evaluation compares with, from those rows or from an item read on monday.

use crmmap_dsl::model::ColumnType;
use crmmap_engine::EvalError;
use crmmap_engine::eval::{ItemValues, Prior, Record};
use crmmap_engine::plan::Plan;
use crmmap_engine::value::{Value, monday};
use crmmap_ids::ColumnId;
use crmmap_store::{CONVERTED_KEY, NAME_KEY, SetValue, Side, SyncedKey, SyncedValue};
use serde_json::Value as Json;

/// Everything a record puts on its item: name, key column, mapped columns, links.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Desired {
    /// The values of the item, as the engine evaluated them.
    pub values: ItemValues,
    /// The record is a converted Lead (`IsConverted`): recorded with the item's values, so
    /// that the webhook never sends it a monday change ([`CONVERTED_KEY`]).
    pub converted: bool,
}

impl Desired {
    /// The values the engine evaluated for `record`'s item, with the record's conversion state.
    pub fn new(plan: &Plan, record: &Record, values: ItemValues) -> Desired {
        Desired {
            values,
            converted: plan.sobject == "Lead"
                && record.get("IsConverted") == Some(&Json::Bool(true)),
        }
    }

    /// The store rows for the keys that were written: the name when renamed, the given
    /// columns and links.
    pub fn synced_rows<'a>(
        &self,
        name_written: bool,
        columns: impl IntoIterator<Item = &'a ColumnId>,
        links: impl IntoIterator<Item = &'a ColumnId>,
    ) -> Vec<SetValue> {
        let mut rows = Vec::new();
        if self.converted {
            rows.push(SetValue {
                key: CONVERTED_KEY.to_owned(),
                value: Json::Bool(true),
                source: Side::Salesforce,
            });
        }
        if let Some(name) = self.values.name.as_ref().filter(|_| name_written) {
            rows.push(SetValue {
                key: NAME_KEY.to_owned(),
                value: Json::String(name.clone()),
                source: Side::Monday,
            });
        }
        for c in columns {
            if let Some(v) = self.values.columns.get(c) {
                rows.push(SetValue {
                    key: SyncedKey::Column(c.clone()),
                    value: v.to_json(),
                    source: Side::Monday,
                });
            }
        }
        for l in links {
            if let Some(target) = self.values.links.get(l) {
                rows.push(SetValue {
                    key: SyncedKey::Link(l.clone()),
                    value: target.clone().map_or(Json::Null, Json::String),
                    source: Side::Monday,
                });
            }
        }
        rows
    }
}

/// What monday holds for a linked item, from the store's last-synced values.
pub fn prior_from_synced(values: &[SyncedValue]) -> Prior {
    let mut prior = Prior::default();
    for v in values {
        match &v.key {
            SyncedKey::Name => prior.name = v.value.as_str().map(str::to_owned),
            SyncedKey::Column(column) => {
                if let Ok(value) = Value::from_json(&v.value) {
                    prior.columns.insert(column.clone(), value);
                }
            }
            SyncedKey::Link(column) => {
                prior
                    .links
                    .insert(column.clone(), v.value.as_str().map(str::to_owned));
            }
            _ => {}
        }
    }
    prior
}

/// What monday holds for an item read through the API (an item found by its Salesforce-id
/// column): the columns the plan writes, read with the plan's column types. Board relations
/// are left out (their targets are items, not records); the migrator resolves them.
pub fn prior_from_item(plan: &Plan, item: &crmmap_monday::Item) -> Result<Prior, EvalError> {
    let mut prior = Prior {
        name: Some(item.name.clone()),
        ..Prior::default()
    };
    for (id, cv) in &item.column_values {
        let column_type = if *id == plan.key_column {
            ColumnType::Text
        } else if let Some(f) = plan.field_for_column(id) {
            f.column_type
        } else {
            continue;
        };
        let read = column_read(cv);
        let value =
            monday::read(column_type, &read, None).map_err(|e| e.with_column(id.as_str()))?;
        prior.columns.insert(id.clone(), value);
    }
    Ok(prior)
}

/// The engine's view of a column value the client parsed.
pub fn column_read(cv: &crmmap_monday::ColumnValue) -> monday::ColumnRead {
    let labels = if !cv.labels.is_empty() {
        Some(cv.labels.clone())
    } else {
        cv.label.as_ref().map(|l| vec![l.clone()])
    };
    monday::ColumnRead {
        text: cv.text.clone(),
        value: cv.value.clone(),
        linked_item_ids: cv.linked_item_ids.iter().map(ToString::to_string).collect(),
        labels,
    }
}

/// A value as a person reads it in a plan (`(empty)` for nothing).
pub fn show(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "(empty)".to_owned(),
        Some(v) if v.is_empty() => "(empty)".to_owned(),
        Some(v) => v.display(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crmmap_engine::eval;
    use time::macros::datetime;

    use crate::migrate::lead_plan as lead;

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
        let update = eval::record_to_update(&plan, record, None, now).unwrap();
        let written = update.writes;
        let desired = Desired::new(&plan, record, update.values);
        let keys: Vec<ColumnId> = written.column_values.keys().cloned().collect();
        let links: Vec<ColumnId> = written.links.iter().map(|l| l.column.clone()).collect();
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
