use std::time::{Duration, Instant};

use crmmap_emu_salesforce::{EmulatorOptions, EndpointKind, Fault};
use crmmap_salesforce::{Error, RetryPolicy, SalesforceClient};
use futures::TryStreamExt;
use serde_json::json;

use crate::common::rid;
use crate::common::*;

#[tokio::test]
async fn injected_503_and_lock_errors_are_recovered() {
    let emu = default_emulator().await;
    let client = client(&emu);
    client.authenticate().await.unwrap();
    let id = client
        .create("Account", &json!({"Name": "Before"}))
        .await
        .unwrap();
    emu.inject_faults([
        Fault::ServiceUnavailable,
        Fault::UnableToLockRow,
        Fault::InternalError,
    ]);
    client
        .update("Account", &rid(&id), &json!({"Name": "Retried"}), None)
        .await
        .unwrap();
    assert_eq!(emu.counters().get(EndpointKind::Update), 4);
    let row: serde_json::Value = client
        .get("Account", &rid(&id), Some(&["Name"]))
        .await
        .unwrap();
    assert_eq!(row["Name"], "Retried");
}

/// Accounts named `name` in the emulator.
fn accounts_named(emu: &crmmap_emu_salesforce::RunningEmulator, name: &str) -> usize {
    emu.records("Account")
        .iter()
        .filter(|r| r["Name"] == json!(name))
        .count()
}

#[tokio::test]
async fn a_create_answered_5xx_is_not_resent() {
    let emu = default_emulator().await;
    let client = client(&emu);
    client.authenticate().await.unwrap();
    for (fault, status) in [
        (Fault::ServiceUnavailable, 503),
        (Fault::InternalError, 500),
        (Fault::InternalErrorAfterApply, 500),
    ] {
        emu.reset_counters();
        emu.inject_faults([fault.clone()]);
        let name = format!("Maybe {status} {fault:?}");
        let err = client
            .create("Account", &json!({ "Name": name }))
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(status), "{fault:?}: {err:?}");
        assert_eq!(
            emu.counters().get(EndpointKind::Create),
            1,
            "{fault:?}: not resent"
        );
        let applied = usize::from(fault == Fault::InternalErrorAfterApply);
        assert_eq!(accounts_named(&emu, &name), applied, "{fault:?}");
    }
}

#[tokio::test]
async fn a_collection_create_answered_5xx_after_it_ran_is_not_resent() {
    let emu = default_emulator().await;
    let client = client(&emu);
    client.authenticate().await.unwrap();
    emu.inject_faults([Fault::InternalErrorAfterApply]);
    let records: Vec<crmmap_salesforce::NewRecord> = (0..3)
        .map(|i| {
            crmmap_salesforce::NewRecord::new(
                "Account",
                json!({ "Name": format!("Collected {i}") })
                    .as_object()
                    .cloned()
                    .unwrap(),
            )
        })
        .collect();
    let err = client.create_many(&records, false).await.unwrap_err();
    assert_eq!(err.status(), Some(500), "{err:?}");
    assert_eq!(emu.counters().get(EndpointKind::CollectionsCreate), 1);
    for i in 0..3 {
        assert_eq!(accounts_named(&emu, &format!("Collected {i}")), 1);
    }
}

#[tokio::test]
async fn a_create_refused_with_a_lock_error_is_resent_once_applied() {
    let emu = default_emulator().await;
    let client = client(&emu);
    client.authenticate().await.unwrap();
    emu.inject_faults([Fault::UnableToLockRow, Fault::InvalidSession]);
    client
        .create("Account", &json!({"Name": "Locked first"}))
        .await
        .unwrap();
    assert_eq!(emu.counters().get(EndpointKind::Create), 3);
    assert_eq!(
        accounts_named(&emu, "Locked first"),
        1,
        "created exactly once"
    );
}

#[tokio::test]
async fn upserts_are_resent_after_a_5xx_and_create_once() {
    let emu = default_emulator().await;
    let client = client(&emu);
    client.authenticate().await.unwrap();
    // The first attempt creates the record and is answered 500; the resend updates it.
    emu.inject_faults([Fault::InternalErrorAfterApply, Fault::ServiceUnavailable]);
    let outcome = client
        .upsert(
            "Account",
            "External_Id__c",
            "RESENT-1",
            &json!({"Name": "Upserted"}),
        )
        .await
        .unwrap();
    assert!(
        matches!(outcome, crmmap_salesforce::UpsertOutcome::Updated(_)),
        "{outcome:?}"
    );
    assert_eq!(emu.counters().get(EndpointKind::Upsert), 3);
    assert_eq!(accounts_named(&emu, "Upserted"), 1);
}

#[tokio::test]
async fn retries_are_bounded() {
    let emu = default_emulator().await;
    let client = client(&emu);
    client.authenticate().await.unwrap();
    emu.inject_faults(std::iter::repeat_n(Fault::ServiceUnavailable, 10));
    let err = client.limits().await.unwrap_err();
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.status, 503);
    assert_eq!(api.errors[0].error_code, "SERVER_UNAVAILABLE");
    assert_eq!(
        emu.counters().get(EndpointKind::Limits),
        4,
        "max_attempts = 4"
    );
}

#[tokio::test]
async fn random_error_rate_is_survived() {
    let emu = emulator(EmulatorOptions {
        error_rate: 0.3,
        fault_seed: 7,
        query_page_size: 2,
        ..Default::default()
    })
    .await;
    let mut cfg = config(&emu, password_flow());
    cfg.retry = RetryPolicy {
        max_attempts: 10,
        ..fast_retry()
    };
    let client = SalesforceClient::new(cfg).unwrap();
    let rows: Vec<crmmap_salesforce::Record> = client
        .query("SELECT Id, IsConverted FROM Lead")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 5);
    // A converted Lead refuses updates: take one that is not.
    let first = rows
        .iter()
        .find(|r| r.get("IsConverted") == Some(&json!(false)))
        .and_then(|r| r.id())
        .unwrap()
        .to_owned();
    for i in 0..10 {
        // Updates are idempotent: every one gets through.
        client
            .update(
                "Lead",
                &rid(&first),
                &json!({"City": format!("Flaky {i}")}),
                None,
            )
            .await
            .unwrap();
    }
    for i in 0..10 {
        // A create answered 503 is not resent: it fails, and is made at most once.
        let name = format!("Flaky {i}");
        match client.create("Account", &json!({ "Name": name })).await {
            Ok(_) => assert_eq!(accounts_named(&emu, &name), 1),
            Err(e) => assert_eq!(e.status(), Some(503), "{e:?}"),
        }
    }
    assert!(emu.counters().faults > 0, "the error rate injected faults");
}

#[tokio::test]
async fn request_limit_exceeded_stops_with_a_clear_error() {
    let emu = emulator(EmulatorOptions {
        daily_api_limit: 3,
        ..Default::default()
    })
    .await;
    // No headroom: the client itself never stops short of Salesforce's own refusal.
    let mut cfg = config(&emu, password_flow());
    cfg.api_headroom_percent = 0;
    let client = SalesforceClient::new(cfg).unwrap();
    for _ in 0..3 {
        client.limits().await.unwrap();
    }
    let err = client.describe("Lead").await.unwrap_err();
    let Error::RequestLimitExceeded {
        message,
        limit_info,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(message, "TotalRequests Limit exceeded.");
    assert_eq!(limit_info.as_ref().map(|l| (l.used, l.max)), Some((3, 3)));
    let text = err.to_string();
    assert!(
        text.contains("request limit exceeded")
            && text.contains("stopping")
            && text.contains("3/3"),
        "{text}"
    );
    assert_eq!(emu.counters().get(EndpointKind::Describe), 1, "not retried");
}

#[tokio::test]
async fn timeouts_are_retried_then_reported() {
    let emu = default_emulator().await;
    let mut cfg = config(&emu, password_flow());
    cfg.request_timeout = Duration::from_millis(200);
    cfg.retry = RetryPolicy {
        max_attempts: 2,
        ..fast_retry()
    };
    let client = SalesforceClient::new(cfg).unwrap();
    client.authenticate().await.unwrap();
    // One slow answer, then a normal one: recovered.
    emu.inject_faults([Fault::Delay(Duration::from_millis(600))]);
    client.limits().await.unwrap();
    // Always slow: a timeout error after 2 attempts.
    emu.set_latency(Duration::from_millis(600));
    let started = Instant::now();
    let err = client.limits().await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout(d) if d == Duration::from_millis(200)),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    emu.set_latency(Duration::ZERO);
    assert_eq!(emu.counters().get(EndpointKind::Limits), 4);
}

#[tokio::test]
async fn creates_are_not_retried_after_a_timeout() {
    let emu = default_emulator().await;
    let mut cfg = config(&emu, password_flow());
    cfg.request_timeout = Duration::from_millis(200);
    let client = SalesforceClient::new(cfg).unwrap();
    client.authenticate().await.unwrap();
    emu.inject_faults([Fault::Delay(Duration::from_millis(500))]);
    let before = emu.records("Account").len();
    let err = client
        .create("Account", &json!({"Name": "Maybe"}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        emu.records("Account").len(),
        before + 1,
        "the server applied it once; the client did not resend"
    );
}

#[tokio::test]
async fn validation_errors_are_not_retried() {
    let emu = default_emulator().await;
    let client = client(&emu);
    client.create("Lead", &json!({})).await.unwrap_err();
    assert_eq!(emu.counters().get(EndpointKind::Create), 1);
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    let emu = default_emulator().await;
    let client = client(&emu);
    client.authenticate().await.unwrap();
    emu.shutdown().await;
    let err = client.limits().await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
}
