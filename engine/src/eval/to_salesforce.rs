//! monday → Salesforce: a new item, a column change, a rename, board-relation changes and a
//! deleted item, each → the Salesforce writes it needs.

use std::collections::BTreeMap;

use crmmap_ids::ColumnId;
use serde_json::Value as Json;
use time::{Date, OffsetDateTime};

use super::{Item, Prior, SfWrites};
use crate::error::EvalError;
use crate::plan::{AssignPlan, DeletePlan, Plan};
use crate::transform::{self, Env, Flow, today_of};
use crate::value::{Value, monday, salesforce};

/// The environment of monday → Salesforce expressions: the item name as `name`, and fields
/// computed so far.
struct ItemEnv<'a> {
    name: &'a str,
    fields: &'a BTreeMap<String, Value>,
    today: Date,
}

impl Env for ItemEnv<'_> {
    fn get(&self, path: &[String]) -> Result<Value, EvalError> {
        match path {
            [one] if one == "name" => Ok(if self.name.is_empty() {
                Value::Null
            } else {
                Value::text(self.name)
            }),
            [one] => Ok(self.fields.get(one).cloned().unwrap_or(Value::Null)),
            _ => Ok(Value::Null),
        }
    }

    fn today(&self) -> Date {
        self.today
    }
}

/// Writes an assignment's value: typed when the plan maps the field, else by the value's kind.
fn assigned_json(plan: &Plan, a: &AssignPlan, v: &Value) -> Result<Json, EvalError> {
    let located = |e: EvalError| e.with_field(&a.field).with_origin(&a.origin);
    match plan.field_for_sf_field(&a.field) {
        Some(f) => salesforce::write(f.field_type, v).map_err(located),
        None => Ok(salesforce::write_untyped(v)),
    }
}

/// A new monday item → the fields of the Salesforce record to create: mapped non-empty
/// columns, then the name rule, the record type, then `on_create` values (which override).
pub fn item_to_create(
    plan: &Plan,
    item: &Item,
    now: OffsetDateTime,
) -> Result<SfWrites, EvalError> {
    let today = today_of(now);
    let mut values: BTreeMap<String, Value> = BTreeMap::new();
    let mut out = SfWrites::default();
    for f in plan.fields_to_salesforce() {
        let Some(v) = item.columns.get(&f.column) else {
            continue;
        };
        if v.is_empty() {
            continue;
        }
        let env = ItemEnv {
            name: &item.name,
            fields: &values,
            today,
        };
        let sf = f.value_to_salesforce(v.clone(), &env)?;
        if sf.is_empty() {
            continue;
        }
        out.fields.insert(
            f.field.clone(),
            salesforce::write(f.field_type, &sf).map_err(|e| f.locate(e))?,
        );
        values.insert(f.field.clone(), sf);
    }
    assign_all(
        plan,
        &plan.name_to_salesforce,
        &item.name,
        &mut values,
        &mut out,
        today,
    )?;
    if let Some(rt) = &plan.record_type {
        out.fields
            .insert("RecordTypeId".to_owned(), Json::String(rt.clone()));
        values.insert("RecordTypeId".to_owned(), Value::text(rt));
    }
    assign_all(
        plan,
        &plan.on_create,
        &item.name,
        &mut values,
        &mut out,
        today,
    )?;
    Ok(out)
}

pub(super) fn assign_all(
    plan: &Plan,
    assignments: &[AssignPlan],
    name: &str,
    values: &mut BTreeMap<String, Value>,
    out: &mut SfWrites,
    today: Date,
) -> Result<(), EvalError> {
    for a in assignments {
        let env = ItemEnv {
            name,
            fields: values,
            today,
        };
        let v = transform::evaluate(&a.value, &env, Flow::ToSalesforce)
            .map_err(|e| e.with_field(&a.field).with_origin(&a.origin))?;
        out.fields
            .insert(a.field.clone(), assigned_json(plan, a, &v)?);
        values.insert(a.field.clone(), v);
    }
    Ok(())
}

/// A monday column change → the one field it updates; `None` when the column is not mapped
/// towards Salesforce, when the value did not change, or when Salesforce already holds it
/// (`current`, the field's current or last-synced JSON).
pub fn column_change(
    plan: &Plan,
    column: &ColumnId,
    new: &Value,
    old: &Value,
    current: Option<&Json>,
    now: OffsetDateTime,
) -> Result<Option<SfWrites>, EvalError> {
    let Some(f) = plan.fields_to_salesforce().find(|f| f.column == *column) else {
        return Ok(None);
    };
    if new.same_as(old, f.column_kind()) {
        return Ok(None);
    }
    let env = ItemEnv {
        name: "",
        fields: &BTreeMap::new(),
        today: today_of(now),
    };
    let sf = f.value_to_salesforce(new.clone(), &env)?;
    let json = salesforce::write(f.field_type, &sf).map_err(|e| f.locate(e))?;
    if let Some(current) = current {
        // Compare what Salesforce would store (an int field rounds) with what it holds.
        let held = salesforce::read(f.field_type, current).map_err(|e| f.locate(e))?;
        let stored = salesforce::read(f.field_type, &json).map_err(|e| f.locate(e))?;
        if held.same_as(&stored, f.field_kind()) {
            return Ok(None);
        }
    }
    let mut out = SfWrites::default();
    out.fields.insert(f.field.clone(), json);
    Ok(Some(out))
}

/// An item rename → the fields the name rule sets (empty when the object has none).
pub fn rename(plan: &Plan, new_name: &str, now: OffsetDateTime) -> Result<SfWrites, EvalError> {
    let mut out = SfWrites::default();
    let mut values = BTreeMap::new();
    assign_all(
        plan,
        &plan.name_to_salesforce,
        new_name,
        &mut values,
        &mut out,
        today_of(now),
    )?;
    Ok(out)
}

/// A board-relation change → the reference field update: the last added record's Id, or
/// `null` when links were only removed. `None` when the column is not a `->` link or nothing
/// changed. `added` and `removed` are the Salesforce Ids of the linked items' records.
pub fn link_change(
    plan: &Plan,
    column: &ColumnId,
    added: &[String],
    removed: &[String],
) -> Option<SfWrites> {
    let link = plan
        .links
        .iter()
        .find(|l| l.column == *column && l.direction.to_salesforce())?;
    let value = match (added.last(), removed.is_empty()) {
        (Some(id), _) => Json::String(id.clone()),
        (None, false) => Json::Null,
        (None, true) => return None,
    };
    let mut out = SfWrites::default();
    out.fields.insert(link.via.clone(), value);
    Some(out)
}

/// What a deleted or archived item does to its record.
#[derive(Clone, Debug, PartialEq)]
pub enum DeleteAction {
    /// Log it and leave the record alone.
    Log,
    /// Delete the record.
    Delete,
    /// Update the record.
    Update(SfWrites),
}

/// The action for a deleted or archived item (`name` is its last name, readable as `name`).
pub fn on_delete(plan: &Plan, name: &str, now: OffsetDateTime) -> Result<DeleteAction, EvalError> {
    Ok(match &plan.on_delete {
        DeletePlan::Log => DeleteAction::Log,
        DeletePlan::Delete => DeleteAction::Delete,
        DeletePlan::Set(assignments) => {
            let mut out = SfWrites::default();
            assign_all(
                plan,
                assignments,
                name,
                &mut BTreeMap::new(),
                &mut out,
                today_of(now),
            )?;
            DeleteAction::Update(out)
        }
    })
}

/// Reads an item's API `column_values` (objects with `id`, `type`, `text`, `value`, …) into an
/// [`Item`], keeping the columns the plan reads; each is read with the plan's column type.
/// `labels` gives status/dropdown settings by column id, for values that only carry ids.
pub fn item_from_api(
    plan: &Plan,
    name: &str,
    column_values: &[Json],
    labels: &BTreeMap<String, monday::LabelSettings>,
) -> Result<Item, EvalError> {
    let mut item = Item {
        name: name.to_owned(),
        columns: BTreeMap::new(),
    };
    for cv in column_values {
        let Some(id) = cv.get("id").and_then(Json::as_str) else {
            continue;
        };
        let column_type = if id == plan.key_column {
            crmmap_dsl::model::ColumnType::Text
        } else if let Some(f) = plan.field_for_column(id) {
            f.column_type
        } else if plan.link_for_column(id).is_some() {
            crmmap_dsl::model::ColumnType::BoardRelation
        } else {
            continue;
        };
        let read = monday::ColumnRead::from_api(cv).map_err(|e| e.with_column(id))?;
        let value =
            monday::read(column_type, &read, labels.get(id)).map_err(|e| e.with_column(id))?;
        item.columns.insert(ColumnId::from(id), value);
    }
    Ok(item)
}

impl Prior {
    /// What monday holds for an item read now.
    pub fn from_item(item: &Item) -> Prior {
        Prior {
            name: Some(item.name.clone()),
            columns: item.columns.clone(),
            links: BTreeMap::new(),
        }
    }
}

/// A webhook `update_column_value` → the field update, reading `value` and `previousValue`
/// with the plan's column type (the webhook's legacy `columnType` is not needed).
pub fn webhook_column_change(
    plan: &Plan,
    column: &ColumnId,
    value: &Json,
    previous: &Json,
    current: Option<&Json>,
    labels: Option<&monday::LabelSettings>,
    now: OffsetDateTime,
) -> Result<Option<SfWrites>, EvalError> {
    let Some(f) = plan.fields_to_salesforce().find(|f| f.column == *column) else {
        return Ok(None);
    };
    let new = monday::read_webhook(f.column_type, value, labels).map_err(|e| f.locate(e))?;
    let old = monday::read_webhook(f.column_type, previous, labels).map_err(|e| f.locate(e))?;
    column_change(plan, column, &new, &old, current, now)
}
