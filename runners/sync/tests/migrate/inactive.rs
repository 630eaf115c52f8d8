//! Archived and deleted items are no partners: the migrator links records to live items only.

use crmmap_ids::{ObjectName, SObjectName};
use crmmap_sync::migrate::{self, MigrateOptions, MigrateReport, NoProgress};

use crate::harness::{Backend, World};

crmmap_testkit::backend_tests!(
    inactive, worker_threads = 2;
    a_link_to_a_deleted_item_stays_parked,
    a_first_migration_links_the_items_it_created_without_reading_them_back,
);

async fn run(w: &World, objects: &[&str]) -> MigrateReport {
    let options = MigrateOptions {
        objects: objects
            .iter()
            .map(|o| crmmap_ids::ObjectName::new(*o))
            .collect(),
        ..MigrateOptions::default()
    };
    migrate::run(&w.ctx, &options, &mut NoProgress)
        .await
        .expect("migration runs")
}

pub async fn a_link_to_a_deleted_item_stays_parked(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    // Leads first: their links to accounts wait for the accounts' items.
    run(&w, &["Lead"]).await;
    let parked = w
        .store()
        .parked_for_object(&ObjectName::new("Lead"))
        .await
        .unwrap();
    let waiting = parked
        .iter()
        .find(|p| p.link.target_object.as_str() == "Account")
        .expect("a lead link to an account is parked")
        .clone();
    run(&w, &["Account"]).await;
    let target = w
        .store()
        .link_by_record(&SObjectName::new("Account"), &waiting.link.target_record_id)
        .await
        .unwrap()
        .expect("the account has an item")
        .item_id;
    // The account's item is deleted on monday; the store still links it.
    w.ctx.monday.delete_item(target).await.unwrap();

    let report = run(&w, &["Lead"]).await;
    let lead = report
        .objects
        .iter()
        .find(|o| o.object == "Lead")
        .expect("lead in report");
    assert_eq!(lead.counts.failed, 0, "{report:#?}");
    let still: Vec<_> = w
        .store()
        .parked_for_object(&ObjectName::new("Lead"))
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.id == waiting.id)
        .collect();
    assert_eq!(still.len(), 1, "the link waits for a live item");
    let source = w
        .store()
        .link_by_record(&SObjectName::new("Lead"), &waiting.link.record_id)
        .await
        .unwrap()
        .expect("the lead has an item")
        .item_id;
    let item = w.ctx.monday.item(source, None).await.unwrap().unwrap();
    assert!(
        item.column(&waiting.link.column_id)
            .is_none_or(|c| !c.linked_item_ids.contains(&target)),
        "{item:?}"
    );
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let queue = w.store().retry_counts(later).await.unwrap();
    assert_eq!((queue.due, queue.waiting, queue.dead), (0, 0, 0));
    w.cleanup().await;
}

pub async fn a_first_migration_links_the_items_it_created_without_reading_them_back(
    backend: Backend,
) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let report = run(&w, &[]).await;
    let links: u64 = report.objects.iter().map(|o| o.counts.links).sum();
    assert!(links > 0, "the sample data links records: {report:#?}");
    // `items(ids:)` is the live-target read; every target was created by this run.
    let counters = w.monday.state().counters();
    assert_eq!(counters.root_fields.get("items"), None, "{counters:?}");
    w.cleanup().await;
}
