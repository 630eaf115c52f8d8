//! Salesforce change events: record positions and replay checkpoints.

use crmmap_ids::SObjectName;
use crmmap_store::RecordPosition;
use crmmap_testkit::record_id as rid;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::harness::TestDb;

const T0: OffsetDateTime = datetime!(2026-03-01 09:00 UTC);

crmmap_testkit::backend_tests!(
    salesforce_events with crate::harness::TestDb;
    record_positions_are_kept_per_record,
    replay_checkpoints_are_kept_per_channel,
);

pub async fn record_positions_are_kept_per_record(db: &TestDb) {
    let store = db.store();
    assert_eq!(
        store
            .record_position(&SObjectName::new("Lead"), &rid("00Q1"))
            .await
            .unwrap(),
        None
    );
    let at = |ms: i64, tx: &str, seq: i64| RecordPosition {
        commit_ms: ms,
        transaction_key: tx.to_owned(),
        sequence: seq,
    };
    store
        .set_record_position(
            &SObjectName::new("Lead"),
            &rid("00Q1"),
            &at(1_712_693_965_000, "tx-a", 3),
            T0,
        )
        .await
        .unwrap();
    store
        .set_record_position(
            &SObjectName::new("Lead"),
            &rid("00Q2"),
            &at(5, "tx-b", 1),
            T0,
        )
        .await
        .unwrap();
    store
        .set_record_position(
            &SObjectName::new("Lead"),
            &rid("00Q1"),
            &at(1_712_693_965_001, "tx-c", 1),
            T0,
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .record_position(&SObjectName::new("Lead"), &rid("00Q1"))
            .await
            .unwrap(),
        Some(at(1_712_693_965_001, "tx-c", 1))
    );
    assert_eq!(
        store
            .record_position(&SObjectName::new("Lead"), &rid("00Q2"))
            .await
            .unwrap(),
        Some(at(5, "tx-b", 1))
    );
    assert_eq!(
        store
            .record_position(&SObjectName::new("Contact"), &rid("00Q1"))
            .await
            .unwrap(),
        None
    );
}

pub async fn replay_checkpoints_are_kept_per_channel(db: &TestDb) {
    let store = db.store();
    let channel = "/data/LeadChangeEvent";
    assert_eq!(store.replay_checkpoint(channel).await.unwrap(), None);
    // Opaque bytes, zeros and high bytes included.
    let first = [0u8, 1, 255, 0, 42];
    store
        .save_replay_checkpoint(channel, &first, T0)
        .await
        .unwrap();
    store
        .save_replay_checkpoint("/data/AccountChangeEvent", &[7], T0)
        .await
        .unwrap();
    assert_eq!(
        store.replay_checkpoint(channel).await.unwrap().as_deref(),
        Some(&first[..])
    );
    store
        .save_replay_checkpoint(channel, &[9, 9], T0)
        .await
        .unwrap();
    assert_eq!(
        store.replay_checkpoint(channel).await.unwrap().as_deref(),
        Some(&[9u8, 9][..])
    );
    assert_eq!(
        store
            .replay_checkpoint("/data/AccountChangeEvent")
            .await
            .unwrap()
            .as_deref(),
        Some(&[7u8][..])
    );
}
