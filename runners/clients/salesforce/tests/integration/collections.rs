use crmmap_emu_salesforce::{EmulatorOptions, EndpointKind};
use crmmap_salesforce::{NewRecord, Record, RecordUpdate};
use futures::TryStreamExt;
use serde_json::{Map, Value, json};

use crate::common::rid;
use crate::common::*;

fn fields(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[tokio::test]
async fn create_450_in_three_requests() {
    let emu = emulator(EmulatorOptions {
        seed_sample_data: false,
        ..Default::default()
    })
    .await;
    let client = client(&emu);
    let records: Vec<NewRecord> = (0..450)
        .map(|i| {
            NewRecord::new(
                "Contact",
                fields(json!({"LastName": format!("Bulk {i:03}"), "FirstName": "B"})),
            )
        })
        .collect();
    let results = client.create_many(&records, false).await.unwrap();
    assert_eq!(results.len(), 450);
    assert!(
        results
            .iter()
            .enumerate()
            .all(|(i, r)| r.index == i && r.success && r.id.is_some())
    );
    let creates: Vec<_> = emu
        .request_log()
        .into_iter()
        .filter(|l| l.kind == EndpointKind::CollectionsCreate)
        .collect();
    assert_eq!(creates.len(), 3);
    assert!(
        creates
            .iter()
            .all(|c| c.call_options.as_deref() == Some("client=crmmap"))
    );
    assert_eq!(emu.records("Contact").len(), 450);
    // Results are in input order: the n-th id is the n-th record.
    let first = client
        .get::<Record>(
            "Contact",
            &rid(results[0].id.as_ref().unwrap()),
            Some(&["LastName"]),
        )
        .await
        .unwrap();
    assert_eq!(first.get_str("LastName"), Some("Bulk 000"));
    let last = client
        .get::<Record>(
            "Contact",
            &rid(results[449].id.as_ref().unwrap()),
            Some(&["LastName"]),
        )
        .await
        .unwrap();
    assert_eq!(last.get_str("LastName"), Some("Bulk 449"));

    // Update and delete in batches too.
    let updates: Vec<RecordUpdate> = results
        .iter()
        .map(|r| {
            RecordUpdate::new(
                "Contact",
                r.id.clone().unwrap(),
                fields(json!({"Title": "Updated"})),
            )
        })
        .collect();
    let up = client.update_many(&updates, false).await.unwrap();
    assert!(up.iter().all(|r| r.success));
    let ids: Vec<String> = results.iter().map(|r| r.id.clone().unwrap()).collect();
    let del = client.delete_many(&ids, false).await.unwrap();
    assert!(del.iter().all(|r| r.success));
    let c = emu.counters();
    assert_eq!(
        (
            c.get(EndpointKind::CollectionsUpdate),
            c.get(EndpointKind::CollectionsDelete)
        ),
        (3, 3)
    );
    let left: Vec<Record> = client
        .query("SELECT Id FROM Contact")
        .try_collect()
        .await
        .unwrap();
    assert!(left.is_empty());
}

#[tokio::test]
async fn per_record_errors_carry_index_field_and_message() {
    let emu = emulator(EmulatorOptions {
        seed_sample_data: false,
        ..Default::default()
    })
    .await;
    let client = client(&emu);
    let mut records: Vec<NewRecord> = (0..250)
        .map(|i| {
            NewRecord::new(
                "Lead",
                fields(json!({"LastName": format!("L{i}"), "Company": "C", "Status": "Open"})),
            )
        })
        .collect();
    records[237]
        .fields
        .insert("Status".into(), json!("Nonsense"));
    records[5].fields.remove("Company");
    let results = client.create_many(&records, false).await.unwrap();
    let failed: Vec<_> = results.iter().filter(|r| !r.success).collect();
    assert_eq!(failed.len(), 2);
    let bad = failed.iter().find(|r| r.index == 237).unwrap();
    assert!(bad.id.is_none());
    assert_eq!(
        bad.errors[0].error_code,
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    );
    assert_eq!(bad.errors[0].fields, ["Status"]);
    assert_eq!(
        bad.errors[0].message,
        "Status: bad value for restricted picklist field: Nonsense"
    );
    let missing = failed.iter().find(|r| r.index == 5).unwrap();
    assert_eq!(missing.errors[0].error_code, "REQUIRED_FIELD_MISSING");
    assert_eq!(emu.records("Lead").len(), 248);
}

#[tokio::test]
async fn all_or_none_rolls_back_the_batch() {
    let emu = emulator(EmulatorOptions {
        seed_sample_data: false,
        ..Default::default()
    })
    .await;
    let client = client(&emu);
    let records = vec![
        NewRecord::new("Account", fields(json!({"Name": "Good"}))),
        NewRecord::new(
            "Account",
            fields(json!({"Name": "Bad", "Capacity_Building_Needs__c": "Juggling"})),
        ),
    ];
    let results = client.create_many(&records, true).await.unwrap();
    assert!(!results[0].success);
    assert_eq!(
        results[0].errors[0].error_code,
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    assert_eq!(
        results[1].errors[0].error_code,
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    );
    assert!(emu.records("Account").is_empty());
}

#[tokio::test]
async fn delete_many_reports_bad_ids() {
    let emu = default_emulator().await;
    let client = client(&emu);
    let id = emu
        .insert_record("Account", json!({"Name": "Del"}))
        .unwrap();
    let results = client
        .delete_many(&[id.as_str(), "001RM000003oLrB000"], false)
        .await
        .unwrap();
    assert!(results[0].success);
    assert!(!results[1].success);
    assert_eq!(results[1].errors[0].error_code, "MALFORMED_ID");
    assert_eq!(
        results[1].errors[0].message,
        "malformed id 001RM000003oLrB000"
    );
}

#[tokio::test]
async fn upsert_many_by_external_id() {
    let emu = emulator(EmulatorOptions {
        seed_sample_data: false,
        ..Default::default()
    })
    .await;
    let client = client(&emu);
    emu.insert_record(
        "Account",
        json!({"Name": "Existing", "External_Id__c": "A-1"}),
    )
    .unwrap();
    let recs = vec![
        fields(json!({"External_Id__c": "A-1", "Name": "Existing v2"})),
        fields(json!({"External_Id__c": "A-2", "Name": "New"})),
    ];
    let results = client
        .upsert_many("Account", "External_Id__c", &recs, false)
        .await
        .unwrap();
    assert_eq!(
        results.iter().map(|r| r.created).collect::<Vec<_>>(),
        [Some(false), Some(true)]
    );
    assert_eq!(emu.records("Account").len(), 2);
}

#[tokio::test]
async fn a_converted_lead_in_a_collection_is_recognised() {
    let emu = default_emulator().await;
    let client = client(&emu);
    let converted = emu
        .insert_record("Lead", serde_json::json!({"LastName": "C", "Company": "C"}))
        .unwrap();
    let open = emu
        .insert_record("Lead", serde_json::json!({"LastName": "O", "Company": "O"}))
        .unwrap();
    emu.convert_lead(&converted, None, None);
    let update = |id: &str| crmmap_salesforce::RecordUpdate {
        sobject: "Lead".into(),
        id: id.into(),
        fields: serde_json::json!({"City": "X"})
            .as_object()
            .cloned()
            .unwrap(),
    };
    let results = client
        .update_many(&[update(&converted), update(&open)], false)
        .await
        .unwrap();
    assert!(
        !results[0].success && results[0].is_converted_lead(),
        "{results:?}"
    );
    assert!(results[1].success && !results[1].is_converted_lead());
}
