//! Change Data Capture over real HTTP: the change events REST calls and the control surface
//! produce (realtime-and-limits.md §1a, §1b), the change log's replay ids, retention and
//! delivery allocation (§1d, §1e), injected gap and overflow events (§1c).

use std::time::Duration;

use crmmap_emu_salesforce::cdc::{ChangeType, LoggedEvent, Retention};
use reqwest::Method;
use serde_json::{Value, json};

use super::Session;

/// The events after `after`, as payloads.
fn events_after(s: &Session, after: u64) -> Vec<LoggedEvent> {
    s.emu.change_log().read_after(after, 1000).unwrap()
}

fn header(e: &LoggedEvent) -> Value {
    e.event.payload()["ChangeEventHeader"].clone()
}

fn sorted(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

async fn create_lead(s: &Session, body: Value) -> String {
    let (status, _, b) = s.call(Method::POST, "/sobjects/Lead", Some(body)).await;
    assert_eq!(status, 201, "{b}");
    b["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_rest_update_emits_exactly_the_changed_fields_as_the_integration_user() {
    let s = Session::default().await;
    let id = create_lead(
        &s,
        json!({"FirstName": "Ada", "LastName": "Byron", "Company": "Engines", "City": "London"}),
    )
    .await;
    let before = s.emu.change_log().latest_replay_id();
    let resp = s
        .http
        .patch(s.url(&format!("/sobjects/Lead/{id}")))
        .bearer_auth(&s.token)
        .header("Sforce-Call-Options", "client=crmmap")
        .json(&json!({"LastName": "Lovelace", "Title": "Countess", "City": null, "Company": "Engines"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let events = events_after(&s, before);
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(e.replay_id, before + 1);
    let payload = e.event.payload();
    let h = header(e);
    assert_eq!(h["entityName"], "Lead");
    assert_eq!(h["changeType"], "UPDATE");
    assert_eq!(h["recordIds"], json!([id]));
    assert_eq!(h["commitUser"], json!(s.emu.integration_user_id()));
    assert_eq!(
        h["changeOrigin"],
        "com/salesforce/api/rest/62.0;client=crmmap"
    );
    assert_eq!(h["sequenceNumber"], 1);
    assert!(h["commitTimestamp"].as_i64().unwrap() > 1_700_000_000_000);
    assert!(h["transactionKey"].as_str().is_some_and(|k| !k.is_empty()));
    // Company was sent with its old value: not a change.
    assert_eq!(
        sorted(&h["changedFields"]),
        ["Address.City", "LastModifiedDate", "Name.LastName", "Title"]
    );
    assert_eq!(h["nulledFields"], json!(["Address.City"]));
    assert_eq!(h["diffFields"], json!([]));
    let record = s.emu.record(&id).unwrap();
    let modified = record["LastModifiedDate"]
        .as_str()
        .unwrap()
        .replace("+0000", "Z");
    let mut body = payload.as_object().unwrap().clone();
    body.remove("ChangeEventHeader");
    assert_eq!(
        Value::Object(body),
        json!({
            "Name": {"LastName": "Lovelace"},
            "Address": {"City": null},
            "Title": "Countess",
            "LastModifiedDate": modified,
        })
    );
}

#[tokio::test]
async fn control_edits_run_as_a_person_and_rest_calls_as_the_integration_user() {
    let s = Session::default().await;
    let id = create_lead(&s, json!({"LastName": "Byron", "Company": "Engines"})).await;
    let from = s.emu.change_log().latest_replay_id();
    assert!(s.emu.update_record(&id, json!({"Title": "Countess"})));
    let (status, _, _) = s
        .call(
            Method::PATCH,
            &format!("/sobjects/Lead/{id}"),
            Some(json!({"Title": "Count"})),
        )
        .await;
    assert_eq!(status, 204);
    let events = events_after(&s, from);
    assert_eq!(events.len(), 2);
    let person = header(&events[0]);
    assert_eq!(person["commitUser"], json!(s.emu.person_user_id()));
    assert_eq!(person["changeOrigin"], "");
    assert_ne!(s.emu.person_user_id(), s.emu.integration_user_id());
    // The person's edit changed LastModifiedById; the API's changes it back: both events
    // carry it (§1b: only if it changed).
    assert!(sorted(&person["changedFields"]).contains(&"LastModifiedById".to_string()));
    let api = header(&events[1]);
    assert_eq!(api["commitUser"], json!(s.emu.integration_user_id()));
    assert_eq!(
        sorted(&api["changedFields"]),
        ["LastModifiedById", "LastModifiedDate", "Title"]
    );
    assert_eq!(
        events[1].event.payload()["LastModifiedById"],
        json!(s.emu.integration_user_id())
    );
    assert_ne!(person["transactionKey"], api["transactionKey"]);
}

#[tokio::test]
async fn create_delete_and_undelete_emit_their_events() {
    let s = Session::default().await;
    let from = s.emu.change_log().latest_replay_id();
    let (status, _, b) = s
        .call(
            Method::POST,
            "/sobjects/Account",
            Some(json!({"Name": "Acme", "BillingStreet": "415 Mission Street", "BillingCity": "San Francisco"})),
        )
        .await;
    assert_eq!(status, 201, "{b}");
    let id = b["id"].as_str().unwrap().to_string();
    let (status, _, _) = s
        .call(Method::DELETE, &format!("/sobjects/Account/{id}"), None)
        .await;
    assert_eq!(status, 204);
    assert!(s.emu.undelete_record(&id));
    let events = events_after(&s, from);
    let types: Vec<Value> = events
        .iter()
        .map(|e| header(e)["changeType"].clone())
        .collect();
    assert_eq!(types, [json!("CREATE"), json!("DELETE"), json!("UNDELETE")]);
    let ids: Vec<u64> = events.iter().map(|e| e.replay_id).collect();
    assert_eq!(ids, [from + 1, from + 2, from + 3]);
    let create = events[0].event.payload();
    assert_eq!(create["Name"], "Acme");
    assert_eq!(
        create["BillingAddress"],
        json!({"Street": "415 Mission Street", "City": "San Francisco", "State": null,
               "PostalCode": null, "Country": null, "StateCode": null})
    );
    assert_eq!(create["OwnerId"], json!(s.emu.integration_user_id()));
    assert!(create.get("Id").is_none() && create.get("IsDeleted").is_none());
    assert!(create.get("Phone").is_none(), "empty fields are left out");
    assert!(
        create.get("npo02__AverageAmount__c").is_none(),
        "formula fields"
    );
    assert_eq!(header(&events[0])["changedFields"], json!([]));
    let delete = events[1].event.payload();
    assert_eq!(
        delete.as_object().unwrap().len(),
        1,
        "a DELETE has no body: {delete}"
    );
    let undelete = events[2].event.payload();
    assert_eq!(undelete["Name"], "Acme");
    assert_eq!(
        header(&events[2])["commitUser"],
        json!(s.emu.person_user_id())
    );
}

#[tokio::test]
async fn collections_and_upserts_emit_one_transaction_per_request() {
    let s = Session::default().await;
    let from = s.emu.change_log().latest_replay_id();
    let (status, _, b) = s
        .call(
            Method::POST,
            "/composite/sobjects",
            Some(json!({"records": [
                {"attributes": {"type": "Contact"}, "LastName": "One", "MailingCity": "Rome"},
                {"attributes": {"type": "Account"}, "Name": "Two"},
            ]})),
        )
        .await;
    assert_eq!(status, 200, "{b}");
    let (status, _, b) = s
        .call(
            Method::PATCH,
            "/sobjects/Account/External_Id__c/ext-1",
            Some(json!({"Name": "Upserted"})),
        )
        .await;
    assert_eq!(status, 201, "{b}");
    let events = events_after(&s, from);
    assert_eq!(events.len(), 3);
    let (a, b2, c) = (header(&events[0]), header(&events[1]), header(&events[2]));
    assert_eq!(a["transactionKey"], b2["transactionKey"]);
    assert_eq!(
        (a["sequenceNumber"].clone(), b2["sequenceNumber"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(a["commitNumber"], b2["commitNumber"]);
    assert_ne!(a["transactionKey"], c["transactionKey"]);
    assert_eq!(a["entityName"], "Contact");
    assert_eq!(events[0].event.payload()["MailingAddress"]["City"], "Rome");
    assert_eq!(
        events[0].event.payload()["Name"],
        json!({"FirstName": null, "LastName": "One"})
    );
    assert_eq!(c["changeType"], "CREATE");
    assert_eq!(events[2].event.payload()["External_Id__c"], "ext-1");

    // Collections update and delete, and an upsert that updates.
    let ids: Vec<String> = b_ids(
        &s,
        "SELECT Id FROM Account WHERE Name IN ('Two', 'Upserted')",
    )
    .await;
    let from = s.emu.change_log().latest_replay_id();
    let records: Vec<Value> = ids
        .iter()
        .map(|id| json!({"attributes": {"type": "Account"}, "id": id, "BillingCity": "Oslo"}))
        .collect();
    let (status, _, b) = s
        .call(
            Method::PATCH,
            "/composite/sobjects",
            Some(json!({"records": records})),
        )
        .await;
    assert_eq!(status, 200, "{b}");
    let (status, _, b) = s
        .call(
            Method::PATCH,
            "/sobjects/Account/External_Id__c/ext-1",
            Some(json!({"Phone": "555"})),
        )
        .await;
    assert_eq!(status, 200, "{b}");
    let (status, _, b) = s
        .call(
            Method::DELETE,
            &format!("/composite/sobjects?ids={}", ids.join(",")),
            None,
        )
        .await;
    assert_eq!(status, 200, "{b}");
    let events = events_after(&s, from);
    let kinds: Vec<(Value, Value)> = events
        .iter()
        .map(|e| {
            (
                header(e)["changeType"].clone(),
                header(e)["sequenceNumber"].clone(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("UPDATE", 1),
            ("UPDATE", 2),
            ("UPDATE", 1),
            ("DELETE", 1),
            ("DELETE", 2)
        ]
        .map(|(t, n)| (json!(t), json!(n)))
    );
    assert_eq!(
        sorted(&header(&events[0])["changedFields"]),
        ["BillingAddress.City", "LastModifiedDate"]
    );
    assert_eq!(
        events[0].event.payload()["BillingAddress"],
        json!({"City": "Oslo"})
    );
    assert_eq!(events[2].event.payload()["Phone"], "555");
    assert_eq!(
        header(&events[3])["transactionKey"],
        header(&events[4])["transactionKey"]
    );
}

async fn b_ids(s: &Session, q: &str) -> Vec<String> {
    let (status, b) = s.query(q).await;
    assert_eq!(status, 200, "{b}");
    b["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn only_selected_entities_emit() {
    let s = Session::default().await;
    let log = s.emu.change_log();
    assert_eq!(log.selected_entities(), log.entities(), "all by default");
    log.select_entities(Some(&["lead"]));
    assert_eq!(log.selected_entities(), ["Lead"]);
    let from = log.latest_replay_id();
    let (status, _, _) = s
        .call(
            Method::POST,
            "/sobjects/Account",
            Some(json!({"Name": "Quiet"})),
        )
        .await;
    assert_eq!(status, 201);
    create_lead(&s, json!({"LastName": "Loud", "Company": "Co"})).await;
    let events = events_after(&s, from);
    assert_eq!(events.len(), 1);
    assert_eq!(header(&events[0])["entityName"], "Lead");
    log.select_entities(None);
    assert!(log.is_selected("Account"));
}

#[tokio::test]
async fn the_log_keeps_its_retention_and_refuses_replay_ids_before_it() {
    let s = Session::default().await;
    let log = s.emu.change_log();
    let first = log.latest_replay_id();
    for n in 0..3 {
        create_lead(&s, json!({"LastName": format!("L{n}"), "Company": "Co"})).await;
    }
    assert_eq!(log.read_after(first, 10).unwrap().len(), 3);
    assert_eq!(
        log.read_after(first + 1, 1).unwrap()[0].replay_id,
        first + 2
    );
    // By count.
    log.set_retention(Retention {
        max_events: Some(2),
        ..Retention::default()
    });
    assert_eq!(log.earliest_replay_id(), Some(first + 2));
    let err = log.read_after(first, 10).unwrap_err();
    assert_eq!((err.requested, err.oldest), (first, first + 2));
    assert_eq!(log.read_after(first + 1, 10).unwrap().len(), 2);
    // By time: 72 h later nothing is left, and replay ids keep growing.
    log.set_retention(Retention::default());
    log.advance_clock(Duration::from_secs(72 * 3600 + 1));
    assert_eq!(log.earliest_replay_id(), None);
    assert!(log.read_after(first + 1, 10).is_err());
    assert_eq!(log.read_after(first + 3, 10).unwrap(), vec![]);
    create_lead(&s, json!({"LastName": "After", "Company": "Co"})).await;
    assert_eq!(log.latest_replay_id(), first + 4);
}

#[tokio::test]
async fn a_waiting_reader_wakes_on_a_new_event() {
    let s = Session::default().await;
    let log = s.emu.change_log();
    let from = log.latest_replay_id();
    let waiter = {
        let log = log.clone();
        tokio::spawn(async move {
            log.wait_after(from).await;
            log.read_after(from, 10).unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!waiter.is_finished());
    create_lead(&s, json!({"LastName": "Wake", "Company": "Co"})).await;
    let got = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.len(), 1);
}

#[tokio::test]
async fn deliveries_count_against_the_allocation() {
    let s = Session::default().await;
    let log = s.emu.change_log();
    assert_eq!(log.deliveries(), (0, 10_000));
    log.set_delivery_allocation(5);
    assert!(log.count_delivery(4).is_ok());
    let refused = log.count_delivery(2).unwrap_err();
    assert_eq!((refused.used, refused.max, refused.requested), (4, 5, 2));
    // Events keep accumulating meanwhile.
    let from = log.latest_replay_id();
    create_lead(&s, json!({"LastName": "Kept", "Company": "Co"})).await;
    assert_eq!(log.read_after(from, 10).unwrap().len(), 1);
    log.set_delivery_allocation(6);
    assert!(log.count_delivery(2).is_ok());
    // The window is 24 hours.
    log.advance_clock(Duration::from_secs(24 * 3600));
    assert_eq!(log.deliveries(), (0, 6));
}

#[tokio::test]
async fn gap_and_overflow_events_can_be_injected() {
    let s = Session::default().await;
    let id = create_lead(&s, json!({"LastName": "Gap", "Company": "Co"})).await;
    let log = s.emu.change_log();
    let gap = s
        .emu
        .inject_gap("Lead", ChangeType::GapUpdate, &[&id])
        .unwrap();
    let overflow = s
        .emu
        .inject_gap("Account", ChangeType::GapOverflow, &[])
        .unwrap();
    assert_eq!(overflow, gap + 1);
    let events = log.read_after(gap - 1, 10).unwrap();
    let g = events[0].event.payload();
    assert_eq!(g["ChangeEventHeader"]["changeType"], "GAP_UPDATE");
    assert_eq!(g["ChangeEventHeader"]["recordIds"], json!([id]));
    assert_eq!(g["Name"], Value::Null);
    assert!(g.as_object().unwrap().contains_key("Company"));
    let o = events[1].event.payload();
    assert_eq!(o["ChangeEventHeader"]["changeType"], "GAP_OVERFLOW");
    assert_eq!(o["ChangeEventHeader"]["recordIds"], json!([]));
    // Refused: an overflow with ids, a gap without, a change type that is not a gap.
    assert!(
        s.emu
            .inject_gap("Account", ChangeType::GapOverflow, &[&id])
            .is_none()
    );
    assert!(
        s.emu
            .inject_gap("Lead", ChangeType::GapCreate, &[])
            .is_none()
    );
    assert!(
        s.emu
            .inject_gap("Lead", ChangeType::Update, &[&id])
            .is_none()
    );
    assert!(
        s.emu
            .inject_gap("Nope", ChangeType::GapOverflow, &[])
            .is_none()
    );
}

#[tokio::test]
async fn entity_schemas_describe_the_event_fields() {
    let s = Session::default().await;
    let lead = s.emu.change_log().entity_schema("Lead").unwrap();
    let names: Vec<&str> = lead.fields.iter().map(|f| f.name()).collect();
    assert!(names.contains(&"Name") && names.contains(&"Address") && names.contains(&"Company"));
    assert!(!names.contains(&"FirstName"));
}
