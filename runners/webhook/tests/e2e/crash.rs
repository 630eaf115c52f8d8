//! Crash-safe create: a process that dies after the Salesforce create and before the id
//! write-back must not make monday's redelivery create a second record.
//!
//! The test re-runs this test binary as a child process (only `child_process_entry_point`,
//! with its instructions in an environment variable); the child handles the create with the
//! runner's crash hook on and aborts right after the create. The parent then delivers the
//! event again as monday would, after the dead instance's claim on it has lapsed.

use std::sync::Arc;

use crmmap_store::{Backend, IntentStatus, Store};
use crmmap_testkit::run_context;
use crmmap_webhook::{Event, Incoming, Outcome, Webhook};
use serde_json::{Value, json};

use crate::harness::*;

const CHILD_ENV: &str = "CRMMAP_WEBHOOK_CRASH_CHILD";

fn parse(body: &Value) -> Event {
    match crmmap_webhook::event::parse(body.to_string().as_bytes()).unwrap() {
        Incoming::Event(e) => e,
        Incoming::Challenge(_) => panic!("not an event"),
    }
}

/// The child's side (does nothing unless started by `crash_between_create_and_write_back`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_process_entry_point() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let spec: Value = serde_json::from_str(&spec).unwrap();
    let store = Store::connect(spec["db"].as_str().unwrap()).await.unwrap();
    let ctx = run_context(
        plans(),
        salesforce_client(spec["sf"].as_str().unwrap(), true),
        monday_client(spec["monday"].as_str().unwrap(), true),
        store,
    );
    let mut options = Setup::new(Backend::Sqlite).options;
    options.crash_after_create = true;
    options.external_id_field = spec["external_id"].as_str().map(str::to_owned);
    let webhook = Webhook::new(ctx, options);
    let _ = webhook.handle_event(&parse(&spec["body"])).await;
    unreachable!("the crash hook aborts the process");
}

async fn crash_between_create_and_write_back(backend: Backend, external_id: Option<&str>) {
    let mut setup = Setup::new(backend);
    setup.deliver = false;
    setup.options.external_id_field = external_id.map(str::to_owned);
    let Some(w) = World::start(setup).await else {
        return;
    };
    let item = w.create_item(LEAD, "crash org", json!({})).await;
    let body = event(
        "create_pulse",
        LEAD,
        item.parse().unwrap(),
        "dddd0000dddd0000dddd0000dddd0001",
        json!({"pulseName": "crash org"}),
    );
    let leads = w.records("Lead").len();
    let spec = json!({
        "db": w.db.url(), "sf": w.sf.base_url(), "monday": w.monday.base_url(),
        "body": body, "external_id": external_id,
    });
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash::child_process_entry_point",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, spec.to_string())
        .status()
        .unwrap();
    assert!(!status.success(), "the child must have died");
    // It died after the create: one new Lead, no link, no id on the item.
    let after_crash = w.records("Lead");
    assert_eq!(after_crash.len(), leads + 1);
    let created = after_crash.last().unwrap()["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let board = LEAD.to_string();
    assert!(
        w.store
            .link_by_item(bid(&board), iid(&item))
            .await
            .unwrap()
            .is_none()
    );
    let intent = w
        .store
        .create_intent(bid(&board), iid(&item))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(intent.status, IntentStatus::Pending);

    // monday redelivers; the dead instance's claim on the event has lapsed by then.
    let mut ctx = w.webhook.context().clone();
    ctx.clock = Arc::new(|| time::OffsetDateTime::now_utc() + time::Duration::minutes(17));
    let later = Webhook::new(ctx, w.webhook.options().clone());
    let mut again = body.clone();
    again["event"]["isRetry"] = json!(true);
    let outcome = later.handle_event(&parse(&again)).await.unwrap();
    assert!(
        matches!(outcome, Outcome::Done(ref d) if d.record_id.as_ref().map(crmmap_ids::RecordId::as_str) == Some(created.as_str())),
        "{outcome:?}"
    );
    assert_eq!(w.records("Lead").len(), leads + 1, "no second record");
    let link = w
        .store
        .link_by_item(bid(&board), iid(&item))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.record_id.as_str(), created);
    let stored = w.monday.state().item(item.parse().unwrap()).unwrap();
    assert!(
        format!("{:?}", stored.values.get("text_mkryhch5")).contains(&created),
        "written back: {stored:?}"
    );
    // And once more: nothing changes.
    again["event"]["triggerUuid"] = json!("dddd0000dddd0000dddd0000dddd0002");
    later.handle_event(&parse(&again)).await.unwrap();
    assert_eq!(w.records("Lead").len(), leads + 1);
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_kill_before_write_back_lookup() {
    crash_between_create_and_write_back(Backend::Sqlite, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_kill_before_write_back_external_id() {
    crash_between_create_and_write_back(Backend::Sqlite, Some("External_Id__c")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_kill_before_write_back_lookup() {
    crash_between_create_and_write_back(Backend::Postgres, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_kill_before_write_back_external_id() {
    crash_between_create_and_write_back(Backend::Postgres, Some("External_Id__c")).await;
}

/// The same for the records a lifecycle rule creates: a crash after the rule's first create
/// leaves a pending marker; the redelivery finds that record instead of creating it again.
async fn crash_inside_a_lifecycle_rule(backend: Backend) {
    let mut setup = Setup::new(backend);
    setup.deliver = false;
    let Some(w) = World::start(setup).await else {
        return;
    };
    let item = w
        .create_item(
            LEAD,
            "rule crash org",
            json!({"text_mkry13cw": "Ada", "text_mkry1xy1": "Lovelace"}),
        )
        .await;
    let created = w
        .post(&event(
            "create_pulse",
            LEAD,
            item.parse().unwrap(),
            "dddd0000dddd0000dddd0000dddd0101",
            json!({}),
        ))
        .await;
    assert_eq!(created.1["outcome"], "created", "{created:?}");
    let lead = created.1["record"].as_str().unwrap().to_owned();
    w.change(
        LEAD,
        &item,
        json!({"color_mksj2adq": {"label": "Qualified"}}),
    )
    .await;
    let body = event(
        "update_column_value",
        LEAD,
        item.parse().unwrap(),
        "dddd0000dddd0000dddd0000dddd0102",
        json!({"columnId": "color_mksj2adq", "value": {"label": {"index": 2, "text": "Qualified"}}, "previousValue": null}),
    );
    let counts = |w: &World| {
        (
            w.records("Account").len(),
            w.records("Contact").len(),
            w.records("Opportunity").len(),
        )
    };
    let before = counts(&w);
    let spec = json!({"db": w.db.url(), "sf": w.sf.base_url(), "monday": w.monday.base_url(), "body": body, "external_id": null});
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash::child_process_entry_point",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, spec.to_string())
        .status()
        .unwrap();
    assert!(!status.success(), "the child must have died");
    assert_eq!(
        counts(&w),
        (before.0 + 1, before.1, before.2),
        "died after the rule's first create"
    );
    let account = w.records("Account").last().unwrap()["Id"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut ctx = w.webhook.context().clone();
    ctx.clock = Arc::new(|| time::OffsetDateTime::now_utc() + time::Duration::minutes(17));
    let later = Webhook::new(ctx, w.webhook.options().clone());
    let mut again = body.clone();
    again["event"]["isRetry"] = json!(true);
    let outcome = later.handle_event(&parse(&again)).await.unwrap();
    assert!(matches!(outcome, Outcome::Done(_)), "{outcome:?}");
    assert_eq!(
        counts(&w),
        (before.0 + 1, before.1 + 1, before.2 + 1),
        "each record once"
    );
    let r = w.record(&lead);
    assert_eq!(r["Linked_Account__c"], json!(account));
    assert_eq!(
        w.record(r["Linked_Contact__c"].as_str().unwrap())["AccountId"],
        json!(account)
    );
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_kill_inside_a_lifecycle_rule() {
    crash_inside_a_lifecycle_rule(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_kill_inside_a_lifecycle_rule() {
    crash_inside_a_lifecycle_rule(Backend::Postgres).await;
}
