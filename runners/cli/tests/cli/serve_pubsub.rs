//! `crmmap serve` with `[salesforce] change_events = "pubsub"`: it subscribes to the
//! Salesforce emulator's Pub/Sub endpoint, and a person's Salesforce edit reaches monday.

use std::time::Duration;

use crmmap_ids::SObjectName;
use crmmap_store::Store;
use crmmap_testkit::{Emulators, eventually};
use serde_json::json;

use crate::busy::{crmmap, run, serve};

const CITY: &str = "text_mkrym6fa";

#[tokio::test(flavor = "multi_thread")]
async fn serve_subscribes_and_a_salesforce_edit_reaches_monday() {
    let emu = Emulators::start().await;
    let pubsub = emu.start_pubsub(Duration::from_millis(100)).await;
    let dir = tempfile::tempdir().unwrap();
    let store_url = format!("sqlite://{}", dir.path().join("state.db").display());
    let config = dir.path().join("crmmap.toml");
    std::fs::write(
        &config,
        emu.pubsub_config_toml(Some(&store_url), &pubsub.endpoint()),
    )
    .unwrap();
    let migrated = run(crmmap(&["migrate"], &config)).await;
    assert_eq!(
        migrated.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let (_server, addr) = serve(&config).await;
    let store = Store::connect(&store_url).await.unwrap();
    eventually(
        "the lead channel is subscribed and checkpointed",
        || async {
            store
                .replay_checkpoint_at("/data/LeadChangeEvent")
                .await
                .unwrap()
                .is_some()
        },
    )
    .await;
    let health = reqwest::get(format!("http://{addr}/health")).await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let link = store
        .links_for_object(&SObjectName::new("Lead"))
        .await
        .unwrap()
        .into_iter()
        .find(|l| {
            emu.salesforce
                .state()
                .record(l.record_id.as_str())
                .is_some_and(|r| r["IsConverted"] != json!(true))
        })
        .expect("an unconverted linked lead");
    assert!(
        emu.salesforce
            .state()
            .update_record(link.record_id.as_str(), json!({ "City": "Servedville" }))
    );
    let item = link.item_id.get();
    eventually("the edit reaches monday", || async {
        emu.monday
            .state()
            .item(item)
            .and_then(|i| {
                i.values
                    .get(CITY)
                    .map(|v| v.to_string().contains("Servedville"))
            })
            .unwrap_or(false)
    })
    .await;
    pubsub.shutdown().await;
}
