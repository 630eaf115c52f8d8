//! Migrator benchmarks against the emulators (not timed tests: numbers to read).
//!
//! ```text
//! cargo bench -p crmmap-sync --bench migrate -- compare [N] [SEED_N]
//!     crmmap: first migration, unchanged full rerun, rerun after changing 1% of records;
//!     then the seed's way (whole-board reads, one request per record written) at SEED_N.
//!     N records generated per object, 20 ms latency on both emulators, the complexity budget
//!     enforced with a scaled emulator minute (CRMMAP_BENCH_MINUTE_MS, default 2000).
//! cargo bench -p crmmap-sync --bench migrate -- memory N
//!     peak RSS (VmHWM) of a first migration of N records per object, with the emulators in a
//!     child process so that only the migrator's memory is measured.
//! ```

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use crmmap_engine::eval;
use crmmap_monday::{ItemMutation, MondayClient, PageRequest};
use crmmap_salesforce::SalesforceClient;
use crmmap_store::Store;
use crmmap_sync::RunContext;
use crmmap_sync::migrate::{self, MigrateOptions, NoProgress};
use crmmap_testkit::{
    Database, Emulators, SalesforceAuth, monday_config, run_context, salesforce_config,
    shipped_plans,
};
use futures::StreamExt as _;
use serde_json::json;

const LATENCY: Duration = Duration::from_millis(20);

fn minute() -> Duration {
    let ms = std::env::var("CRMMAP_BENCH_MINUTE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    Duration::from_millis(ms)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let n = |i: usize, d: usize| args.get(i).and_then(|v| v.parse().ok()).unwrap_or(d);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    match args.first().map(String::as_str) {
        Some("compare") | None => rt.block_on(compare(n(1, 10_000), n(2, 1_000))),
        Some("memory") => rt.block_on(memory(n(1, 100_000))),
        Some("serve") => rt.block_on(serve(n(1, 1_000))),
        Some(other) => eprintln!("unknown mode `{other}`: compare, memory or serve"),
    }
}

async fn emulators(n: usize, latency: Duration, minute: Duration) -> Emulators {
    Emulators::start_with(
        crmmap_emu_salesforce::EmulatorOptions {
            generated_records_per_object: n,
            latency,
            daily_api_limit: 10_000_000,
            ..Default::default()
        },
        crmmap_emu_monday::EmulatorOptions {
            latency,
            minute,
            max_items_per_board: 10 * n + 1_000,
            ..Default::default()
        },
    )
    .await
}

/// The kit's clients with the patience of a long run: 600 s per Salesforce request, monday's
/// default backoff from 20 ms, and up to an hour of waiting for its limits.
async fn context(sf_url: &str, md_url: &str, store: Store) -> RunContext {
    let mut sf = salesforce_config(sf_url, SalesforceAuth::Password);
    sf.request_timeout = Duration::from_secs(600);
    let mut md = monday_config(md_url);
    md.retry_base_delay = Duration::from_millis(20);
    md.retry_max_delay = Duration::from_secs(30);
    md.max_wait = Duration::from_secs(3_600);
    run_context(
        shipped_plans(),
        SalesforceClient::new(sf).expect("client"),
        MondayClient::new(md).expect("client"),
        store,
    )
}

/// A store on a fresh SQLite file (alive while the database is held).
async fn temp_store() -> (Store, Database) {
    let db = Database::sqlite();
    (db.connect().await, db)
}

#[derive(Clone, Copy)]
struct Snapshot {
    requests: u64,
    complexity: u64,
    budget_429: u64,
    writes: u64,
    at: Instant,
}

fn snapshot(e: &Emulators) -> Snapshot {
    let c = e.monday.state().counters();
    Snapshot {
        requests: c.requests,
        complexity: c.complexity_spent,
        budget_429: c.budget_exhausted,
        writes: ["create_item", "change_multiple_column_values"]
            .iter()
            .map(|f| c.root_fields.get(*f).copied().unwrap_or(0))
            .sum(),
        at: Instant::now(),
    }
}

fn line(label: &str, records: u64, before: Snapshot, after: Snapshot) {
    println!(
        "{label:<34} {records:>7} records  {:>7} monday requests  {:>7} writes  {:>12} complexity  {:>4} budget 429s  {:>8.1}s",
        after.requests - before.requests,
        after.writes - before.writes,
        after.complexity - before.complexity,
        after.budget_429 - before.budget_429,
        (after.at - before.at).as_secs_f64()
    );
}

async fn compare(n: usize, seed_n: usize) {
    println!(
        "{n} generated records per object (+ sample), latency {} ms, complexity budget 10,000,000 per emulated minute of {} ms",
        LATENCY.as_millis(),
        minute().as_millis()
    );
    let e = emulators(n, LATENCY, minute()).await;
    let (store, _dir) = temp_store().await;
    let ctx = context(&e.salesforce.base_url(), &e.monday.base_url(), store).await;

    let s0 = snapshot(&e);
    let first = migrate::run(&ctx, &MigrateOptions::default(), &mut NoProgress)
        .await
        .expect("first migration");
    let s1 = snapshot(&e);
    line("crmmap: first migration", first.total().read, s0, s1);
    assert!(!first.has_failures(), "{first:#?}");

    let full = MigrateOptions {
        full: true,
        ..MigrateOptions::default()
    };
    let rerun = migrate::run(&ctx, &full, &mut NoProgress)
        .await
        .expect("rerun");
    let s2 = snapshot(&e);
    line("crmmap: full rerun, no changes", rerun.total().read, s1, s2);
    let incr = migrate::run(&ctx, &MigrateOptions::default(), &mut NoProgress)
        .await
        .expect("incremental rerun");
    let s3 = snapshot(&e);
    line("crmmap: incremental, no changes", incr.total().read, s2, s3);

    // Change 1% of the migrated records of every object.
    let mut changed = 0;
    let mut changed_per_object = Vec::new();
    for plan in ctx.plans.plans.iter() {
        let changed_before = changed;
        let links = ctx
            .store
            .links_for_object(&plan.sobject)
            .await
            .expect("links");
        let step = 100;
        for link in links.iter().step_by(step) {
            let field = match plan.object.as_str() {
                "Lead" => "City",
                "Contact" => "Title",
                "Account" => "BillingCity",
                _ => "Description",
            };
            e.salesforce.update_record(
                link.record_id.as_str(),
                json!({ field: format!("Changed {changed}") }),
            );
            changed += 1;
        }
        changed_per_object.push((plan.object.clone(), changed - changed_before));
    }
    let s3 = snapshot(&e);
    let one = migrate::run(&ctx, &MigrateOptions::default(), &mut NoProgress)
        .await
        .expect("1% rerun");
    let s4 = snapshot(&e);
    line(
        &format!("crmmap: incremental, {changed} changed"),
        one.total().read,
        s3,
        s4,
    );
    for (object, n) in &changed_per_object {
        let o = one.objects.iter().find(|o| &o.object == object);
        println!(
            "    {object:<12} {n:>5} changed, {:>5} read, {:>5} updated",
            o.map_or(0, |o| o.counts.read),
            o.map_or(0, |o| o.counts.updated)
        );
    }
    ctx.store.close().await;
    drop(e);

    // The seed's way on fresh emulators.
    let e = emulators(seed_n, LATENCY, minute()).await;
    let (store, _dir) = temp_store().await;
    let ctx = context(&e.salesforce.base_url(), &e.monday.base_url(), store).await;
    let s0 = snapshot(&e);
    let records = seed_way(&ctx).await;
    let s1 = snapshot(&e);
    line(
        &format!("seed's way ({seed_n}/object): first"),
        records,
        s0,
        s1,
    );
    let records = seed_way(&ctx).await;
    let s2 = snapshot(&e);
    line("seed's way: rerun, no changes", records, s1, s2);
}

/// The seed's batch job: per object one query, the whole board read 100 items a request,
/// items indexed by the Salesforce-id column, one request per record written.
async fn seed_way(ctx: &RunContext) -> u64 {
    let now = ctx.now();
    let mut records = 0;
    for plan in ctx.plans.in_order() {
        let board = plan.board;
        let mut by_id = std::collections::HashMap::new();
        let mut pages = std::pin::pin!(ctx.monday.items_pages(
            board,
            PageRequest {
                limit: 100,
                column_ids: None,
                query_params: None,
            },
        ));
        while let Some(page) = pages.next().await {
            for item in page.expect("board page").items {
                if let Some(id) = item.column(&plan.key_column).and_then(|c| c.text.clone()) {
                    by_id.insert(id, item);
                }
            }
        }
        let soql = migrate::object_query(plan, None).expect("soql");
        let mut stream = ctx.salesforce.query::<crmmap_salesforce::Record>(soql);
        while let Some(record) = stream.next().await {
            let record = record.expect("record").fields;
            records += 1;
            let id = record["Id"].as_str().unwrap_or_default().to_owned();
            let item = by_id.get(&id);
            let prior = item.map(|i| {
                let mut p = eval::Prior {
                    name: Some(i.name.clone()),
                    ..Default::default()
                };
                for (col, cv) in &i.column_values {
                    if *col == plan.key_column {
                        if let Some(t) = cv.text.clone() {
                            p.columns.insert(col.clone(), crmmap_engine::Value::text(t));
                        }
                    } else if let Some(f) = plan.field_for_column(col) {
                        let read = crmmap_engine::value::monday::ColumnRead {
                            text: cv.text.clone(),
                            value: cv.value.clone(),
                            linked_item_ids: cv
                                .linked_item_ids
                                .iter()
                                .map(ToString::to_string)
                                .collect(),
                            labels: cv
                                .label
                                .clone()
                                .map(|l| vec![l])
                                .or_else(|| (!cv.labels.is_empty()).then(|| cv.labels.clone())),
                        };
                        if let Ok(v) =
                            crmmap_engine::value::monday::read(f.column_type, &read, None)
                        {
                            p.columns.insert(col.clone(), v);
                        }
                    }
                }
                p
            });
            let Ok(writes) = eval::record_to_item(plan, &record, prior.as_ref(), now) else {
                continue;
            };
            if writes.column_values.is_empty() && writes.name.is_none() {
                continue;
            }
            let column_values = writes.column_values_json();
            let mutation = match item {
                None => ItemMutation::CreateItem {
                    board_id: board,
                    item_name: writes.name.unwrap_or(id),
                    column_values,
                    group_id: None,
                    create_labels_if_missing: false,
                },
                Some(i) => ItemMutation::ChangeColumnValues {
                    board_id: board,
                    item_id: i.id,
                    column_values,
                    create_labels_if_missing: false,
                },
            };
            let _ = ctx.monday.execute(std::slice::from_ref(&mutation)).await;
        }
    }
    records
}

/// Serves emulators without latency (for `memory`): prints both URLs on one line, then runs
/// until stdin closes.
async fn serve(n: usize) {
    let e = emulators(n, Duration::ZERO, Duration::from_millis(50)).await;
    println!("{} {}", e.salesforce.base_url(), e.monday.base_url());
    let _ = tokio::task::spawn_blocking(|| {
        let mut s = String::new();
        while std::io::stdin()
            .read_line(&mut s)
            .map(|n| n > 0)
            .unwrap_or(false)
        {}
    })
    .await;
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

async fn memory(n: usize) {
    let exe = std::env::current_exe().expect("exe");
    let mut child = std::process::Command::new(exe)
        .args(["serve", &n.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("emulator process");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("urls");
    let mut urls = first.split_whitespace();
    let (sf, md) = (urls.next().expect("sf url"), urls.next().expect("md url"));
    let (store, _dir) = temp_store().await;
    let ctx = context(sf, md, store).await;
    let before = vm_hwm_kib();
    let started = Instant::now();
    let report = migrate::run(&ctx, &MigrateOptions::default(), &mut NoProgress)
        .await
        .expect("migration");
    println!(
        "{n} per object: {} records migrated in {:.1}s; peak RSS of the migrator process {} MiB (before the run {} MiB)",
        report.total().read,
        started.elapsed().as_secs_f64(),
        vm_hwm_kib() / 1024,
        before / 1024
    );
    drop(child.stdin.take());
    let _ = child.wait();
}
