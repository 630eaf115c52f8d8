//! Complexity budget, pacing, and retries of 423/500.

use std::time::Duration;

use crmmap_emu_monday::{EmulatorOptions, Fault};
use crmmap_monday::{MondayClient, MondayError};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn budget_exhaustion_is_waited_out_and_never_surfaces() {
    let emu = emulator(EmulatorOptions {
        complexity_budget_per_minute: 25_000,
        minute: Duration::from_secs(2),
        ..options()
    })
    .await;
    // Another process spends most of the budget; this client cannot know and meets a 429.
    let query = json!({ "query": "mutation { create_item(board_id: 9378000505, item_name: \"other\") { id } }" }).to_string();
    for _ in 0..2 {
        assert_eq!(raw(&emu, Some(TOKEN), &query).await.0, 200);
    }
    let client = client(&emu);
    for i in 0..2 {
        client
            .create_item(LEAD, &format!("Lead {i}"), Default::default(), false)
            .await
            .unwrap();
    }
    let counters = emu.state().counters();
    assert!(counters.budget_exhausted >= 1, "{counters:?}");
    assert_eq!(counters.root_fields["create_item"], 4);
}

#[tokio::test]
async fn the_429_body_and_headers_follow_the_2025_07_shape() {
    let emu = emulator(EmulatorOptions {
        complexity_budget_per_minute: 5_000,
        minute: Duration::from_secs(30),
        ..options()
    })
    .await;
    let query = json!({ "query": "mutation { create_item(board_id: 9378000505, item_name: \"x\") { id } }" }).to_string();
    let (status, headers, body) = raw(&emu, Some(TOKEN), &query).await;
    assert_eq!(status, 429);
    let retry: u64 = headers["Retry-After"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry));
    assert_eq!(body["errors"][0]["message"], "Complexity budget exhausted");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "COMPLEXITY_BUDGET_EXHAUSTED"
    );
    assert_eq!(body["errors"][0]["extensions"]["retry_in_seconds"], retry);
}

#[tokio::test]
async fn pacing_keeps_a_run_under_the_budget() {
    let emu = emulator(EmulatorOptions {
        complexity_budget_per_minute: 30_000,
        minute: Duration::from_secs(1),
        ..options()
    })
    .await;
    let mut config = config(&emu);
    config.complexity_budget_per_minute = 30_000;
    let client = MondayClient::new(config).unwrap();
    for i in 0..7 {
        client
            .create_item(LEAD, &format!("Lead {i}"), Default::default(), false)
            .await
            .unwrap();
    }
    let counters = emu.state().counters();
    assert_eq!(counters.budget_exhausted, 0, "{counters:?}");
    assert_eq!(
        counters.complexity_spent, 70_000,
        "the run needed more than one window"
    );
}

#[tokio::test]
async fn locks_and_server_errors_are_retried() {
    let emu = emulator(options()).await;
    let client = client(&emu);
    for fault in [Fault::ServerError, Fault::Locked, Fault::ServerError] {
        emu.state().push_fault(fault);
    }
    let board = client.board(LEAD).await.unwrap();
    assert_eq!(board.id, LEAD);
    let counters = emu.state().counters();
    assert_eq!(
        (
            counters.injected_server_errors,
            counters.injected_locks,
            counters.requests
        ),
        (2, 1, 4)
    );
}

#[tokio::test]
async fn retries_give_up_after_max_attempts() {
    let emu = emulator(options()).await;
    let mut config = config(&emu);
    config.max_attempts = 3;
    let client = MondayClient::new(config).unwrap();
    for _ in 0..3 {
        emu.state().push_fault(Fault::Locked);
    }
    let err = client.board(LEAD).await.unwrap_err();
    assert_eq!(
        err,
        MondayError::Unavailable {
            status: 423,
            attempts: 3
        }
    );
}

#[tokio::test]
async fn error_rate_injects_deterministic_failures_that_the_client_absorbs() {
    let emu = emulator(EmulatorOptions {
        error_rate: 0.5,
        ..options()
    })
    .await;
    let client = client(&emu);
    for _ in 0..3 {
        client.board(ACCOUNT).await.unwrap();
    }
    let counters = emu.state().counters();
    assert_eq!(counters.requests, 5, "requests 2 and 4 fail");
    assert_eq!(
        (counters.injected_server_errors, counters.injected_locks),
        (1, 1)
    );
}

#[tokio::test]
async fn the_token_never_shows_in_debug_output() {
    let emu = emulator(options()).await;
    let client = client(&emu);
    let rendered = format!("{client:?} {:?}", emu.state().options());
    assert!(!rendered.contains(TOKEN), "{rendered}");
    let wrong = MondayClient::new(crmmap_monday::MondayConfig {
        token: crmmap_monday::Secret::new("nope-secret"),
        ..config(&emu)
    })
    .unwrap();
    let err = wrong.board(LEAD).await.unwrap_err();
    assert_eq!(err, MondayError::Unauthorized { status: 401 });
    assert!(!err.to_string().contains("nope-secret"));
}

#[tokio::test]
async fn slow_responses_hit_the_client_timeout() {
    let emu = emulator(EmulatorOptions {
        latency: Duration::from_millis(500),
        ..options()
    })
    .await;
    let mut config = config(&emu);
    config.timeout = Duration::from_millis(50);
    config.max_attempts = 2;
    let client = MondayClient::new(config).unwrap();
    let err = client.board(LEAD).await.unwrap_err();
    assert!(matches!(err, MondayError::Transport(_)), "{err:?}");
}

#[tokio::test]
async fn batches_fit_the_budget_the_server_announces() {
    let emu = emulator(EmulatorOptions {
        complexity_budget_per_minute: 30_000,
        minute: Duration::from_secs(1),
        ..options()
    })
    .await;
    // Configured for the default 10M; the RateLimit-Policy header corrects it.
    let client = client(&emu);
    client.board(LEAD).await.unwrap();
    assert_eq!(client.budget().limit(), 30_000);
    let mutations: Vec<_> = (0..5)
        .map(|i| crmmap_monday::ItemMutation::CreateItem {
            board_id: LEAD,
            item_name: format!("Lead {i}"),
            column_values: Default::default(),
            group_id: None,
            create_labels_if_missing: false,
        })
        .collect();
    let results = client.execute(&mutations).await.unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let counters = emu.state().counters();
    assert_eq!(counters.budget_exhausted, 0, "{counters:?}");
    assert_eq!(
        counters.executed,
        1 + 2,
        "two batches of at most three creates, after the board read"
    );
}

#[tokio::test]
async fn fault_knobs_can_change_while_running() {
    let emu = emulator(options()).await;
    let query = json!({ "query": "query { complexity { before } }" }).to_string();
    emu.state().set_error_rate(1.0);
    let (first, first_headers, _) = raw(&emu, Some(TOKEN), &query).await;
    let (second, _, _) = raw(&emu, Some(TOKEN), &query).await;
    assert_eq!((first, second), (500, 423));
    assert!(first_headers.contains_key("Retry-After"));
    emu.state().set_error_rate(0.0);
    assert_eq!(raw(&emu, Some(TOKEN), &query).await.0, 200);
}
