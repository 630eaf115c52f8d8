//! A queued webhook event tried again: its values, log row, outcome and the queue's
//! completion commit together, or not at all.

use crmmap_ids::{BoardId, ItemId, SObjectName};
use crmmap_testkit::record_id as rid;
use std::time::Duration;

use crmmap_store::{
    Action, ClaimedRetry, Completion, EventOutcome, EventScope, EventStart, ItemEvent, LogEntry,
    LogFilter, RetryStatus, RunnerKind, SetValue, Side, Store, StoreError, column_key,
};
use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::harness::TestDb;

const BOARD: BoardId = BoardId::new(9378000505);
const T0: OffsetDateTime = datetime!(2026-03-01 09:00 UTC);
const LEASE: Duration = Duration::from_secs(60);

fn at(minutes: i64) -> OffsetDateTime {
    T0 + time::Duration::minutes(minutes)
}

crmmap_testkit::backend_tests!(retried with crate::harness::TestDb;
    retried_event_commits_with_the_queues_completion,
    retried_event_with_a_lost_claim_writes_nothing,
    retried_event_that_fails_leaves_only_its_outcome,
);

/// Queues event `key` of item 1, then claims and starts it at `now`.
async fn queued(store: &Store, key: &str, check_dedup: bool, now: OffsetDateTime) -> ClaimedRetry {
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
    let payload = json!({ "event": { "pulseId": 1 }, "check_dedup": check_dedup });
    store
        .enqueue_retry("webhook_event", key, &payload, "salesforce: 503", T0, T0)
        .await
        .unwrap();
    let mut claim = store
        .claim_due_retries(now, 1, LEASE)
        .await
        .unwrap()
        .pop()
        .expect("the queued event is due");
    assert!(store.start_retry(&mut claim, now, LEASE).await.unwrap());
    claim
}

async fn begin(store: &Store, claim: &ClaimedRetry, check_dedup: bool) -> EventScope {
    match store
        .begin_item_retry(claim, BOARD, ItemId::new(1), check_dedup, T0)
        .await
        .unwrap()
    {
        ItemEvent::Started(scope) => scope,
        other => panic!("expected the retry to start, got {other:?}"),
    }
}

fn values() -> Vec<SetValue> {
    vec![SetValue {
        key: column_key(&"status".into()),
        value: json!("Working on it"),
        source: Side::Monday,
    }]
}

fn log(key: &str) -> LogEntry {
    LogEntry::new(at(1), RunnerKind::Retry, Action::Updated)
        .item(BOARD, ItemId::new(1))
        .trigger(key)
        .reason("updated Lead")
}

fn completion<'a>(values: &'a [SetValue], log: &'a LogEntry) -> Completion<'a> {
    Completion {
        outcome: EventOutcome::Applied,
        detail: Some("updated Lead"),
        values,
        log,
        retry: None,
        now: at(1),
    }
}

pub async fn retried_event_commits_with_the_queues_completion(db: &TestDb) {
    let store = db.store();
    // Queued after it was claimed: the queue owns it, its outcome is not written again.
    let claim = queued(store, "owned", false, T0).await;
    let scope = begin(store, &claim, false).await;
    // The scope holds the item.
    assert!(
        store
            .try_lock_item(BOARD, ItemId::new(1))
            .await
            .unwrap()
            .is_none()
    );
    let (values, entry) = (values(), log("owned"));
    scope.finish(completion(&values, &entry)).await.unwrap();
    assert!(store.retry_item(claim.item.id).await.unwrap().is_none());
    assert_eq!(
        store
            .synced_values(BOARD, ItemId::new(1))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store.query_log(&LogFilter::default()).await.unwrap().len(),
        1
    );
    assert_eq!(
        store.begin_event("owned", at(2)).await.unwrap(),
        EventStart::Started,
        "an event the scope did not claim has no outcome written"
    );
    let guard = store.try_lock_item(BOARD, ItemId::new(1)).await.unwrap();
    guard
        .expect("finished: the item is free")
        .release()
        .await
        .unwrap();

    // Queued before anything claimed it: claimed now, and applied in the same commit.
    let claim = queued(store, "unclaimed", true, T0).await;
    let scope = begin(store, &claim, true).await;
    let entry = log("unclaimed");
    scope.finish(completion(&values, &entry)).await.unwrap();
    assert!(store.retry_item(claim.item.id).await.unwrap().is_none());
    assert_eq!(
        store.begin_event("unclaimed", at(2)).await.unwrap(),
        EventStart::AlreadyApplied
    );
    assert!(matches!(
        store
            .begin_item_retry(&claim, BOARD, ItemId::new(1), true, at(2))
            .await
            .unwrap(),
        ItemEvent::AlreadyApplied
    ));
}

pub async fn retried_event_with_a_lost_claim_writes_nothing(db: &TestDb) {
    let store = db.store();
    let slow = queued(store, "e1", true, T0).await;
    let scope = begin(store, &slow, true).await;
    // The slow worker's lease runs out and another worker claims the item.
    let fast = store
        .claim_due_retries(at(2), 1, LEASE)
        .await
        .unwrap()
        .pop()
        .expect("the lapsed item is claimable");
    assert_eq!(fast.item.id, slow.item.id);

    let (values, entry) = (values(), log("e1"));
    let err = scope.finish(completion(&values, &entry)).await.unwrap_err();
    assert!(
        matches!(err, StoreError::ClaimLost { id } if id == slow.item.id),
        "{err}"
    );
    // Neither the values nor the log row nor the outcome: the new claimant applies it.
    assert!(
        store
            .synced_values(BOARD, ItemId::new(1))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .query_log(&LogFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert_ne!(
        store.begin_event("e1", at(3)).await.unwrap(),
        EventStart::AlreadyApplied
    );
    let item = store.retry_item(slow.item.id).await.unwrap().unwrap();
    assert_eq!(item.status, RetryStatus::Pending);
    store.complete_retry(&fast).await.unwrap();
}

pub async fn retried_event_that_fails_leaves_only_its_outcome(db: &TestDb) {
    let store = db.store();
    let claim = queued(store, "e1", true, T0).await;
    let scope = begin(store, &claim, true).await;
    scope
        .leave(EventOutcome::Applied, Some("queued for retry"), at(1))
        .await
        .unwrap();
    // The queue owns it: a redelivery does not apply it again.
    assert_eq!(
        store.begin_event("e1", at(2)).await.unwrap(),
        EventStart::AlreadyApplied
    );
    assert!(
        store
            .synced_values(BOARD, ItemId::new(1))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .query_log(&LogFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    // Still queued and still this worker's: its failure is recorded as usual.
    let item = store.retry_item(claim.item.id).await.unwrap().unwrap();
    assert_eq!(item.status, RetryStatus::Pending);
    let guard = store.try_lock_item(BOARD, ItemId::new(1)).await.unwrap();
    guard
        .expect("left: the item is free")
        .release()
        .await
        .unwrap();
    let scope = begin(store, &claim, false).await;
    scope
        .leave(EventOutcome::Applied, Some("queued for retry"), at(1))
        .await
        .unwrap();
    store.complete_retry(&claim).await.unwrap();
}
