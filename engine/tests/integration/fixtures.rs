//! Self-describing evaluation fixtures: `engine/tests/fixtures/eval/*.crmmap`.
//!
//! Each mapping file carries its input and expectation in header comments:
//! - `// now: <RFC 3339 instant>`;
//! - `// change: <JSON>`, one of `{"record": R, "prior"?: P}` (Salesforce → monday; prior
//!   columns in webhook value format), `{"item": {"name", "columns"}}` (a new item; columns in
//!   webhook value format), `{"column", "value", "previous", "current"?}` (a webhook column
//!   change), `{"rename": name}`;
//! - `// expect: <JSON>` (the writes) or `// expect error: <message>`.
//!
//! The mapping is checked by `crmmap-dsl` and compiled; the change is evaluated against the last
//! object of the file.

use std::collections::BTreeMap;
use std::path::Path;

use crmmap_dsl::SourceMap;
use crmmap_dsl::model::ColumnType;
use crmmap_engine::eval::{self, Item, ItemWrites, Prior};
use crmmap_engine::value::monday;
use crmmap_engine::{EvalError, Plan, compile};
use crmmap_ids::ColumnId;
use serde_json::{Value as Json, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn header<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("// {key}: ")))
}

fn column_type(plan: &Plan, column: &str) -> ColumnType {
    plan.field_for_column(column)
        .map_or(ColumnType::Text, |f| f.column_type)
}

fn columns(plan: &Plan, json: Option<&Json>) -> BTreeMap<ColumnId, crmmap_engine::Value> {
    json.and_then(Json::as_object)
        .map(|cols| {
            cols.iter()
                .map(|(c, v)| {
                    (
                        ColumnId::from(c.as_str()),
                        monday::read_webhook(column_type(plan, c), v, None).unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn item_writes_json(w: &ItemWrites) -> Json {
    json!({
        "name": w.name,
        "column_values": w.column_values,
        "links": w.links.iter().map(|l| json!({"column": l.column, "target": l.target, "record_id": l.record_id})).collect::<Vec<_>>(),
    })
}

fn run(plan: &Plan, change: &Json, now: OffsetDateTime) -> Result<Json, EvalError> {
    if let Some(record) = change.get("record") {
        let prior = change.get("prior").map(|p| Prior {
            name: p.get("name").and_then(Json::as_str).map(str::to_owned),
            columns: columns(plan, p.get("columns")),
            links: BTreeMap::new(),
        });
        let w = eval::record_to_item(plan, record.as_object().unwrap(), prior.as_ref(), now)?;
        return Ok(item_writes_json(&w));
    }
    if let Some(item) = change.get("item") {
        let item = Item {
            name: item["name"].as_str().unwrap().to_owned(),
            columns: columns(plan, item.get("columns")),
        };
        return Ok(eval::item_to_create(plan, &item, now)?.to_json());
    }
    if let Some(column) = change.get("column").and_then(Json::as_str) {
        let w = eval::webhook_column_change(
            plan,
            &ColumnId::from(column),
            &change["value"],
            change.get("previous").unwrap_or(&Json::Null),
            change.get("current"),
            None,
            now,
        )?;
        return Ok(w.map_or(Json::Null, |w| w.to_json()));
    }
    if let Some(name) = change.get("rename").and_then(Json::as_str) {
        return Ok(eval::rename(plan, name, now)?.to_json());
    }
    panic!("unknown change {change}");
}

#[test]
fn eval_fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    assert!(paths.len() >= 5, "fixtures missing in {}", dir.display());
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut map = SourceMap::new();
        map.add(name.clone(), text.clone());
        let checked = crmmap_dsl::check_sources(&map);
        let model = checked
            .model
            .unwrap_or_else(|| panic!("{name}: {:#?}", checked.diagnostics));
        let plans = compile(&model);
        let plan = plans.plans.last().unwrap();
        let now =
            OffsetDateTime::parse(header(&text, "now").expect("a now header"), &Rfc3339).unwrap();
        let change: Json =
            serde_json::from_str(header(&text, "change").expect("a change header")).unwrap();
        let got = run(plan, &change, now);
        match (header(&text, "expect"), header(&text, "expect error")) {
            (Some(want), None) => {
                let want: Json = serde_json::from_str(want).unwrap();
                assert_eq!(got.as_ref().ok(), Some(&want), "{name}: got {got:?}");
            }
            (None, Some(want)) => {
                let e = got.expect_err(&name);
                assert_eq!(e.to_string(), want, "{name}");
            }
            _ => panic!("{name}: needs one `expect` or `expect error` header"),
        }
    }
}
