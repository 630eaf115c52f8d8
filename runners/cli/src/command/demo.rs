//! `crmmap demo`: both emulators with sample data, a full migration into SQLite, a few
//! Salesforce changes, an incremental migration, a monday change reaching Salesforce, a
//! Salesforce change reaching monday in real time, and what happened. No credentials, no
//! config.

mod realtime;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use crmmap_dsl::SourceMap;
use crmmap_ids::SObjectName;
use crmmap_monday::{MondayClient, MondayConfig};
use crmmap_salesforce::{AuthFlow, SalesforceClient};
use crmmap_store::{Action, LogFilter, Store};
use crmmap_sync::RunContext;
use crmmap_sync::migrate::{self, MigrateOptions, MigrateReport, NoProgress};
use serde_json::json;

use crate::exit::CrmmapExit;

/// Arguments of `crmmap demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// Keep the demo's SQLite database at this path (recreated on every run) instead of a
    /// temporary file.
    #[arg(long)]
    pub db: Option<PathBuf>,
}

/// The shipped mappings, built in so that the demo runs anywhere.
const MAPPINGS: &[(&str, &str)] = &[
    (
        "mappings/account.crmmap",
        include_str!("../../../../mappings/account.crmmap"),
    ),
    (
        "mappings/contact.crmmap",
        include_str!("../../../../mappings/contact.crmmap"),
    ),
    (
        "mappings/lead.crmmap",
        include_str!("../../../../mappings/lead.crmmap"),
    ),
    (
        "mappings/opportunity.crmmap",
        include_str!("../../../../mappings/opportunity.crmmap"),
    ),
    (
        "mappings/translations.crmmap",
        include_str!("../../../../mappings/translations.crmmap"),
    ),
];

/// Runs `crmmap demo`.
pub fn demo(args: &DemoArgs) -> CrmmapExit {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return super::fail(&format!("cannot start the runtime: {e}")),
    };
    let (db, temporary) = match &args.db {
        Some(p) => (p.clone(), false),
        None => (
            std::env::temp_dir().join(format!("crmmap-demo-{}.db", std::process::id())),
            true,
        ),
    };
    remove_db(&db);
    let result = runtime.block_on(run(&db));
    if temporary {
        remove_db(&db);
    }
    match result {
        Ok(exit) => exit,
        Err(e) => super::fail(&e),
    }
}

fn remove_db(db: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// The compiled built-in mappings.
pub fn builtin_plans() -> Result<crmmap_engine::PlanSet, String> {
    let mut map = SourceMap::new();
    for (name, text) in MAPPINGS {
        map.add((*name).to_owned(), (*text).to_owned());
    }
    let checked = crmmap_dsl::check_sources(&map);
    match checked.model {
        Some(model) => Ok(crmmap_engine::compile(&model)),
        None => Err(format!(
            "the built-in mappings do not check:\n{}",
            crmmap_dsl::diag::render_human(&checked.diagnostics, &map, 100, false)
        )),
    }
}

/// A run context on the two emulators with their default credentials.
pub fn emulator_context(
    salesforce: &crmmap_emu_salesforce::RunningEmulator,
    monday: &crmmap_emu_monday::RunningEmulator,
    store: Store,
    plans: crmmap_engine::PlanSet,
) -> Result<RunContext, String> {
    let creds = crmmap_emu_salesforce::Credentials::default();
    let sf = crmmap_salesforce::Config::new(
        salesforce.base_url(),
        AuthFlow::Password {
            client_id: creds.client_id,
            client_secret: creds.client_secret.into(),
            username: creds.username,
            password: creds.password.into(),
        },
    );
    let url = monday
        .base_url()
        .parse()
        .map_err(|e| format!("monday emulator url: {e}"))?;
    let mut md =
        MondayConfig::new(crmmap_emu_monday::EmulatorOptions::default().token).with_api_url(url);
    md.retry_base_delay = Duration::from_millis(20);
    Ok(RunContext {
        plans: Arc::new(plans),
        salesforce: Arc::new(SalesforceClient::new(sf).map_err(|e| e.to_string())?),
        monday: Arc::new(MondayClient::new(md).map_err(|e| e.to_string())?),
        store,
        clock: crmmap_sync::system_clock(),
        monday_user_id: Some(crmmap_emu_monday::EmulatorOptions::default().user_id),
    })
}

async fn run(db: &std::path::Path) -> Result<CrmmapExit, String> {
    let plans = builtin_plans()?;
    let salesforce = crmmap_emu_salesforce::start(Default::default())
        .await
        .map_err(|e| format!("cannot start the salesforce emulator: {e}"))?;
    // The webhook runner listens before the monday emulator starts, so that the emulator can send
    // it every change it applies (the migrator's writes included: they must not echo back).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot listen for webhooks: {e}"))?;
    let hook_addr = listener
        .local_addr()
        .map_err(|e| format!("cannot listen for webhooks: {e}"))?;
    let monday = crmmap_emu_monday::start(crmmap_emu_monday::EmulatorOptions {
        webhook_targets: vec![format!(
            "http://{hook_addr}/webhooks/monday/{DEMO_PATH_TOKEN}"
        )],
        ..Default::default()
    })
    .await
    .map_err(|e| format!("cannot start the monday emulator: {e}"))?;
    let url = format!("sqlite://{}", db.display());
    let store = Store::connect(&url)
        .await
        .map_err(|e| format!("cannot open the demo store: {e}"))?;
    let ctx = emulator_context(&salesforce, &monday, store.clone(), plans)?;
    // The demo's "person on monday" uses crmmap's own token, so the runner cannot tell people
    // from crmmap by user id here; it tells them apart by the last-synced values instead.
    let webhook = crmmap_webhook::Webhook::new(
        RunContext {
            monday_user_id: None,
            ..ctx.clone()
        },
        crmmap_webhook::WebhookOptions {
            auth: crmmap_webhook::AuthConfig {
                path_token: Some(crmmap_webhook::SecretString::new(DEMO_PATH_TOKEN)),
                ..Default::default()
            },
            events_token: Some(crmmap_webhook::SecretString::new(realtime::EVENTS_TOKEN)),
            ..Default::default()
        },
    );
    let served = webhook.clone();
    let server = tokio::spawn(async move {
        let _ = served.serve(listener, None, std::future::pending()).await;
    });
    let sf_writes_before = salesforce_writes(&salesforce);

    println!("crmmap demo: local Salesforce and monday.com emulators with sample data");
    println!("  salesforce  {}", salesforce.base_url());
    println!("  monday      {}", monday.base_url());
    println!("  state       {url}");
    println!();

    println!("1. First migration (everything the mappings select):");
    let first = migrate::run(&ctx, &MigrateOptions::default(), &mut NoProgress)
        .await
        .map_err(|e| e.to_string())?;
    print_report(&first, &monday);

    println!();
    println!("2. Changes in Salesforce:");
    let mut changed = 0;
    for (company, fields, what) in [
        (
            "Digital Bridges Coalition",
            json!({"Status": "Follow-up"}),
            "Status MOU → Follow-up",
        ),
        (
            "Eastside Tech Hub",
            json!({"City": "Round Rock", "Title": "Director"}),
            "City Austin → Round Rock, Title Founder → Director",
        ),
    ] {
        let lead = salesforce
            .records("Lead")
            .into_iter()
            .find(|r| r.get("Company").and_then(|c| c.as_str()) == Some(company));
        if let Some(id) = lead.and_then(|r| r.get("Id").and_then(|i| i.as_str()).map(str::to_owned))
        {
            salesforce.update_record(&id, fields);
            println!("   Lead {company:<28} {what}");
            changed += 1;
        }
    }
    let account = store
        .links_for_object(&SObjectName::new("Account"))
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .next();
    if let Some(link) = account {
        salesforce.update_record(link.record_id.as_str(), json!({"Phone": "(555) 010-9999"}));
        let name = salesforce
            .record(link.record_id.as_str())
            .and_then(|r| r.get("Name").and_then(|n| n.as_str()).map(str::to_owned))
            .unwrap_or_default();
        println!("   Account {name:<25} Phone → (555) 010-9999");
        changed += 1;
    }

    println!();
    println!("3. Incremental migration (only records changed since the watermark):");
    let second = migrate::run(&ctx, &MigrateOptions::default(), &mut NoProgress)
        .await
        .map_err(|e| e.to_string())?;
    print_report(&second, &monday);
    println!(
        "   {changed} records changed → {} monday write requests",
        second.monday_write_requests
    );
    let log = store
        .query_log(&LogFilter {
            limit: 20,
            ..LogFilter::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    for row in log
        .iter()
        .rev()
        .filter(|r| r.entry.action == Action::Updated && r.entry.trigger_uuid == second.run_id)
    {
        println!(
            "   updated {} {} (item {}): {}",
            row.entry.object.as_deref().unwrap_or("-"),
            row.entry.record_id.as_deref().unwrap_or("-"),
            row.entry.item_id.as_deref().unwrap_or("-"),
            row.entry.reason.as_deref().unwrap_or("")
        );
    }

    println!();
    println!("4. Full rerun with nothing changed:");
    let before = monday.state().counters();
    let full = MigrateOptions {
        full: true,
        ..MigrateOptions::default()
    };
    let third = migrate::run(&ctx, &full, &mut NoProgress)
        .await
        .map_err(|e| e.to_string())?;
    let after = monday.state().counters();
    let t = third.total();
    println!(
        "   {} records compared, {} unchanged, {} monday writes",
        t.read,
        t.unchanged,
        after.root_fields.get("create_item").copied().unwrap_or(0)
            + after
                .root_fields
                .get("change_multiple_column_values")
                .copied()
                .unwrap_or(0)
            - before.root_fields.get("create_item").copied().unwrap_or(0)
            - before
                .root_fields
                .get("change_multiple_column_values")
                .copied()
                .unwrap_or(0)
    );
    println!();
    println!("5. A change on monday reaches Salesforce through the webhook runner:");
    // Let the runner see the migrations' own events first.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let echo_writes = salesforce_writes(&salesforce) - sf_writes_before;
    println!(
        "   webhook events from the migrations' own writes: {echo_writes} written back to Salesforce"
    );
    let lead = editable_lead(&store, &salesforce).await?;
    let mut reached = false;
    if let Some(link) = lead {
        let before = salesforce
            .record(link.record_id.as_str())
            .and_then(|r| r.get("City").and_then(|c| c.as_str()).map(str::to_owned))
            .unwrap_or_default();
        let started = std::time::Instant::now();
        let mut values = serde_json::Map::new();
        values.insert("text_mkrym6fa".into(), json!("Pflugerville"));
        ctx.monday
            .change_column_values(link.board_id, link.item_id, values, false)
            .await
            .map_err(|e| e.to_string())?;
        let mut after = before.clone();
        while started.elapsed() < Duration::from_secs(10) {
            after = salesforce
                .record(link.record_id.as_str())
                .and_then(|r| r.get("City").and_then(|c| c.as_str()).map(str::to_owned))
                .unwrap_or_default();
            if after == "Pflugerville" {
                reached = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        println!(
            "   item {} City → Pflugerville on monday; Lead {} City {} → {} in Salesforce ({} ms)",
            link.item_id,
            link.record_id,
            if before.is_empty() {
                "(empty)"
            } else {
                &before
            },
            if after.is_empty() { "(empty)" } else { &after },
            started.elapsed().as_millis()
        );
    }
    println!();
    let realtime = realtime::step(
        &salesforce,
        &monday,
        &store,
        format!(
            "http://{hook_addr}{}",
            crmmap_webhook::salesforce::EVENTS_PATH
        ),
    )
    .await?;
    server.abort();

    println!();
    println!("Next: `crmmap sandbox` runs the emulators for your own experiments;");
    println!("      after `crmmap migrate`, `crmmap log` shows every decision it made.");

    store.close().await;
    salesforce.shutdown().await;
    monday.shutdown().await;
    if !reached {
        println!("The monday change did not reach Salesforce: the demo failed.");
    }
    if !realtime {
        println!("The Salesforce change did not reach monday: the demo failed.");
    }
    let failed = !reached
        || !realtime
        || first.has_failures()
        || second.has_failures()
        || third.has_failures();
    Ok(if failed {
        CrmmapExit::Problems
    } else {
        CrmmapExit::Clean
    })
}

/// The path token of the demo's webhook URL (not a secret: everything is on loopback).
const DEMO_PATH_TOKEN: &str = "demo-path-token-0123456789";

/// Salesforce write requests the emulator has served so far.
/// A Lead on a board that Salesforce still accepts edits for: a converted Lead accepts none
/// (see the README's converted Leads).
async fn editable_lead(
    store: &Store,
    salesforce: &crmmap_emu_salesforce::RunningEmulator,
) -> Result<Option<crmmap_store::Link>, String> {
    let links = store
        .links_for_object(&SObjectName::new("Lead"))
        .await
        .map_err(|e| e.to_string())?;
    Ok(links.into_iter().find(|l| {
        salesforce
            .record(l.record_id.as_str())
            .is_some_and(|r| r.get("IsConverted") != Some(&json!(true)))
    }))
}

fn salesforce_writes(salesforce: &crmmap_emu_salesforce::RunningEmulator) -> u64 {
    use crmmap_emu_salesforce::EndpointKind::*;
    let c = salesforce.counters();
    [
        Create,
        Update,
        Upsert,
        Delete,
        CollectionsCreate,
        CollectionsUpdate,
        CollectionsUpsert,
        CollectionsDelete,
    ]
    .into_iter()
    .map(|k| c.get(k))
    .sum()
}

fn print_report(report: &MigrateReport, monday: &crmmap_emu_monday::RunningEmulator) {
    for o in &report.objects {
        let c = &o.counts;
        println!(
            "   {:<12} {:>3} read  {:>3} created  {:>3} updated  {:>3} unchanged  {:>3} links  {:>3} failed",
            o.object, c.read, c.created, c.updated, c.unchanged, c.links, c.failed
        );
    }
    let items: usize = monday.state().with_account(|a| {
        a.items
            .values()
            .filter(|i| i.state == crmmap_emu_monday::state::ItemState::Active)
            .count()
    });
    println!(
        "   {} monday write requests, {} lookups; {} items on the boards",
        report.monday_write_requests, report.monday_reads, items
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_mappings_are_the_shipped_ones() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../mappings");
        let shipped = crmmap_sync::mappings::load(&[dir]).expect("shipped mappings load");
        let builtin = builtin_plans().expect("built-in mappings check");
        assert_eq!(builtin.order, shipped.order);
        assert_eq!(builtin.plans.len(), shipped.plans.len());
        for (a, b) in builtin.plans.iter().zip(&shipped.plans) {
            assert_eq!(a.select, b.select, "{}", a.object);
            assert_eq!(a.fields.len(), b.fields.len(), "{}", a.object);
        }
    }

    #[test]
    fn demo_runs_clean_and_leaves_no_database_behind() {
        let db = std::env::temp_dir().join(format!(
            "crmmap-demo-test-{}-{}.db",
            std::process::id(),
            time::OffsetDateTime::now_utc().unix_timestamp_nanos()
        ));
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let exit = runtime.block_on(run(&db)).expect("demo runs");
        assert_eq!(exit, CrmmapExit::Clean);
        // Run twice on the same path: the database is recreated, not reused.
        remove_db(&db);
        let exit = runtime.block_on(run(&db)).expect("demo runs again");
        assert_eq!(exit, CrmmapExit::Clean);
        remove_db(&db);
        assert!(!db.exists());
    }
}
