//! One migration at a time: the store lease `migrate` (see `crmmap_sync::migrate::LEASE`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crmmap_store::{LeaseAcquire, LeaseOptions};
use crmmap_sync::migrate::{self, MigrateError, MigrateOptions, NoProgress};
use serde_json::Value as Json;

use crate::harness::{Backend, World};

crmmap_testkit::backend_tests!(
    lease, worker_threads = 2;
    two_migrations_at_once_exactly_one_migrates,
    a_second_migration_waits_for_the_first,
    a_dry_run_takes_no_lease,
);

/// Items per Salesforce Id on every board the mappings write.
fn items_per_id(w: &World) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for plan in w.ctx.plans.in_order() {
        for item in w.monday.state().active_items(plan.board.get()) {
            if let Some(Json::String(id)) = item.values.get(plan.key_column.as_str()) {
                *out.entry(format!("{}:{id}", plan.object)).or_insert(0) += 1;
            }
        }
    }
    out
}

fn item_count(w: &World) -> usize {
    w.ctx
        .plans
        .in_order()
        .map(|p| w.monday.state().active_items(p.board.get()).len())
        .sum()
}

pub async fn two_migrations_at_once_exactly_one_migrates(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let other = w.reconnect().await;
    let options = MigrateOptions::default();
    let (mut quiet_a, mut quiet_b) = (NoProgress, NoProgress);
    let (a, b) = tokio::join!(
        migrate::run(&w.ctx, &options, &mut quiet_a),
        migrate::run(&other, &options, &mut quiet_b),
    );
    let (report, busy) = match (a, b) {
        (Ok(r), Err(e)) | (Err(e), Ok(r)) => (r, e),
        (a, b) => panic!("expected one run and one refusal, got {a:?} and {b:?}"),
    };
    let MigrateError::Busy(holder) = &busy else {
        panic!("the second run failed otherwise: {busy}")
    };
    let message = busy.to_string();
    assert!(
        message.starts_with("another migration is running: crmmap migrate on ")
            && message.contains(&format!(", pid {} since ", std::process::id())),
        "{message}"
    );
    assert_eq!(holder.name, migrate::LEASE);
    // The run that migrated created every item; nobody created one twice.
    let created = report.total().created;
    assert!(created > 0, "{report:?}");
    let items = items_per_id(&w);
    assert_eq!(items.len() as u64, created, "{items:?}");
    assert!(items.values().all(|n| *n == 1), "duplicates: {items:?}");
    assert_eq!(item_count(&w) as u64, created);
    // The lease was released: the next run takes it, and finds nothing to do.
    let again = migrate::run(&other, &options, &mut NoProgress)
        .await
        .expect("the lease is free again");
    assert_eq!(again.total().created, 0);
    assert_eq!(item_count(&w) as u64, created);
    other.store.close().await;
    w.cleanup().await;
}

pub async fn a_second_migration_waits_for_the_first(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let other = w.reconnect().await;
    let held = match other
        .store
        .acquire_lease(
            migrate::LEASE,
            "crmmap migrate on another host, pid 7",
            &LeaseOptions::default(),
            Arc::new(time::OffsetDateTime::now_utc),
        )
        .await
        .unwrap()
    {
        LeaseAcquire::Acquired(l) => l,
        LeaseAcquire::Held(h) => panic!("a fresh store's lease is held by {h}"),
    };
    // Without --wait: refused at once, having read and written nothing.
    let err = migrate::run(&w.ctx, &MigrateOptions::default(), &mut NoProgress)
        .await
        .expect_err("ran beside another migration");
    assert!(
        err.to_string().starts_with(
            "another migration is running: crmmap migrate on another host, pid 7 since "
        ),
        "{err}"
    );
    assert_eq!(item_count(&w), 0);
    assert!(
        w.store()
            .unfinished_run(migrate::RUN_KIND)
            .await
            .unwrap()
            .is_none(),
        "a refused run left a checkpoint"
    );

    // With a wait: it waits (writing nothing meanwhile), then runs once the first is done.
    let ctx = w.ctx.clone();
    let waiting = tokio::spawn(async move {
        let options = MigrateOptions {
            lease_wait: Duration::from_secs(60),
            ..MigrateOptions::default()
        };
        migrate::run(&ctx, &options, &mut NoProgress).await
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!waiting.is_finished(), "did not wait for the lease");
    assert_eq!(item_count(&w), 0, "wrote while waiting");
    held.release().await.unwrap();
    let report = waiting.await.unwrap().expect("ran after the wait");
    assert!(report.total().created > 0);
    assert!(items_per_id(&w).values().all(|n| *n == 1));
    other.store.close().await;
    w.cleanup().await;
}

pub async fn a_dry_run_takes_no_lease(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let held = match w
        .store()
        .acquire_lease(
            migrate::LEASE,
            "crmmap migrate",
            &LeaseOptions::default(),
            Arc::new(time::OffsetDateTime::now_utc),
        )
        .await
        .unwrap()
    {
        LeaseAcquire::Acquired(l) => l,
        LeaseAcquire::Held(h) => panic!("held by {h}"),
    };
    let dry = MigrateOptions {
        dry_run: true,
        ..MigrateOptions::default()
    };
    let plan = migrate::run(&w.ctx, &dry, &mut NoProgress)
        .await
        .expect("a dry run beside a migration");
    assert!(plan.total().created > 0);
    assert_eq!(item_count(&w), 0);
    held.release().await.unwrap();
    w.cleanup().await;
}
