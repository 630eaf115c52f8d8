//! Change events the Salesforce emulator relays itself (EventBridge API destination shape,
//! `realtime-and-limits.md` §2b) to `POST /events/salesforce`: a person's edit reaches
//! monday, and the webhook runner's own Salesforce writes come back as echoes that write
//! nothing.

use std::time::Duration;

use crmmap_emu_salesforce::cdc::RelayOptions;
use crmmap_store::{Backend, LogFilter};
use serde_json::json;

use crate::harness::{LEAD, Setup, World, eventually};

const EVENTS_TOKEN: &str = "relay-events-token-0123456789";
const CITY: &str = "text_mkrym6fa";

crmmap_testkit::backend_tests!(
    salesforce_relay;
    a_persons_salesforce_edit_reaches_monday_through_the_relay,
    the_webhook_runners_own_salesforce_writes_come_back_and_write_nothing,
);

async fn world(backend: Backend, deliver: bool) -> Option<World> {
    let mut s = Setup::new(backend);
    s.options.events_token = Some(crmmap_webhook::SecretString::new(EVENTS_TOKEN));
    s.deliver = deliver;
    let w = World::start(s).await?;
    w.migrate_leads().await;
    // From now on every committed change is relayed to the runner.
    w.sf.state().start_event_relay(RelayOptions::new(
        format!("{}/events/salesforce", w.base),
        crmmap_secret::Secret::new(EVENTS_TOKEN),
    ));
    Some(w)
}

async fn salesforce_event_rows(w: &World, record: &str) -> Vec<String> {
    w.store
        .query_log(&LogFilter {
            limit: 1000,
            ..LogFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.entry.record_id.as_deref() == Some(record))
        .filter(|r| {
            r.entry
                .request_summary
                .as_deref()
                .is_some_and(|s| s.starts_with("salesforce "))
        })
        .map(|r| {
            format!(
                "{} {}",
                r.entry.action.as_str(),
                r.entry.reason.unwrap_or_default()
            )
        })
        .collect()
}

pub async fn a_persons_salesforce_edit_reaches_monday_through_the_relay(backend: Backend) {
    let Some(w) = world(backend, false).await else {
        return;
    };
    let lead = w.linked_lead(false).await;
    // A person's edit (the control surface commits it as a person, not crmmap's user).
    w.sf.state()
        .update_record(lead.record_id.as_str(), json!({ "City": "Relayville" }));
    let item: u64 = lead.item_id.get();
    eventually("the edit reaches monday", || async {
        w.monday
            .state()
            .item(item)
            .and_then(|i| {
                i.values
                    .get(CITY)
                    .map(|v| v.to_string().contains("Relayville"))
            })
            .unwrap_or(false)
    })
    .await;
    // The log row is committed right after the monday write.
    eventually("the change is logged as written from the event", || async {
        salesforce_event_rows(&w, lead.record_id.as_str())
            .await
            .iter()
            .any(|r| r.starts_with("updated wrote"))
    })
    .await;
    w.stop().await;
}

pub async fn the_webhook_runners_own_salesforce_writes_come_back_and_write_nothing(
    backend: Backend,
) {
    let Some(w) = world(backend, true).await else {
        return;
    };
    let lead = w.linked_lead(false).await;
    // A person edits monday; the webhook runner writes the change to Salesforce as crmmap's
    // user; Salesforce's change event comes back through the relay.
    w.set(LEAD, &lead.item_id.to_string(), CITY, json!("Echoville"))
        .await;
    assert_eq!(w.record(lead.record_id.as_str())["City"], "Echoville");
    eventually("the change event came back", || async {
        salesforce_event_rows(&w, lead.record_id.as_str())
            .await
            .iter()
            .any(|r| r.contains("echo: the change was made by crmmap's own salesforce user"))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rows = salesforce_event_rows(&w, lead.record_id.as_str()).await;
    assert!(
        rows.iter().all(|r| r.starts_with("skipped echo")),
        "an echo writes nothing: {rows:#?}"
    );
    w.stop().await;
}
