//! The org's API allocation: usage read from `Sforce-Limit-Info`, and no call sent once it is
//! above `100 - api_headroom_percent` percent.

use std::time::Duration;

use crmmap_emu_salesforce::{EmulatorOptions, EndpointKind};
use crmmap_salesforce::{ApiUsage, Error, Record, SalesforceClient};
use serde_json::json;

use crate::common::rid;
use crate::common::*;

fn usage(used: u64, max: u64) -> ApiUsage {
    ApiUsage { used, max }
}

#[tokio::test]
async fn every_response_updates_the_usage() {
    let emu = default_emulator().await;
    emu.set_api_usage(41);
    let client = client(&emu);
    assert_eq!(client.api_usage(), None, "nothing known before a call");
    let id = emu.insert_record("Account", json!({"Name": "U"})).unwrap();
    let _: Record = client.get("Account", &rid(&id), None).await.unwrap();
    assert_eq!(client.api_usage(), Some(usage(42, 15000)));
    // An error answer carries the header too.
    let err = client
        .get::<Record>("Account", &rid("001000000000000AAA"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert_eq!(client.api_usage(), Some(usage(43, 15000)));
}

#[tokio::test]
async fn above_the_threshold_no_call_is_sent() {
    let emu = emulator(EmulatorOptions {
        daily_api_limit: 1000,
        ..Default::default()
    })
    .await;
    // 899 + this call = 900: exactly 90 %, not above.
    emu.set_api_usage(899);
    let client = client(&emu);
    client.limits().await.unwrap();
    assert_eq!(client.api_usage(), Some(usage(900, 1000)));
    client.limits().await.unwrap();
    assert_eq!(client.api_usage(), Some(usage(901, 1000)));
    emu.reset_counters();
    let err = client.describe("Lead").await.unwrap_err();
    let Error::AllocationReached { used, max } = err else {
        panic!("{err:?}")
    };
    assert_eq!((used, max), (901, 1000));
    assert_eq!(emu.counters().total, 0, "no request reached Salesforce");
    let text = Error::AllocationReached { used, max }.to_string();
    assert!(
        text.contains("901 of its 1000") && text.contains("api_headroom_percent"),
        "{text}"
    );
    assert_eq!(
        Error::AllocationReached { used, max }.api_usage(),
        Some(usage(901, 1000))
    );
    // Clones share what the client learnt.
    let twin = client.clone();
    assert!(matches!(
        twin.limits().await,
        Err(Error::AllocationReached { .. })
    ));
    assert_eq!(emu.counters().total, 0);
}

#[tokio::test]
async fn the_headroom_is_configurable() {
    let emu = emulator(EmulatorOptions {
        daily_api_limit: 1000,
        ..Default::default()
    })
    .await;
    emu.set_api_usage(950);
    let mut cfg = config(&emu, password_flow());
    cfg.api_headroom_percent = 2;
    let client = SalesforceClient::new(cfg).unwrap();
    for _ in 0..3 {
        client.limits().await.unwrap();
    }
    assert_eq!(client.api_usage(), Some(usage(953, 1000)));
}

#[tokio::test]
async fn check_before_a_batch_costs_one_call_and_rechecks_later() {
    let emu = emulator(EmulatorOptions {
        daily_api_limit: 10_000,
        ..Default::default()
    })
    .await;
    emu.set_api_usage(9_500);
    let mut cfg = config(&emu, password_flow());
    cfg.allocation_recheck = Duration::ZERO;
    let client = SalesforceClient::new(cfg).unwrap();
    let err = client.check_api_allocation().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::AllocationReached {
                used: 9_501,
                max: 10_000
            }
        ),
        "{err:?}"
    );
    assert_eq!(emu.counters().get(EndpointKind::Limits), 1);
    assert_eq!(emu.counters().api_calls, 1);
    // Usage drops (the rolling 24 hours move on): the recheck call learns it and work goes on.
    emu.set_api_usage(100);
    assert_eq!(
        client.check_api_allocation().await.unwrap(),
        usage(101, 10_000)
    );
    client.describe("Lead").await.unwrap();
}

#[tokio::test]
async fn while_above_one_recheck_call_goes_through_per_interval() {
    let emu = emulator(EmulatorOptions {
        daily_api_limit: 100,
        ..Default::default()
    })
    .await;
    emu.set_api_usage(95);
    let mut cfg = config(&emu, password_flow());
    cfg.allocation_recheck = Duration::from_secs(3600);
    let client = SalesforceClient::new(cfg).unwrap();
    // Nothing known yet: the first call goes and learns 96/100.
    client.limits().await.unwrap();
    emu.set_api_usage(10);
    // Within the interval: refused without a call, though usage has in fact dropped.
    assert!(matches!(
        client.limits().await,
        Err(Error::AllocationReached { used: 96, max: 100 })
    ));
    assert_eq!(emu.counters().get(EndpointKind::Limits), 1);

    let mut cfg = config(&emu, password_flow());
    cfg.allocation_recheck = Duration::ZERO;
    let eager = SalesforceClient::new(cfg).unwrap();
    emu.set_api_usage(95);
    eager.limits().await.unwrap();
    emu.set_api_usage(10);
    // Interval over: this call is the recheck, it goes and learns the lower usage.
    eager.limits().await.unwrap();
    assert_eq!(eager.api_usage(), Some(usage(11, 100)));
}

#[tokio::test]
async fn request_limit_exceeded_names_the_usage() {
    let emu = emulator(EmulatorOptions {
        daily_api_limit: 2,
        ..Default::default()
    })
    .await;
    let mut cfg = config(&emu, password_flow());
    cfg.api_headroom_percent = 0;
    let client = SalesforceClient::new(cfg).unwrap();
    client.limits().await.unwrap();
    client.limits().await.unwrap();
    let err = client.limits().await.unwrap_err();
    assert!(matches!(err, Error::RequestLimitExceeded { .. }), "{err:?}");
    assert_eq!(err.api_usage(), Some(usage(2, 2)));
    assert!(err.to_string().contains("api-usage=2/2"), "{err}");
}
