//! monday's request limits and a missing board, met by a migration over HTTP against the
//! monday emulator's documented answers (reference `monday-api.md` §1.5, §2.1;
//! `realtime-and-limits.md` §4).

use crmmap_ids::SObjectName;
use std::time::Duration;

use crmmap_emu_monday::{EmulatorOptions, Limits};
use crmmap_sync::migrate::{self, MigrateError, MigrateOptions, NoProgress};
use serde_json::json;

use crate::harness::{Backend, World};
use crate::suite::{LEAD_BOARD, assert_boards_match, selected};

crmmap_testkit::backend_tests!(
    limits, worker_threads = 2;
    a_run_under_the_minute_limit_completes,
    the_daily_limit_stops_a_run_which_resumes_the_next_day_without_duplicates,
    a_missing_board_stops_the_run_and_unlinks_nothing,
    past_the_salesforce_allocation_share_a_run_makes_no_data_call,
    the_clients_concurrency_stays_within_the_plans_limit,
);

/// An emulator with these limits and a short emulated minute.
fn limited(limits: Limits) -> EmulatorOptions {
    EmulatorOptions {
        limits,
        minute: Duration::from_millis(500),
        ..EmulatorOptions::default()
    }
}

pub async fn a_run_under_the_minute_limit_completes(backend: Backend) {
    // Three requests per emulated minute of two seconds: the run's eleven requests meet the
    // limit however slowly a loaded machine sends them (a shorter minute let a slow run slip
    // between windows).
    let md = EmulatorOptions {
        limits: Limits {
            requests_per_minute: Some(3),
            ..Limits::NONE
        },
        minute: Duration::from_secs(2),
        ..EmulatorOptions::default()
    };
    let Some(w) = World::with(backend, Default::default(), md).await else {
        return;
    };
    let report = migrate::run(&w.ctx, &MigrateOptions::default(), &mut NoProgress)
        .await
        .expect("the run waits out the minute limit");
    assert!(!report.has_failures(), "{report:#?}");
    let counters = w.monday.state().counters();
    assert!(
        counters.minute_limited >= 1,
        "the run met the minute limit: {counters:?}"
    );
    assert_boards_match(&w).await;
    w.cleanup().await;
}

pub async fn the_daily_limit_stops_a_run_which_resumes_the_next_day_without_duplicates(
    backend: Backend,
) {
    // Five calls: enough for some objects' writes, not for the whole run.
    let md = limited(Limits {
        daily_calls: Some(5),
        ..Limits::NONE
    });
    let Some(w) = World::with(backend, Default::default(), md).await else {
        return;
    };
    let stopped = migrate::run(&w.ctx, &MigrateOptions::default(), &mut NoProgress).await;
    let e = match stopped {
        Err(e) => e,
        Ok(report) => panic!("the run should stop at the daily limit: {report:#?}"),
    };
    assert!(e.is_limit(), "{e:?}");
    assert!(!e.is_config(), "{e:?}");
    let message = e.to_string();
    assert!(message.contains("daily API call limit"), "{message}");
    assert!(message.contains("resets at"), "{message}");
    let counters = w.monday.state().counters();
    assert!(counters.daily_limited >= 1, "{counters:?}");
    assert_eq!(
        counters.daily_limited, 1,
        "the run stopped at the first refusal instead of waiting or trying again"
    );
    assert!(
        counters.mutations >= 1,
        "some items were written before the limit: {counters:?}"
    );
    // Nothing was queued for retry: the records were not at fault.
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let queue = w.store().retry_counts(later).await.unwrap();
    assert_eq!((queue.due, queue.waiting, queue.dead), (0, 0, 0));

    // After midnight UTC (on the emulator's clock) the count starts again; the day's
    // allowance is the Basic plan's 1,000 calls (reference §2.1), enough for the rest of the
    // run and the checks below. The next run resumes and completes.
    w.monday.state().start_next_day();
    w.monday.state().set_daily_limit(Some(1_000));
    let report = migrate::run(&w.ctx, &MigrateOptions::default(), &mut NoProgress)
        .await
        .expect("the next day's run completes");
    assert!(report.resumed, "it resumed the stopped run");
    assert!(!report.has_failures(), "{report:#?}");
    assert_boards_match(&w).await;
    w.cleanup().await;
}

pub async fn a_missing_board_stops_the_run_and_unlinks_nothing(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    migrate::run(&w.ctx, &MigrateOptions::default(), &mut NoProgress)
        .await
        .expect("the first run completes");
    let lead = w.ctx.plans.plan("Lead").expect("lead plan").clone();
    let links_before = w
        .store()
        .links_for_object(&SObjectName::new("Lead"))
        .await
        .unwrap()
        .len();
    assert!(links_before > 0);

    // The Lead board is deleted on monday, and a linked lead changes in Salesforce: the next
    // run has an update to write to the missing board.
    w.monday
        .state()
        .with_account(|a| a.boards.remove(&LEAD_BOARD));
    let record = selected(&w.ctx, &lead).await[0]["Id"]
        .as_str()
        .expect("record id")
        .to_owned();
    assert!(w.salesforce.update_record(
        &record,
        json!({"Company": "Renamed while the board was gone"})
    ));
    let stopped = migrate::run(&w.ctx, &MigrateOptions::default(), &mut NoProgress).await;
    let e = match stopped {
        Err(e) => e,
        Ok(report) => panic!("the run should stop on the missing board: {report:#?}"),
    };
    assert!(e.is_config(), "{e:?}");
    assert!(!e.is_limit(), "{e:?}");
    assert!(matches!(e, MigrateError::BoardMissing { .. }), "{e:?}");
    let message = e.to_string();
    assert!(message.contains(&LEAD_BOARD.to_string()), "{message}");
    assert!(message.contains("`Lead`"), "{message}");
    assert!(message.contains("nothing was unlinked"), "{message}");

    let links_after = w
        .store()
        .links_for_object(&SObjectName::new("Lead"))
        .await
        .unwrap();
    assert_eq!(links_after.len(), links_before, "no lead was unlinked");
    assert!(links_after.iter().any(|l| l.record_id.as_str() == record));
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let queue = w.store().retry_counts(later).await.unwrap();
    assert_eq!(
        (queue.due, queue.waiting, queue.dead),
        (0, 0, 0),
        "no record was queued or dead-lettered for the board's fault"
    );
    w.cleanup().await;
}

pub async fn past_the_salesforce_allocation_share_a_run_makes_no_data_call(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    // 95 % of the org's allocation is used; crmmap keeps the default 10 % for others.
    w.salesforce.set_daily_api_limit(10_000);
    w.salesforce.set_api_usage(9_500);
    w.salesforce.reset_counters();
    let stopped = migrate::run(&w.ctx, &MigrateOptions::default(), &mut NoProgress).await;
    let e = match stopped {
        Err(e) => e,
        Ok(report) => panic!("the run should stop at the allocation: {report:#?}"),
    };
    assert!(e.is_limit(), "{e:?}");
    let message = e.to_string();
    // The usage and the limit are named (the look at /limits itself counts one call).
    assert!(message.contains("API allocation reached"), "{message}");
    assert!(
        message.contains("of its 10000 daily API calls"),
        "{message}"
    );
    let calls = w.salesforce.counters();
    assert_eq!(calls.queries(), 0, "no data call: {calls:?}");
    assert_eq!(calls.api_calls, 1, "the one look at /limits: {calls:?}");
    assert_eq!(
        w.monday.state().counters().requests,
        0,
        "monday is not called either"
    );
    w.cleanup().await;
}

pub async fn the_clients_concurrency_stays_within_the_plans_limit(backend: Backend) {
    if backend == Backend::Postgres {
        // The store plays no part: once is enough.
        return;
    }
    let md = limited(Limits {
        concurrency: Some(3),
        ..Limits::NONE
    });
    let Some(w) = World::with(backend, Default::default(), md).await else {
        return;
    };
    let mut config = w.ctx.monday.config().clone();
    config.max_concurrency = 3;
    let client = std::sync::Arc::new(crmmap_monday::MondayClient::new(config).unwrap());
    // The emulator holds every request in flight until released: twelve calls at once would
    // meet the limit of three, were the client to send more than three.
    let state = w.monday.state().clone();
    state.hold_requests();
    let calls: Vec<_> = (0..12)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .board_exists(crmmap_ids::BoardId::new(LEAD_BOARD))
                    .await
            })
        })
        .collect();
    let full = tokio::time::timeout(Duration::from_secs(20), async {
        while state.limit_usage().in_flight < 3 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(full.is_ok(), "three requests reach the emulator");
    // Room for any further request to arrive before the held ones are let go.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(state.limit_usage().in_flight, 3);
    state.release_requests();
    for call in calls {
        assert!(call.await.unwrap().unwrap(), "the board exists");
    }
    let counters = state.counters();
    assert_eq!(counters.concurrency_limited, 0, "{counters:?}");
    assert_eq!(counters.root_fields["boards"], 12, "{counters:?}");
    w.cleanup().await;
}
