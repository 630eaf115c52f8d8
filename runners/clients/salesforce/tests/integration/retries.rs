use std::time::{Duration, Instant};

use crmmap_emu_salesforce::{EmulatorOptions, EndpointKind, Fault};
use crmmap_salesforce::{Error, RetryPolicy, SalesforceClient};
use futures::TryStreamExt;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn injected_503_and_lock_errors_are_recovered() {
    let emu = default_emulator().await;
    let client = client(&emu);
    client.authenticate().await.unwrap();
    emu.inject_faults([
        Fault::ServiceUnavailable,
        Fault::UnableToLockRow,
        Fault::InternalError,
    ]);
    let id = client
        .create("Account", &json!({"Name": "Retried"}))
        .await
        .unwrap();
    assert_eq!(emu.counters().get(EndpointKind::Create), 4);
    assert_eq!(
        emu.records("Account")
            .iter()
            .filter(|r| r["Id"] == json!(id))
            .count(),
        1,
        "created exactly once"
    );
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
        .query("SELECT Id FROM Lead")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 5);
    for i in 0..10 {
        client
            .create("Account", &json!({"Name": format!("Flaky {i}")}))
            .await
            .unwrap();
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
    let client = client(&emu);
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
