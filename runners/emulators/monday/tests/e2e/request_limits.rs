//! The minute, concurrency and daily limits over HTTP, with the emulator's clock moved by
//! the test instead of waited for.

use std::time::Duration;

use crmmap_emu_monday::{EmulatorOptions, Limits, Plan, RunningEmulator};
use serde_json::{Value, json};

use crate::common::*;

fn read_query() -> String {
    json!({ "query": "query { boards(ids: [9378000505]) { id } }" }).to_string()
}

fn header<'h>(headers: &'h reqwest::header::HeaderMap, name: &str) -> &'h str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> u64 {
    header(headers, "Retry-After")
        .parse()
        .expect("Retry-After is whole seconds")
}

/// Asserts a limit refusal: HTTP 429, the code, `retry_in_seconds` equal to `Retry-After`.
fn assert_refused(
    (status, headers, body): &(u16, reqwest::header::HeaderMap, Value),
    code: &str,
) -> u64 {
    assert_eq!(*status, 429, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], code, "{body}");
    let retry = retry_after(headers);
    assert!(retry >= 1);
    assert_eq!(body["errors"][0]["extensions"]["retry_in_seconds"], retry);
    assert!(body["extensions"]["request_id"].is_string());
    retry
}

#[tokio::test]
async fn the_minute_limit_answers_429_until_the_minute_has_passed() {
    let emu = emulator(EmulatorOptions {
        limits: Limits {
            requests_per_minute: Some(3),
            ..Limits::NONE
        },
        ..options()
    })
    .await;
    for remaining in [2, 1, 0] {
        let (status, headers, _) = raw(&emu, Some(TOKEN), &read_query()).await;
        assert_eq!(status, 200);
        assert!(
            header(&headers, "RateLimit").contains(&format!("\"minuteRate\";r={remaining}")),
            "{headers:?}"
        );
        assert!(header(&headers, "RateLimit-Policy").contains("\"minuteRate\";q=3;w=60"));
    }
    let refused = raw(&emu, Some(TOKEN), &read_query()).await;
    let retry = assert_refused(&refused, "RATE_LIMIT_EXCEEDED");
    assert!(retry <= 60, "{retry}");
    assert_eq!(
        refused.2["errors"][0]["message"],
        "Minute limit rate exceeded"
    );
    assert!(
        header(&refused.1, "RateLimit").contains(&format!("\"minuteRate\";r=0;t={retry}")),
        "{:?}",
        refused.1
    );
    // Nothing ran.
    assert_eq!(emu.state().counters().executed, 3);
    assert_eq!(emu.state().counters().minute_limited, 1);

    emu.state().advance_clock(Duration::from_secs(retry));
    assert_eq!(raw(&emu, Some(TOKEN), &read_query()).await.0, 200);
    assert_eq!(emu.state().limit_usage().minute_requests, 1);
}

/// Waits (without a deadline on speed) until `n` requests are in flight.
async fn until_in_flight(emu: &RunningEmulator, n: u32) {
    for _ in 0..2_000 {
        if emu.state().limit_usage().in_flight >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{n} requests never got in flight");
}

#[tokio::test]
async fn the_concurrency_limit_refuses_a_request_above_it_and_frees_its_slots() {
    let emu = emulator(EmulatorOptions {
        limits: Limits {
            concurrency: Some(2),
            ..Limits::NONE
        },
        ..options()
    })
    .await;
    let url = emu.base_url();
    emu.state().hold_requests();
    let held: Vec<_> = (0..2)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                reqwest::Client::new()
                    .post(url)
                    .header("Authorization", TOKEN)
                    .header("Content-Type", "application/json")
                    .body(read_query())
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            })
        })
        .collect();
    until_in_flight(&emu, 2).await;

    let refused = raw(&emu, Some(TOKEN), &read_query()).await;
    assert_refused(&refused, "maxConcurrencyExceeded");
    assert_eq!(
        refused.2["errors"][0]["message"],
        "Concurrency limit exceeded"
    );
    assert!(header(&refused.1, "RateLimit").contains("\"concurrency\";r=0;t="));
    assert!(
        header(&refused.1, "RateLimit-Policy")
            .contains("\"concurrency\";q=2;qu=\"concurrent-requests\"")
    );

    emu.state().release_requests();
    for request in held {
        assert_eq!(request.await.unwrap().unwrap(), 200);
    }
    assert_eq!(emu.state().limit_usage().in_flight, 0);
    assert_eq!(raw(&emu, Some(TOKEN), &read_query()).await.0, 200);
    assert_eq!(emu.state().counters().concurrency_limited, 1);
}

#[tokio::test]
async fn the_daily_limit_holds_until_midnight_utc() {
    let emu = emulator(EmulatorOptions {
        limits: Limits {
            daily_calls: Some(10),
            ..Limits::NONE
        },
        ..options()
    })
    .await;
    emu.state().set_daily_calls_used(9);
    assert_eq!(raw(&emu, Some(TOKEN), &read_query()).await.0, 200);

    let before = emu.state().now_utc();
    let refused = raw(&emu, Some(TOKEN), &read_query()).await;
    let after = emu.state().now_utc();
    let retry = assert_refused(&refused, "DAILY_LIMIT_EXCEEDED");
    let to_midnight = |t: time::OffsetDateTime| 86_400 - t.unix_timestamp().rem_euclid(86_400);
    let retry = i64::try_from(retry).unwrap();
    assert!(
        (to_midnight(after)..=to_midnight(before)).contains(&retry),
        "{retry}"
    );
    // A refused request counts a tenth of a call (reference §2.1).
    assert!((emu.state().limit_usage().daily_calls - 10.1).abs() < 1e-9);
    assert_eq!(emu.state().counters().daily_limited, 1);

    emu.state().start_next_day();
    assert_eq!(emu.state().now_utc().unix_timestamp().rem_euclid(86_400), 0);
    assert_eq!(raw(&emu, Some(TOKEN), &read_query()).await.0, 200);
    assert!((emu.state().limit_usage().daily_calls - 1.0).abs() < 1e-9);
}

#[tokio::test]
async fn limits_can_change_while_the_emulator_runs_and_plans_carry_the_documented_values() {
    assert_eq!(
        Limits::of_plan(Plan::Pro),
        Limits {
            requests_per_minute: Some(2_500),
            concurrency: Some(100),
            daily_calls: Some(10_000),
        }
    );
    let emu = emulator(options()).await;
    assert_eq!(emu.state().limits(), Limits::NONE);
    emu.state().set_daily_limit(Some(1));
    assert_eq!(raw(&emu, Some(TOKEN), &read_query()).await.0, 200);
    assert_refused(
        &raw(&emu, Some(TOKEN), &read_query()).await,
        "DAILY_LIMIT_EXCEEDED",
    );
    emu.state().set_daily_limit(None);
    emu.state().set_minute_limit(Some(1));
    assert_refused(
        &raw(&emu, Some(TOKEN), &read_query()).await,
        "RATE_LIMIT_EXCEEDED",
    );
    // Requests without the account's token are not the account's: 401, not counted.
    assert_eq!(raw(&emu, Some("wrong"), &read_query()).await.0, 401);
    emu.state().set_limits(Limits::NONE);
    assert_eq!(raw(&emu, Some(TOKEN), &read_query()).await.0, 200);
}

#[tokio::test]
async fn a_client_under_the_minute_limit_completes_its_writes() {
    let emu = emulator(EmulatorOptions {
        limits: Limits {
            requests_per_minute: Some(2),
            ..Limits::NONE
        },
        minute: Duration::from_secs(1),
        ..options()
    })
    .await;
    let client = client(&emu);
    for i in 0..5 {
        client
            .create_item(LEAD, &format!("Lead {i}"), Default::default(), false)
            .await
            .unwrap();
    }
    let counters = emu.state().counters();
    assert!(counters.minute_limited >= 1, "{counters:?}");
    assert_eq!(counters.root_fields["create_item"], 5);
    assert_eq!(emu.state().active_items(LEAD.get()).len(), 5);
}

#[tokio::test]
async fn budget_refusals_and_standalone_complexity_queries_count_a_tenth_of_a_call() {
    let emu = emulator(EmulatorOptions {
        complexity_budget_per_minute: 5_000,
        limits: Limits {
            daily_calls: Some(100),
            ..Limits::NONE
        },
        ..options()
    })
    .await;
    let complexity = json!({ "query": "query { complexity { before after } }" }).to_string();
    assert_eq!(raw(&emu, Some(TOKEN), &complexity).await.0, 200);
    let create = json!({ "query": "mutation { create_item(board_id: 9378000505, item_name: \"x\") { id } }" }).to_string();
    assert_eq!(raw(&emu, Some(TOKEN), &create).await.0, 429);
    assert_eq!(raw(&emu, Some(TOKEN), &read_query()).await.0, 200);
    // 0.1 + 0.1 + 1
    assert!((emu.state().limit_usage().daily_calls - 1.2).abs() < 1e-9);
}

#[tokio::test]
async fn an_abandoned_request_leaves_the_concurrency_count() {
    let emu = emulator(EmulatorOptions {
        limits: Limits {
            concurrency: Some(1),
            ..Limits::NONE
        },
        ..options()
    })
    .await;
    emu.state().hold_requests();
    let url = emu.base_url();
    let abandoned = tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .header("Authorization", TOKEN)
            .header("Content-Type", "application/json")
            .body(read_query())
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    until_in_flight(&emu, 1).await;
    abandoned.abort();
    let _ = abandoned.await;
    emu.state().release_requests();
    for _ in 0..2_000 {
        if emu.state().limit_usage().in_flight == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(emu.state().limit_usage().in_flight, 0);
    assert_eq!(raw(&emu, Some(TOKEN), &read_query()).await.0, 200);
}
