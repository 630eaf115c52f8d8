//! What an item may do to Salesforce: an archived or deleted item writes nothing and links to
//! nothing, and the Id in an item's key column binds the item to a record only when the
//! mapping selects that record and no other item holds it.

use crmmap_emu_salesforce::EndpointKind;
use crmmap_emu_salesforce::seed::{PARTNER_OPPORTUNITY_RECORD_TYPE, other_opportunity_record_type};
use crmmap_engine::plan::DeletePlan;
use crmmap_store::Backend;
use serde_json::{Value, json};

use crate::harness::*;

/// The key column of the Opportunity board.
const OPPORTUNITY_KEY: &str = "text_mkry20c9";
/// The key column of the Lead board.
const LEAD_KEY: &str = "text_mkryhch5";

crmmap_testkit::backend_tests!(
    authority;
    a_late_create_for_a_deleted_item_creates_no_record,
    a_column_change_on_an_archived_item_writes_nothing,
    a_link_to_a_deleted_item_is_unlinked,
    a_key_column_outside_the_selection_binds_nothing,
    a_duplicated_item_gets_its_own_record,
    deleting_an_item_keyed_by_hand_to_an_unselected_record_deletes_nothing,
);

fn detail(body: &Value) -> String {
    body["detail"].as_str().unwrap_or_default().to_owned()
}

fn num(item: &str) -> u64 {
    item.parse().expect("numeric item id")
}

/// Nothing waits in the retry queue and nothing was dead-lettered.
async fn assert_no_retries(w: &World) {
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let counts = w.store.retry_counts(later).await.unwrap();
    assert_eq!(
        (counts.due, counts.waiting, counts.dead),
        (0, 0, 0),
        "{:?}",
        w.log_reasons().await
    );
}

/// Sets a stored column value in the monday emulator without an event (what monday holds
/// when a change's delivery arrives late).
fn store_value(w: &World, item: &str, column: &str, value: Value) {
    let id = num(item);
    w.monday.state().with_account(|a| {
        a.items
            .get_mut(&id)
            .expect("item exists")
            .values
            .insert(column.to_owned(), value);
    });
}

/// A non-partner Opportunity record type and a non-partner Lead: records the shipped
/// mappings do not select.
fn unselected_opportunity(w: &World, name: &str) -> String {
    w.sf.state()
        .insert_record(
            "Opportunity",
            json!({
                "Name": name, "StageName": "Prospecting", "CloseDate": "2026-12-31",
                "RecordTypeId": other_opportunity_record_type(),
            }),
        )
        .expect("opportunity inserted")
}

pub async fn a_late_create_for_a_deleted_item_creates_no_record(backend: Backend) {
    let mut setup = Setup::new(backend);
    // Events are posted by the test, late.
    setup.deliver = false;
    let Some(w) = World::start(setup).await else {
        return;
    };
    let leads = w.records("Lead").len();
    for (i, archive) in [false, true].into_iter().enumerate() {
        let name = format!("Gone Before Its Create {i}");
        let item = w
            .create_item(LEAD, &name, json!({"text_mkry13cw": "Ada"}))
            .await;
        if archive {
            w.human.archive_item(item.parse().unwrap()).await.unwrap();
        } else {
            w.human.delete_item(item.parse().unwrap()).await.unwrap();
        }
        let (status, body) = w
            .post(&event(
                "create_pulse",
                LEAD,
                num(&item),
                &format!("late-create-{i}"),
                json!({"pulseName": name, "columnValues": {}}),
            ))
            .await;
        assert_eq!(status, 200);
        assert_eq!(body["outcome"], "skipped", "{body}");
        assert!(detail(&body).contains("item is archived/deleted"), "{body}");
        assert!(
            w.store
                .link_by_item(bid(LEAD.to_string()), iid(&item))
                .await
                .unwrap()
                .is_none()
        );
    }
    assert_eq!(w.records("Lead").len(), leads, "no record created");
    // A live item's create does create one (the same path, so the skip above is the state).
    let live = w.create_item(LEAD, "Alive At Its Create", json!({})).await;
    let (_, body) = w
        .post(&event(
            "create_pulse",
            LEAD,
            num(&live),
            "live-create",
            json!({"pulseName": "Alive At Its Create", "columnValues": {}}),
        ))
        .await;
    assert_eq!(body["outcome"], "created", "{body}");
    assert_eq!(w.records("Lead").len(), leads + 1);
    assert_no_retries(&w).await;
    w.stop().await;
}

pub async fn a_column_change_on_an_archived_item_writes_nothing(backend: Backend) {
    let Some(w) = World::start(Setup::new(backend)).await else {
        return;
    };
    let (item, record) = w.create_linked(LEAD, "Archived Org", json!({})).await;
    w.set(LEAD, &item, "text_mkrym6fa", json!("Lyon")).await;
    assert_eq!(w.record(&record)["City"], "Lyon");
    w.human.archive_item(item.parse().unwrap()).await.unwrap();
    w.delivered("archive", |e| {
        e["type"] == "archive_pulse" && id_is(&e["itemId"], &item)
    })
    .await;
    // A change made just before the archive whose delivery comes after it: monday holds it.
    store_value(&w, &item, "text_mkrym6fa", json!("Paris"));
    let before = w.record(&record);
    let updates = w.sf.state().counters().get(EndpointKind::Update);
    let (status, body) = w
        .post(&event(
            "update_column_value",
            LEAD,
            num(&item),
            "archived-change",
            json!({
                "columnId": "text_mkrym6fa", "columnType": "text",
                "value": {"value": "Paris"}, "previousValue": {"value": "Lyon"},
            }),
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["outcome"], "skipped", "{body}");
    assert!(detail(&body).contains("item is archived/deleted"), "{body}");
    // A rename of the archived item alike.
    let (_, body) = w
        .post(&event(
            "update_name",
            LEAD,
            num(&item),
            "archived-rename",
            json!({"value": {"name": "Renamed"}, "previousValue": {"name": "Archived Org"}}),
        ))
        .await;
    assert_eq!(body["outcome"], "skipped", "{body}");
    assert_eq!(w.record(&record), before, "the record is untouched");
    assert_eq!(w.sf.state().counters().get(EndpointKind::Update), updates);
    assert_no_retries(&w).await;
    w.stop().await;
}

pub async fn a_link_to_a_deleted_item_is_unlinked(backend: Backend) {
    let Some(w) = World::start(Setup::new(backend)).await else {
        return;
    };
    let relation = "board_relation_mks9cjfs";
    let (deleted, _) = w.create_linked(ACCOUNT, "Deleted Partner", json!({})).await;
    let (archived, _) = w
        .create_linked(ACCOUNT, "Archived Partner", json!({}))
        .await;
    let (live, live_record) = w.create_linked(ACCOUNT, "Live Partner", json!({})).await;
    let (lead_item, lead) = w.create_linked(LEAD, "Linking Org", json!({})).await;
    w.human.delete_item(deleted.parse().unwrap()).await.unwrap();
    w.human
        .archive_item(archived.parse().unwrap())
        .await
        .unwrap();
    for i in [&deleted, &archived] {
        w.delivered("delete or archive", |e| id_is(&e["itemId"], i))
            .await;
    }
    let lookup = |w: &World| {
        w.record(&lead)
            .get("Linked_Account__c")
            .cloned()
            .unwrap_or(Value::Null)
    };

    // monday keeps a deleted item's id in the relation: its change arrives for it.
    let value = json!({"linkedPulseIds": [{"linkedPulseId": num(&deleted)}]});
    store_value(&w, &lead_item, relation, value.clone());
    let (_, body) = w
        .post(&event(
            "update_column_value",
            LEAD,
            num(&lead_item),
            "link-to-deleted",
            json!({"columnId": relation, "columnType": "board-relation", "value": value, "previousValue": null}),
        ))
        .await;
    assert_ne!(body["outcome"], "queued", "{body}");
    assert_eq!(lookup(&w), Value::Null, "{:?}", w.log_reasons().await);

    // An archived item can be linked on monday; it counts as no link either.
    w.set(
        LEAD,
        &lead_item,
        relation,
        json!({"item_ids": [num(&archived)]}),
    )
    .await;
    assert_eq!(lookup(&w), Value::Null, "{:?}", w.log_reasons().await);

    // A live item sets the lookup (the same path).
    w.set(
        LEAD,
        &lead_item,
        relation,
        json!({"item_ids": [num(&live)]}),
    )
    .await;
    assert_eq!(lookup(&w), json!(live_record));
    assert_no_retries(&w).await;
    w.stop().await;
}

pub async fn a_key_column_outside_the_selection_binds_nothing(backend: Backend) {
    let Some(w) = World::start(Setup::new(backend)).await else {
        return;
    };
    let other_type = unselected_opportunity(&w, "Other Type Deal");
    let non_partner =
        w.sf.state()
            .insert_record(
                "Lead",
                json!({"Company": "Customer Co", "LastName": "Doe", "Role__c": "Customer"}),
            )
            .expect("lead inserted");
    let cases = [
        (
            OPPORTUNITY,
            OPPORTUNITY_KEY,
            other_type,
            "numeric_mksjdntv",
            json!("1234"),
        ),
        (LEAD, LEAD_KEY, non_partner, "text_mkrym6fa", json!("Oslo")),
    ];
    for (board, key, record, column, value) in cases {
        let before = w.record(&record);
        let count = w
            .records(if board == LEAD { "Lead" } else { "Opportunity" })
            .len();
        let item = w
            .create_item(board, "Keyed By Hand", json!({ key: record }))
            .await;
        w.delivered("create", |e| {
            e["type"] == "create_pulse" && id_is(&e["pulseId"], &item)
        })
        .await;
        // A change that would be written if the item were bound to the record.
        w.set(board, &item, column, value).await;
        w.change(board, &item, json!({"name": "Renamed By Hand"}))
            .await;
        w.delivered("rename", |e| {
            e["type"] == "update_name" && id_is(&e["pulseId"], &item)
        })
        .await;
        assert_eq!(
            w.record(&record),
            before,
            "{board}: the record is untouched"
        );
        assert_eq!(
            w.records(if board == LEAD { "Lead" } else { "Opportunity" })
                .len(),
            count,
            "{board}: no record created"
        );
        assert!(
            w.store
                .link_by_item(bid(board.to_string()), iid(&item))
                .await
                .unwrap()
                .is_none(),
            "{board}: not linked"
        );
    }
    let log = w.log_reasons().await;
    assert!(
        log.iter()
            .filter(|l| l.contains("not a record this mapping syncs"))
            .count()
            >= 6,
        "{log:?}"
    );
    assert_no_retries(&w).await;

    // A record of the selection binds, and the change reaches it.
    let selected =
        w.sf.state()
            .insert_record(
                "Opportunity",
                json!({
                    "Name": "Partner Deal", "StageName": "Prospecting", "CloseDate": "2026-12-31",
                    "RecordTypeId": PARTNER_OPPORTUNITY_RECORD_TYPE,
                }),
            )
            .expect("opportunity inserted");
    let item = w
        .create_item(
            OPPORTUNITY,
            "Partner Deal",
            json!({ OPPORTUNITY_KEY: selected }),
        )
        .await;
    w.delivered("create", |e| {
        e["type"] == "create_pulse" && id_is(&e["pulseId"], &item)
    })
    .await;
    w.set(OPPORTUNITY, &item, "numeric_mksjdntv", json!("1234"))
        .await;
    assert_eq!(w.record(&selected)["Amount"].as_f64(), Some(1234.0));
    w.stop().await;
}

pub async fn a_duplicated_item_gets_its_own_record(backend: Backend) {
    let Some(w) = World::start(Setup::new(backend)).await else {
        return;
    };
    let (original_item, original) = w
        .create_linked(OPPORTUNITY, "Original Deal", json!({}))
        .await;
    w.set(
        OPPORTUNITY,
        &original_item,
        "numeric_mksjdntv",
        json!("500"),
    )
    .await;
    let before = w.record(&original);
    let count = w.records("Opportunity").len();
    // monday's "Duplicate": a new item with the original's values, its key column included.
    let copy = w
        .create_item(
            OPPORTUNITY,
            "Original Deal (copy)",
            json!({ OPPORTUNITY_KEY: original, "numeric_mksjdntv": "500" }),
        )
        .await;
    w.delivered("create", |e| {
        e["type"] == "create_pulse" && id_is(&e["pulseId"], &copy)
    })
    .await;
    let link = w
        .store
        .link_by_item(bid(OPPORTUNITY.to_string()), iid(&copy))
        .await
        .unwrap()
        .expect("the copy is linked to a record of its own");
    assert_ne!(link.record_id.as_str(), original);
    let created = w.record(link.record_id.as_str());
    assert_eq!(created["Name"], "Original Deal (copy)");
    assert_eq!(w.records("Opportunity").len(), count + 1);
    // Its key column now holds its own record id.
    let stored = w.monday.state().item(num(&copy)).unwrap();
    assert_eq!(
        stored.values.get(OPPORTUNITY_KEY),
        Some(&json!(link.record_id))
    );
    // Later edits of the copy go to its own record.
    w.set(OPPORTUNITY, &copy, "numeric_mksjdntv", json!("750"))
        .await;
    assert_eq!(
        w.record(link.record_id.as_str())["Amount"].as_f64(),
        Some(750.0)
    );
    assert_eq!(
        w.record(&original),
        before,
        "the original's record is untouched"
    );
    let original_link = w
        .store
        .link_by_record(
            &SObjectName::new("Opportunity"),
            &crmmap_ids::RecordId::parse(&original).unwrap(),
        )
        .await
        .unwrap()
        .expect("original still linked");
    assert_eq!(original_link.item_id, iid(&original_item));
    let log = w.log_reasons().await;
    assert!(
        log.iter()
            .any(|l| l.contains(&format!("a copy of item {original_item}"))),
        "{log:?}"
    );
    assert_no_retries(&w).await;
    w.stop().await;
}

pub async fn deleting_an_item_keyed_by_hand_to_an_unselected_record_deletes_nothing(
    backend: Backend,
) {
    let mut setup = Setup::new(backend);
    for p in setup.plans.plans.iter_mut() {
        if p.object == "Opportunity" {
            p.on_delete = DeletePlan::Delete;
        }
    }
    let Some(w) = World::start(setup).await else {
        return;
    };
    let other = unselected_opportunity(&w, "Not Ours To Delete");
    let before = w.record(&other);
    let item = w
        .create_item(
            OPPORTUNITY,
            "Keyed By Hand",
            json!({ OPPORTUNITY_KEY: other }),
        )
        .await;
    w.delivered("create", |e| {
        e["type"] == "create_pulse" && id_is(&e["pulseId"], &item)
    })
    .await;
    w.set(OPPORTUNITY, &item, "numeric_mksjdntv", json!("99"))
        .await;
    w.human.delete_item(item.parse().unwrap()).await.unwrap();
    w.delivered("delete", |e| {
        e["type"] == "delete_pulse" && id_is(&e["itemId"], &item)
    })
    .await;
    assert_eq!(w.record(&other), before, "{:?}", w.log_reasons().await);
    assert_ne!(w.record(&other).get("IsDeleted"), Some(&json!(true)));
    assert_eq!(w.sf.state().counters().get(EndpointKind::Delete), 0);
    // The policy is in force: a linked item's record is deleted with it.
    let (linked, record) = w
        .create_linked(OPPORTUNITY, "Ours To Delete", json!({}))
        .await;
    w.human.delete_item(linked.parse().unwrap()).await.unwrap();
    w.delivered("delete", |e| {
        e["type"] == "delete_pulse" && id_is(&e["itemId"], &linked)
    })
    .await;
    assert_eq!(w.record(&record).get("IsDeleted"), Some(&json!(true)));
    assert_no_retries(&w).await;
    w.stop().await;
}
