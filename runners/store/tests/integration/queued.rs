//! Queued monday edits by item: the migrator's one query per chunk.

use crmmap_ids::{BoardId, ItemId};
use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::harness::TestDb;

const T0: OffsetDateTime = datetime!(2026-03-01 09:00 UTC);

crmmap_testkit::backend_tests!(queued with crate::harness::TestDb; queued_item_events_are_found_by_board_and_item);

pub async fn queued_item_events_are_found_by_board_and_item(db: &TestDb) {
    let store = db.store();
    let queue = |key: &'static str, kind: &'static str, event: serde_json::Value| async move {
        store
            .enqueue_retry(
                kind,
                key,
                &json!({ "event": event, "check_dedup": true }),
                "salesforce: 503",
                T0,
                T0,
            )
            .await
            .unwrap();
    };
    // Ids as numbers (what monday sends) and as strings; deletes name `itemId`.
    queue(
        "a",
        "webhook_event",
        json!({"type": "update_column_value", "boardId": 77, "pulseId": 1, "columnId": "status"}),
    )
    .await;
    queue(
        "b",
        "webhook_event",
        json!({"type": "update_name", "boardId": "77", "pulseId": "2"}),
    )
    .await;
    queue(
        "c",
        "webhook_event",
        json!({"type": "delete_pulse", "boardId": 77, "itemId": 3}),
    )
    .await;
    // Another board, another item, another kind: not asked about.
    queue(
        "d",
        "webhook_event",
        json!({"type": "update_name", "boardId": 78, "pulseId": 1}),
    )
    .await;
    queue(
        "e",
        "webhook_event",
        json!({"type": "update_name", "boardId": 77, "pulseId": 4}),
    )
    .await;
    queue("f", "migrate_record", json!({"boardId": 77, "pulseId": 1})).await;

    let ids: Vec<ItemId> = [1, 2, 3, 5].map(ItemId::new).to_vec();
    let board = BoardId::new(77);
    let mut found = store
        .queued_item_events("webhook_event", board, &ids)
        .await
        .unwrap();
    found.sort_by_key(|q| q.item_id);
    let got: Vec<(u64, &str)> = found
        .iter()
        .map(|q| (q.item_id.get(), q.event["type"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        got,
        [
            (1, "update_column_value"),
            (2, "update_name"),
            (3, "delete_pulse")
        ]
    );
    assert_eq!(found[0].event["columnId"], "status");
    assert!(
        store
            .queued_item_events("webhook_event", board, &[])
            .await
            .unwrap()
            .is_empty()
    );
    // Done: the item leaves the queue, and with it the held edit.
    let claimed = store
        .claim_due_retries(T0, 100, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let a = claimed
        .iter()
        .find(|c| c.item.dedup_key == "a")
        .expect("claimed");
    store.complete_retry(a).await.unwrap();
    let left = store
        .queued_item_events("webhook_event", board, &ids[..1])
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
}
