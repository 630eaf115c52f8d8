//! The migrator's behaviour, backend-independent. Every check reads monday over HTTP through
//! the real client (or the emulator's own state for counts), never the migrator's memory.

use crmmap_ids::{ObjectName, RecordId, SObjectName};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crmmap_engine::eval::{self, Record};
use crmmap_engine::plan::{Plan, PlanSet};
use crmmap_store::{Action, LogFilter, WatermarkKey};
use crmmap_sync::RunContext;
use crmmap_sync::migrate::{
    self, Counts, MigrateOptions, MigrateReport, NoProgress, ObjectReport, PlannedAction,
    PlannedChange, Progress, StopSignal,
};
use serde_json::{Value as Json, json};

use crate::harness::{Backend, World};

pub(crate) const LEAD_BOARD: u64 = 9378000505;

async fn migrate(ctx: &RunContext, options: &MigrateOptions) -> MigrateReport {
    migrate::run(ctx, options, &mut NoProgress)
        .await
        .expect("migration runs")
}

fn full() -> MigrateOptions {
    MigrateOptions {
        full: true,
        ..MigrateOptions::default()
    }
}

/// The records the mapping selects, read from Salesforce over HTTP.
pub(crate) async fn selected(ctx: &RunContext, plan: &Plan) -> Vec<Record> {
    let soql = migrate::object_query(plan, None).expect("query builds");
    ctx.salesforce
        .query_collect(soql)
        .await
        .expect("query runs")
        .into_iter()
        .map(|r| r.fields)
        .collect()
}

fn object<'a>(report: &'a MigrateReport, name: &str) -> &'a Counts {
    &report
        .objects
        .iter()
        .find(|o| o.object == name)
        .unwrap_or_else(|| panic!("{name} not in report"))
        .counts
}

fn mutations(w: &World) -> u64 {
    let c = w.monday.state().counters();
    ["create_item", "change_multiple_column_values"]
        .iter()
        .map(|f| c.root_fields.get(*f).copied().unwrap_or(0))
        .sum()
}

/// Salesforce Ids on a board's active items (key column values), with their counts.
fn ids_on_board(w: &World, plan: &Plan) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for item in w.monday.state().active_items(plan.board.get()) {
        if let Some(Json::String(id)) = item.values.get(plan.key_column.as_str()) {
            *out.entry(id.clone()).or_insert(0) += 1;
        }
    }
    out
}

/// Asserts that every selected record of every object has exactly one item, and that the item
/// holds every mapped field as the mapping says: read over HTTP, compared field by field.
pub(crate) async fn assert_boards_match(w: &World) {
    let ctx = &w.ctx;
    let now = ctx.now();
    for plan in ctx.plans.in_order() {
        let records = selected(ctx, plan).await;
        assert!(
            !records.is_empty(),
            "{}: sample selects records",
            plan.object
        );
        let on_board = ids_on_board(w, plan);
        for (id, n) in &on_board {
            assert_eq!(*n, 1, "{}: {id} has {n} items", plan.object);
        }
        let expected: BTreeSet<String> = records
            .iter()
            .map(|r| r["Id"].as_str().unwrap().to_owned())
            .collect();
        let actual: BTreeSet<String> = on_board.keys().cloned().collect();
        assert_eq!(
            actual, expected,
            "{}: items are the selected records",
            plan.object
        );

        for record in &records {
            let id = record["Id"].as_str().unwrap();
            let link = ctx
                .store
                .link_by_record(&plan.sobject.clone(), &RecordId::parse(id).unwrap())
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("{}: {id} linked in the store", plan.object));
            let item = ctx
                .monday
                .item(link.item_id, None)
                .await
                .unwrap()
                .expect("item exists");
            assert_eq!(
                item.column(&plan.key_column)
                    .and_then(|c| c.text.as_deref()),
                Some(id),
                "key column holds the record id"
            );
            // Field by field: each mapped column read back with the column's type equals what
            // the mapping computes from the record.
            let prior = migrate_prior(plan, &item);
            for f in plan.fields_to_monday() {
                let Some(json) = record.get(&f.field) else {
                    panic!("{}: field {} not selected", plan.object, f.field);
                };
                let mut only = serde_json::Map::new();
                only.insert("Id".into(), record["Id"].clone());
                only.insert(f.field.clone(), json.clone());
                let writes = eval::record_to_item(plan, &only, Some(&prior), now).unwrap();
                assert!(
                    !writes.column_values.contains_key(&f.column),
                    "{} {id}: column {} ({}) holds {:?}, the mapping says {:?}",
                    plan.object,
                    f.column,
                    f.field,
                    item.column(&f.column).and_then(|c| c.text.clone()),
                    writes.column_values.get(&f.column)
                );
            }
            let whole = eval::record_to_item(plan, record, Some(&prior), now).unwrap();
            assert_eq!(whole.name, None, "{} {id}: item name", plan.object);
            // Links: each board relation points at the item of the referenced record.
            for l in plan.links.iter().filter(|l| l.direction.to_monday()) {
                let Some(target) = record.get(&l.via).and_then(Json::as_str) else {
                    continue;
                };
                let target_item = ctx
                    .store
                    .link_by_record(&l.target_sobject.clone(), &RecordId::parse(target).unwrap())
                    .await
                    .unwrap()
                    .map(|t| t.item_id);
                let linked = item
                    .column(&l.column)
                    .map(|c| c.linked_item_ids.clone())
                    .unwrap_or_default();
                match target_item {
                    Some(t) => assert!(
                        linked.contains(&t),
                        "{} {id}: {} links {linked:?}, expected {t}",
                        plan.object,
                        l.column
                    ),
                    None => assert!(linked.is_empty(), "no item, no link"),
                }
            }
        }
    }
}

/// What monday holds for an item, read with the plan's column types (the engine's reader).
fn migrate_prior(plan: &Plan, item: &crmmap_monday::Item) -> eval::Prior {
    let api: Vec<Json> = item
        .column_values
        .values()
        .map(|cv| {
            let mut o = json!({ "id": cv.id, "type": cv.column_type, "text": cv.text });
            o["value"] = match &cv.value {
                Some(v) => Json::String(v.to_string()),
                None => Json::Null,
            };
            if let Some(label) = &cv.label {
                o["label"] = json!(label);
            }
            if !cv.labels.is_empty() {
                o["values"] = json!(
                    cv.labels
                        .iter()
                        .map(|l| json!({"label": l}))
                        .collect::<Vec<_>>()
                );
            }
            o["linked_item_ids"] = json!(cv.linked_item_ids);
            o
        })
        .collect();
    let read = eval::item_from_api(plan, &item.name, &api, &BTreeMap::new()).expect("item reads");
    eval::Prior::from_item(&read)
}

pub async fn first_run_writes_every_mapped_field(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let report = migrate(&w.ctx, &MigrateOptions::default()).await;
    assert!(!report.has_failures(), "{report:#?}");
    assert_eq!(
        report
            .objects
            .iter()
            .map(|o| o.object.as_str())
            .collect::<Vec<_>>(),
        ["Account", "Contact", "Opportunity", "Lead"],
        "parents first"
    );
    let total = report.total();
    assert!(total.created > 0 && total.created == total.read);
    assert_boards_match(&w).await;

    // Spot checks with literal values from the sample org, independent of the engine.
    let lead = w.ctx.plans.plan("Lead").unwrap();
    let ana = w
        .monday
        .state()
        .active_items(LEAD_BOARD)
        .into_iter()
        .find(|i| i.name == "Digital Bridges Coalition")
        .expect("Ana's lead is on the board");
    let item = w
        .ctx
        .monday
        .item(crmmap_ids::ItemId::new(ana.id), None)
        .await
        .unwrap()
        .unwrap();
    let text = |c: &str| {
        item.column(c)
            .and_then(|v| v.text.clone())
            .unwrap_or_default()
    };
    assert_eq!(text("text_mkry1xy1"), "Reyes");
    assert_eq!(
        item.column("color_mksj2adq").unwrap().label.as_deref(),
        Some("MOU")
    );
    assert_eq!(
        item.column("dropdown_mksfyfqp").unwrap().labels,
        [
            "Curriculum Development",
            "Digital Navigator and/or Instructor Training"
        ],
        "multipicklist values translated to the board's labels"
    );
    assert_eq!(text("dropdown_mkstb9d4"), "Oregon");
    assert_eq!(text(lead.key_column.as_str()).len(), 18);
    // Ana's lead was converted: its board relations point at the account and contact items.
    assert_eq!(
        item.column("board_relation_mks9cjfs")
            .unwrap()
            .linked_item_ids
            .len(),
        1
    );
    assert_eq!(
        item.column("board_relation_mks95q")
            .unwrap()
            .linked_item_ids
            .len(),
        1
    );

    // Every decision is in the sync log.
    let log = w
        .store()
        .query_log(&LogFilter {
            limit: 1000,
            ..LogFilter::default()
        })
        .await
        .unwrap();
    let created = log
        .iter()
        .filter(|r| r.entry.action == Action::Created)
        .count() as u64;
    assert_eq!(created, total.created);
    w.cleanup().await;
}

pub async fn rerun_without_changes_writes_nothing(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let first = migrate(&w.ctx, &MigrateOptions::default()).await;
    let writes = mutations(&w);
    assert_eq!(writes, first.total().created + first.total().updated);

    // Incremental: nothing changed since the watermark, nothing is read.
    let again = migrate(&w.ctx, &MigrateOptions::default()).await;
    assert_eq!(again.total().read, 0, "{again:#?}");
    assert_eq!(mutations(&w), writes);

    // Full: every record is read and compared, none is written.
    let full_run = migrate(&w.ctx, &full()).await;
    let t = full_run.total();
    assert_eq!(t.read, first.total().read);
    assert_eq!(t.unchanged, t.read, "{full_run:#?}");
    assert_eq!((t.created, t.updated, t.failed), (0, 0, 0));
    assert_eq!(mutations(&w), writes, "an unchanged rerun costs no write");
    assert_eq!(full_run.monday_write_requests, 0);
    // The store knew every link: no Salesforce-id lookups on monday.
    assert_eq!(full_run.monday_reads, 0);
    assert_boards_match(&w).await;
    w.cleanup().await;
}

pub async fn incremental_run_writes_only_changed_records(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    migrate(&w.ctx, &MigrateOptions::default()).await;
    let before = mutations(&w);
    let lead = w.ctx.plans.plan("Lead").unwrap();
    let records = selected(&w.ctx, lead).await;
    let (a, b) = (
        records[0]["Id"].as_str().unwrap().to_owned(),
        records[1]["Id"].as_str().unwrap().to_owned(),
    );
    assert!(
        w.salesforce
            .update_record(&a, json!({"City": "Eugene", "Title": "Director"}))
    );
    assert!(
        w.salesforce
            .update_record(&b, json!({"Status": "Follow-up"}))
    );

    let report = migrate(&w.ctx, &MigrateOptions::default()).await;
    let c = object(&report, "Lead");
    assert_eq!((c.read, c.updated, c.created), (2, 2, 0), "{report:#?}");
    assert_eq!(object(&report, "Account").read, 0);
    assert_eq!(mutations(&w) - before, 2, "one write per changed record");

    let item_of = |id: &str| {
        let store = w.store().clone();
        let id = id.to_owned();
        async move {
            store
                .link_by_record(&SObjectName::new("Lead"), &RecordId::parse(&id).unwrap())
                .await
                .unwrap()
                .unwrap()
                .item_id
        }
    };
    let item = w
        .ctx
        .monday
        .item(item_of(&a).await, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        item.column("text_mkrym6fa").unwrap().text.as_deref(),
        Some("Eugene")
    );
    assert_eq!(
        item.column("text_mksf27hv").unwrap().text.as_deref(),
        Some("Director")
    );
    let item = w
        .ctx
        .monday
        .item(item_of(&b).await, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        item.column("color_mksj2adq").unwrap().label.as_deref(),
        Some("Follow-up")
    );

    // The update wrote only the changed columns.
    let log = w
        .store()
        .query_log(&LogFilter {
            object: Some("Lead".into()),
            limit: 50,
            ..LogFilter::default()
        })
        .await
        .unwrap();
    let updated = log
        .iter()
        .find(|r| r.entry.action == Action::Updated && r.entry.record_id.as_deref() == Some(&*b))
        .expect("update logged");
    let reason = updated.entry.reason.clone().unwrap();
    assert!(reason.contains("color_mksj2adq"), "{reason}");
    assert!(!reason.contains("text_mkrym6fa"), "{reason}");
    assert_boards_match(&w).await;
    w.cleanup().await;
}

/// Stops the run after `after` chunks have been written.
struct StopAfter {
    stop: StopSignal,
    chunks: usize,
    after: usize,
}

impl Progress for StopAfter {
    fn records_done(&mut self, _object: &crmmap_ids::ObjectName, _done: u64, _counts: &Counts) {
        self.chunks += 1;
        if self.chunks >= self.after {
            self.stop.stop();
        }
    }
}

fn generated(
    n: usize,
) -> (
    crmmap_emu_salesforce::EmulatorOptions,
    crmmap_emu_monday::EmulatorOptions,
) {
    (
        crmmap_emu_salesforce::EmulatorOptions {
            generated_records_per_object: n,
            query_page_size: 200,
            ..Default::default()
        },
        crmmap_emu_monday::EmulatorOptions::default(),
    )
}

pub async fn stopped_run_resumes_from_its_checkpoint(backend: Backend) {
    let (sf, md) = generated(60);
    let Some(w) = World::with(backend, sf, md).await else {
        return;
    };
    let stop = StopSignal::new();
    let options = MigrateOptions {
        full: true,
        chunk_size: 10,
        stop: stop.clone(),
        ..MigrateOptions::default()
    };
    let mut progress = StopAfter {
        stop,
        chunks: 0,
        after: 3,
    };
    let first = migrate::run(&w.ctx, &options, &mut progress).await.unwrap();
    assert!(first.stopped);
    let written_first = mutations(&w);
    assert_eq!(written_first, 30, "three chunks of ten were written");
    let run = w.store().unfinished_run(migrate::RUN_KIND).await.unwrap();
    assert!(run.is_some(), "the run is left resumable");

    // Another process picks it up: same options, new store connection.
    let ctx = w.reconnect().await;
    let options = MigrateOptions {
        stop: StopSignal::new(),
        ..options
    };
    let second = migrate(&ctx, &options).await;
    assert!(second.resumed && !second.stopped, "{second:#?}");
    let total = second.total();
    assert_eq!(total.failed, 0);
    // The resumed run's counts carry the first part's; nothing was written twice.
    assert_eq!(mutations(&w), total.created + total.updated);
    assert!(mutations(&w) > written_first);
    assert_eq!(total.updated, 0, "{second:#?}");
    assert!(
        w.store()
            .unfinished_run(migrate::RUN_KIND)
            .await
            .unwrap()
            .is_none()
    );
    ctx.store.close().await;
    assert_boards_match(&w).await;
    w.cleanup().await;
}

pub async fn killed_run_resumes_without_duplicates(backend: Backend) {
    let (sf, md) = generated(80);
    let Some(w) = World::with(backend, sf, md).await else {
        return;
    };
    let account = w.ctx.plans.plan("Account").unwrap().clone();
    // The killed process has its own connections to the store.
    let killed = w.reconnect().await;
    let ctx = killed.clone();
    let task = tokio::spawn(async move {
        let options = MigrateOptions {
            chunk_size: 5,
            ..MigrateOptions::default()
        };
        migrate::run(&ctx, &options, &mut NoProgress).await
    });
    // Kill the run (drop it at an await point) once some items exist: mid-object, possibly
    // between a monday write and the store update.
    for _ in 0..20_000 {
        if w.monday.state().active_items(account.board.get()).len() >= 12 || task.is_finished() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    task.abort();
    let _ = task.await;
    // The process is gone, and its connections (and any open transaction) with it.
    killed.store.close().await;
    let killed_at = w.monday.state().active_items(account.board.get()).len();
    assert!(killed_at >= 12, "the run got going before the kill");

    let ctx = w.reconnect().await;
    // The killed run's lease goes with its session (PostgreSQL) or expires (SQLite): wait.
    let resume = MigrateOptions {
        lease_wait: migrate::LEASE_TTL + std::time::Duration::from_secs(5),
        ..MigrateOptions::default()
    };
    let report = migrate(&ctx, &resume).await;
    assert!(!report.has_failures(), "{report:#?}");
    ctx.store.close().await;
    assert_boards_match(&w).await;
    w.cleanup().await;
}

pub async fn existing_items_are_linked_not_duplicated(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let lead = w.ctx.plans.plan("Lead").unwrap();
    let records = selected(&w.ctx, lead).await;
    let id = records[0]["Id"].as_str().unwrap().to_owned();
    // The old batch job made this item: right id, stale name, one column out of date.
    let mut values = serde_json::Map::new();
    values.insert(lead.key_column.to_string(), json!(id));
    values.insert("text_mkrym6fa".into(), json!("Somewhere Else"));
    let existing = w
        .monday
        .state()
        .seed_item(LEAD_BOARD, "Old name", &values)
        .expect("seeded");

    let report = migrate(&w.ctx, &MigrateOptions::default()).await;
    let c = object(&report, "Lead");
    assert_eq!(c.matched, 1, "{report:#?}");
    assert_eq!(c.created, c.read - 1);
    let link = w
        .store()
        .link_by_record(&SObjectName::new("Lead"), &RecordId::parse(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.item_id.to_string(), existing.to_string());
    assert_boards_match(&w).await;
    w.cleanup().await;
}

pub async fn parked_links_are_completed_by_a_later_run(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    // Leads alone: their accounts, contacts and opportunities have no items yet.
    let leads_only = MigrateOptions {
        objects: vec!["Lead".into()],
        ..MigrateOptions::default()
    };
    let report = migrate(&w.ctx, &leads_only).await;
    let c = object(&report, "Lead");
    assert!(c.parked > 0, "{report:#?}");
    assert_eq!(c.failed, 0, "a missing target is not a failure");
    assert_eq!(report.objects.len(), 1);
    let parked = w
        .store()
        .parked_for_object(&ObjectName::new("Lead"))
        .await
        .unwrap();
    assert_eq!(parked.len() as u64, c.parked);
    let source = parked[0].link.record_id.clone();
    let column = parked[0].link.column_id.clone();
    let item = w
        .store()
        .link_by_record(&SObjectName::new("Lead"), &source)
        .await
        .unwrap()
        .unwrap()
        .item_id;
    let before = w.ctx.monday.item(item, None).await.unwrap().unwrap();
    assert!(before.column(&column).unwrap().linked_item_ids.is_empty());

    // The next run syncs the parents and completes the parked links.
    let report = migrate(&w.ctx, &MigrateOptions::default()).await;
    assert_eq!(object(&report, "Lead").read, 0, "no lead changed");
    assert_eq!(object(&report, "Lead").links, c.parked, "{report:#?}");
    assert!(
        w.store()
            .parked_for_object(&ObjectName::new("Lead"))
            .await
            .unwrap()
            .is_empty()
    );
    let after = w.ctx.monday.item(item, None).await.unwrap().unwrap();
    let target = w
        .store()
        .link_by_record(
            &SObjectName::new(parked[0].link.target_object.as_str()),
            &parked[0].link.target_record_id,
        )
        .await
        .unwrap()
        .unwrap()
        .item_id;
    assert_eq!(after.column(&column).unwrap().linked_item_ids, [target]);
    assert_boards_match(&w).await;

    // And a full rerun finds the links in place.
    let before = mutations(&w);
    migrate(&w.ctx, &full()).await;
    assert_eq!(mutations(&w), before);
    w.cleanup().await;
}

pub async fn a_failing_record_does_not_stop_the_run(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let lead = w.ctx.plans.plan("Lead").unwrap();
    let records = selected(&w.ctx, lead).await;
    let bad = records[0]["Id"].as_str().unwrap().to_owned();
    // A value the board's status column does not offer (Salesforce allowed it: unrestricted).
    assert!(
        w.salesforce
            .update_record(&bad, json!({"Industry": "Aerospace"}))
    );

    let report = migrate(&w.ctx, &MigrateOptions::default()).await;
    let c = object(&report, "Lead");
    assert_eq!(c.failed, 1, "{report:#?}");
    assert_eq!(c.created, c.read - 1, "the other leads are migrated");
    assert!(report.has_failures());

    let failed = w
        .store()
        .query_log(&LogFilter {
            failed_only: true,
            ..LogFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    let e = &failed[0].entry;
    assert_eq!(e.record_id.as_deref(), Some(bad.as_str()));
    assert_eq!(e.object.as_deref(), Some("Lead"));
    let reason = e.reason.clone().unwrap();
    assert!(
        reason.contains("color_mksfebkh") && reason.contains("Industry"),
        "{reason}"
    );
    assert!(reason.contains("Aerospace"), "the api message: {reason}");
    let retries = w
        .store()
        .retry_counts(w.ctx.now() + time::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(retries.due, 1, "queued for retry");
    assert!(!ids_on_board(&w, lead).contains_key(&bad));

    // Retried before anything changed, the record fails the same way: the failure comes
    // back classified (the value is refused: permanent) instead of being queued again.
    let again = migrate::sync_records(
        &w.ctx,
        &"Lead".into(),
        &[RecordId::parse(&bad).unwrap()],
        &mut NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(again.failures.len(), 1, "{again:#?}");
    assert_eq!(
        (
            again.failures[0].record_id.as_str(),
            again.failures[0].class
        ),
        (bad.as_str(), crmmap_sync::failure::FailureClass::Permanent)
    );
    assert!(again.failures[0].reason.contains("Aerospace"), "{again:#?}");

    // Once the value is fixed in Salesforce, the retry (what `crmmap retry` runs for the
    // queued item) migrates the record; the next run finds it up to date.
    assert!(
        w.salesforce
            .update_record(&bad, json!({"Industry": "Education"}))
    );
    let retried = migrate::sync_records(
        &w.ctx,
        &"Lead".into(),
        &[RecordId::parse(&bad).unwrap()],
        &mut NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(
        (
            retried.counts.read,
            retried.counts.created,
            retried.counts.failed
        ),
        (1, 1, 0)
    );
    assert!(retried.failures.is_empty());
    assert!(ids_on_board(&w, lead).contains_key(&bad));
    let writes = mutations(&w);
    let report = migrate(&w.ctx, &MigrateOptions::default()).await;
    assert_eq!(object(&report, "Lead").read, 1, "{report:#?}");
    assert_eq!(object(&report, "Lead").unchanged, 1, "{report:#?}");
    assert_eq!(mutations(&w), writes);
    assert!(!report.has_failures());
    assert_boards_match(&w).await;
    w.cleanup().await;
}

#[derive(Default)]
struct Collect {
    planned: Vec<PlannedChange>,
    finished: Vec<ObjectReport>,
}

impl Progress for Collect {
    fn planned(&mut self, change: &PlannedChange) {
        self.planned.push(change.clone());
    }
    fn object_finished(&mut self, report: &ObjectReport) {
        self.finished.push(report.clone());
    }
}

pub async fn dry_run_writes_nothing(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let dry = MigrateOptions {
        dry_run: true,
        ..MigrateOptions::default()
    };
    let mut collect = Collect::default();
    let plan = migrate::run(&w.ctx, &dry, &mut collect).await.unwrap();
    assert!(plan.dry_run && plan.run_id.is_none());
    let t = plan.total();
    assert!(t.created > 0 && t.created == t.read, "{plan:#?}");
    assert!(plan.monday_complexity >= t.created * 10_000);
    assert!(plan.salesforce_calls >= 4);
    assert_eq!(collect.planned.len() as u64, t.created);
    assert!(
        collect
            .planned
            .iter()
            .all(|p| p.action == PlannedAction::Create)
    );
    // Nothing written: no monday writes, no store rows of any kind.
    assert_eq!(mutations(&w), 0);
    for p in w.ctx.plans.plans.iter() {
        assert!(w.monday.state().active_items(p.board.get()).is_empty());
        assert!(
            w.store()
                .links_for_object(&p.sobject)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            w.store()
                .watermark(WatermarkKey::Records(&p.object.clone()))
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            w.store()
                .parked_for_object(&p.object.clone())
                .await
                .unwrap()
                .is_empty()
        );
    }
    assert!(
        w.store()
            .query_log(&LogFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        w.store()
            .unfinished_run(migrate::RUN_KIND)
            .await
            .unwrap()
            .is_none()
    );

    // After a real run and a change, the plan shows the update old → new.
    migrate(&w.ctx, &MigrateOptions::default()).await;
    let lead = w.ctx.plans.plan("Lead").unwrap();
    let id = selected(&w.ctx, lead).await[0]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let city = selected(&w.ctx, lead).await[0]
        .get("City")
        .and_then(Json::as_str)
        .map(str::to_owned);
    assert!(w.salesforce.update_record(&id, json!({"City": "Bend"})));
    let writes = mutations(&w);
    let log_rows = w
        .store()
        .query_log(&LogFilter::default())
        .await
        .unwrap()
        .len();
    let mut collect = Collect::default();
    let plan = migrate::run(&w.ctx, &dry, &mut collect).await.unwrap();
    assert_eq!(object(&plan, "Lead").updated, 1);
    let change = &collect.planned[0];
    assert_eq!(
        (change.action, change.record_id.as_str()),
        (PlannedAction::Update, id.as_str())
    );
    let city_change = change
        .changes
        .iter()
        .find(|c| c.column == "text_mkrym6fa")
        .expect("city change listed");
    assert_eq!(city_change.field, "City");
    assert_eq!(city_change.old, city.unwrap_or_else(|| "(empty)".into()));
    assert_eq!(city_change.new, "Bend");
    assert_eq!(
        change.changes.len(),
        2,
        "city and last-modified date: {change:#?}"
    );
    assert_eq!(mutations(&w), writes);
    assert_eq!(
        w.store()
            .query_log(&LogFilter::default())
            .await
            .unwrap()
            .len(),
        log_rows
    );
    // The real run after the plan still sees the change (the dry run moved no watermark).
    let report = migrate(&w.ctx, &MigrateOptions::default()).await;
    assert_eq!(object(&report, "Lead").updated, 1);
    w.cleanup().await;
}

pub async fn unknown_object_is_refused(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let options = MigrateOptions {
        objects: vec!["Leads".into()],
        ..MigrateOptions::default()
    };
    let err = migrate::run(&w.ctx, &options, &mut NoProgress)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown object `Leads`: it is not declared in the mappings"
    );
    assert_eq!(mutations(&w), 0);
    w.cleanup().await;
}

pub async fn records_stamped_ahead_do_not_hide_later_changes(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let lead = w.ctx.plans.plan("Lead").unwrap();
    let records = selected(&w.ctx, lead).await;
    let (ahead, later) = (
        records[0]["Id"].as_str().unwrap().to_owned(),
        records[1]["Id"].as_str().unwrap().to_owned(),
    );
    // Clock skew (or a commit that lands late): one record carries a stamp a day ahead.
    assert!(w.salesforce.set_last_modified(
        &ahead,
        time::OffsetDateTime::now_utc() + time::Duration::days(1)
    ));
    migrate(&w.ctx, &MigrateOptions::default()).await;
    let watermark = w
        .store()
        .watermark(WatermarkKey::Records(&ObjectName::new("Lead")))
        .await
        .unwrap()
        .unwrap();
    assert!(watermark.modstamp <= time::OffsetDateTime::now_utc());

    assert!(w.salesforce.update_record(&later, json!({"City": "Salem"})));
    let report = migrate(&w.ctx, &MigrateOptions::default()).await;
    let c = object(&report, "Lead");
    assert_eq!(c.updated, 1, "the later change is not skipped: {report:#?}");
    assert_eq!(
        c.read, 2,
        "the record stamped ahead is read again, and written nothing"
    );
    let item = w
        .store()
        .link_by_record(&SObjectName::new("Lead"), &RecordId::parse(&later).unwrap())
        .await
        .unwrap()
        .unwrap()
        .item_id;
    let item = w.ctx.monday.item(item, None).await.unwrap().unwrap();
    assert_eq!(
        item.column("text_mkrym6fa").unwrap().text.as_deref(),
        Some("Salem")
    );
    w.cleanup().await;
}

pub async fn survives_transient_api_errors(backend: Backend) {
    let sf = crmmap_emu_salesforce::EmulatorOptions {
        generated_records_per_object: 40,
        ..Default::default()
    };
    let md = crmmap_emu_monday::EmulatorOptions {
        error_rate: 0.2,
        ..Default::default()
    };
    let Some(w) = World::with(backend, sf, md).await else {
        return;
    };
    let options = MigrateOptions {
        chunk_size: 20,
        ..MigrateOptions::default()
    };
    // The next Salesforce data requests fail too: a 503, an expired session, a 500.
    w.salesforce.inject_faults([
        crmmap_emu_salesforce::Fault::ServiceUnavailable,
        crmmap_emu_salesforce::Fault::InvalidSession,
        crmmap_emu_salesforce::Fault::InternalError,
    ]);
    let report = migrate(&w.ctx, &options).await;
    assert!(!report.has_failures(), "{report:#?}");
    let c = w.monday.state().counters();
    assert!(
        c.injected_server_errors + c.injected_locks > 0,
        "monday faults were injected"
    );
    assert!(
        w.salesforce.counters().faults > 0,
        "salesforce faults were injected"
    );
    w.salesforce.set_error_rate(0.0);
    w.monday.state().set_error_rate(0.0);
    assert_boards_match(&w).await;
    w.cleanup().await;
}

pub async fn paces_to_a_small_complexity_budget(backend: Backend) {
    let md = crmmap_emu_monday::EmulatorOptions {
        complexity_budget_per_minute: 150_000,
        minute: std::time::Duration::from_millis(300),
        ..Default::default()
    };
    let Some(w) = World::with(backend, Default::default(), md).await else {
        return;
    };
    let report = migrate(&w.ctx, &MigrateOptions::default()).await;
    assert!(!report.has_failures(), "{report:#?}");
    assert!(
        report.monday_complexity > 150_000,
        "the run needs more than one budget window"
    );
    assert_boards_match(&w).await;
    w.cleanup().await;
}

pub async fn secrets_stay_out_of_logs_and_errors(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let lead = w.ctx.plans.plan("Lead").unwrap();
    let bad = selected(&w.ctx, lead).await[0]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        w.salesforce
            .update_record(&bad, json!({"Industry": "Aerospace"}))
    );
    let report = migrate(&w.ctx, &MigrateOptions::default()).await;
    assert!(report.has_failures());
    let creds = crmmap_emu_salesforce::Credentials::default();
    let secrets = [
        "emulator-token".to_owned(),
        creds.client_secret.clone(),
        creds.password.clone(),
    ];
    let rows = w
        .store()
        .query_log(&LogFilter {
            limit: 1000,
            ..LogFilter::default()
        })
        .await
        .unwrap();
    assert!(!rows.is_empty());
    let text = format!("{rows:?} {report:?}");
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "a secret reached the log");
    }

    // A rejected monday token: the error names the problem, not the token.
    let mut ctx = w.ctx.clone();
    let mut config = ctx.monday.config().clone();
    config.token = "not-the-token-4f1c2".into();
    ctx.monday = std::sync::Arc::new(crmmap_monday::MondayClient::new(config).unwrap());
    let full = MigrateOptions {
        full: true,
        ..MigrateOptions::default()
    };
    let err = migrate::run(&ctx, &full, &mut NoProgress)
        .await
        .unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("credentials"), "{shown}");
    assert!(!shown.contains("not-the-token-4f1c2"), "{shown}");
    w.cleanup().await;
}

/// A mapping that names an object apart from its sObject (`object Organisation { salesforce
/// Account }`): links are kept by sObject, as the webhook keeps them, so the links to it from
/// other boards, a second run and a deletion in Salesforce all find the one item of each record.
pub async fn an_object_named_apart_from_its_sobject_keeps_one_item_per_record(backend: Backend) {
    let Some(mut w) = World::new(backend).await else {
        return;
    };
    let mut plans = (*w.ctx.plans).clone();
    for p in &mut plans.plans {
        if p.object == "Account" {
            p.object = "Organisation".into();
            p.on_salesforce_delete = crmmap_dsl::model::ItemDeletePolicy::Archive;
        }
        for l in p.links.iter_mut().filter(|l| l.target == "Account") {
            l.target = "Organisation".into();
        }
    }
    for name in plans.order.iter_mut().filter(|n| *n == "Account") {
        *name = "Organisation".into();
    }
    w.ctx.plans = Arc::new(plans);
    let first = migrate(&w.ctx, &MigrateOptions::default()).await;
    assert!(object(&first, "Organisation").created > 0, "{first:#?}");
    assert_boards_match(&w).await;
    let again = migrate(&w.ctx, &full()).await;
    assert_eq!(again.total().created, 0, "{again:#?}");

    let organisation = w.ctx.plans.plan("Organisation").unwrap();
    let records = selected(&w.ctx, organisation).await;
    let id = records[0]["Id"].as_str().unwrap().to_owned();
    let link = w
        .store()
        .link_by_record(&SObjectName::new("Account"), &RecordId::parse(&id).unwrap())
        .await
        .unwrap();
    let item = link.expect("linked under its sObject").item_id;
    assert!(w.salesforce.delete_record(&id));
    // An hour ahead: the deletion is behind the watermark's lag.
    let mut later = w.ctx.clone();
    later.clock = Arc::new(|| time::OffsetDateTime::now_utc() + time::Duration::hours(1));
    let report = migrate(&later, &MigrateOptions::default()).await;
    assert_eq!(object(&report, "Organisation").deleted, 1, "{report:#?}");
    let state = w.monday.state().item(item.get()).unwrap().state;
    assert_eq!(state.api_name(), "archived");
    assert!(
        w.store()
            .link_by_record(&SObjectName::new("Account"), &RecordId::parse(&id).unwrap())
            .await
            .unwrap()
            .is_none()
    );
    w.cleanup().await;
}

pub async fn records_deleted_in_salesforce_follow_the_policy(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    // Clocks an hour ahead: the deletions below are then behind every watermark's lag, so
    // each run sees each deletion exactly once.
    let later = |ctx: &RunContext, plans: Option<PlanSet>| {
        let mut ctx = ctx.clone();
        ctx.clock = Arc::new(|| time::OffsetDateTime::now_utc() + time::Duration::hours(1));
        if let Some(p) = plans {
            ctx.plans = Arc::new(p);
        }
        ctx
    };
    migrate(&w.ctx, &MigrateOptions::default()).await;
    let lead = w.ctx.plans.plan("Lead").unwrap();
    let records = selected(&w.ctx, lead).await;
    let ids: Vec<String> = (0..3)
        .map(|i| records[i]["Id"].as_str().unwrap().to_owned())
        .collect();
    let link = |id: String| {
        let store = w.store().clone();
        async move {
            store
                .link_by_record(&SObjectName::new("Lead"), &RecordId::parse(&id).unwrap())
                .await
                .unwrap()
        }
    };
    let item_state = |item: &str| {
        w.monday
            .state()
            .item(item.parse().unwrap())
            .unwrap()
            .state
            .api_name()
    };

    // The default, `log`: the item stays, linked; the log says so.
    let kept = link(ids[0].clone()).await.unwrap();
    assert!(w.salesforce.delete_record(&ids[0]));
    let report = migrate(&later(&w.ctx, None), &MigrateOptions::default()).await;
    assert_eq!(object(&report, "Lead").deleted, 0);
    assert_eq!(item_state(&kept.item_id.to_string()), "active");
    assert!(link(ids[0].clone()).await.is_some());
    let logged = w.store().query_log(&LogFilter::default()).await.unwrap();
    assert!(
        logged
            .iter()
            .any(|r| r.entry.record_id.as_deref() == Some(&ids[0])
                && r.entry.reason.as_deref().unwrap_or("").contains("stays")),
        "{logged:#?}"
    );

    // `on salesforce delete archive`: a dry run only counts; the run archives and unlinks,
    // once.
    let mut plans = (*w.ctx.plans).clone();
    for p in plans.plans.iter_mut().filter(|p| p.object == "Lead") {
        p.on_salesforce_delete = crmmap_dsl::model::ItemDeletePolicy::Archive;
    }
    let archiving = later(&w.ctx, Some(plans));
    let gone = link(ids[1].clone()).await.unwrap();
    assert!(w.salesforce.delete_record(&ids[1]));
    let dry = MigrateOptions {
        dry_run: true,
        ..MigrateOptions::default()
    };
    let planned = migrate(&archiving, &dry).await;
    assert_eq!(object(&planned, "Lead").deleted, 1);
    assert_eq!(item_state(&gone.item_id.to_string()), "active");
    let report = migrate(&archiving, &MigrateOptions::default()).await;
    assert_eq!(object(&report, "Lead").deleted, 1, "{report:#?}");
    assert_eq!(item_state(&gone.item_id.to_string()), "archived");
    assert!(link(ids[1].clone()).await.is_none());
    assert_eq!(
        item_state(&kept.item_id.to_string()),
        "active",
        "an earlier deletion is not seen again"
    );
    let again = migrate(&archiving, &MigrateOptions::default()).await;
    assert_eq!(object(&again, "Lead").deleted, 0);
    // A record that is only updated is no deletion.
    assert!(link(ids[2].clone()).await.is_some());
    w.cleanup().await;
}

/// A migration during which monday applies write batches and then answers them with `fault`
/// (a 500, or a dropped connection): every record ends with exactly one item, linked, and no
/// create ran twice.
async fn applied_then_failed_batches_leave_one_item_per_record(
    backend: Backend,
    fault: crmmap_emu_monday::Fault,
) {
    let (sf, md) = generated(30);
    let Some(w) = World::with(backend, sf, md).await else {
        return;
    };
    let boards: Vec<u64> = w.ctx.plans.in_order().map(|p| p.board.get()).collect();
    let items = |w: &World| -> usize {
        boards
            .iter()
            .map(|b| w.monday.state().active_items(*b).len())
            .sum()
    };
    let before = items(&w);
    // The first create batch of each object is applied and then answered badly.
    for _ in 0..4 {
        w.monday.state().push_fault(fault);
    }
    let report = migrate(&w.ctx, &MigrateOptions::default()).await;
    assert!(!report.has_failures(), "{report:#?}");
    let c = w.monday.state().counters();
    assert_eq!(
        c.injected_after_apply + c.injected_alias_faults,
        4,
        "every fault struck a write"
    );
    let created = items(&w) - before;
    assert_eq!(
        c.root_fields.get("create_item").copied().unwrap_or(0),
        created as u64,
        "no create ran twice"
    );
    assert_eq!(report.total().created, created as u64, "{report:#?}");
    assert_boards_match(&w).await;
    w.cleanup().await;
}

pub async fn create_batch_applied_then_500_leaves_one_item_per_record(backend: Backend) {
    applied_then_failed_batches_leave_one_item_per_record(
        backend,
        crmmap_emu_monday::Fault::ServerErrorAfterApply,
    )
    .await;
}

/// The batch's first two creates are applied, then monday answers 500 (aliases run one after
/// the other): the applied ones are found by their key column, the rest created once.
pub async fn create_batch_failing_at_a_later_alias_leaves_one_item_per_record(backend: Backend) {
    applied_then_failed_batches_leave_one_item_per_record(
        backend,
        crmmap_emu_monday::Fault::ServerErrorAtAlias(2),
    )
    .await;
}

pub async fn create_batch_applied_then_dropped_leaves_one_item_per_record(backend: Backend) {
    applied_then_failed_batches_leave_one_item_per_record(
        backend,
        crmmap_emu_monday::Fault::DropAfterApply,
    )
    .await;
}

pub async fn writes_applied_then_failed_throughout_leave_one_item_per_record(backend: Backend) {
    let (sf, md) = generated(30);
    let Some(w) = World::with(backend, sf, md).await else {
        return;
    };
    // Every other write batch is applied and then answered badly.
    w.monday.state().set_after_apply_rate(0.5);
    let report = migrate(&w.ctx, &MigrateOptions::default()).await;
    assert!(!report.has_failures(), "{report:#?}");
    let c = w.monday.state().counters();
    assert!(c.injected_after_apply >= 3, "{c:?}");
    w.monday.state().set_after_apply_rate(0.0);
    assert_boards_match(&w).await;
    // A second run finds nothing to do: what the first wrote is known.
    let again = migrate(&w.ctx, &MigrateOptions::default()).await;
    assert_eq!(again.total().created, 0, "{again:#?}");
    w.cleanup().await;
}
