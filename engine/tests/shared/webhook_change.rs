//! A monday webhook change evaluated on a plan with the engine calls the webhook runner makes
//! (`runners/webhook/src/apply/`), asserting what must hold whatever the values are.
//!
//! Shared by the engine's property tests (`engine/tests/integration/hostile.rs`) and the
//! `webhook_eval` fuzz target (`runners/webhook/fuzz`), which include this file by path.

use std::collections::BTreeMap;

use crmmap_dsl::SourceMap;
use crmmap_engine::eval::{self, Item, Record, Writes};
use crmmap_engine::plan::{FieldPlan, Plan};
use crmmap_engine::value::{Value, monday, salesforce};
use crmmap_engine::{EvalError, PlanSet, compile};
use crmmap_ids::ColumnId;
use serde_json::{Value as Json, json};
use time::OffsetDateTime;
use time::macros::datetime;

/// The shipped mappings, as `(path, text)`.
pub const SHIPPED: &[(&str, &str)] = &[
    (
        "mappings/account.crmmap",
        include_str!("../../../mappings/account.crmmap"),
    ),
    (
        "mappings/contact.crmmap",
        include_str!("../../../mappings/contact.crmmap"),
    ),
    (
        "mappings/lead.crmmap",
        include_str!("../../../mappings/lead.crmmap"),
    ),
    (
        "mappings/opportunity.crmmap",
        include_str!("../../../mappings/opportunity.crmmap"),
    ),
    (
        "mappings/translations.crmmap",
        include_str!("../../../mappings/translations.crmmap"),
    ),
];

/// The instant evaluations run at.
pub const NOW: OffsetDateTime = datetime!(2025-02-05 16:42:35 UTC);

/// The shipped mappings, checked and compiled.
pub fn shipped_plans() -> PlanSet {
    let mut map = SourceMap::new();
    for (path, text) in SHIPPED {
        map.add(*path, *text);
    }
    let checked = crmmap_dsl::check_sources(&map);
    let model = checked
        .model
        .unwrap_or_else(|| panic!("shipped mappings have errors: {:#?}", checked.diagnostics));
    compile(&model)
}

/// A value stored as last synced reads back as itself.
fn stored_round_trip(v: &Value) {
    let back = Value::from_json(&v.to_json());
    assert_eq!(back.as_ref(), Ok(v), "stored form of {v:?}");
}

/// Every field a write sets reads back with the field's type.
fn writes_read_back(plan: &Plan, fields: &BTreeMap<String, Json>) {
    for (field, json) in fields {
        if let Some(f) = plan.field_for_sf_field(field)
            && let Err(e) = salesforce::read(f.field_type, json)
        {
            panic!("{field} written as `{json}` does not read back: {e}");
        }
    }
}

/// A value read for a column, through the steps to Salesforce and written there, the way the
/// runner does for a column change and for a new item.
fn to_salesforce(plan: &Plan, f: &FieldPlan, new: &Value, old: &Value, held: Option<&Json>) {
    if let Ok(Some(w)) = eval::column_change(plan, &f.column, new, old, held, NOW) {
        writes_read_back(plan, &w.fields);
        let old_record = Record::new();
        let new_record = w.apply_to(&old_record);
        let _ = eval::propagations(plan, &old_record, &new_record, NOW);
        let _ = eval::rules_fired(plan, &old_record, &new_record);
    }
    let item = Item {
        name: new.display(),
        columns: BTreeMap::from([(f.column.clone(), new.clone())]),
    };
    if let Ok(w) = eval::item_to_create(plan, &item, NOW) {
        writes_read_back(plan, &w.fields);
    }
}

/// An `update_column_value` with webhook-shaped `value` and `previousValue` (any JSON).
pub fn column_changed(plan: &Plan, column: &ColumnId, value: &Json, previous: &Json) {
    // The path the engine offers for a webhook change: both values read with the column type.
    let _ = eval::webhook_column_change(plan, column, value, previous, None, None, NOW);
    let Some(f) = plan.field_for_column(column) else {
        if plan.link_for_column(column).is_some() {
            // Links: the runner reads the previous items of a board-relation column.
            if let Ok(v) =
                monday::read_webhook(crmmap_dsl::model::ColumnType::BoardRelation, previous, None)
            {
                stored_round_trip(&v);
            }
        }
        return;
    };
    // The runner reads the column's current value through the API (`value` is a JSON string
    // there) and the previous value from the webhook.
    let api =
        json!({"id": column, "text": value.as_str().unwrap_or(""), "value": value.to_string()});
    let current =
        monday::ColumnRead::from_api(&api).and_then(|cv| monday::read(f.column_type, &cv, None));
    let old = monday::read_webhook(f.column_type, previous, None);
    let new = monday::read_webhook(f.column_type, value, None);
    for v in [&current, &old, &new].into_iter().flatten() {
        stored_round_trip(v);
    }
    let old = old.unwrap_or(Value::Null);
    let held = old
        .clone()
        .convert(f.field_kind())
        .ok()
        .and_then(|v| salesforce::write(f.field_type, &v).ok());
    for new in [&current, &new].into_iter().flatten() {
        to_salesforce(plan, f, new, &old, held.as_ref());
        // And back: the Salesforce value of the column, written to monday.
        if let Ok(sf) = new.convert(f.field_kind())
            && let Ok(json) = salesforce::write(f.field_type, &sf)
        {
            let record: Record = [
                ("Id".to_owned(), json!("00Q000000000001AAA")),
                (f.field.clone(), json),
            ]
            .into_iter()
            .collect();
            let _ = eval::record_to_item(plan, &record, None, NOW);
        }
    }
}

/// A `create_pulse`, `update_name`, `delete_pulse` or `archive_pulse` with any item name.
pub fn named(plan: &Plan, name: &str) {
    let item = Item {
        name: name.to_owned(),
        columns: BTreeMap::new(),
    };
    let outcomes: [Result<Writes, EvalError>; 3] = [
        eval::evaluate(plan, eval::Change::ItemCreated(&item), NOW),
        eval::evaluate(plan, eval::Change::Renamed(name), NOW),
        eval::evaluate(plan, eval::Change::ItemDeleted(name), NOW),
    ];
    for w in outcomes.into_iter().flatten() {
        if let Writes::CreateRecord(w) | Writes::UpdateRecord(w) = w {
            writes_read_back(plan, &w.fields);
        }
    }
}
