//! The store behaviours, written once and run on every backend.

use crmmap_ids::{BoardId, ItemId, ObjectName, SObjectName};
use crmmap_testkit::record_id as rid;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crmmap_store::{
    Action, Backend, BreakerChange, Completion, EVENT_LEASE, EventOutcome, EventScope, EventStart,
    FailOutcome, Failure, FailureClass, IntentStatus, ItemEvent, LogEntry, LogFilter, NAME_KEY,
    NewParkedLink, ObjectStep, RequeueFilter, RetryCounts, RetryPolicy, RetryRequest, RetryStatus,
    RunStatus, RunnerKind, SetValue, Side, Store, StoreError, StoreOptions, SyncedKey, Watermark,
    WatermarkKey, column_key, field_key,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::harness::{TestDb, wait_until};

const BOARD: BoardId = BoardId::new(9378000505);
const T0: OffsetDateTime = datetime!(2026-03-01 09:00 UTC);

fn at(minutes: i64) -> OffsetDateTime {
    T0 + time::Duration::minutes(minutes)
}

pub async fn migrations_apply_again_on_reconnect(db: &TestDb) {
    let store = db.store();
    store
        .upsert_link(
            BOARD,
            ItemId::new(1),
            &SObjectName::new("Lead"),
            &rid("00Q1"),
            T0,
        )
        .await
        .unwrap();
    // Two more connects at once: migrations are already applied, and concurrent
    // migrators must not trip over each other.
    let (a, b) = tokio::join!(db.connect_again(), db.connect_again());
    for s in [&a, &b] {
        let link = s
            .link_by_item(BOARD, ItemId::new(1))
            .await
            .unwrap()
            .expect("data kept across reconnect");
        // Stored and read back as the 18-character form.
        assert_eq!(link.record_id.as_str(), "00Q000000000001EAA");
    }
    if db.backend() == Backend::Sqlite {
        let path = db.url().trim_start_matches("sqlite://");
        assert!(
            std::path::Path::new(path).is_file(),
            "sqlite file created on first use"
        );
    }
    for s in [db.store(), &a, &b] {
        s.ping().await.unwrap();
        assert_eq!(s.schema_version().await.unwrap(), 20261207000001);
    }
    a.close().await;
    b.close().await;
}

pub async fn links_upsert_and_lookup_both_ways(db: &TestDb) {
    let store = db.store();
    let created = store
        .upsert_link(
            BOARD,
            ItemId::new(101),
            &SObjectName::new("Lead"),
            &rid("00Q1"),
            at(0),
        )
        .await
        .unwrap();
    assert_eq!((created.created_at, created.updated_at), (at(0), at(0)));
    store
        .upsert_link(
            BOARD,
            ItemId::new(102),
            &SObjectName::new("Lead"),
            &rid("00Q2"),
            at(0),
        )
        .await
        .unwrap();
    store
        .upsert_link(
            BoardId::new(999),
            ItemId::new(201),
            &SObjectName::new("Account"),
            &rid("0011"),
            at(0),
        )
        .await
        .unwrap();

    let by_item = store
        .link_by_item(BOARD, ItemId::new(101))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (by_item.object.as_str(), &by_item.record_id),
        ("Lead", &rid("00Q1"))
    );
    let by_record = store
        .link_by_record(&SObjectName::new("Lead"), &rid("00Q2"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (by_record.board_id, by_record.item_id),
        (BOARD, ItemId::new(102))
    );
    assert!(
        store
            .link_by_record(&SObjectName::new("Account"), &rid("00Q2"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .link_by_item(BOARD, ItemId::new(404))
            .await
            .unwrap()
            .is_none()
    );

    // Upserting again is idempotent but moves updated_at.
    let again = store
        .upsert_link(
            BOARD,
            ItemId::new(101),
            &SObjectName::new("Lead"),
            &rid("00Q1"),
            at(5),
        )
        .await
        .unwrap();
    assert_eq!((again.created_at, again.updated_at), (at(0), at(5)));

    let leads: Vec<ItemId> = store
        .links_for_object(&SObjectName::new("Lead"))
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.item_id)
        .collect();
    assert_eq!(leads, [ItemId::new(101), ItemId::new(102)]);

    // Batch lookups for a page of records or items; unlinked ones are absent.
    let ids = |v: &[&str]| v.iter().map(|s| rid(s)).collect::<Vec<_>>();
    let mut page = store
        .links_by_records(&SObjectName::new("Lead"), &ids(&["00Q2", "00Q404", "00Q1"]))
        .await
        .unwrap();
    page.sort_by(|a, b| a.record_id.cmp(&b.record_id));
    let page_items: Vec<u64> = page.iter().map(|l| l.item_id.get()).collect();
    assert_eq!(page_items, [101, 102]);
    let many: Vec<_> = (0..1_200)
        .map(|i| rid(&format!("00Qx{i}")))
        .chain(ids(&["00Q1"]))
        .collect();
    let found = store
        .links_by_records(&SObjectName::new("Lead"), &many)
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "chunked lookup");
    let items = store
        .links_by_items(BOARD, &[ItemId::new(102), ItemId::new(999)])
        .await
        .unwrap();
    let records: Vec<_> = items.iter().map(|l| l.record_id.clone()).collect();
    assert_eq!(records, [rid("00Q2")]);
    assert!(store.links_by_items(BOARD, &[]).await.unwrap().is_empty());

    assert!(store.delete_link(BOARD, ItemId::new(102)).await.unwrap());
    assert!(!store.delete_link(BOARD, ItemId::new(102)).await.unwrap());
    assert!(
        store
            .link_by_record(&SObjectName::new("Lead"), &rid("00Q2"))
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn link_conflicts_and_repointing(db: &TestDb) {
    let store = db.store();
    store
        .upsert_link(
            BOARD,
            ItemId::new(1),
            &SObjectName::new("Lead"),
            &rid("00QA"),
            T0,
        )
        .await
        .unwrap();
    store
        .upsert_link(
            BOARD,
            ItemId::new(2),
            &SObjectName::new("Lead"),
            &rid("00QB"),
            T0,
        )
        .await
        .unwrap();
    let value = |key: &str| SetValue {
        key: SyncedKey::parse(key).unwrap(),
        value: json!("x"),
        source: Side::Monday,
    };
    store
        .set_synced_values(BOARD, ItemId::new(1), &[value("name")], T0)
        .await
        .unwrap();

    // A record belongs to one item only.
    let err = store
        .upsert_link(
            BOARD,
            ItemId::new(2),
            &SObjectName::new("Lead"),
            &rid("00QA"),
            at(1),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::LinkConflict { .. }), "{err}");
    assert_eq!(
        store
            .link_by_item(BOARD, ItemId::new(2))
            .await
            .unwrap()
            .unwrap()
            .record_id,
        rid("00QB")
    );

    // Same pairing again keeps the synced values; a new pairing drops them.
    store
        .upsert_link(
            BOARD,
            ItemId::new(1),
            &SObjectName::new("Lead"),
            &rid("00QA"),
            at(2),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .synced_values(BOARD, ItemId::new(1))
            .await
            .unwrap()
            .len(),
        1
    );
    store
        .upsert_link(
            BOARD,
            ItemId::new(1),
            &SObjectName::new("Lead"),
            &rid("00QC"),
            at(3),
        )
        .await
        .unwrap();
    assert!(
        store
            .synced_values(BOARD, ItemId::new(1))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .link_by_record(&SObjectName::new("Lead"), &rid("00QA"))
            .await
            .unwrap()
            .is_none()
    );

    // Deleting a link deletes its values.
    store
        .set_synced_values(BOARD, ItemId::new(1), &[value("name")], at(4))
        .await
        .unwrap();
    store.delete_link(BOARD, ItemId::new(1)).await.unwrap();
    store
        .upsert_link(
            BOARD,
            ItemId::new(1),
            &SObjectName::new("Lead"),
            &rid("00QC"),
            at(5),
        )
        .await
        .unwrap();
    assert!(
        store
            .synced_values(BOARD, ItemId::new(1))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn synced_values_set_many_and_read_back(db: &TestDb) {
    let store = db.store();
    store
        .upsert_link(
            BOARD,
            ItemId::new(7),
            &SObjectName::new("Lead"),
            &rid("00Q7"),
            T0,
        )
        .await
        .unwrap();
    let status = column_key(&"color_mksj2adq".into());
    let first = field_key("FirstName");
    store
        .set_synced_values(
            BOARD,
            ItemId::new(7),
            &[
                SetValue {
                    key: status.clone(),
                    value: json!({"label": "Working"}),
                    source: Side::Monday,
                },
                SetValue {
                    key: first.clone(),
                    value: json!("Ada"),
                    source: Side::Salesforce,
                },
                SetValue {
                    key: NAME_KEY,
                    value: json!("Acme"),
                    source: Side::Monday,
                },
            ],
            at(1),
        )
        .await
        .unwrap();
    store
        .set_synced_values(
            BOARD,
            ItemId::new(7),
            &[SetValue {
                key: first.clone(),
                value: json!(null),
                source: Side::Monday,
            }],
            at(2),
        )
        .await
        .unwrap();
    let values = store.synced_values(BOARD, ItemId::new(7)).await.unwrap();
    let keys: Vec<String> = values.iter().map(|v| v.key.encode()).collect();
    assert_eq!(keys, ["column:color_mksj2adq", "field:FirstName", "name"]);
    assert_eq!(values[0].value, json!({"label": "Working"}));
    assert_eq!(
        (values[0].source, values[0].synced_at),
        (Side::Monday, at(1))
    );
    assert_eq!(values[1].value, json!(null));
    assert_eq!(
        (values[1].source, values[1].synced_at),
        (Side::Monday, at(2))
    );

    let err = store
        .set_synced_values(
            BOARD,
            ItemId::new(8),
            &[SetValue {
                key: NAME_KEY,
                value: json!(1),
                source: Side::Monday,
            }],
            T0,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::UnknownLink { .. }), "{err}");
}

pub async fn synced_values_round_trip_exactly(db: &TestDb) {
    let store = db.store();
    store
        .upsert_link(
            BOARD,
            ItemId::new(77),
            &SObjectName::new("Lead"),
            &rid("00Qrt"),
            T0,
        )
        .await
        .unwrap();
    let tricky = [
        json!(u64::MAX),
        json!(i64::MIN),
        json!(0.1),
        json!(1e300),
        json!(""),
        json!("Zoë — 東京 \"quoted\" \\ back\nslash"),
        json!({"z": 1, "a": [true, false, null], "m": {"labels": ["Curriculum", "Mentoring"]}}),
        json!([]),
        json!({}),
    ];
    let values: Vec<SetValue> = tricky
        .iter()
        .enumerate()
        .map(|(i, v)| SetValue {
            key: field_key(&format!("F{i}")),
            value: v.clone(),
            source: Side::Salesforce,
        })
        .collect();
    store
        .set_synced_values(BOARD, ItemId::new(77), &values, T0)
        .await
        .unwrap();
    let back = store.synced_values(BOARD, ItemId::new(77)).await.unwrap();
    assert_eq!(back.len(), tricky.len());
    for v in &values {
        let got = back.iter().find(|b| b.key == v.key).unwrap();
        assert_eq!(got.value, v.value, "{}", v.key);
    }
}

pub async fn event_dedup_exactly_one_starts_under_concurrency(db: &TestDb) {
    let other = db.connect_again().await;
    let uuid = "b95777fd072aab62280dfb409b81232b";
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let s = if i % 2 == 0 {
                db.store().clone()
            } else {
                other.clone()
            };
            tokio::spawn(async move { s.begin_event(uuid, T0).await.unwrap() })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let started = results
        .iter()
        .filter(|r| **r == EventStart::Started)
        .count();
    assert_eq!(started, 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| matches!(r, EventStart::Started | EventStart::InProgress))
    );

    db.store()
        .finish_event(uuid, EventOutcome::Applied, Some("updated Lead"), at(1))
        .await
        .unwrap();
    assert_eq!(
        other.begin_event(uuid, at(2)).await.unwrap(),
        EventStart::AlreadyApplied
    );
    // Long after: still applied (dedup does not expire).
    assert_eq!(
        other.begin_event(uuid, at(60 * 24)).await.unwrap(),
        EventStart::AlreadyApplied
    );
    other.close().await;
}

pub async fn event_failed_or_stale_is_taken_over(db: &TestDb) {
    let store = db.store();
    assert_eq!(
        store.begin_event("e1", T0).await.unwrap(),
        EventStart::Started
    );
    store
        .finish_event("e1", EventOutcome::Failed, Some("salesforce 503"), at(1))
        .await
        .unwrap();
    assert_eq!(
        store.begin_event("e1", at(2)).await.unwrap(),
        EventStart::Started
    );
    assert_eq!(
        store.begin_event("e1", at(3)).await.unwrap(),
        EventStart::InProgress
    );

    // An owner that died: taken over once its lease is over, not before.
    assert_eq!(
        store.begin_event("e2", T0).await.unwrap(),
        EventStart::Started
    );
    let almost = T0 + EVENT_LEASE - time::Duration::seconds(1);
    assert_eq!(
        store.begin_event("e2", almost).await.unwrap(),
        EventStart::InProgress
    );
    let after = T0 + EVENT_LEASE + time::Duration::seconds(1);
    assert_eq!(
        store.begin_event("e2", after).await.unwrap(),
        EventStart::Started
    );
    assert_eq!(
        store.begin_event("e2", after).await.unwrap(),
        EventStart::InProgress
    );
}

pub async fn create_intent_survives_a_crash(db: &TestDb) {
    let intent = db
        .store()
        .record_create_intent(
            BOARD,
            ItemId::new(55),
            &SObjectName::new("Lead"),
            "crmmap-key-1",
            T0,
        )
        .await
        .unwrap();
    assert_eq!(
        (intent.status, intent.record_id),
        (IntentStatus::Pending, None)
    );

    // The process dies after creating the record in Salesforce, before the write-back.
    db.store().close().await;
    let store = db.connect_again().await;

    let pending = store
        .pending_create_intent(BOARD, ItemId::new(55))
        .await
        .unwrap()
        .expect("intent survived");
    assert_eq!(pending.idempotency_key, "crmmap-key-1");
    assert_eq!(pending.object.as_str(), "Lead");
    // The retry records its intent again with a new key: the first key wins.
    let again = store
        .record_create_intent(
            BOARD,
            ItemId::new(55),
            &SObjectName::new("Lead"),
            "crmmap-key-2",
            at(1),
        )
        .await
        .unwrap();
    assert_eq!(again.idempotency_key, "crmmap-key-1");
    assert_eq!(again.created_at, T0);
    let stale = store.pending_create_intents(at(1)).await.unwrap();
    assert_eq!(stale.len(), 1);
    assert!(store.pending_create_intents(T0).await.unwrap().is_empty());

    // Reconciled: the record found by key is linked, the intent completed.
    let link = store
        .complete_create_intent(BOARD, ItemId::new(55), &rid("00Q55"), at(2))
        .await
        .unwrap();
    assert_eq!(
        (link.object.as_str(), &link.record_id),
        ("Lead", &rid("00Q55"))
    );
    assert!(
        store
            .pending_create_intent(BOARD, ItemId::new(55))
            .await
            .unwrap()
            .is_none()
    );
    let done = store
        .create_intent(BOARD, ItemId::new(55))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (done.status, done.record_id),
        (IntentStatus::Completed, Some(rid("00Q55")))
    );
    assert_eq!(done.completed_at, Some(at(2)));
    // Completing twice is harmless.
    store
        .complete_create_intent(BOARD, ItemId::new(55), &rid("00Q55"), at(3))
        .await
        .unwrap();
    let again = store
        .record_create_intent(
            BOARD,
            ItemId::new(55),
            &SObjectName::new("Lead"),
            "crmmap-key-3",
            at(4),
        )
        .await
        .unwrap();
    assert_eq!(again.status, IntentStatus::Completed);

    let err = store
        .complete_create_intent(BOARD, ItemId::new(55), &rid("00Q99"), at(3))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::IntentCompleted { ref record_id, .. } if *record_id == rid("00Q55")),
        "{err}"
    );
    assert_eq!(
        store
            .link_by_item(BOARD, ItemId::new(55))
            .await
            .unwrap()
            .unwrap()
            .record_id,
        rid("00Q55")
    );

    let err = store
        .complete_create_intent(BOARD, ItemId::new(56), &rid("00Q56"), at(2))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::UnknownIntent { .. }), "{err}");
    // A record already linked elsewhere: refused, the intent stays pending.
    store
        .record_create_intent(
            BOARD,
            ItemId::new(57),
            &SObjectName::new("Lead"),
            "crmmap-key-57",
            at(2),
        )
        .await
        .unwrap();
    let err = store
        .complete_create_intent(BOARD, ItemId::new(57), &rid("00Q55"), at(3))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::LinkConflict { .. }), "{err}");
    assert!(
        store
            .pending_create_intent(BOARD, ItemId::new(57))
            .await
            .unwrap()
            .is_some()
    );
    store.close().await;
}

pub async fn item_lock_excludes_across_stores(db: &TestDb) {
    let other = db.connect_again().await;
    let guard = db.store().lock_item(BOARD, ItemId::new(1)).await.unwrap();
    assert!(
        other
            .try_lock_item(BOARD, ItemId::new(1))
            .await
            .unwrap()
            .is_none(),
        "second store got a held lock"
    );
    // Another item is independent.
    let g2 = other
        .try_lock_item(BOARD, ItemId::new(2))
        .await
        .unwrap()
        .expect("other item is free");
    g2.release().await.unwrap();
    guard.release().await.unwrap();
    let again = other
        .try_lock_item(BOARD, ItemId::new(1))
        .await
        .unwrap()
        .expect("released lock is free");
    again.release().await.unwrap();

    // Under contention from two stores, never two holders at once.
    let inside = Arc::new(Mutex::new((0u32, 0u32)));
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let s = if i % 2 == 0 {
                db.store().clone()
            } else {
                other.clone()
            };
            let inside = inside.clone();
            tokio::spawn(async move {
                let g = s.lock_item(BOARD, ItemId::new(88)).await.unwrap();
                {
                    let mut n = inside.lock().unwrap();
                    n.0 += 1;
                    n.1 = n.1.max(n.0);
                }
                tokio::task::yield_now().await;
                s.append_log(&LogEntry::new(T0, RunnerKind::Webhook, Action::Updated))
                    .await
                    .unwrap();
                inside.lock().unwrap().0 -= 1;
                g.release().await.unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(inside.lock().unwrap().1, 1, "two holders at once");
    other.close().await;
}

pub async fn item_lock_serves_waiters_in_order(db: &TestDb) {
    // Two stores with their own pools: two Lambda instances on one database.
    let second = db.connect_again().await;
    let order = Arc::new(Mutex::new(Vec::new()));
    let first = db.store().lock_item(BOARD, ItemId::new(42)).await.unwrap();

    let spawn_waiter = |store: Store, name: &'static str| {
        let order = order.clone();
        tokio::spawn(async move {
            let g = store.lock_item(BOARD, ItemId::new(42)).await.unwrap();
            order.lock().unwrap().push(name);
            g.release().await.unwrap();
        })
    };
    let b = spawn_waiter(second.clone(), "B");
    wait_until("B waits", || async {
        db.store()
            .item_lock_waiters(BOARD, ItemId::new(42))
            .await
            .unwrap()
            == 1
    })
    .await;
    let c = spawn_waiter(db.store().clone(), "C");
    wait_until("C waits", || async {
        db.store()
            .item_lock_waiters(BOARD, ItemId::new(42))
            .await
            .unwrap()
            == 2
    })
    .await;
    let d = spawn_waiter(second.clone(), "D");
    wait_until("D waits", || async {
        db.store()
            .item_lock_waiters(BOARD, ItemId::new(42))
            .await
            .unwrap()
            == 3
    })
    .await;

    order.lock().unwrap().push("A");
    first.release().await.unwrap();
    for t in [b, c, d] {
        t.await.unwrap();
    }
    assert_eq!(*order.lock().unwrap(), ["A", "B", "C", "D"]);
    assert_eq!(
        db.store()
            .item_lock_waiters(BOARD, ItemId::new(42))
            .await
            .unwrap(),
        0
    );
    second.close().await;
}

pub async fn item_lock_waiters_do_not_starve_the_holder(db: &TestDb) {
    // A small query pool and more waiters than it has connections.
    let options = StoreOptions {
        max_connections: 2,
        ..StoreOptions::default()
    };
    let store = db.connect_again_with(&options).await;
    let guard = store.lock_item(BOARD, ItemId::new(99)).await.unwrap();
    let waiters: Vec<_> = (0..6)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(async move {
                let g = s.lock_item(BOARD, ItemId::new(99)).await.unwrap();
                s.append_log(&LogEntry::new(T0, RunnerKind::Webhook, Action::Unchanged))
                    .await
                    .unwrap();
                g.release().await.unwrap();
            })
        })
        .collect();
    wait_until("six waiters", || async {
        store
            .item_lock_waiters(BOARD, ItemId::new(99))
            .await
            .unwrap()
            == 6
    })
    .await;
    // The holder still gets query connections for its own work.
    for _ in 0..5 {
        store
            .append_log(&LogEntry::new(T0, RunnerKind::Webhook, Action::Updated))
            .await
            .unwrap();
    }
    guard.release().await.unwrap();
    for w in waiters {
        w.await.unwrap();
    }
    assert_eq!(
        store.query_log(&LogFilter::default()).await.unwrap().len(),
        11
    );
    store.close().await;
}

pub async fn item_lock_dropped_guard_frees_the_item(db: &TestDb) {
    let other = db.connect_again().await;
    {
        let _guard = db.store().lock_item(BOARD, ItemId::new(9)).await.unwrap();
        assert!(
            other
                .try_lock_item(BOARD, ItemId::new(9))
                .await
                .unwrap()
                .is_none()
        );
        // Dropped without release (a panic, an early return).
    }
    // On PostgreSQL the lock goes with the closed session, which takes a moment.
    let mut got = None;
    for _ in 0..2_000 {
        if let Some(g) = other.try_lock_item(BOARD, ItemId::new(9)).await.unwrap() {
            got = Some(g);
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    got.expect("a dropped guard never freed the item")
        .release()
        .await
        .unwrap();
    other.close().await;
}

pub async fn sync_log_filters_newest_first(db: &TestDb) {
    let store = db.store();
    let entries = [
        LogEntry::new(at(0), RunnerKind::Migrate, Action::Created)
            .object("Lead")
            .item(BOARD, ItemId::new(1))
            .record("00Q1"),
        LogEntry::new(at(1), RunnerKind::Migrate, Action::Failed)
            .object("Lead")
            .record("00Q2")
            .reason("monday returned 500")
            .request("create_item board 9378000505")
            .response("500 internal error"),
        LogEntry::new(at(2), RunnerKind::Webhook, Action::Skipped)
            .object("Account")
            .trigger("t-1")
            .reason("echo of our own write"),
        LogEntry::new(at(3), RunnerKind::Retry, Action::Failed)
            .object("Account")
            .reason("timeout"),
        LogEntry::new(at(3), RunnerKind::Webhook, Action::Updated)
            .object("Lead")
            .item(BOARD, ItemId::new(1)),
    ];
    let mut ids = Vec::new();
    for e in &entries {
        ids.push(store.append_log(e).await.unwrap());
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    let all = store.query_log(&LogFilter::default()).await.unwrap();
    let got: Vec<i64> = all.iter().map(|r| r.id).collect();
    assert_eq!(
        got,
        [ids[4], ids[3], ids[2], ids[1], ids[0]],
        "newest first, ties by id"
    );
    assert_eq!(all[3].entry, entries[1]);

    let failed = store
        .query_log(&LogFilter {
            failed_only: true,
            ..LogFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        failed.iter().map(|r| r.id).collect::<Vec<_>>(),
        [ids[3], ids[1]]
    );

    let since = store
        .query_log(&LogFilter {
            since: Some(at(2)),
            ..LogFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        since.iter().map(|r| r.id).collect::<Vec<_>>(),
        [ids[4], ids[3], ids[2]]
    );

    let filter = LogFilter {
        failed_only: true,
        since: Some(at(2)),
        object: Some("Account".into()),
        limit: 10,
    };
    let combined = store.query_log(&filter).await.unwrap();
    assert_eq!(combined.iter().map(|r| r.id).collect::<Vec<_>>(), [ids[3]]);

    let leads = store
        .query_log(&LogFilter {
            object: Some("Lead".into()),
            limit: 2,
            ..LogFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        leads.iter().map(|r| r.id).collect::<Vec<_>>(),
        [ids[4], ids[1]]
    );
}

pub async fn sync_log_scrubs_secrets(db: &TestDb) {
    let store = db.store();
    let session = "00D5g000004abcdEAA!ARQAQH7mC0VBqZsecretpart";
    let entry = LogEntry::new(T0, RunnerKind::Webhook, Action::Failed)
        .reason(format!("auth failed for {session}"))
        .request("PATCH /sobjects/Lead/00Q1 Authorization: Bearer abc123SECRET")
        .response(r#"{"access_token":"tok-SECRET-9","error":"invalid_grant"}"#);
    store.append_log(&entry).await.unwrap();
    let row = store
        .query_log(&LogFilter::default())
        .await
        .unwrap()
        .remove(0);
    let text = format!("{:?}", row.entry);
    for secret in ["ARQAQH7mC0VBqZsecretpart", "abc123SECRET", "tok-SECRET-9"] {
        assert!(!text.contains(secret), "secret `{secret}` stored: {text}");
    }
    assert!(
        row.entry
            .request_summary
            .unwrap()
            .starts_with("PATCH /sobjects/Lead/00Q1")
    );
    assert!(
        row.entry
            .response_summary
            .unwrap()
            .contains("invalid_grant")
    );
}

pub async fn watermark_keeps_ties_by_id(db: &TestDb) {
    let store = db.store();
    let lead_object = ObjectName::new("Lead");
    let lead = WatermarkKey::Records(&lead_object);
    assert!(store.watermark(lead).await.unwrap().is_none());
    let ts = "2026-02-01T10:00:00.000+0000";
    let w1 = Watermark::from_salesforce(ts, "00Q000000000003AAA").unwrap();
    assert!(store.advance_watermark(lead, &w1, T0).await.unwrap());

    // A page ended in the middle of records sharing the timestamp: the Id is kept.
    let stored = store.watermark(lead).await.unwrap().unwrap();
    assert_eq!(stored, w1);
    assert!(stored.covers(w1.modstamp, "00Q000000000002AAA"));
    assert!(
        !stored.covers(w1.modstamp, "00Q000000000004AAA"),
        "a record sharing the timestamp was skipped"
    );

    // Forward within the tie, never back.
    let w2 = Watermark::from_salesforce(ts, "00Q000000000005AAA").unwrap();
    assert!(store.advance_watermark(lead, &w2, at(1)).await.unwrap());
    assert!(!store.advance_watermark(lead, &w1, at(2)).await.unwrap());
    let earlier = Watermark::from_salesforce("2026-02-01T09:59:59.999+0000", "00Q9").unwrap();
    assert!(
        !store
            .advance_watermark(lead, &earlier, at(2))
            .await
            .unwrap()
    );
    assert_eq!(store.watermark(lead).await.unwrap().unwrap(), w2);

    // Ids compare byte-wise (case-sensitive), the same in Rust and in the database.
    let upper = Watermark::new(w2.modstamp, "00Q000000000005AAZ");
    let lower = Watermark::new(w2.modstamp, "00Q000000000005AAa");
    assert!(store.advance_watermark(lead, &upper, at(3)).await.unwrap());
    assert!(store.advance_watermark(lead, &lower, at(3)).await.unwrap());
    assert!(!store.advance_watermark(lead, &upper, at(3)).await.unwrap());

    // Sub-second precision survives (and orders) on both backends.
    let later = Watermark::from_salesforce("2026-02-01T10:00:00.001+0000", "00Q0").unwrap();
    assert!(store.advance_watermark(lead, &later, at(4)).await.unwrap());
    assert_eq!(
        store.watermark(lead).await.unwrap().unwrap().modstamp,
        datetime!(2026-02-01 10:00:00.001 UTC)
    );

    // An operator may reset it; objects are independent.
    store.set_watermark(lead, &w1, at(5)).await.unwrap();
    assert_eq!(store.watermark(lead).await.unwrap().unwrap(), w1);
    assert!(
        store
            .watermark(WatermarkKey::Records(&ObjectName::new("Account")))
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.clear_watermark(lead).await.unwrap());
    assert!(store.watermark(lead).await.unwrap().is_none());
}

pub async fn checkpoints_resume_after_a_crash(db: &TestDb) {
    let store = db.store();
    let old = store
        .start_run("run-0", "migrate", &json!({}), T0)
        .await
        .unwrap();
    store
        .finish_run(&old.id, RunStatus::Finished, at(1))
        .await
        .unwrap();
    let options = json!({"objects": ["Lead", "Account"], "full": false});
    let run = store
        .start_run("run-1", "migrate", &options, at(2))
        .await
        .unwrap();
    assert_eq!((run.status, run.objects.len()), (RunStatus::Running, 0));
    assert!(
        store
            .start_run("run-1", "migrate", &options, at(2))
            .await
            .is_err(),
        "run ids are unique"
    );

    store
        .save_progress(
            "run-1",
            &ObjectName::new("Account"),
            ObjectStep::Done,
            &json!({"created": 2}),
            at(3),
        )
        .await
        .unwrap();
    store
        .save_progress(
            "run-1",
            &ObjectName::new("Lead"),
            ObjectStep::At {
                phase: "items",
                position: Some("00Q000000000100AAA"),
            },
            &json!({"created": 100}),
            at(4),
        )
        .await
        .unwrap();
    store
        .save_progress(
            "run-1",
            &ObjectName::new("Lead"),
            ObjectStep::At {
                phase: "items",
                position: Some("00Q000000000200AAA"),
            },
            &json!({"created": 200}),
            at(5),
        )
        .await
        .unwrap();

    // Crash; a new process looks for a run to resume.
    db.store().close().await;
    let store = db.connect_again().await;
    let resumed = store
        .unfinished_run("migrate")
        .await
        .unwrap()
        .expect("run to resume");
    assert_eq!((resumed.id.as_str(), &resumed.options), ("run-1", &options));
    let account = resumed.object(&ObjectName::new("Account")).unwrap();
    assert!(account.done);
    assert_eq!(account.counts, json!({"created": 2}));
    let lead = resumed.object(&ObjectName::new("Lead")).unwrap();
    assert!(!lead.done);
    assert_eq!(
        (lead.phase.as_str(), lead.position.as_deref()),
        ("items", Some("00Q000000000200AAA"))
    );
    assert_eq!(
        (lead.counts.clone(), lead.updated_at),
        (json!({"created": 200}), at(5))
    );
    assert!(
        store
            .unfinished_run("webhook-backfill")
            .await
            .unwrap()
            .is_none()
    );

    store
        .finish_run("run-1", RunStatus::Finished, at(6))
        .await
        .unwrap();
    assert!(store.unfinished_run("migrate").await.unwrap().is_none());
    let finished = store.run("run-1").await.unwrap().unwrap();
    assert_eq!(
        (finished.status, finished.finished_at),
        (RunStatus::Finished, Some(at(6)))
    );

    let err = store
        .save_progress(
            "nope",
            &ObjectName::new("Lead"),
            ObjectStep::At {
                phase: "items",
                position: None,
            },
            &json!({}),
            at(7),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::UnknownRun(_)), "{err}");
    store.close().await;
}

pub async fn parked_links_wait_for_their_target(db: &TestDb) {
    let store = db.store();
    let link = |record: &str, target: &str| NewParkedLink {
        object: ObjectName::new("Contact"),
        record_id: rid(record),
        column_id: "board_relation_mks9cjfs".into(),
        target_object: ObjectName::new("Account"),
        target_record_id: rid(target),
        reason: "account has no item yet".into(),
    };
    let a = store.park_link(&link("003A", "001X"), T0).await.unwrap();
    let b = store.park_link(&link("003B", "001X"), T0).await.unwrap();
    let c = store.park_link(&link("003C", "001Y"), T0).await.unwrap();
    // Parking the same link again keeps one row.
    let mut again = link("003A", "001X");
    again.reason = "still no item".into();
    assert_eq!(store.park_link(&again, at(1)).await.unwrap(), a);

    let waiting = store
        .parked_for_target(&ObjectName::new("Account"), &rid("001X"))
        .await
        .unwrap();
    assert_eq!(waiting.iter().map(|p| p.id).collect::<Vec<_>>(), [a, b]);
    assert_eq!(
        (waiting[0].link.reason.as_str(), waiting[0].parked_at),
        ("still no item", at(1))
    );
    assert_eq!(
        store
            .parked_for_object(&ObjectName::new("Contact"))
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(
        store
            .parked_for_target(&ObjectName::new("Account"), &rid("001Z"))
            .await
            .unwrap()
            .is_empty()
    );

    // A later run created the item for 001X and completed both links.
    for p in waiting {
        assert!(store.delete_parked(p.id).await.unwrap());
    }
    assert!(!store.delete_parked(a).await.unwrap());
    let left = store
        .parked_for_object(&ObjectName::new("Contact"))
        .await
        .unwrap();
    assert_eq!(left.iter().map(|p| p.id).collect::<Vec<_>>(), [c]);
}

fn transient(error: &str) -> Failure<'_> {
    Failure {
        class: FailureClass::Transient,
        error,
    }
}

pub async fn retry_backoff_and_dead_letter(db: &TestDb) {
    let store = db.store();
    let policy = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_secs(60),
        max_delay: Duration::from_secs(3600),
        jitter: 0.0,
    };
    let mut rng = StdRng::seed_from_u64(42);
    let lease = Duration::from_secs(300);
    let payload = json!({"object": "Lead", "id": "00Q1"});
    let id = store
        .enqueue_retry(
            "migrate_record",
            "Lead:00Q1",
            &payload,
            "monday 500",
            T0,
            T0,
        )
        .await
        .unwrap();
    // The same work queued again is one item, with the newer payload and error.
    let newer = json!({"object": "Lead", "id": "00Q1", "v": 2});
    let same = store
        .enqueue_retry(
            "migrate_record",
            "Lead:00Q1",
            &newer,
            "monday 502",
            at(1),
            at(1),
        )
        .await
        .unwrap();
    assert_eq!(id, same);
    // Not yet due.
    store
        .enqueue_retry(
            "migrate_record",
            "Lead:00Q2",
            &json!({}),
            "later",
            at(30),
            T0,
        )
        .await
        .unwrap();

    assert_eq!(
        store.retry_counts(at(1)).await.unwrap(),
        RetryCounts {
            due: 1,
            waiting: 1,
            dead: 0
        }
    );
    let mut claimed = store.claim_due_retries(at(1), 10, lease).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let c = &mut claimed[0];
    // A claim is no attempt; starting one is.
    assert_eq!(
        (c.item.id, c.item.attempts, &c.item.payload),
        (id, 0, &newer)
    );
    assert!(store.start_retry(c, at(1), lease).await.unwrap());
    assert_eq!(c.item.attempts, 1);
    let c = &claimed[0];
    assert_eq!(c.item.last_error, "monday 502");
    // Claimed: nobody else gets it during the lease.
    assert!(
        store
            .claim_due_retries(at(2), 10, lease)
            .await
            .unwrap()
            .is_empty()
    );

    // Attempt 1 failed: back in 60 s.
    let out = store
        .fail_retry(c, transient("monday 500 again"), at(2), &policy, &mut rng)
        .await
        .unwrap();
    assert_eq!(out, FailOutcome::Rescheduled(at(3)));
    assert!(
        store
            .claim_due_retries(at(2), 10, lease)
            .await
            .unwrap()
            .is_empty()
    );
    let mut c = store
        .claim_due_retries(at(3), 1, lease)
        .await
        .unwrap()
        .remove(0);
    assert!(store.start_retry(&mut c, at(3), lease).await.unwrap());
    assert_eq!(c.item.attempts, 2);
    // Attempt 2 failed: back in 120 s.
    let out = store
        .fail_retry(&c, transient("again"), at(3), &policy, &mut rng)
        .await
        .unwrap();
    assert_eq!(out, FailOutcome::Rescheduled(at(5)));
    let mut c = store
        .claim_due_retries(at(5), 1, lease)
        .await
        .unwrap()
        .remove(0);
    assert!(store.start_retry(&mut c, at(5), lease).await.unwrap());
    assert_eq!(c.item.attempts, 3);
    // Attempt 3 failed: dead letter.
    assert_eq!(
        store
            .fail_retry(&c, transient("gave up"), at(5), &policy, &mut rng)
            .await
            .unwrap(),
        FailOutcome::DeadLettered
    );
    assert!(
        store
            .claim_due_retries(at(500), 10, lease)
            .await
            .unwrap()
            .iter()
            .all(|c| c.item.id != id)
    );
    let dead = store.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(store.retry_counts(at(6)).await.unwrap().dead, 1);
    assert_eq!(
        (
            dead[0].id,
            dead[0].status,
            dead[0].last_error.as_str(),
            dead[0].failure
        ),
        (
            id,
            RetryStatus::Dead,
            "gave up",
            Some(FailureClass::Transient)
        )
    );

    // Revived by an operator, then done.
    assert!(store.requeue_dead(id, at(600)).await.unwrap());
    assert!(store.dead_letters(10).await.unwrap().is_empty());
    let c = store.claim_due_retries(at(600), 10, lease).await.unwrap();
    let mine = c
        .iter()
        .find(|c| c.item.id == id)
        .expect("requeued item is due");
    assert_eq!(mine.item.attempts, 0);
    store.complete_retry(mine).await.unwrap();
    assert!(store.retry_item(id).await.unwrap().is_none());
}

pub async fn retry_concurrent_claimers_never_share_an_item(db: &TestDb) {
    let store = db.store();
    let other = db.connect_again().await;
    for i in 0..60 {
        store
            .enqueue_retry(
                "webhook_event",
                &format!("evt-{i}"),
                &json!({"i": i}),
                "503",
                T0,
                T0,
            )
            .await
            .unwrap();
    }
    let lease = Duration::from_secs(600);
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let s = if i % 2 == 0 {
                store.clone()
            } else {
                other.clone()
            };
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = s.claim_due_retries(at(1), 4, lease).await.unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(batch.into_iter().map(|c| c.item.id));
                }
            })
        })
        .collect();
    let mut seen = HashSet::new();
    let mut total = 0;
    for t in tasks {
        for id in t.await.unwrap() {
            total += 1;
            assert!(seen.insert(id), "item {id} claimed twice");
        }
    }
    assert_eq!((total, seen.len()), (60, 60));
    other.close().await;
}

pub async fn retry_expired_claim_is_lost(db: &TestDb) {
    let store = db.store();
    let policy = RetryPolicy::default();
    let mut rng = StdRng::seed_from_u64(3);
    let id = store
        .enqueue_retry("k", "x", &json!(1), "e", T0, T0)
        .await
        .unwrap();
    let mut slow = store
        .claim_due_retries(T0, 1, Duration::from_secs(60))
        .await
        .unwrap()
        .remove(0);
    assert!(
        store
            .start_retry(&mut slow, T0, Duration::from_secs(60))
            .await
            .unwrap()
    );
    // The slow worker's lease ran out; another worker claims the item.
    let mut fast = store
        .claim_due_retries(at(2), 1, Duration::from_secs(60))
        .await
        .unwrap()
        .remove(0);
    assert_eq!((fast.item.id, fast.item.attempts), (id, 1));
    // The slow worker can neither start, complete nor fail it any more.
    let mut late = slow.clone();
    assert!(
        !store
            .start_retry(&mut late, at(2), Duration::from_secs(60))
            .await
            .unwrap()
    );
    assert!(
        store
            .start_retry(&mut fast, at(2), Duration::from_secs(60))
            .await
            .unwrap()
    );
    assert_eq!(fast.item.attempts, 2);
    let err = store.complete_retry(&slow).await.unwrap_err();
    assert!(matches!(err, StoreError::ClaimLost { .. }), "{err}");
    let err = store
        .fail_retry(&slow, transient("late"), at(2), &policy, &mut rng)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ClaimLost { .. }), "{err}");
    store.complete_retry(&fast).await.unwrap();
}

pub async fn retry_charges_only_items_really_tried(db: &TestDb) {
    let store = db.store();
    let policy = RetryPolicy {
        max_attempts: 2,
        ..RetryPolicy::default()
    };
    let mut rng = StdRng::seed_from_u64(5);
    let lease = Duration::from_secs(60);
    for key in ["a", "b", "c"] {
        store
            .enqueue_retry("k", key, &json!(key), "first", T0, T0)
            .await
            .unwrap();
    }
    let mut batch = store.claim_due_retries(T0, 3, lease).await.unwrap();
    assert_eq!(batch.len(), 3);
    // The first was tried and hit an outage: its attempt is given back, it stays due.
    assert!(store.start_retry(&mut batch[0], T0, lease).await.unwrap());
    let outage = Failure {
        class: FailureClass::Outage,
        error: "salesforce: transport error",
    };
    for _ in 0..5 {
        let out = store
            .fail_retry(&batch[0], outage, T0, &policy, &mut rng)
            .await
            .unwrap();
        assert_eq!(out, FailOutcome::Paused);
        let mut again = store.claim_due_retries(T0, 1, lease).await.unwrap();
        assert_eq!(again.len(), 1, "an item paused by an outage is due at once");
        assert_eq!(again[0].item.id, batch[0].item.id);
        assert!(store.start_retry(&mut again[0], T0, lease).await.unwrap());
        batch[0] = again.remove(0);
    }
    assert_eq!(batch[0].item.attempts, 1, "outages cost no attempt");
    store.release_retry(&batch[0]).await.unwrap();
    // The other two were never reached: released untried, uncharged, claimable at once.
    store.release_retry(&batch[1]).await.unwrap();
    store.release_retry(&batch[2]).await.unwrap();
    let items: Vec<_> = store.claim_due_retries(T0, 10, lease).await.unwrap();
    assert_eq!(items.len(), 3);
    assert!(
        items.iter().all(|c| c.item.attempts == 0),
        "{:?}",
        items.iter().map(|c| c.item.attempts).collect::<Vec<_>>()
    );
    // A permanent refusal dead-letters at once, whatever attempts are left.
    let mut first = items.into_iter().next().unwrap();
    assert!(store.start_retry(&mut first, T0, lease).await.unwrap());
    let out = store
        .fail_retry(
            &first,
            Failure {
                class: FailureClass::Permanent,
                error: "CANNOT_UPDATE_CONVERTED_LEAD",
            },
            T0,
            &policy,
            &mut rng,
        )
        .await
        .unwrap();
    assert_eq!(out, FailOutcome::DeadLettered);
    let dead = store.dead_letters(10).await.unwrap();
    assert_eq!(
        (dead.len(), dead[0].attempts, dead[0].failure),
        (1, 1, Some(FailureClass::Permanent))
    );
}

pub async fn retry_dead_letters_requeued_by_filter(db: &TestDb) {
    let store = db.store();
    let policy = RetryPolicy::default();
    let mut rng = StdRng::seed_from_u64(9);
    let lease = Duration::from_secs(60);
    let errors = [
        ("a", "REQUIRED_FIELD_MISSING: LastName", at(1)),
        ("b", "STRING_TOO_LONG: Name", at(2)),
        ("c", "required_field_missing: Company", at(30)),
        ("d", "100%_done", at(31)),
    ];
    for (key, error, when) in errors {
        store
            .enqueue_retry("k", key, &json!(key), "first", T0, T0)
            .await
            .unwrap();
        let mut c = store
            .claim_due_retries(when, 1, lease)
            .await
            .unwrap()
            .remove(0);
        assert!(store.start_retry(&mut c, when, lease).await.unwrap());
        let failure = Failure {
            class: FailureClass::Permanent,
            error,
        };
        store
            .fail_retry(&c, failure, when, &policy, &mut rng)
            .await
            .unwrap();
    }
    assert_eq!(store.dead_letters(10).await.unwrap().len(), 4);
    // By reason (case-insensitive), since a time: only `c`.
    let filter = RequeueFilter {
        since: Some(at(10)),
        reason: Some("Required_Field".into()),
        ..RequeueFilter::default()
    };
    assert_eq!(store.requeue_dead_where(&filter, at(40)).await.unwrap(), 1);
    let pending = store.claim_due_retries(at(40), 10, lease).await.unwrap();
    assert_eq!(
        pending
            .iter()
            .map(|c| c.item.dedup_key.as_str())
            .collect::<Vec<_>>(),
        ["c"]
    );
    // LIKE's wildcards in the text match literally: `_` does not match any character.
    let literal = RequeueFilter {
        reason: Some("0%_d".into()),
        ..RequeueFilter::default()
    };
    assert_eq!(store.requeue_dead_where(&literal, at(40)).await.unwrap(), 1);
    let nothing = RequeueFilter {
        reason: Some("string_too_lonG_".into()),
        ..RequeueFilter::default()
    };
    assert_eq!(store.requeue_dead_where(&nothing, at(40)).await.unwrap(), 0);
    // All of them.
    let all = RequeueFilter::default();
    assert_eq!(store.requeue_dead_where(&all, at(41)).await.unwrap(), 2);
    assert!(store.dead_letters(10).await.unwrap().is_empty());
}

pub async fn breaker_opens_once_and_closes_once(db: &TestDb) {
    let store = db.store();
    let other = db.connect_again().await;
    assert!(store.open_breakers().await.unwrap().is_empty());
    assert_eq!(store.close_breaker("salesforce").await.unwrap(), None);
    let opened = store
        .open_breaker(
            "salesforce",
            "transport error; token=abc.def.ghi",
            T0,
            at(1),
        )
        .await
        .unwrap();
    assert_eq!(opened, BreakerChange::Opened);
    // Another process finds it open: a failed probe, no second "opened".
    let again = other
        .open_breaker("salesforce", "SERVER_UNAVAILABLE", at(1), at(3))
        .await
        .unwrap();
    assert_eq!(again, BreakerChange::StillOpen { probes: 1 });
    let open = store.open_breakers().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(
        (
            open[0].api.as_str(),
            open[0].opened_at,
            open[0].next_probe_at,
            open[0].probes
        ),
        ("salesforce", T0, at(3), 1)
    );
    assert_eq!(open[0].reason, "SERVER_UNAVAILABLE");
    // Closed by exactly one of two racing processes.
    let (a, b) = tokio::join!(
        store.close_breaker("salesforce"),
        other.close_breaker("salesforce")
    );
    let closed: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].opened_at, T0);
    assert!(store.open_breakers().await.unwrap().is_empty());
    other.close().await;
}

pub async fn url_password_never_shown(db: &TestDb) {
    let debug = format!("{:?}", db.store());
    assert!(debug.contains("Store"), "{debug}");
    let err = Store::connect("mysql://crm:hunter2@db/crmmap")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::UnsupportedUrl { .. }));
    assert!(!err.to_string().contains("hunter2"), "{err}");

    if db.backend() == Backend::Postgres {
        // Trust auth ignores the password, so this connects; it must not show it.
        let mut with_password = url::Url::parse(db.url()).unwrap();
        with_password.set_password(Some("hunter2")).unwrap();
        let store = Store::connect(with_password.as_str()).await.unwrap();
        let shown = format!("{store:?} {}", store.url());
        assert!(
            !shown.contains("hunter2") && shown.contains("***"),
            "{shown}"
        );
        store.close().await;

        // A database that does not exist: the error names the URL, redacted.
        let mut missing = with_password.clone();
        missing.set_path("/crmmap_no_such_database");
        let err = Store::connect(missing.as_str()).await.unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(matches!(err, StoreError::Connect { .. }), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("crmmap_no_such_database"), "{text}");
    }
}

async fn link(store: &Store, item: u64) {
    store
        .upsert_link(
            BOARD,
            ItemId::new(item),
            &SObjectName::new("Lead"),
            &rid("00Q1"),
            T0,
        )
        .await
        .unwrap();
}

fn started(e: ItemEvent) -> EventScope {
    match e {
        ItemEvent::Started(scope) => scope,
        other => panic!("expected the event to start, got {other:?}"),
    }
}

fn completion<'a>(values: &'a [SetValue], log: &'a LogEntry) -> Completion<'a> {
    Completion {
        outcome: EventOutcome::Applied,
        detail: Some("done"),
        values,
        log,
        retry: None,
        now: at(1),
    }
}

fn value(key: &str, v: serde_json::Value) -> SetValue {
    SetValue {
        key: SyncedKey::parse(key).unwrap(),
        value: v,
        source: Side::Monday,
    }
}

pub async fn item_event_writes_its_outcome_in_one_commit(db: &TestDb) {
    let store = db.store();
    link(store, 1).await;
    let scope = started(
        store
            .begin_item_event("e1", BOARD, ItemId::new(1), T0)
            .await
            .unwrap(),
    );
    let log = LogEntry::new(at(1), RunnerKind::Webhook, Action::Updated)
        .item(BOARD, ItemId::new(1))
        .trigger("e1")
        .reason("sent with Bearer 00Dxx0000001gPL!AQ4AQFakeTokenValue1234567890");
    // A key given twice keeps its last value.
    let values = [
        value("column:a", json!("old")),
        value("column:b", json!(2)),
        value("column:a", json!("new")),
    ];
    scope.finish(completion(&values, &log)).await.unwrap();

    let synced = store.synced_values(BOARD, ItemId::new(1)).await.unwrap();
    let got: Vec<(String, &serde_json::Value)> =
        synced.iter().map(|v| (v.key.encode(), &v.value)).collect();
    assert_eq!(
        got,
        [
            ("column:a".to_owned(), &json!("new")),
            ("column:b".to_owned(), &json!(2))
        ]
    );
    let rows = store.query_log(&LogFilter::default()).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].entry.trigger_uuid.as_deref(), Some("e1"));
    let reason = rows[0].entry.reason.as_deref().unwrap();
    assert!(!reason.contains("FakeTokenValue"), "{reason}");
    assert!(matches!(
        store
            .begin_item_event("e1", BOARD, ItemId::new(1), at(2))
            .await
            .unwrap(),
        ItemEvent::AlreadyApplied
    ));
    assert_eq!(
        store.begin_event("e1", at(2)).await.unwrap(),
        EventStart::AlreadyApplied
    );

    // An item that is not linked: the values have nothing to belong to and are dropped.
    let scope = started(
        store
            .begin_item_event("e2", BOARD, ItemId::new(2), T0)
            .await
            .unwrap(),
    );
    scope.finish(completion(&values, &log)).await.unwrap();
    assert!(
        store
            .synced_values(BOARD, ItemId::new(2))
            .await
            .unwrap()
            .is_empty()
    );

    // A failure queues its retry in the same commit.
    let scope = started(
        store
            .begin_item_event("e3", BOARD, ItemId::new(1), T0)
            .await
            .unwrap(),
    );
    let payload = json!({ "event": { "pulseId": 1 } });
    scope
        .finish(Completion {
            detail: Some("queued for retry"),
            retry: Some(RetryRequest {
                kind: "webhook_event",
                payload: &payload,
                error: "salesforce 503",
                failure: FailureClass::Outage,
                due: at(1),
            }),
            ..completion(&[], &log)
        })
        .await
        .unwrap();
    let due = store
        .claim_due_retries(at(2), 10, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].item.dedup_key.as_str(), &due[0].item.payload),
        ("e3", &payload)
    );

    // A permanent refusal is a dead letter at once, reported in one alert exactly once.
    let scope = started(
        store
            .begin_item_event("e4", BOARD, ItemId::new(1), T0)
            .await
            .unwrap(),
    );
    scope
        .finish(Completion {
            detail: Some("dead letter"),
            retry: Some(RetryRequest {
                kind: "webhook_event",
                payload: &payload,
                error: "REQUIRED_FIELD_MISSING: LastName",
                failure: FailureClass::Permanent,
                due: at(1),
            }),
            ..completion(&[], &log)
        })
        .await
        .unwrap();
    let dead = store.dead_letters(10).await.unwrap();
    assert_eq!(
        dead.iter()
            .map(|d| d.dedup_key.as_str())
            .collect::<Vec<_>>(),
        ["e4"]
    );
    let unalerted = store.take_unalerted_dead(at(2)).await.unwrap();
    assert_eq!(unalerted.len(), 1);
    assert_eq!(unalerted[0].failure, Some(FailureClass::Permanent));
    assert!(store.take_unalerted_dead(at(3)).await.unwrap().is_empty());
}

pub async fn item_event_dropped_unfinished_frees_the_item(db: &TestDb) {
    let store = db.store();
    link(store, 1).await;
    let scope = started(
        store
            .begin_item_event("e1", BOARD, ItemId::new(1), T0)
            .await
            .unwrap(),
    );
    drop(scope);
    // The item is free for its next event at once.
    let next = tokio::time::timeout(
        Duration::from_secs(10),
        store.begin_item_event("e2", BOARD, ItemId::new(1), at(1)),
    )
    .await
    .expect("the item was freed")
    .unwrap();
    let log = LogEntry::new(at(1), RunnerKind::Webhook, Action::Updated);
    started(next)
        .finish(completion(&[value("column:a", json!(1))], &log))
        .await
        .unwrap();
    // Nothing of the dropped event was written. On PostgreSQL its claim rolled back, so
    // a redelivery applies it; on SQLite the claim waits for its lease, as `begin_event`.
    let again = store
        .begin_item_event("e1", BOARD, ItemId::new(1), at(2))
        .await
        .unwrap();
    match db.backend() {
        Backend::Postgres => drop(started(again)),
        Backend::Sqlite => assert!(matches!(again, ItemEvent::InProgress), "{again:?}"),
    }
    assert_eq!(
        store.query_log(&LogFilter::default()).await.unwrap().len(),
        1
    );
}

pub async fn item_events_of_one_item_apply_one_at_a_time(db: &TestDb) {
    link(db.store(), 88).await;
    let other = db.connect_again().await;
    // Each event reads the counter and writes it plus one: with two events inside at once,
    // or one not seeing the commit of the one before, an increment would be lost.
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let s = if i % 2 == 0 {
                db.store().clone()
            } else {
                other.clone()
            };
            tokio::spawn(async move {
                let key = format!("e{i}");
                let scope = started(
                    s.begin_item_event(&key, BOARD, ItemId::new(88), T0)
                        .await
                        .unwrap(),
                );
                let (_, values) = s
                    .linked_item(BOARD, ItemId::new(88))
                    .await
                    .unwrap()
                    .unwrap();
                let n = values
                    .iter()
                    .find(|v| v.key == column_key(&"n".into()))
                    .and_then(|v| v.value.as_i64())
                    .unwrap_or(0);
                tokio::task::yield_now().await;
                let log = LogEntry::new(T0, RunnerKind::Webhook, Action::Updated);
                scope
                    .finish(completion(&[value("column:n", json!(n + 1))], &log))
                    .await
                    .unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let (_, values) = db
        .store()
        .linked_item(BOARD, ItemId::new(88))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        values
            .iter()
            .find(|v| v.key == column_key(&"n".into()))
            .map(|v| &v.value),
        Some(&json!(16))
    );
    other.close().await;
}

pub async fn old_events_and_log_rows_are_pruned(db: &TestDb) {
    let store = db.store();
    let day = time::Duration::days(1);
    // Finished long ago, finished recently, and one still in progress from long ago.
    for (key, started, finish) in [
        ("old", T0, true),
        ("new", T0 + day * 9, true),
        ("open", T0, false),
    ] {
        assert_eq!(
            store.begin_event(key, started).await.unwrap(),
            EventStart::Started
        );
        if finish {
            store
                .finish_event(key, EventOutcome::Applied, None, started)
                .await
                .unwrap();
        }
    }
    for at in [T0, T0 + day * 9] {
        store
            .append_log(&LogEntry::new(at, RunnerKind::Webhook, Action::Updated))
            .await
            .unwrap();
    }
    let cut = T0 + day * 2;
    assert_eq!(store.prune_events(cut).await.unwrap(), 1);
    assert_eq!(store.prune_log(cut).await.unwrap(), 1);
    // The pruned event is forgotten; the others are still known.
    assert_eq!(
        store.begin_event("old", cut).await.unwrap(),
        EventStart::Started
    );
    assert_eq!(
        store.begin_event("new", cut).await.unwrap(),
        EventStart::AlreadyApplied
    );
    // Kept although old: seen within its lease, it is still someone's.
    assert_eq!(
        store.begin_event("open", at(1)).await.unwrap(),
        EventStart::InProgress
    );
    let left = store.query_log(&LogFilter::default()).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].entry.at, T0 + day * 9);
}

pub async fn skipped_event_is_recorded_once_with_its_log_row(db: &TestDb) {
    let store = db.store();
    let log = LogEntry::new(T0, RunnerKind::Webhook, Action::Skipped)
        .trigger("s1")
        .reason("echo: the change was made by crmmap's own monday user");
    assert!(store.record_skipped_event("s1", &log, T0).await.unwrap());
    assert!(!store.record_skipped_event("s1", &log, at(1)).await.unwrap());
    assert_eq!(
        store.begin_event("s1", at(2)).await.unwrap(),
        EventStart::AlreadyApplied
    );
    // An event another path has claimed is not recorded again either.
    assert_eq!(
        store.begin_event("s2", T0).await.unwrap(),
        EventStart::Started
    );
    assert!(!store.record_skipped_event("s2", &log, at(1)).await.unwrap());
    let rows = store.query_log(&LogFilter::default()).await.unwrap();
    assert_eq!(rows.len(), 1, "one row, for the first s1");
}

/// SQLite: commits only append to the write-ahead log; a background task moves it into the
/// database file (automatic checkpoints, which stall the one commit that triggers them, are
/// off). Without that task the file would not grow while the store is open.
pub async fn sqlite_log_is_checkpointed_in_the_background(db: &TestDb) {
    if db.backend() != Backend::Sqlite {
        return;
    }
    let path = std::path::PathBuf::from(db.url().trim_start_matches("sqlite://"));
    let size = || std::fs::metadata(&path).map_or(0, |m| m.len());
    let store = db.store();
    let start = size();
    let reason = "x".repeat(400);
    for i in 0..2_000 {
        store
            .append_log(
                &LogEntry::new(at(i), RunnerKind::Migrate, Action::Updated).reason(reason.clone()),
            )
            .await
            .unwrap();
    }
    let mut grown = false;
    for _ in 0..100 {
        if size() > start + 500_000 {
            grown = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(grown, "the database file stayed at {} bytes", size());
}

/// A stored record id that is no Salesforce id (written by something else than the store)
/// reads as `Corrupt`, never as a panic or a silently wrong id.
pub async fn unparsable_stored_record_ids_read_as_corrupt(db: &TestDb) {
    use sqlx::Connection as _;
    let store = db.store();
    let lead = SObjectName::new("Lead");
    store
        .upsert_link(BOARD, ItemId::new(7), &lead, &rid("00Q7"), T0)
        .await
        .unwrap();
    let sql = "UPDATE links SET record_id = 'not-an-id!' WHERE item_id = '7'";
    match db.backend() {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(db.url()).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
            c.close().await.unwrap();
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(db.url()).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
            c.close().await.unwrap();
        }
    }
    let err = store.link_by_item(BOARD, ItemId::new(7)).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Corrupt { column: "links.record_id", ref value } if value == "not-an-id!"
        ),
        "{err}"
    );
    let err = store.links_for_object(&lead).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
}
