//! Salesforce change events reaching monday through `POST /events/salesforce`, end to end over
//! HTTP against both emulators, on SQLite and PostgreSQL. The events are built by hand exactly
//! as the reference shows them (`realtime-and-limits.md` §1a header, §1b body, §2b envelope).

use crmmap_dsl::model::ItemDeletePolicy;
use crmmap_store::{Backend, Link};
use crmmap_webhook::SecretString;
use serde_json::{Value, json};

use crate::harness::{LEAD, SObjectName, Setup, World, plans, retry_at_once};

const EVENTS_TOKEN: &str = "events-token-0123456789abcdef";
/// Someone other than crmmap.
const PERSON: &str = "005000000000009AAA";
const CITY: &str = "text_mkrym6fa";
const MODIFIED: &str = "text_mkryr3pj";

crmmap_testkit::backend_tests!(
    salesforce_events;
    an_update_writes_only_the_changed_columns_in_one_request,
    a_duplicate_delivery_writes_nothing_more,
    out_of_order_events_end_at_the_newest_value,
    crmmaps_own_change_comes_back_and_writes_nothing,
    unauthorized_or_malformed_requests_write_nothing,
    a_create_makes_an_item_only_when_selected,
    a_delete_follows_the_objects_policy,
    a_gap_event_reads_the_record,
    an_overflow_reconciles_the_object_from_its_commit_time,
    a_monday_outage_queues_the_change_until_it_is_written,
);

fn setup(backend: Backend) -> Setup {
    let mut s = Setup::new(backend);
    s.options.events_token = Some(SecretString::new(EVENTS_TOKEN));
    // monday's own webhooks stay out of these tests.
    s.deliver = false;
    s
}

/// A world whose Leads were migrated (linked to items, last-synced values stored).
async fn migrated(setup: Setup) -> Option<World> {
    let w = World::start(setup).await?;
    w.migrate_leads().await;
    Some(w)
}

/// An EventBridge event carrying a Lead change event (§2b), by hand.
#[expect(clippy::too_many_arguments, reason = "one argument per header field")]
fn lead_event(
    ids: &[&str],
    change_type: &str,
    commit_ms: i64,
    tx: &str,
    seq: i64,
    user: &str,
    changed: &[&str],
    body: Value,
) -> Value {
    let mut payload = json!({
        "ChangeEventHeader": {
            "entityName": "Lead", "recordIds": ids, "changeType": change_type,
            "changeOrigin": "com/salesforce/api/rest/60.0;client=test",
            "transactionKey": tx, "sequenceNumber": seq, "commitTimestamp": commit_ms,
            "commitNumber": 1, "commitUser": user,
            "nulledFields": [], "diffFields": [], "changedFields": changed,
        }
    });
    if let (Some(p), Some(b)) = (payload.as_object_mut(), body.as_object()) {
        p.extend(b.clone());
    }
    json!({
        "version": "0", "id": "5c42b99e-c214-4a9c-8fbd-1a41e5faa44a",
        "detail-type": "LeadChangeEvent",
        "source": "aws.partner/salesforce.com/00D5f000005KcCnEAK/0YL5f000000CabWGAS",
        "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "eu-west-1",
        "resources": [],
        "detail": { "payload": payload },
    })
}

/// A City update of one Lead, committed at `commit_ms` by a person.
fn city_update(id: &str, city: &str, commit_ms: i64, tx: &str) -> Value {
    lead_event(
        &[id],
        "UPDATE",
        commit_ms,
        tx,
        1,
        PERSON,
        &["City", "LastModifiedDate"],
        json!({ "City": city, "LastModifiedDate": commit_ms }),
    )
}

async fn post(w: &World, token: Option<&str>, body: &str) -> (u16, Value) {
    let mut req = w
        .http
        .post(format!("{}/events/salesforce", w.base))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let r = req.send().await.expect("post");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn send(w: &World, event: &Value) -> Value {
    let (status, body) = post(w, Some(EVENTS_TOKEN), &event.to_string()).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn outcome(body: &Value) -> &str {
    body["records"][0]["outcome"].as_str().unwrap_or_default()
}

/// The stored value of an item's column (as the API's value JSON, rendered).
fn column(w: &World, link: &Link, column: &str) -> String {
    let item = w
        .monday
        .state()
        .item(link.item_id.get())
        .expect("item exists");
    item.values
        .get(column)
        .map(Value::to_string)
        .unwrap_or_default()
}

fn monday_requests(w: &World) -> u64 {
    w.monday.state().counters().executed
}

const T1: i64 = 1_780_000_000_000;

pub async fn an_update_writes_only_the_changed_columns_in_one_request(backend: Backend) {
    let Some(w) = migrated(setup(backend)).await else {
        return;
    };
    let lead = w.linked_lead(false).await;
    let before = w.monday.state().item(lead.item_id.get()).unwrap().values;
    w.sf.state()
        .update_record(lead.record_id.as_str(), json!({ "City": "Lyon" }));
    let (m0, sf0) = (monday_requests(&w), w.sf.state().counters().api_calls);
    let body = send(
        &w,
        &city_update(lead.record_id.as_str(), "Lyon", T1, "tx-1"),
    )
    .await;
    assert_eq!(outcome(&body), "updated", "{body}");
    assert_eq!(monday_requests(&w) - m0, 1, "one monday request");
    assert_eq!(
        w.sf.state().counters().api_calls - sf0,
        0,
        "no salesforce read: the event carries the values"
    );
    let after = w.monday.state().item(lead.item_id.get()).unwrap().values;
    assert!(column(&w, &lead, CITY).contains("Lyon"));
    let changed: Vec<&String> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(changed, [&CITY.to_owned(), &MODIFIED.to_owned()]);
    // A change of no mapped field writes nothing.
    let m1 = monday_requests(&w);
    let unmapped = lead_event(
        &[lead.record_id.as_str()],
        "UPDATE",
        T1 + 1,
        "tx-2",
        1,
        PERSON,
        &["NumberOfEmployees"],
        json!({ "NumberOfEmployees": 12 }),
    );
    let body = send(&w, &unmapped).await;
    assert_eq!(outcome(&body), "skipped", "{body}");
    assert_eq!(monday_requests(&w), m1);
    w.stop().await;
}

pub async fn a_duplicate_delivery_writes_nothing_more(backend: Backend) {
    let Some(w) = migrated(setup(backend)).await else {
        return;
    };
    let lead = w.linked_lead(false).await;
    w.sf.state()
        .update_record(lead.record_id.as_str(), json!({ "City": "Nantes" }));
    let event = city_update(lead.record_id.as_str(), "Nantes", T1, "tx-dup");
    assert_eq!(outcome(&send(&w, &event).await), "updated");
    let m0 = monday_requests(&w);
    let body = send(&w, &event).await;
    assert_eq!(outcome(&body), "duplicate", "{body}");
    assert_eq!(monday_requests(&w), m0, "a redelivery writes nothing");
    w.stop().await;
}

pub async fn out_of_order_events_end_at_the_newest_value(backend: Backend) {
    let Some(w) = migrated(setup(backend)).await else {
        return;
    };
    let lead = w.linked_lead(false).await;
    // Salesforce holds the newest value; the older event arrives last.
    w.sf.state()
        .update_record(lead.record_id.as_str(), json!({ "City": "Newest" }));
    let newer = city_update(lead.record_id.as_str(), "Newest", T1 + 5_000, "tx-new");
    let older = city_update(lead.record_id.as_str(), "Oldest", T1, "tx-old");
    assert_eq!(outcome(&send(&w, &newer).await), "updated");
    let body = send(&w, &older).await;
    assert!(
        body["records"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("older than a change already applied"),
        "{body}"
    );
    assert!(
        column(&w, &lead, CITY).contains("Newest"),
        "{}",
        column(&w, &lead, CITY)
    );
    w.stop().await;
}

pub async fn crmmaps_own_change_comes_back_and_writes_nothing(backend: Backend) {
    let Some(w) = migrated(setup(backend)).await else {
        return;
    };
    let lead = w.linked_lead(false).await;
    let own = w
        .webhook
        .context()
        .salesforce
        .user_id()
        .await
        .expect("token")
        .expect("the token names crmmap's user");
    let m0 = monday_requests(&w);
    let echo = lead_event(
        &[lead.record_id.as_str()],
        "UPDATE",
        T1,
        "tx-echo",
        1,
        &own,
        &["City"],
        json!({ "City": "Echo" }),
    );
    let body = send(&w, &echo).await;
    assert_eq!(outcome(&body), "skipped", "{body}");
    assert!(
        body["records"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("echo")
    );
    assert_eq!(monday_requests(&w), m0);
    assert!(!column(&w, &lead, CITY).contains("Echo"));
    w.stop().await;
}

pub async fn unauthorized_or_malformed_requests_write_nothing(backend: Backend) {
    let Some(w) = migrated(setup(backend)).await else {
        return;
    };
    let lead = w.linked_lead(false).await;
    let event = city_update(lead.record_id.as_str(), "Intruder", T1, "tx-401").to_string();
    let m0 = monday_requests(&w);
    assert_eq!(post(&w, None, &event).await.0, 401);
    assert_eq!(
        post(&w, Some("wrong-token-0123456789abcdef"), &event)
            .await
            .0,
        401
    );
    assert_eq!(post(&w, Some(EVENTS_TOKEN), "{not json").await.0, 400);
    assert_eq!(
        post(&w, Some(EVENTS_TOKEN), r#"{"detail":{"payload":{}}}"#)
            .await
            .0,
        400
    );
    assert_eq!(monday_requests(&w), m0);
    assert!(!column(&w, &lead, CITY).contains("Intruder"));
    // Without a token configured, the route does not exist.
    use tower::ServiceExt;
    let off = crmmap_webhook::Webhook::new(
        w.webhook.context().clone(),
        crmmap_webhook::WebhookOptions::default(),
    );
    let req = http::Request::post("/events/salesforce")
        .header("authorization", format!("Bearer {EVENTS_TOKEN}"))
        .body(axum::body::Body::from(event))
        .unwrap();
    let answer = off.router().oneshot(req).await.unwrap();
    assert_eq!(answer.status().as_u16(), 404);
    w.stop().await;
}

pub async fn a_create_makes_an_item_only_when_selected(backend: Backend) {
    let Some(w) = migrated(setup(backend)).await else {
        return;
    };
    let sf = w.sf.state();
    let partner = sf
        .insert_record(
            "Lead",
            json!({"LastName": "Ito", "Company": "Ito Partners", "Role__c": "Partner", "City": "Kyoto"}),
        )
        .unwrap();
    let donor = sf
        .insert_record(
            "Lead",
            json!({"LastName": "Ode", "Company": "Ode Giving", "Role__c": "Donor"}),
        )
        .unwrap();
    for (id, tx) in [(&partner, "tx-c1"), (&donor, "tx-c2")] {
        let create = lead_event(
            &[id],
            "CREATE",
            T1,
            tx,
            1,
            PERSON,
            &[],
            json!({"LastName": "x", "Company": "x", "CreatedDate": T1}),
        );
        send(&w, &create).await;
    }
    let store = &w.store;
    let link = store
        .link_by_record(
            &SObjectName::new("Lead"),
            &crmmap_ids::RecordId::parse(&partner).unwrap(),
        )
        .await
        .unwrap()
        .expect("the selected record has an item");
    assert!(column(&w, &link, CITY).contains("Kyoto"));
    let item = w.monday.state().item(link.item_id.get()).unwrap();
    assert_eq!(item.board_id, LEAD);
    assert!(
        store
            .link_by_record(
                &SObjectName::new("Lead"),
                &crmmap_ids::RecordId::parse(&donor).unwrap()
            )
            .await
            .unwrap()
            .is_none()
    );
    w.stop().await;
}

pub async fn a_delete_follows_the_objects_policy(backend: Backend) {
    let mut s = setup(backend);
    let mut set = plans();
    for p in &mut set.plans {
        if p.object == "Lead" {
            p.on_salesforce_delete = ItemDeletePolicy::Archive;
        }
    }
    s.plans = set;
    let Some(w) = migrated(s).await else {
        return;
    };
    let lead = w.linked_lead(false).await;
    w.sf.state().delete_record(lead.record_id.as_str());
    let delete = lead_event(
        &[lead.record_id.as_str()],
        "DELETE",
        T1,
        "tx-del",
        1,
        PERSON,
        &[],
        json!({}),
    );
    let body = send(&w, &delete).await;
    assert_eq!(outcome(&body), "deleted", "{body}");
    let item = w.monday.state().item(lead.item_id.get()).unwrap();
    assert_eq!(item.state, crmmap_emu_monday::state::ItemState::Archived);
    assert!(
        w.store
            .link_by_record(&SObjectName::new("Lead"), &lead.record_id)
            .await
            .unwrap()
            .is_none()
    );
    w.stop().await;
}

pub async fn a_gap_event_reads_the_record(backend: Backend) {
    let Some(w) = migrated(setup(backend)).await else {
        return;
    };
    let lead = w.linked_lead(false).await;
    w.sf.state()
        .update_record(lead.record_id.as_str(), json!({ "City": "Gapville" }));
    let q0 = w.sf.state().counters().queries();
    // §1c: header and record ids, every body field null.
    let gap = lead_event(
        &[lead.record_id.as_str()],
        "GAP_UPDATE",
        T1,
        "tx-gap",
        19,
        PERSON,
        &[],
        json!({ "City": null, "LastName": null }),
    );
    let body = send(&w, &gap).await;
    assert_eq!(outcome(&body), "updated", "{body}");
    assert!(
        w.sf.state().counters().queries() > q0,
        "the record was read"
    );
    assert!(column(&w, &lead, CITY).contains("Gapville"));
    w.stop().await;
}

pub async fn an_overflow_reconciles_the_object_from_its_commit_time(backend: Backend) {
    let Some(w) = migrated(setup(backend)).await else {
        return;
    };
    let lead = w.linked_lead(false).await;
    let mark = w
        .store
        .watermark(crmmap_store::WatermarkKey::Records(
            &crmmap_ids::ObjectName::new("Lead"),
        ))
        .await
        .unwrap()
        .expect("the migration left a watermark");
    // A change stamped before the watermark: an incremental migration alone misses it.
    let stamped = mark.modstamp - time::Duration::days(1);
    w.sf.state()
        .update_record(lead.record_id.as_str(), json!({ "City": "Overflowed" }));
    w.sf.state()
        .set_last_modified(lead.record_id.as_str(), stamped);
    let commit = stamped - time::Duration::hours(1);
    let commit_ms = i64::try_from(commit.unix_timestamp_nanos() / 1_000_000).unwrap();
    let overflow = lead_event(
        &[],
        "GAP_OVERFLOW",
        commit_ms,
        "tx-big",
        1,
        PERSON,
        &[],
        json!({}),
    );
    let body = send(&w, &overflow).await;
    assert_eq!(outcome(&body), "updated", "{body}");
    assert!(column(&w, &lead, CITY).contains("Overflowed"));
    w.stop().await;
}

pub async fn a_monday_outage_queues_the_change_until_it_is_written(backend: Backend) {
    let mut s = setup(backend);
    s.client_retries = false;
    s.options.retry = retry_at_once(20);
    let Some(w) = migrated(s).await else {
        return;
    };
    let lead = w.linked_lead(false).await;
    w.sf.state()
        .update_record(lead.record_id.as_str(), json!({ "City": "Outage" }));
    w.monday.state().set_error_rate(1.0);
    let body = send(
        &w,
        &city_update(lead.record_id.as_str(), "Outage", T1, "tx-out"),
    )
    .await;
    assert_eq!(outcome(&body), "queued", "{body}");
    assert!(!column(&w, &lead, CITY).contains("Outage"));
    // The same delivery again while it waits: it is not applied twice.
    let body = send(
        &w,
        &city_update(lead.record_id.as_str(), "Outage", T1, "tx-out"),
    )
    .await;
    assert_eq!(outcome(&body), "duplicate", "{body}");
    w.monday.state().set_error_rate(0.0);
    for _ in 0..50 {
        w.webhook.drain_retries(10).await.unwrap();
        if column(&w, &lead, CITY).contains("Outage") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        column(&w, &lead, CITY).contains("Outage"),
        "the queued change reached monday: {}",
        column(&w, &lead, CITY)
    );
    w.stop().await;
}
