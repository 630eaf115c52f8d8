//! The conditional update: a column change costs one Salesforce call, and its condition comes
//! from Salesforce's own clock (the `Date` of its answers), so that neither a runner clock
//! ahead of Salesforce's misses an edit made there, nor a burst of changes within one second
//! invents one.

use std::sync::Arc;

use crmmap_emu_salesforce::EndpointKind;
use crmmap_store::Backend;
use serde_json::json;

use crate::harness::*;

crmmap_testkit::backend_tests!(
    conditional;
    a_runner_clock_ahead_of_salesforce_misses_no_conflict,
    changes_in_the_same_second_cost_one_call_each,
);

/// The runner's clock runs an hour ahead of Salesforce's. A condition taken from it would be
/// later than any edit made in Salesforce meanwhile, and the edit would be overwritten
/// without the conflict policy being asked.
pub async fn a_runner_clock_ahead_of_salesforce_misses_no_conflict(backend: Backend) {
    let mut setup = Setup::new(backend);
    setup.clock = Arc::new(|| time::OffsetDateTime::now_utc() + time::Duration::hours(1));
    let Some(w) = World::start(setup).await else {
        return;
    };
    let (item, record) = w.create_linked(LEAD, "Skewed Clock Org", json!({})).await;
    w.set(LEAD, &item, "text_mkry13cw", json!("One")).await;
    assert_eq!(w.record(&record)["FirstName"], "One");
    // Someone edits the field in Salesforce a little later (by Salesforce's clock).
    w.sf.state()
        .update_record(&record, json!({"FirstName": "Edited In Salesforce"}));
    w.sf.state().set_last_modified(
        &record,
        time::OffsetDateTime::now_utc() + time::Duration::seconds(5),
    );
    w.set(LEAD, &item, "text_mkry13cw", json!("Two")).await;
    // The shipped Leads prefer Salesforce: its edit stays, and the log says why.
    assert_eq!(w.record(&record)["FirstName"], "Edited In Salesforce");
    let log = w.log_reasons().await;
    assert!(
        log.iter()
            .any(|l| l.contains("conflict: salesforce changed FirstName too")),
        "{log:?}"
    );
    w.stop().await;
}

/// Five changes of one item, one after the other, most within the same second as the write
/// before: each costs exactly one Salesforce call, and none meets a 412 (crmmap's own write
/// is not taken for a change after the condition).
pub async fn changes_in_the_same_second_cost_one_call_each(backend: Backend) {
    let Some(w) = World::start(Setup::new(backend)).await else {
        return;
    };
    let (item, record) = w.create_linked(LEAD, "Burst Org", json!({})).await;
    w.set(LEAD, &item, "text_mkry13cw", json!("Warm")).await;
    let before = w.sf.state().counters();
    let refused = |w: &World| {
        w.sf.state()
            .request_log()
            .iter()
            .filter(|r| r.status == 412)
            .count()
    };
    let refused_before = refused(&w);
    for (n, city) in ["Oslo", "Lima", "Rome", "Kyiv", "Doha"].iter().enumerate() {
        w.set(LEAD, &item, "text_mkrym6fa", json!(city)).await;
        assert_eq!(w.record(&record)["City"], json!(city), "change {n}");
    }
    let after = w.sf.state().counters();
    assert_eq!(after.api_calls - before.api_calls, 5, "one call per change");
    assert_eq!(
        after.get(EndpointKind::Update) - before.get(EndpointKind::Update),
        5
    );
    assert_eq!(refused(&w), refused_before, "no 412 met");
    w.stop().await;
}
