//! The shipped mappings (`mappings/*.crmmap`) compile, their plans are snapshotted, and the Lead
//! plan evaluates a realistic record without surprises.

use std::path::Path;

use crmmap_dsl::SourceMap;
use crmmap_engine::eval::{self, Prior};
use crmmap_engine::value::monday;
use crmmap_engine::{PlanSet, compile};
use serde_json::json;
use time::macros::datetime;

fn shipped() -> PlanSet {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files: Vec<_> = std::fs::read_dir(root.join("mappings"))
        .expect("mappings directory")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "crmmap"))
        .collect();
    files.sort();
    let mut map = SourceMap::new();
    for f in files {
        // Paths as the CLI shows them, relative to the repository root.
        let shown = f.strip_prefix(&root).unwrap().display().to_string();
        map.add(shown, std::fs::read_to_string(&f).unwrap());
    }
    let checked = crmmap_dsl::check_sources(&map);
    let model = checked
        .model
        .unwrap_or_else(|| panic!("shipped mappings have errors: {:#?}", checked.diagnostics));
    compile(&model)
}

#[test]
fn shipped_mappings_explain() {
    insta::assert_snapshot!("shipped_mappings", shipped().to_string());
}

#[test]
fn shipped_objects_sync_parents_first() {
    let plans = shipped();
    let pos = |name: &str| plans.order.iter().position(|o| o == name).unwrap();
    for plan in &plans.plans {
        for link in &plan.links {
            if link.target != plan.object {
                // The shipped mappings have no link cycles.
                assert!(
                    pos(link.target.as_str()) < pos(plan.object.as_str()),
                    "{} should come after {}",
                    plan.object,
                    link.target
                );
            }
        }
    }
}

#[test]
fn the_shipped_lead_plan_syncs_a_record_once() {
    let plans = shipped();
    let lead = plans.plan("Lead").expect("a Lead object");
    let record = json!({
        "Id": "00Q5e00000AbCdEFGH",
        "Company": "Acme Library",
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "CreatedDate": "2024-07-02T08:30:00.000+0000",
        "State": "California",
        "Status": "Open",
        "IsConverted": false,
        "Capacity_Building_Needs__c": "Curriculum;Needs assessment",
        "Email": "ada@example.org",
    });
    let now = datetime!(2024-07-03 09:00 UTC);
    let record = record.as_object().unwrap();
    let writes = eval::record_to_item(lead, record, None, now).unwrap();
    assert_eq!(writes.name.as_deref(), Some("Acme Library"));
    assert_eq!(
        writes.column_values["dropdown_mksfyfqp"],
        json!({"labels": ["Curriculum Development", "Strategic plan for Digital Inclusion in your community"]})
    );
    assert_eq!(writes.column_values["text_mkryxqtf"], json!("false"));
    // What monday now holds maps back to the same record: nothing more to write.
    let mut prior = Prior {
        name: writes.name.clone(),
        ..Prior::default()
    };
    for (col, v) in &writes.column_values {
        let t = lead
            .field_for_column(col)
            .map_or(crmmap_dsl::model::ColumnType::Text, |f| f.column_type);
        prior
            .columns
            .insert(col.clone(), monday::read_webhook(t, v, None).unwrap());
    }
    let again = eval::record_to_item(lead, record, Some(&prior), now).unwrap();
    assert!(again.is_empty(), "{again:?}");
}
