//! Converted Leads: Salesforce refuses their updates (`CANNOT_UPDATE_CONVERTED_LEAD`) unless
//! the integration user has "View and Edit Converted Leads". A monday change to such a Lead's
//! item is logged as skipped, once per change, and never sent again, queued or
//! dead-lettered; with `update_converted_leads` it is sent.

use crmmap_emu_salesforce::EndpointKind;
use crmmap_store::Backend;
use crmmap_sync::migrate::{self, MigrateOptions, NoProgress};
use serde_json::json;

use crate::harness::*;

crmmap_testkit::backend_tests!(
    converted;
    a_change_to_a_converted_lead_is_skipped_and_never_retried,
    converted_leads_are_updated_when_the_org_allows_it,
    a_lead_the_migrator_read_as_converted_gets_no_call,
);

const REASON: &str = "converted lead: Salesforce does not accept updates";

fn skipped(log: &[String]) -> usize {
    log.iter().filter(|l| l.contains(REASON)).count()
}

pub async fn a_change_to_a_converted_lead_is_skipped_and_never_retried(backend: Backend) {
    let Some(w) = World::start(Setup::new(backend)).await else {
        return;
    };
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    // Refused by Salesforce: the conversion is older than crmmap's condition, so the update is
    // sent, and answered 400 CANNOT_UPDATE_CONVERTED_LEAD.
    let (item, record) = w.create_linked(LEAD, "Converted Org", json!({})).await;
    w.set(LEAD, &item, "text_mkry13cw", json!("One")).await;
    assert!(w.sf.state().convert_lead(&record, None, None));
    w.sf.state().set_last_modified(
        &record,
        time::OffsetDateTime::now_utc() - time::Duration::hours(1),
    );
    w.set(LEAD, &item, "text_mkry13cw", json!("Two")).await;
    assert_eq!(w.record(&record)["FirstName"], "One");
    assert!(
        w.sf.state()
            .request_log()
            .iter()
            .any(|r| r.kind == EndpointKind::Update && r.status == 400),
        "Salesforce refused it"
    );
    assert_eq!(skipped(&w.log_reasons().await), 1);
    // Known from then on: the next change makes no Salesforce call at all.
    let before = w.sf.state().counters();
    let n = w.sf.state().request_log().len();
    w.set(LEAD, &item, "text_mkrym6fa", json!("Paris")).await;
    assert_eq!(
        w.sf.state().counters().api_calls,
        before.api_calls,
        "{:?}",
        &w.sf.state().request_log()[n..]
    );
    assert_eq!(skipped(&w.log_reasons().await), 2, "one line per change");

    // Found by the read after a 412: nothing is sent.
    let (item2, record2) = w
        .create_linked(LEAD, "Converted Later Org", json!({}))
        .await;
    w.set(LEAD, &item2, "text_mkry13cw", json!("One")).await;
    assert!(w.sf.state().convert_lead(&record2, None, None));
    w.sf.state().set_last_modified(
        &record2,
        time::OffsetDateTime::now_utc() + time::Duration::seconds(5),
    );
    let updates = w.sf.state().counters().get(EndpointKind::Update);
    w.set(LEAD, &item2, "text_mkry13cw", json!("Two")).await;
    assert_eq!(w.record(&record2)["FirstName"], "One");
    assert_eq!(
        w.sf.state().counters().get(EndpointKind::Update),
        updates + 1,
        "only the conditional update that met the 412"
    );
    assert_eq!(skipped(&w.log_reasons().await), 3);

    // Nothing waits for a retry, nothing is dead-lettered, and a drain sends nothing.
    let counts = w.store.retry_counts(later).await.unwrap();
    assert_eq!((counts.due, counts.waiting, counts.dead), (0, 0, 0));
    let before = w.sf.state().counters();
    w.webhook.drain_retries(10).await.unwrap();
    assert_eq!(w.sf.state().counters().api_calls, before.api_calls);
    w.stop().await;
}

pub async fn converted_leads_are_updated_when_the_org_allows_it(backend: Backend) {
    let mut setup = Setup::new(backend);
    setup.options.update_converted_leads = true;
    let Some(w) = World::start(setup).await else {
        return;
    };
    w.sf.state().set_edit_converted_leads(true);
    let (item, record) = w.create_linked(LEAD, "Editable Org", json!({})).await;
    w.set(LEAD, &item, "text_mkry13cw", json!("One")).await;
    assert!(w.sf.state().convert_lead(&record, None, None));
    w.set(LEAD, &item, "text_mkry13cw", json!("Two")).await;
    assert_eq!(w.record(&record)["FirstName"], "Two");
    assert_eq!(skipped(&w.log_reasons().await), 0);
    w.stop().await;
}

/// The migrator reads `IsConverted` with every Lead and records it: a monday change to the
/// item of a Lead converted before is not sent at all, not even once.
pub async fn a_lead_the_migrator_read_as_converted_gets_no_call(backend: Backend) {
    let Some(w) = World::start(Setup::new(backend)).await else {
        return;
    };
    let ctx = w.webhook.context().clone();
    migrate::run(&ctx, &MigrateOptions::default(), &mut NoProgress)
        .await
        .expect("migration");
    settled(&w).await;
    let link = w.linked_lead(true).await;
    let before = w.sf.state().counters();
    w.set(
        LEAD,
        &link.item_id.to_string(),
        "text_mkry13cw",
        json!("Never Sent"),
    )
    .await;
    assert_ne!(w.record(link.record_id.as_str())["FirstName"], "Never Sent");
    assert_eq!(w.sf.state().counters().api_calls, before.api_calls);
    assert_eq!(skipped(&w.log_reasons().await), 1);
    w.stop().await;
}
