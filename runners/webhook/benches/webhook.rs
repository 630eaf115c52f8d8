//! Webhook runner benchmarks (`cargo bench -p crmmap-webhook --bench webhook`), against the
//! local emulators over HTTP on loopback. Prints a Markdown report.
//!
//! 1. Per event: API calls, handler time, and the handler's overhead beyond its own API calls
//!    (its `webhook.request` span minus the union of the client request spans inside it), p50/p99,
//!    with the store calls it made.
//! 2. CPU only: parse + evaluate a column change (no I/O).
//! 3. End to end with 20 ms injected latency on both APIs and 10,000 items per board, side by
//!    side with the seed's way (page the whole board to find the item, a new OAuth token per
//!    Salesforce call) on the same emulators.
//! 4. Sustained load on the served router from concurrent loopback clients, bounded in count
//!    and time: events/s without errors, on SQLite and (with `CRMMAP_TEST_POSTGRES_URL`) on
//!    PostgreSQL.
//!
//! `BENCH_QUICK=1` shrinks every count (for a smoke run).

#[path = "../tests/e2e/harness.rs"]
#[expect(
    dead_code,
    unused_imports,
    reason = "the benchmark uses part of the test harness"
)]
mod harness;

use std::time::{Duration, Instant};

use crmmap_emu_salesforce::EndpointKind;
use crmmap_store::Backend;
use serde_json::{Value, json};

use harness::*;

#[path = "common/stats.rs"]
mod stats;
use stats::{ms, p50_p99, pct};
#[path = "common/spans.rs"]
mod spans;

fn quick() -> bool {
    std::env::var_os("BENCH_QUICK").is_some()
}

/// Sets a text column in the emulator's state directly (no API call, no webhook).
fn set_text(w: &World, item: u64, column: &str, value: &str) {
    w.monday.state().with_account(|a| {
        if let Some(it) = a.items.get_mut(&item) {
            it.values.insert(column.to_owned(), json!(value));
        }
    });
}

fn change_event(item: u64, uuid: &str, value: &str) -> Value {
    event(
        "update_column_value",
        LEAD,
        item,
        uuid,
        json!({"columnId": "text_mkry13cw", "value": {"value": value}, "previousValue": null}),
    )
}

/// A linked Lead item made through a crafted create event.
async fn linked_item(w: &World, name: &str) -> (u64, String) {
    let item: u64 = w.create_item(LEAD, name, json!({})).await.parse().unwrap();
    let (s, b) = w
        .post(&event(
            "create_pulse",
            LEAD,
            item,
            &format!("{:032x}", rand_id()),
            json!({"pulseName": name}),
        ))
        .await;
    assert_eq!(s, 200, "{b}");
    (item, b["record"].as_str().expect("created").to_owned())
}

fn rand_id() -> u128 {
    uuid::Uuid::new_v4().as_u128()
}

async fn per_event(backend: Backend) {
    let mut setup = Setup::new(backend);
    setup.deliver = false;
    let Some(w) = World::start(setup).await else {
        println!("## Per event on {backend:?}: skipped (no CRMMAP_TEST_POSTGRES_URL)\n");
        return;
    };
    let (item, _) = linked_item(&w, "Bench Org").await;
    let n = if quick() { 50 } else { 500 };
    let (mut handler, mut overhead) = (Vec::new(), Vec::new());
    let mut store_ops: std::collections::BTreeMap<&'static str, Vec<Duration>> = Default::default();
    let mut calls = (0u64, 0u64);
    for i in 0..n + 20 {
        set_text(&w, item, "text_mkry13cw", &format!("value {i}"));
        let (sf_before, m_before) = (w.sf.state().counters(), w.monday.state().counters());
        spans::record(true);
        let t = Instant::now();
        let (s, b) = w
            .post(&change_event(item, &format!("{:032x}", rand_id()), "x"))
            .await;
        let h = t.elapsed();
        // The handler span may close just after the response is sent; give it a moment.
        let mut timed = spans::take();
        for _ in 0..1000 {
            if timed.iter().any(|s| s.name == "webhook.request") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
            timed.extend(spans::take());
        }
        let names: Vec<_> = timed.iter().map(|s| s.name).collect();
        assert!(
            names.contains(&"webhook.request"),
            "event {i}: {s} {b}; spans seen: {names:?}"
        );
        spans::record(false);
        assert_eq!((s, b["outcome"].as_str()), (200, Some("updated")), "{b}");
        let (sf_after, m_after) = (w.sf.state().counters(), w.monday.state().counters());
        if i >= 20 {
            handler.push(h);
            overhead.push(spans::overhead(&timed).expect("the handler span was recorded"));
            for s in timed.iter().filter(|s| s.name.starts_with("store.")) {
                store_ops.entry(s.name).or_default().push(s.end - s.start);
            }
            calls.0 += m_after.executed - m_before.executed;
            calls.1 += sf_after.api_calls - sf_before.api_calls;
        }
    }
    println!("## Per event (column change, {backend:?} store, emulators without added latency)\n");
    println!("| | p50 | p99 |\n|---|---|---|");
    println!(
        "{}",
        p50_p99(
            "handler (HTTP in → HTTP out, seen by the sender)",
            &mut handler
        )
    );
    println!(
        "{}",
        p50_p99(
            "**overhead beyond the API calls** (handler span − API request spans)",
            &mut overhead
        )
    );
    println!(
        "\nAPI calls per event: {:.2} monday, {:.2} Salesforce ({} events)\n",
        calls.0 as f64 / n as f64,
        calls.1 as f64 / n as f64,
        n
    );
    println!("Store calls per event (some overlap an API request):\n");
    println!("| store call | per event | p50 | p99 |\n|---|---|---|---|");
    for (name, mut d) in store_ops {
        println!(
            "| {name} | {:.2} | {} | {} |",
            d.len() as f64 / n as f64,
            ms(pct(&mut d, 0.5)),
            ms(pct(&mut d, 0.99))
        );
    }
    println!();

    // CPU only: parse and evaluate.
    let plans = plans();
    let plan = plans.plan("Lead").unwrap();
    let body = change_event(item, "0123456789abcdef0123456789abcdef", "Ada").to_string();
    let m = if quick() { 1_000 } else { 20_000 };
    let mut cpu = Vec::with_capacity(m);
    for _ in 0..m {
        let t = Instant::now();
        let Ok(crmmap_webhook::Incoming::Event(ev)) = crmmap_webhook::event::parse(body.as_bytes())
        else {
            panic!()
        };
        let crmmap_webhook::EventKind::ColumnChanged {
            column,
            value,
            previous,
        } = &ev.kind
        else {
            panic!()
        };
        let w = crmmap_engine::eval::webhook_column_change(
            plan,
            column,
            value,
            previous,
            None,
            None,
            time::OffsetDateTime::UNIX_EPOCH,
        )
        .unwrap();
        std::hint::black_box(w);
        cpu.push(t.elapsed());
    }
    println!(
        "CPU only (parse + evaluate one column change, {m} runs): p50 {}, p99 {}\n",
        ms(pct(&mut cpu, 0.5)),
        ms(pct(&mut cpu, 0.99))
    );
    w.stop().await;
}

async fn versus_seed() {
    let mut setup = Setup::new(Backend::Sqlite);
    setup.deliver = false;
    setup.latency = Duration::from_millis(20);
    setup.items_per_board = if quick() { 1_000 } else { 10_000 };
    let w = World::start(setup).await.unwrap();
    let items = w.monday.state().active_items(LEAD).len();
    let (item, record) = linked_item(&w, "Far Away Org").await;
    let n = if quick() { 3 } else { 20 };
    let mut ours = Vec::new();
    let (sf0, m0) = (w.sf.state().counters(), w.monday.state().counters());
    for i in 0..n {
        set_text(&w, item, "text_mkry13cw", &format!("ours {i}"));
        let t = Instant::now();
        let (s, b) = w
            .post(&change_event(item, &format!("{:032x}", rand_id()), "x"))
            .await;
        ours.push(t.elapsed());
        assert_eq!((s, b["outcome"].as_str()), (200, Some("updated")), "{b}");
    }
    let (sf1, m1) = (w.sf.state().counters(), w.monday.state().counters());
    // The seed's way, on the same emulators.
    let monday = monday_client(&w.monday.base_url(), true);
    let mut seed = Vec::new();
    for i in 0..n {
        set_text(&w, item, "text_mkry13cw", &format!("seed {i}"));
        let t = Instant::now();
        let req = crmmap_monday::PageRequest {
            limit: 100,
            query_params: None,
            column_ids: None,
        };
        let mut page = monday.items_page(LEAD.into(), &req).await.unwrap();
        let found = loop {
            if let Some(it) = page.items.iter().find(|it| it.id.get() == item) {
                break it.clone();
            }
            let cursor = page.cursor.clone().expect("item on the board");
            page = monday.next_items_page(&cursor, &req).await.unwrap();
        };
        let value = found
            .column("text_mkry13cw")
            .and_then(|c| c.text.clone())
            .unwrap_or_default();
        let id = found
            .column("text_mkryhch5")
            .and_then(|c| c.text.clone())
            .unwrap_or_default();
        let id = crmmap_ids::RecordId::parse(&id).expect("the key column holds a record id");
        // A new client, so a new token, per call.
        let sf = salesforce_client(&w.sf.base_url(), true);
        sf.update("Lead", &id, &json!({"FirstName": value}), None)
            .await
            .unwrap();
        seed.push(t.elapsed());
    }
    let (sf2, m2) = (w.sf.state().counters(), w.monday.state().counters());
    assert_eq!(
        w.record(&record)["FirstName"],
        json!(format!("seed {}", n - 1))
    );
    let per = |a: u64, b: u64| (b - a) as f64 / n as f64;
    println!("## End to end, 20 ms added latency per API request, {items} items on the board\n");
    println!(
        "| | p50 | p99 | monday calls/event | Salesforce calls/event (token requests) |\n|---|---|---|---|---|"
    );
    println!(
        "| crmmap | {} | {} | {:.1} | {:.1} ({:.1}) |",
        ms(pct(&mut ours, 0.5)),
        ms(pct(&mut ours, 0.99)),
        per(m0.executed, m1.executed),
        per(sf0.total, sf1.total),
        per(sf0.get(EndpointKind::Token), sf1.get(EndpointKind::Token)),
    );
    println!(
        "| the seed's way (board scan, token per call) | {} | {} | {:.1} | {:.1} ({:.1}) |\n",
        ms(pct(&mut seed, 0.5)),
        ms(pct(&mut seed, 0.99)),
        per(m1.executed, m2.executed),
        per(sf1.total, sf2.total),
        per(sf1.get(EndpointKind::Token), sf2.get(EndpointKind::Token)),
    );
    w.stop().await;
}

async fn load(backend: Backend) {
    let mut setup = Setup::new(backend);
    setup.deliver = false;
    let Some(w) = World::start(setup).await else {
        println!("## Sustained load on {backend:?}: skipped (no CRMMAP_TEST_POSTGRES_URL)\n");
        return;
    };
    let n_items = 50;
    let mut items = Vec::new();
    for i in 0..n_items {
        items.push(linked_item(&w, &format!("Load Org {i}")).await);
    }
    let total = if quick() { 200 } else { 3_000 };
    let concurrency = 16;
    let deadline = Duration::from_secs(120);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (next, http, url) = (next.clone(), w.http.clone(), w.hook_url.clone());
        let items = items.clone();
        let state = w.monday.state().clone();
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut bad) = (0usize, 0usize);
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total || start.elapsed() > deadline {
                    return (ok, bad);
                }
                let (item, _) = &items[i % items.len()];
                state.with_account(|a| {
                    if let Some(it) = a.items.get_mut(item) {
                        it.values
                            .insert("text_mkry13cw".into(), json!(format!("load {i}")));
                    }
                });
                let body = change_event(*item, &format!("{:032x}", rand_id()), "x");
                match http.post(&url).json(&body).send().await {
                    Ok(r) if r.status().is_success() => {
                        let v: Value = r.json().await.unwrap_or(Value::Null);
                        if v["outcome"] == "queued" {
                            bad += 1
                        } else {
                            ok += 1
                        }
                    }
                    _ => bad += 1,
                }
            }
        }));
    }
    let (mut ok, mut bad) = (0, 0);
    for t in tasks {
        let (o, b) = t.await.unwrap();
        ok += o;
        bad += b;
    }
    let elapsed = start.elapsed();
    println!(
        "## Sustained load on {backend:?}\n\n{ok} events in {:.2} s from {concurrency} loopback clients over {n_items} items: **{:.0} events/s**, {bad} errors or queued\n",
        elapsed.as_secs_f64(),
        ok as f64 / elapsed.as_secs_f64()
    );
    w.stop().await;
}

fn main() {
    let Some(rt) = spans::bench_runtime() else {
        return;
    };
    rt.block_on(async {
        println!("# crmmap webhook runner benchmarks\n");
        per_event(Backend::Sqlite).await;
        per_event(Backend::Postgres).await;
        versus_seed().await;
        load(Backend::Sqlite).await;
        load(Backend::Postgres).await;
    });
}
