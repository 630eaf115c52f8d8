//! Salesforce → monday: a record read as expressions see it, and the values and writes of its
//! item.

use std::collections::BTreeMap;

use crmmap_ids::ColumnId;

use crmmap_dsl::model::Kind;
use serde_json::Value as Json;
use time::{Date, OffsetDateTime};

use super::{ItemWrites, LinkWrite, Prior, Record};
use crate::error::EvalError;
use crate::plan::Plan;
use crate::transform::{self, Env, Flow, today_of};
use crate::value::{Value, monday, salesforce};

/// Reads a record field for an expression: typed when the plan maps the field, else by the
/// JSON's own kind. Dotted paths read relationship fields (`Account.Name`).
pub(super) fn record_value(
    plan: &Plan,
    record: &Record,
    path: &[String],
) -> Result<Value, EvalError> {
    let Some((first, rest)) = path.split_first() else {
        return Ok(Value::Null);
    };
    let mut json = record.get(first);
    for p in rest {
        json = json.and_then(|j| j.get(p));
    }
    let Some(json) = json else {
        return Ok(Value::Null);
    };
    match plan.field_for_sf_field(&path.join(".")) {
        Some(f) => salesforce::read(f.field_type, json).map_err(|e| f.locate(e)),
        None => Ok(salesforce::read_untyped(json)),
    }
}

/// A Salesforce record as expressions see it: fields read typed when the plan maps them,
/// dotted paths through relationships, `today` as given.
pub struct RecordEnv<'a> {
    plan: &'a Plan,
    record: &'a Record,
    today: Date,
}

impl<'a> RecordEnv<'a> {
    /// The environment of `record` under `plan`.
    pub fn new(plan: &'a Plan, record: &'a Record, today: Date) -> RecordEnv<'a> {
        RecordEnv {
            plan,
            record,
            today,
        }
    }
}

impl Env for RecordEnv<'_> {
    fn get(&self, path: &[String]) -> Result<Value, EvalError> {
        if path.is_empty() {
            return Ok(Value::Null);
        }
        record_value(self.plan, self.record, path)
    }

    fn today(&self) -> Date {
        self.today
    }
}

/// What a record puts on its monday item, as values in each column's kind (not the API's
/// write formats): what a runner records as last synced once they are written, so that the
/// next evaluation's [`Prior`] compares equal.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ItemValues {
    /// The item name (`None` when the name rule gives nothing).
    pub name: Option<String>,
    /// Column id → value in the column's kind: the key column and the mapped fields present
    /// in the record.
    pub columns: BTreeMap<ColumnId, Value>,
    /// Board-relation column → Salesforce Id of the linked record (`None`: linked to nothing),
    /// for the `<-` links whose reference field the record holds.
    pub links: BTreeMap<ColumnId, Option<String>>,
}

/// A record evaluated against its item: the values the item should hold and the writes that
/// get it there from what it holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ItemUpdate {
    /// Everything the record puts on the item.
    pub values: ItemValues,
    /// Only what differs from the item's prior values, in the API's formats.
    pub writes: ItemWrites,
}

/// A Salesforce record → the values its monday item should hold and the writes it needs,
/// evaluated once.
///
/// Only values that differ from `prior` are written; with no prior, only non-empty values are.
/// Fields missing from the record (not selected) are left alone. The key column gets the record
/// Id; the name comes from the name rule (`None` when it is empty: a runner creating the item
/// must pick a name itself); `<-` links become [`LinkWrite`]s, and an empty reference clears
/// the column unless the column also sends links to Salesforce through another field.
pub fn record_to_update(
    plan: &Plan,
    record: &Record,
    prior: Option<&Prior>,
    now: OffsetDateTime,
) -> Result<ItemUpdate, EvalError> {
    record_part_to_update(plan, record, prior, now, true)
}

/// [`record_to_update`] for part of a record (the fields a change event carries): the name
/// rule runs only when `with_name` (the caller knows every field it reads is present), so a
/// name is never computed from fields the part does not hold.
pub fn record_part_to_update(
    plan: &Plan,
    record: &Record,
    prior: Option<&Prior>,
    now: OffsetDateTime,
    with_name: bool,
) -> Result<ItemUpdate, EvalError> {
    let env = RecordEnv::new(plan, record, today_of(now));
    let empty = Prior::default();
    let prior = prior.unwrap_or(&empty);
    let mut out = ItemUpdate::default();

    if let Some(id) = record.get("Id").and_then(Json::as_str) {
        let id = Value::text(id);
        if !prior
            .columns
            .get(&plan.key_column)
            .is_some_and(|p| p.same_as(&id, Kind::Text))
        {
            out.writes
                .column_values
                .insert(plan.key_column.clone(), Json::String(id.display()));
        }
        out.values.columns.insert(plan.key_column.clone(), id);
    }
    if let Some(expr) = plan.name_to_monday.as_ref().filter(|_| with_name) {
        let name = transform::evaluate(expr, &env, Flow::ToMonday)
            .map_err(|e| e.with_origin(&plan.origin))?
            .convert(Kind::Text)
            .map_err(|e| e.with_origin(&plan.origin))?
            .display();
        let name = monday::item_name(&name);
        if !name.is_empty() {
            if prior.name.as_deref() != Some(name.as_str()) {
                out.writes.name = Some(name.clone());
            }
            out.values.name = Some(name);
        }
    }
    for f in plan.fields_to_monday() {
        let Some(json) = record.get(&f.field) else {
            continue;
        };
        let sf = salesforce::read(f.field_type, json).map_err(|e| f.locate(e))?;
        let value = f.value_to_monday(sf, &env)?;
        let before = prior.columns.get(&f.column).unwrap_or(&Value::Null);
        if !value.same_as(before, f.column_kind()) {
            out.writes.column_values.insert(
                f.column.clone(),
                monday::write(f.column_type, &value).map_err(|e| f.locate(e))?,
            );
            out.writes.create_labels |= f.create_labels;
        }
        out.values.columns.insert(f.column.clone(), value);
    }
    for l in plan.links.iter().filter(|l| l.direction.to_monday()) {
        let Some(json) = record.get(&l.via) else {
            continue;
        };
        let id = json.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
        out.values.links.insert(l.column.clone(), id.clone());
        // A column that also sends links to Salesforce through another field holds links made
        // on monday: an empty reference here does not clear them.
        let shared = plan
            .links
            .iter()
            .any(|o| o.column == l.column && o.direction.to_salesforce() && o.via != l.via);
        if id.is_none() && shared {
            continue;
        }
        let before = prior.links.get(&l.column).cloned().unwrap_or(None);
        if id != before {
            out.writes.links.push(LinkWrite {
                column: l.column.clone(),
                target: l.target.clone(),
                record_id: id,
            });
        }
    }
    Ok(out)
}

/// A Salesforce record → the writes its monday item needs: [`record_to_update`] without the
/// values.
pub fn record_to_item(
    plan: &Plan,
    record: &Record,
    prior: Option<&Prior>,
    now: OffsetDateTime,
) -> Result<ItemWrites, EvalError> {
    record_to_update(plan, record, prior, now).map(|u| u.writes)
}
