//! 20% injected API faults on both emulators over 1,000 events: every change is applied
//! eventually (through the retry queue), none is lost and no record is created twice.

use std::collections::BTreeMap;
use std::time::Duration;

use crmmap_store::Backend;
use serde_json::json;

use crate::harness::*;

const ITEMS: usize = 40;
const EVENTS: usize = 1_000;
const COLUMNS: [(&str, &str); 3] = [
    ("text_mkry13cw", "FirstName"),
    ("text_mkrym6fa", "City"),
    ("text_mkry1xy1", "LastName"),
];

async fn faults_over_a_thousand_events(backend: Backend) {
    let mut setup = Setup::new(backend);
    setup.client_retries = false;
    setup.options.retry = crmmap_store::RetryPolicy {
        max_attempts: 1_000,
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
        jitter: 0.0,
    };
    let Some(w) = World::start(setup).await else {
        return;
    };
    let leads = w.records("Lead").len();
    w.sf.state().set_error_rate(0.2);
    w.monday.state().set_error_rate(0.2);

    let mut items = Vec::new();
    for i in 0..ITEMS {
        items.push(
            w.create_item(LEAD, &format!("fault org {i}"), json!({}))
                .await,
        );
    }
    // Each item's last value per column.
    let mut last: BTreeMap<(usize, usize), String> = BTreeMap::new();
    for e in 0..EVENTS - ITEMS {
        let (i, c) = (e % ITEMS, (e / ITEMS) % COLUMNS.len());
        let value = format!("value {e}");
        w.change(LEAD, &items[i], json!({ COLUMNS[c].0: value }))
            .await;
        last.insert((i, c), value);
    }
    // Wait until monday got a 2xx for every event (the runner answers 200 and queues what
    // fails), then drain the queue until it is empty.
    let w_ref = &w;
    eventually("every delivery acknowledged", || async move {
        let d = w_ref.monday.state().webhooks().deliveries();
        let uuids: std::collections::BTreeSet<&str> =
            d.iter().map(|d| d.trigger_uuid.as_str()).collect();
        let acked: std::collections::BTreeSet<&str> = d
            .iter()
            .filter(|d| d.acknowledged())
            .map(|d| d.trigger_uuid.as_str())
            .collect();
        uuids.len() >= EVENTS && acked.len() == uuids.len()
    })
    .await;
    let mut drains = 0;
    loop {
        let far = time::OffsetDateTime::now_utc() + time::Duration::days(1);
        let c = w.store.retry_counts(far).await.unwrap();
        assert_eq!(c.dead, 0);
        if c.due + c.waiting == 0 {
            // The write-backs the drains made come back as events too: let them settle.
            let d = w.monday.state().webhooks().deliveries();
            if d.iter().all(|d| d.acknowledged() || d.attempt > 0) {
                break;
            }
        }
        drains += 1;
        assert!(drains < 500, "the queue does not drain: {c:?}");
        w.webhook.drain_retries(200).await.unwrap();
    }
    let queued = w
        .log_reasons()
        .await
        .iter()
        .filter(|l| l.contains("queued for retry"))
        .count();
    assert!(queued > 0, "faults reached the runner");
    w.sf.state().set_error_rate(0.0);
    w.monday.state().set_error_rate(0.0);

    let all = w.records("Lead");
    assert_eq!(all.len(), leads + ITEMS, "none duplicated, none lost");
    let board = LEAD.to_string();
    for (i, item) in items.iter().enumerate() {
        let link = w
            .store
            .link_by_item(&board, item)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("item {i} linked"));
        let r = w.record(&link.record_id);
        for (c, (_, field)) in COLUMNS.iter().enumerate() {
            if let Some(v) = last.get(&(i, c)) {
                assert_eq!(r[*field], json!(v), "item {i} {field}");
            }
        }
        let stored = w.monday.state().item(item.parse().unwrap()).unwrap();
        assert!(
            format!("{:?}", stored.values.get("text_mkryhch5")).contains(&link.record_id),
            "item {i} written back"
        );
    }
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_faults_over_a_thousand_events() {
    faults_over_a_thousand_events(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_faults_over_a_thousand_events() {
    faults_over_a_thousand_events(Backend::Postgres).await;
}
