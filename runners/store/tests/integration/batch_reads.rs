//! Reads of many links' values at once (a migrate chunk), against the one-at-a-time reads.

use crmmap_ids::{BoardId, ItemId, SObjectName};
use crmmap_store::{SetValue, Side, SyncedKey, column_key};
use crmmap_testkit::record_id as rid;
use serde_json::json;
use time::macros::datetime;

use crate::harness::TestDb;

const BOARD: BoardId = BoardId::new(5001);

crmmap_testkit::backend_tests!(batch_reads with crate::harness::TestDb; synced_values_by_items_match_one_at_a_time);

fn value(key: SyncedKey, v: i64) -> SetValue {
    SetValue {
        key,
        value: json!(v),
        source: Side::Monday,
    }
}

pub async fn synced_values_by_items_match_one_at_a_time(db: &TestDb) {
    let store = db.store();
    let now = datetime!(2026-01-02 03:04:05 UTC);
    for (item, record) in [(1, "00Q1"), (2, "00Q2"), (3, "00Q3")] {
        store
            .upsert_link(
                BOARD,
                ItemId::new(item),
                &SObjectName::new("Lead"),
                &rid(record),
                now,
            )
            .await
            .unwrap();
    }
    store
        .upsert_link(
            BoardId::new(6001),
            ItemId::new(1),
            &SObjectName::new("Account"),
            &rid("0011"),
            now,
        )
        .await
        .unwrap();
    store
        .set_synced_values(
            BOARD,
            ItemId::new(1),
            &[
                value(column_key(&"b".into()), 2),
                value(column_key(&"a".into()), 1),
            ],
            now,
        )
        .await
        .unwrap();
    store
        .set_synced_values(
            BOARD,
            ItemId::new(2),
            &[value(column_key(&"a".into()), 3)],
            now,
        )
        .await
        .unwrap();
    store
        .set_synced_values(
            BoardId::new(6001),
            ItemId::new(1),
            &[value(column_key(&"a".into()), 9)],
            now,
        )
        .await
        .unwrap();

    let ids: Vec<ItemId> = [1, 2, 3, 404].map(ItemId::new).to_vec();
    let many = store.synced_values_by_items(BOARD, &ids).await.unwrap();
    assert_eq!(many.len(), 2, "{many:?}");
    for id in &ids {
        let one = store.synced_values(BOARD, *id).await.unwrap();
        assert_eq!(many.get(id).cloned().unwrap_or_default(), one, "item {id}");
    }
    let first = many
        .get(&ItemId::new(1))
        .map(|v| v.iter().map(|s| s.key.clone()).collect::<Vec<_>>());
    assert_eq!(
        first,
        Some(vec![column_key(&"a".into()), column_key(&"b".into())])
    );
    assert!(
        store
            .synced_values_by_items(BOARD, &[])
            .await
            .unwrap()
            .is_empty()
    );

    // More items than one `IN` list holds.
    let many_ids: Vec<ItemId> = (0..1_200).map(ItemId::new).collect();
    let all = store
        .synced_values_by_items(BOARD, &many_ids)
        .await
        .unwrap();
    assert_eq!(all.keys().count(), 2);
}
