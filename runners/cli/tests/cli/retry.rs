//! `crmmap retry`: dead letters listed with their failure class, revived in bulk by reason.

use std::time::Duration;

use crmmap_store::{Failure, FailureClass, RetryPolicy, Store};
use rand::SeedableRng;
use serde_json::json;

use crmmap_testkit::Emulators;

use crate::busy::{crmmap, run};

/// Queues a webhook event of an unmapped board (applying it again is a logged skip) and
/// dead-letters it as permanently refused with `error`.
async fn dead_letter(store: &Store, key: &str, error: &str) {
    let now = time::OffsetDateTime::now_utc();
    let event = json!({
        "type": "update_column_value", "triggerUuid": key, "boardId": 1, "pulseId": 2,
        "columnId": "text", "value": {"value": "x"}, "previousValue": null,
    });
    store
        .enqueue_retry(
            "webhook_event",
            key,
            &json!({"event": event, "check_dedup": false}),
            "first failure",
            now,
            now,
        )
        .await
        .unwrap();
    let lease = Duration::from_secs(60);
    let mut claimed = store.claim_due_retries(now, 1, lease).await.unwrap();
    let claim = &mut claimed[0];
    assert!(store.start_retry(claim, now, lease).await.unwrap());
    let failure = Failure {
        class: FailureClass::Permanent,
        error,
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    store
        .fail_retry(claim, failure, now, &RetryPolicy::default(), &mut rng)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn dead_letters_are_listed_and_requeued_by_reason() {
    let emu = Emulators::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, url) = emu.write_config(dir.path());
    let store = Store::connect(&url).await.unwrap();
    dead_letter(
        &store,
        "event-a",
        "salesforce: REQUIRED_FIELD_MISSING: LastName",
    )
    .await;
    dead_letter(&store, "event-b", "salesforce: STRING_TOO_LONG: Name").await;
    store.close().await;

    let listed = run(crmmap(&["retry", "--dead"], &config)).await;
    let stdout = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(listed.status.code(), Some(0), "{stdout}");
    for want in [
        "event-a\tattempts 1\tpermanent\tsalesforce: REQUIRED_FIELD_MISSING: LastName",
        "event-b\tattempts 1\tpermanent\tsalesforce: STRING_TOO_LONG: Name",
    ] {
        assert!(stdout.contains(want), "{want} in {stdout}");
    }

    // Only the missing-field one comes back, is tried, and applies (its board is not mapped:
    // a logged skip).
    let requeued = run(crmmap(
        &[
            "retry",
            "--requeue-all",
            "--since",
            "1h",
            "--reason",
            "required_field",
        ],
        &config,
    ))
    .await;
    let stdout = String::from_utf8_lossy(&requeued.stdout);
    let stderr = String::from_utf8_lossy(&requeued.stderr);
    assert_eq!(requeued.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("requeued 1 dead letters"), "{stdout}");
    assert!(
        stdout.contains("retried 1: 1 applied, 0 rescheduled, 0 dead-lettered, 0 left for later"),
        "{stdout}"
    );
    let left = run(crmmap(&["retry", "--dead"], &config)).await;
    let stdout = String::from_utf8_lossy(&left.stdout);
    assert!(
        !stdout.contains("event-a") && stdout.contains("event-b"),
        "{stdout}"
    );

    // The filters narrow a bulk requeue; alone they are a usage error.
    let alone = run(crmmap(&["retry", "--reason", "x"], &config)).await;
    assert_eq!(alone.status.code(), Some(2));
}
