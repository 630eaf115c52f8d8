//! The client against the emulator's Pub/Sub endpoint serving the org's own change log:
//! changes made to records come out decoded exactly as the EventBridge relay's JSON carries
//! them, and deliveries count against the org's delivery allocation.

use std::time::Duration;

use crmmap_emu_salesforce::EmulatorOptions;
use crmmap_emu_salesforce::cdc::DateForm;
use crmmap_emu_salesforce::pubsub::PubSubOptions;
use crmmap_pubsub::{Client, Delivery, Start};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_changes_decode_to_the_event_relay_json() {
    let org = crmmap_emu_salesforce::start(EmulatorOptions {
        seed_sample_data: false,
        ..EmulatorOptions::default()
    })
    .await
    .expect("emulator");
    let log = org.change_log();
    // Pub/Sub carries datetimes as epoch milliseconds; the JSON form compared is the same.
    log.set_date_form(DateForm::EpochMillis);
    let pubsub = org
        .start_pubsub(PubSubOptions::default())
        .await
        .expect("pub/sub");
    let token = crate::support::token(&org).await;

    let id = org
        .insert_record(
            "Lead",
            json!({"FirstName": "Ada", "LastName": "Lovelace", "Company": "Engines",
                   "City": "London", "Status": "Open - Not Contacted"}),
        )
        .expect("lead");
    assert!(org.update_record(
        &id,
        json!({"LastName": "King", "City": null, "Status": "Working"})
    ));
    assert!(org.delete_record(&id));
    let logged = log.events();
    assert_eq!(logged.len(), 3, "{logged:?}");

    let client =
        Client::new(crate::support::fast_config(&pubsub.endpoint(), &token, 100)).expect("client");
    let mut sub = client.subscribe("/data/LeadChangeEvent", Start::Earliest);
    let mut got = Vec::new();
    while got.len() < logged.len() {
        let next = tokio::time::timeout(Duration::from_secs(10), sub.next()).await;
        let Ok(Ok(Delivery::Batch(batch))) = next else {
            panic!("expected a batch, got {next:?}");
        };
        got.extend(batch.events);
    }
    for (event, logged) in got.iter().zip(&logged) {
        assert_eq!(event.replay_id, logged.replay_id.to_be_bytes().to_vec());
        assert_eq!(event.event_id, logged.event.event_uuid);
        let payload = event.payload.as_ref().expect("decoded");
        assert_eq!(
            payload,
            &logged.event.payload(),
            "{:?}",
            logged.event.header.change_type
        );
    }
    assert_eq!(
        log.deliveries().0,
        3,
        "deliveries count against the org's allocation"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_past_the_logs_retention_is_a_gap_then_latest() {
    let org = crmmap_emu_salesforce::start(EmulatorOptions {
        seed_sample_data: false,
        ..EmulatorOptions::default()
    })
    .await
    .expect("emulator");
    let log = org.change_log();
    let pubsub = org
        .start_pubsub(PubSubOptions::default())
        .await
        .expect("pub/sub");
    let token = crate::support::token(&org).await;
    let first = org
        .insert_record("Lead", json!({"LastName": "Old", "Company": "Acme"}))
        .expect("lead");
    org.insert_record("Lead", json!({"LastName": "Older", "Company": "Acme"}))
        .expect("lead");
    // 73 hours pass: both events fall out of the 72-hour retention (§1e).
    log.advance_clock(Duration::from_secs(73 * 3600));
    let client =
        Client::new(crate::support::fast_config(&pubsub.endpoint(), &token, 100)).expect("client");
    let mut sub = client.subscribe(
        "/data/LeadChangeEvent",
        Start::After {
            replay_id: 1u64.to_be_bytes().to_vec(),
            checkpointed_at: None,
        },
    );
    let gap = tokio::time::timeout(Duration::from_secs(10), sub.next()).await;
    assert!(matches!(gap, Ok(Ok(Delivery::Gap(_)))), "{gap:?}");
    // LATEST from now on: new changes are delivered, the purged ones are not.
    let org2 = org.state().clone();
    let pusher = tokio::spawn(async move {
        for n in 0.. {
            org2.update_record(&first, json!({"Company": format!("Acme {n}")}));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let next = tokio::time::timeout(Duration::from_secs(10), sub.next()).await;
    pusher.abort();
    let Ok(Ok(Delivery::Batch(batch))) = next else {
        panic!("expected a batch, got {next:?}");
    };
    let first_id = batch.events.first().map(|e| e.replay_id.clone());
    assert!(
        first_id.is_some_and(|id| id.as_slice() >= 3u64.to_be_bytes().as_slice()),
        "{batch:?}"
    );
}
