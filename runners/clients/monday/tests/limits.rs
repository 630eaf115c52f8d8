//! The client against monday's documented limit and not-found answers, over real HTTP from a
//! small local server that answers what each test scripts (`monday-api.md` §1.5, §2.1–§2.4;
//! `realtime-and-limits.md` §4). The emulator-backed runs are in the migrator's tests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use crmmap_monday::{
    BoardId, ColumnId, ItemId, ItemMutation, MondayClient, MondayConfig, MondayError,
};
use serde_json::{Map, Value, json};
use tokio::sync::Notify;

/// One scripted answer: status, headers, body.
type Answer = (StatusCode, Vec<(&'static str, String)>, Value);

/// What the stub answers to the `n`-th request (from 0) with this body.
type Script = Arc<dyn Fn(usize, &Value) -> Answer + Send + Sync>;

#[derive(Clone)]
struct Stub {
    script: Script,
    requests: Arc<AtomicUsize>,
    /// Requests being answered now, and the most seen at once.
    in_flight: Arc<Mutex<(usize, usize)>>,
    /// When set, requests are held until this many are in flight together once (or a while
    /// has passed); after that none is held.
    hold_until: Option<usize>,
    gate_open: Arc<std::sync::atomic::AtomicBool>,
    arrived: Arc<Notify>,
}

async fn answer(State(stub): State<Stub>, body: axum::body::Bytes) -> Response {
    let n = stub.requests.fetch_add(1, Ordering::SeqCst);
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    {
        let mut f = stub.in_flight.lock().unwrap();
        f.0 += 1;
        f.1 = f.1.max(f.0);
    }
    stub.arrived.notify_waiters();
    if let Some(wanted) = stub.hold_until {
        // Held until `wanted` requests are in flight together; a bound keeps a client that
        // never sends that many from hanging the test.
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                let notified = stub.arrived.notified();
                if stub.in_flight.lock().unwrap().0 >= wanted {
                    stub.gate_open.store(true, Ordering::SeqCst);
                    stub.arrived.notify_waiters();
                }
                if stub.gate_open.load(Ordering::SeqCst) {
                    return;
                }
                notified.await;
            }
        })
        .await;
    }
    let (status, headers, json) = (stub.script)(n, &body);
    stub.in_flight.lock().unwrap().0 -= 1;
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.insert(k, HeaderValue::from_str(&v).unwrap());
    }
    (status, map, axum::Json(json)).into_response()
}

struct Running {
    url: url::Url,
    stub: Stub,
}

async fn serve(script: Script, hold_until: Option<usize>) -> Running {
    let stub = Stub {
        script,
        requests: Arc::new(AtomicUsize::new(0)),
        in_flight: Arc::new(Mutex::new((0, 0))),
        hold_until,
        gate_open: Arc::default(),
        arrived: Arc::new(Notify::new()),
    };
    let app = Router::new()
        .route("/v2", post(answer))
        .with_state(stub.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Running {
        url: url::Url::parse(&format!("http://{addr}/v2")).unwrap(),
        stub,
    }
}

impl Running {
    fn client(&self, max_wait: Duration) -> MondayClient {
        let mut config = MondayConfig::new("token").with_api_url(self.url.clone());
        config.max_wait = max_wait;
        config.retry_base_delay = Duration::from_millis(10);
        MondayClient::new(config).unwrap()
    }

    fn requests(&self) -> usize {
        self.stub.requests.load(Ordering::SeqCst)
    }
}

fn ok_boards(ids: &[&str]) -> Answer {
    let boards: Vec<Value> = ids.iter().map(|id| json!({"id": id})).collect();
    (StatusCode::OK, vec![], json!({"data": {"boards": boards}}))
}

fn limited(
    code: &str,
    message: &str,
    retry_in: u64,
    headers: Vec<(&'static str, String)>,
) -> Answer {
    (
        StatusCode::TOO_MANY_REQUESTS,
        headers,
        json!({"errors": [{"message": message,
            "extensions": {"code": code, "retry_in_seconds": retry_in}}]}),
    )
}

#[tokio::test]
async fn a_rate_limit_past_the_cap_fails_at_once_as_an_outage_without_sleeping() {
    let stub = serve(
        Arc::new(|_, _| {
            limited(
                "COMPLEXITY_BUDGET_EXHAUSTED",
                "Complexity budget exhausted",
                120,
                vec![("Retry-After", "120".into())],
            )
        }),
        None,
    )
    .await;
    let client = stub.client(Duration::from_secs(60));
    // A guard against a hang only: a client that slept 120 s would also send a second request.
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        client.board_exists(BoardId::new(1)),
    )
    .await
    .expect("the call returns without waiting two minutes");
    match result {
        Err(MondayError::RateLimited {
            retry_in, message, ..
        }) => {
            assert_eq!(retry_in, Some(Duration::from_secs(120)));
            assert!(message.contains("COMPLEXITY_BUDGET_EXHAUSTED"), "{message}");
        }
        other => panic!("expected a rate limit error, got {other:?}"),
    }
    assert_eq!(stub.requests(), 1, "not sent again");
}

#[tokio::test]
async fn the_longest_announced_wait_counts_the_rate_limit_headers_t_included() {
    // Retry-After and retry_in_seconds are short, the RateLimit header's `t` is not.
    let stub = serve(
        Arc::new(|_, _| {
            limited(
                "RATE_LIMIT_EXCEEDED",
                "Minute limit rate exceeded",
                1,
                vec![
                    ("Retry-After", "1".into()),
                    (
                        "RateLimit",
                        "\"minuteRate\";r=0;t=90, \"concurrency\";r=39".into(),
                    ),
                ],
            )
        }),
        None,
    )
    .await;
    let client = stub.client(Duration::from_secs(60));
    let err = client.board_exists(BoardId::new(1)).await.unwrap_err();
    assert!(
        matches!(err, MondayError::RateLimited { retry_in: Some(d), .. } if d == Duration::from_secs(90)),
        "{err:?}"
    );
    assert_eq!(stub.requests(), 1);
}

#[tokio::test]
async fn a_rate_limit_within_the_cap_is_waited_out() {
    let stub = serve(
        Arc::new(|n, _| match n {
            0 => limited(
                "maxConcurrencyExceeded",
                "Concurrency limit exceeded",
                1,
                vec![("Retry-After", "1".into())],
            ),
            // An unknown code on a 429: still a rate limit.
            1 => (
                StatusCode::TOO_MANY_REQUESTS,
                vec![("Retry-After", "1".into())],
                json!({"errors": [{"message": "Slow down", "extensions": {"code": "SOMETHING_NEW"}}]}),
            ),
            _ => ok_boards(&["1"]),
        }),
        None,
    )
    .await;
    let client = stub.client(Duration::from_secs(60));
    assert!(client.board_exists(BoardId::new(1)).await.unwrap());
    assert_eq!(stub.requests(), 3);
}

#[tokio::test]
async fn waits_add_up_per_call_against_the_cap() {
    // Each answer asks for 1 s; a call may wait 2 s in all: two waits, then the call fails.
    let stub = serve(
        Arc::new(|_, _| limited("RATE_LIMIT_EXCEEDED", "Rate Limit Exceeded", 1, vec![])),
        None,
    )
    .await;
    let client = stub.client(Duration::from_millis(2_500));
    let err = client.board_exists(BoardId::new(1)).await.unwrap_err();
    match err {
        MondayError::RateLimited { waited, .. } => assert!(waited >= Duration::from_secs(2)),
        other => panic!("{other:?}"),
    }
    assert_eq!(stub.requests(), 3);
}

#[tokio::test]
async fn the_daily_limit_is_never_waited_for() {
    let stub = serve(
        Arc::new(|_, _| {
            limited(
                "DAILY_LIMIT_EXCEEDED",
                "Daily limit exceeded",
                5,
                vec![("Retry-After", "5".into())],
            )
        }),
        None,
    )
    .await;
    let client = stub.client(Duration::from_secs(60));
    let err = client.board_exists(BoardId::new(1)).await.unwrap_err();
    match &err {
        MondayError::DailyLimit { message, .. } => {
            assert!(message.contains("DAILY_LIMIT_EXCEEDED"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("resets at"), "{err}");
    assert_eq!(stub.requests(), 1);
}

#[tokio::test]
async fn no_more_requests_are_in_flight_than_max_concurrency() {
    let stub = serve(Arc::new(|_, _| ok_boards(&["1"])), Some(3)).await;
    let mut config = MondayConfig::new("token").with_api_url(stub.url.clone());
    config.max_concurrency = 3;
    let client = Arc::new(MondayClient::new(config).unwrap());
    let calls: Vec<_> = (0..12)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.board_exists(BoardId::new(1)).await })
        })
        .collect();
    for call in calls {
        assert!(call.await.unwrap().unwrap());
    }
    assert_eq!(stub.requests(), 12);
    // The stub holds each request until three are in flight: the client sent three at once,
    // never more.
    assert_eq!(stub.stub.in_flight.lock().unwrap().1, 3);
}

fn change(board: u64, item: u64) -> ItemMutation {
    ItemMutation::ChangeColumnValues {
        board_id: BoardId::new(board),
        item_id: ItemId::new(item),
        column_values: Map::new(),
        create_labels_if_missing: false,
    }
}

/// A mutation batch answered with `ResourceNotFoundException` for its one alias, saying no
/// more than "not found"; then `boards` answers `boards`.
fn not_found_then(boards: &'static [&'static str]) -> Script {
    Arc::new(move |_, body| {
        let query = body["query"].as_str().unwrap_or_default();
        if query.contains("BoardExists") {
            return ok_boards(boards);
        }
        (
            StatusCode::OK,
            vec![],
            json!({"data": {"m0": null}, "errors": [{"message": "Resource not found",
                "path": ["m0"],
                "extensions": {"code": "ResourceNotFoundException", "status_code": 404}}]}),
        )
    })
}

#[tokio::test]
async fn a_not_found_answer_on_a_missing_board_is_a_missing_board_not_a_missing_item() {
    let stub = serve(not_found_then(&[]), None).await;
    let client = stub.client(Duration::from_secs(60));
    let results = client.execute(&[change(77, 5)]).await.unwrap();
    match &results[0] {
        Err(MondayError::InvalidBoardId { board_id, .. }) => {
            assert_eq!(*board_id, Some(BoardId::new(77)))
        }
        other => panic!("{other:?}"),
    }
    // The batch, then one board lookup.
    assert_eq!(stub.requests(), 2);
}

#[tokio::test]
async fn a_not_found_answer_on_an_existing_board_is_the_item_gone() {
    let stub = serve(not_found_then(&["77"]), None).await;
    let client = stub.client(Duration::from_secs(60));
    let results = client
        .execute(&[change(77, 5), change(77, 6)])
        .await
        .unwrap();
    assert!(
        matches!(results[0], Err(MondayError::ItemGone { .. })),
        "{results:?}"
    );
    // The board is looked up once per batch.
    assert_eq!(stub.requests(), 2);
}

#[tokio::test]
async fn a_batch_that_ran_in_part_before_a_limit_is_not_sent_again() {
    // Alias m0 was applied, m1 met the limit (HTTP 200, partial data): resending would create
    // m0's item twice.
    let stub = serve(
        Arc::new(|_, _| {
            (
                StatusCode::OK,
                vec![],
                json!({"data": {"m0": {"id": "11", "name": "a"}, "m1": null},
                    "errors": [{"message": "Rate Limit Exceeded", "path": ["m1"],
                        "extensions": {"code": "RATE_LIMIT_EXCEEDED", "retry_in_seconds": 1}}]}),
            )
        }),
        None,
    )
    .await;
    let client = stub.client(Duration::from_secs(60));
    let create = |name: &str| ItemMutation::CreateItem {
        board_id: BoardId::new(77),
        item_name: name.into(),
        column_values: Map::new(),
        group_id: None,
        create_labels_if_missing: false,
    };
    let results = client.execute(&[create("a"), create("b")]).await.unwrap();
    assert_eq!(results[0].as_ref().unwrap().item_id, ItemId::new(11));
    assert!(
        matches!(results[1], Err(MondayError::RateLimited { .. })),
        "{results:?}"
    );
    assert_eq!(stub.requests(), 1);
}

#[tokio::test]
async fn the_daily_limit_answered_with_http_200_is_the_daily_limit_too() {
    // The daily limit's HTTP status is UNCONFIRMED (realtime-and-limits.md §4): an
    // application error in a 200 answer is read the same way.
    let stub = serve(
        Arc::new(|_, _| {
            (
                StatusCode::OK,
                vec![],
                json!({"data": null, "errors": [{"message": "Daily limit exceeded",
                    "extensions": {"code": "DAILY_LIMIT_EXCEEDED", "status_code": 429}}]}),
            )
        }),
        None,
    )
    .await;
    let client = stub.client(Duration::from_secs(60));
    let err = client.board_exists(BoardId::new(1)).await.unwrap_err();
    assert!(matches!(err, MondayError::DailyLimit { .. }), "{err:?}");
    assert_eq!(stub.requests(), 1);
}

#[tokio::test]
async fn a_read_on_a_missing_board_answered_not_found_is_a_missing_board() {
    let stub = serve(
        Arc::new(|_, body| {
            let query = body["query"].as_str().unwrap_or_default();
            if query.contains("BoardExists") {
                return ok_boards(&[]);
            }
            (
                StatusCode::OK,
                vec![],
                json!({"data": {"items_page_by_column_values": null},
                    "errors": [{"message": "Resource not found",
                        "path": ["items_page_by_column_values"],
                        "extensions": {"code": "ResourceNotFoundException"}}]}),
            )
        }),
        None,
    )
    .await;
    let client = stub.client(Duration::from_secs(60));
    let err = client
        .items_by_column_values(
            BoardId::new(77),
            &ColumnId::new("text_sfid"),
            &["00Q1".into()],
            &Default::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MondayError::InvalidBoardId { board_id: Some(b), .. } if *b == BoardId::new(77)),
        "{err:?}"
    );
    assert_eq!(stub.requests(), 2, "the read, then the board lookup");
}
