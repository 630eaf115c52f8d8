//! Real-time benchmarks (`cargo bench -p crmmap-webhook --bench realtime`): Salesforce change
//! events through the emulator's EventBridge relay to `POST /events/salesforce` of the served
//! router, with 20 ms injected latency on both emulators. Prints a Markdown report.
//!
//! 1. An update (a person's edit of a Lead's City): latency from the Salesforce emulator's
//!    commit to the monday emulator's receipt of the mutation (and to its application, 20 ms
//!    later), p50 / p99; the same minus the time the runner spent in API requests between
//!    those instants; Salesforce and monday calls per change.
//! 2. The same for a create (a selected Lead made by a person).
//! 3. Sustained events per second: many records changed, one event each, the logged events
//!    POSTed by 16 concurrent senders (an EventBridge API destination invokes concurrently;
//!    the emulator's relay delivers one at a time), on SQLite and (with
//!    `CRMMAP_TEST_POSTGRES_URL`) PostgreSQL.
//!
//! The instants come from the emulators in this process: the change log's
//! `LoggedEvent::committed_at` and the monday emulator's `MutationReceipt`.
//!
//! `BENCH_QUICK=1` shrinks every count (for a smoke run).

#[path = "../tests/e2e/harness.rs"]
#[expect(
    dead_code,
    unused_imports,
    reason = "the benchmark uses part of the test harness"
)]
mod harness;
#[path = "common/stats.rs"]
mod stats;
use stats::p50_p99;
#[path = "common/spans.rs"]
#[expect(
    dead_code,
    reason = "the handler-span overhead is the webhook benchmark's"
)]
mod spans;

use std::time::{Duration, Instant};

use crmmap_emu_salesforce::EndpointKind;
use crmmap_emu_salesforce::cdc::{EnvelopeSource, RelayOptions, envelope};
use crmmap_store::Backend;
use serde_json::{Value, json};

use harness::*;

const EVENTS_TOKEN: &str = "bench-events-token-0123456789";
const CITY: &str = "text_mkrym6fa";
const LATENCY: Duration = Duration::from_millis(20);

fn quick() -> bool {
    std::env::var_os("BENCH_QUICK").is_some()
}

/// Fields of a Lead the Lead mapping selects (`Role__c = 'Partner'`, created after mid-2024).
fn selected_lead(name: &str) -> Value {
    json!({
        "FirstName": "Bench",
        "LastName": name,
        "Company": format!("{name} Org"),
        "Role__c": "Partner",
        "City": "Austin",
        "Status": "Follow-up",
    })
}

/// Both emulators, `extra_leads` more selected Leads, the Leads migrated, the events route
/// on; then 20 ms latency on both emulators.
async fn world(backend: Backend, extra_leads: usize) -> Option<World> {
    let mut s = Setup::new(backend);
    s.options.events_token = Some(crmmap_webhook::SecretString::new(EVENTS_TOKEN));
    s.deliver = false;
    let w = World::start(s).await?;
    for i in 0..extra_leads {
        w.sf.state()
            .insert_record("Lead", selected_lead(&format!("Load{i}")));
    }
    w.migrate_leads().await;
    w.sf.state().set_latency(LATENCY);
    w.monday.state().set_latency(LATENCY);
    Some(w)
}

/// The linked Leads Salesforce still accepts updates for: (record id, item id).
async fn leads(w: &World) -> Vec<(String, u64)> {
    w.store
        .links_for_object(&SObjectName::new("Lead"))
        .await
        .unwrap()
        .into_iter()
        .filter(|l| w.record(l.record_id.as_str())["IsConverted"] != json!(true))
        .map(|l| (l.record_id.to_string(), l.item_id.get()))
        .collect()
}

/// One change's figures.
struct Sample {
    to_receipt: Duration,
    to_applied: Duration,
    beyond_api: Duration,
}

/// API calls counted over a run.
#[derive(Default)]
struct Calls {
    sf_reads: u64,
    sf_all: u64,
    monday_writes: u64,
    monday_all: u64,
}

impl Calls {
    fn snapshot(w: &World) -> Calls {
        let (sf, m) = (w.sf.state().counters(), w.monday.state().counters());
        Calls {
            sf_reads: [
                EndpointKind::Query,
                EndpointKind::QueryMore,
                EndpointKind::QueryAll,
                EndpointKind::Retrieve,
            ]
            .into_iter()
            .map(|k| sf.get(k))
            .sum(),
            sf_all: sf.api_calls,
            monday_writes: m.mutations,
            monday_all: m.executed,
        }
    }

    fn since(&self, before: &Calls) -> Calls {
        Calls {
            sf_reads: self.sf_reads - before.sf_reads,
            sf_all: self.sf_all - before.sf_all,
            monday_writes: self.monday_writes - before.monday_writes,
            monday_all: self.monday_all - before.monday_all,
        }
    }
}

/// Makes one change with `commit`, waits until the relay delivered its event (the runner
/// answers 2xx once the change is applied), and measures it. `item`: the item the monday
/// write must touch (`None` for a create: the first mutation after the commit).
async fn measure(
    w: &World,
    relay: &crmmap_emu_salesforce::cdc::EventRelay,
    item: Option<u64>,
    commit: impl FnOnce(),
) -> Sample {
    let log = w.sf.state().change_log();
    spans::record(true);
    commit();
    let replay = log.latest_replay_id();
    let committed = log.committed_at(replay).expect("the event is retained");
    assert!(
        relay.wait_delivered(replay, Duration::from_secs(60)).await,
        "event {replay} delivered"
    );
    let timed = spans::take();
    spans::record(false);
    let receipt = w
        .monday
        .state()
        .mutation_receipts()
        .into_iter()
        .filter(|r| r.received >= committed)
        .find(|r| item.is_none_or(|i| r.items.contains(&i)))
        .unwrap_or_else(|| panic!("no monday write after event {replay}"));
    Sample {
        to_receipt: receipt.received - committed,
        to_applied: receipt.applied - committed,
        beyond_api: (receipt.received - committed).saturating_sub(spans::api_time(
            &timed,
            committed,
            receipt.received,
        )),
    }
}

fn report(what: &str, n: usize, samples: &[Sample], calls: &Calls) {
    let mut receipt: Vec<_> = samples.iter().map(|s| s.to_receipt).collect();
    let mut applied: Vec<_> = samples.iter().map(|s| s.to_applied).collect();
    let mut beyond: Vec<_> = samples.iter().map(|s| s.beyond_api).collect();
    println!("## {what} ({n} changes, SQLite store, 20 ms added latency per API request)\n");
    println!("| from the Salesforce commit to | p50 | p99 |\n|---|---|---|");
    println!(
        "{}",
        p50_p99("the monday emulator's receipt of the write", &mut receipt)
    );
    println!(
        "{}",
        p50_p99("the write applied (after monday's 20 ms)", &mut applied)
    );
    println!(
        "{}",
        p50_p99(
            "**the receipt, minus the runner's API requests before it**",
            &mut beyond
        )
    );
    let per = |x: u64| x as f64 / n as f64;
    println!(
        "\nAPI calls per change: Salesforce {:.2} reads ({:.2} calls in all), monday {:.2} writes ({:.2} requests in all)\n",
        per(calls.sf_reads),
        per(calls.sf_all),
        per(calls.monday_writes),
        per(calls.monday_all),
    );
}

async fn latency() {
    let w = world(Backend::Sqlite, 0)
        .await
        .expect("SQLite needs no set-up");
    let relay = w.sf.state().start_event_relay(RelayOptions::new(
        format!("{}/events/salesforce", w.base),
        crmmap_secret::Secret::new(EVENTS_TOKEN),
    ));
    let (record, item) = leads(&w).await.into_iter().next().expect("a linked Lead");
    let (warm, n) = (10, if quick() { 30 } else { 500 });
    let mut samples = Vec::new();
    let mut before = Calls::snapshot(&w);
    for i in 0..warm + n {
        if i == warm {
            before = Calls::snapshot(&w);
        }
        let sf = w.sf.state().clone();
        let s = measure(&w, &relay, Some(item), || {
            sf.update_record(&record, json!({"City": format!("Realtime {i}")}));
        })
        .await;
        if i >= warm {
            samples.push(s);
        }
    }
    let calls = Calls::snapshot(&w).since(&before);
    let value = w
        .monday
        .state()
        .item(item)
        .and_then(|i| i.values.get(CITY).cloned());
    assert!(
        value.is_some_and(|v| v
            .to_string()
            .contains(&format!("Realtime {}", warm + n - 1))),
        "the last edit reached monday"
    );
    report(
        "An update (a person edits a Lead's City)",
        n,
        &samples,
        &calls,
    );

    let n = if quick() { 10 } else { 100 };
    let mut samples = Vec::new();
    let before = Calls::snapshot(&w);
    for i in 0..n {
        let sf = w.sf.state().clone();
        let s = measure(&w, &relay, None, || {
            sf.insert_record("Lead", selected_lead(&format!("Created{i}")));
        })
        .await;
        samples.push(s);
    }
    let calls = Calls::snapshot(&w).since(&before);
    report(
        "A create (a person makes a selected Lead)",
        n,
        &samples,
        &calls,
    );
    relay.stop();
    w.stop().await;
}

async fn sustained(backend: Backend) {
    let extra = if quick() { 50 } else { 500 };
    let Some(w) = world(backend, extra).await else {
        println!("## Sustained events on {backend:?}: skipped (no CRMMAP_TEST_POSTGRES_URL)\n");
        return;
    };
    let leads = leads(&w).await;
    let log = w.sf.state().change_log();
    let after = log.latest_replay_id();
    let total = if quick() { 200 } else { 3_000 };
    for i in 0..total {
        let (record, _) = &leads[i % leads.len()];
        w.sf.state()
            .update_record(record, json!({"City": format!("Load {i}")}));
    }
    let source = EnvelopeSource::default();
    let bodies: Vec<Value> = log
        .read_after(after, total)
        .expect("retained")
        .iter()
        .map(|e| envelope(&e.event, &source))
        .collect();
    assert_eq!(bodies.len(), total, "one event per change");
    let bodies = std::sync::Arc::new(bodies);
    let concurrency = 16;
    let url = format!("{}/events/salesforce", w.base);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let before = Calls::snapshot(&w);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (next, http, url, bodies) = (next.clone(), w.http.clone(), url.clone(), bodies.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut bad) = (0usize, 0usize);
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(body) = bodies.get(i) else {
                    return (ok, bad);
                };
                let sent = http
                    .post(&url)
                    .bearer_auth(EVENTS_TOKEN)
                    .json(body)
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status().is_success() => ok += 1,
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
    let calls = Calls::snapshot(&w).since(&before);
    // Every record ends at its newest value.
    let newest: std::collections::HashMap<u64, String> = (0..total)
        .map(|i| (leads[i % leads.len()].1, format!("Load {i}")))
        .collect();
    let stale = newest
        .iter()
        .filter(|(item, want)| {
            !w.monday
                .state()
                .item(**item)
                .and_then(|i| {
                    i.values
                        .get(CITY)
                        .map(|v| v.to_string().contains(want.as_str()))
                })
                .unwrap_or(false)
        })
        .count();
    println!(
        "## Sustained events on {backend:?} (20 ms added latency per API request)\n\n{ok} change events over {} Leads in {:.2} s from {concurrency} concurrent senders: **{:.0} events/s**, {bad} errors; {:.2} monday writes and {:.2} Salesforce reads per event; {stale} items not at their newest value\n",
        leads.len(),
        elapsed.as_secs_f64(),
        ok as f64 / elapsed.as_secs_f64(),
        calls.monday_writes as f64 / total as f64,
        calls.sf_reads as f64 / total as f64,
    );
    w.stop().await;
}

fn main() {
    let Some(rt) = spans::bench_runtime() else {
        return;
    };
    rt.block_on(async {
        println!("# crmmap real-time benchmarks (Salesforce change events to monday)\n");
        latency().await;
        sustained(Backend::Sqlite).await;
        sustained(Backend::Postgres).await;
    });
}
