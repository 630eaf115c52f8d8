//! The built `bootstrap` binary against a local implementation of the Lambda Runtime API
//! (`AWS_LAMBDA_RUNTIME_API`): API Gateway REST (v1) and HTTP API (v2) events and Function URL
//! events carrying monday payloads, and the EventBridge schedule (incremental migration and
//! retry drain), with both emulators behind.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use crmmap_testkit::Emulators;
use serde_json::{Value, json};
use tokio::sync::Notify;

const TOKEN: &str = "lambda-path-token-0123456789";
const LEAD: u64 = 9_378_000_505;

/// A minimal Runtime API: `next` hands out queued events (waiting while there are none);
/// `response` and `error` record what the function answered.
#[derive(Default)]
struct Runtime {
    queue: Mutex<VecDeque<(String, Value)>>,
    queued: Notify,
    answers: Mutex<Vec<(String, &'static str, Value)>>,
    answered: Notify,
}

async fn next(State(rt): State<Arc<Runtime>>) -> impl IntoResponse {
    loop {
        let notified = rt.queued.notified();
        if let Some((id, event)) = rt.queue.lock().unwrap().pop_front() {
            let mut headers = HeaderMap::new();
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 300_000;
            headers.insert(
                "Lambda-Runtime-Aws-Request-Id",
                HeaderValue::from_str(&id).unwrap(),
            );
            headers.insert(
                "Lambda-Runtime-Deadline-Ms",
                HeaderValue::from_str(&deadline.to_string()).unwrap(),
            );
            headers.insert(
                "Lambda-Runtime-Invoked-Function-Arn",
                HeaderValue::from_static(
                    "arn:aws:lambda:eu-west-1:123456789012:function:crmmap-webhook",
                ),
            );
            headers.insert(
                "Lambda-Runtime-Trace-Id",
                HeaderValue::from_static("Root=1-67a3b7f1-2c5e4f0b6d1a3e9f8c7b6a5d"),
            );
            return (StatusCode::OK, headers, event.to_string());
        }
        notified.await;
    }
}

async fn record(rt: &Runtime, id: String, kind: &'static str, body: String) -> StatusCode {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    rt.answers.lock().unwrap().push((id, kind, value));
    rt.answered.notify_waiters();
    StatusCode::ACCEPTED
}

async fn response(
    State(rt): State<Arc<Runtime>>,
    UrlPath(id): UrlPath<String>,
    body: String,
) -> StatusCode {
    record(&rt, id, "response", body).await
}

async fn error(
    State(rt): State<Arc<Runtime>>,
    UrlPath(id): UrlPath<String>,
    body: String,
) -> StatusCode {
    record(&rt, id, "error", body).await
}

async fn init_error(State(rt): State<Arc<Runtime>>, body: String) -> StatusCode {
    record(&rt, "init".into(), "init_error", body).await
}

impl Runtime {
    async fn start() -> (Arc<Runtime>, String) {
        let rt = Arc::new(Runtime::default());
        let app = axum::Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(rt.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (rt, addr)
    }

    /// Queues an event and waits for the function's answer.
    async fn invoke(&self, event: Value) -> (&'static str, Value) {
        let id = format!(
            "req-{}",
            self.queue.lock().unwrap().len() + self.answers.lock().unwrap().len() + 1
        );
        let id = format!("{id}-{}", std::process::id());
        self.queue.lock().unwrap().push_back((id.clone(), event));
        self.queued.notify_waiters();
        for _ in 0..6_000 {
            let notified = self.answered.notified();
            if let Some((_, kind, v)) = self
                .answers
                .lock()
                .unwrap()
                .iter()
                .find(|(i, _, _)| *i == id || i == "init")
            {
                return (kind, v.clone());
            }
            let _ = tokio::time::timeout(Duration::from_millis(10), notified).await;
        }
        panic!("the function never answered {id}");
    }
}

fn fixture(name: &str, body: &Value, base64: bool) -> Value {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap();
    let body = body.to_string();
    let body = if base64 { b64(body.as_bytes()) } else { body };
    // The body goes into a JSON string: escape it as JSON does.
    let escaped = serde_json::to_string(&body).unwrap();
    let escaped = &escaped[1..escaped.len() - 1];
    let text = text
        .replace("{{TOKEN}}", TOKEN)
        .replace("{{BODY}}", escaped)
        .replace("{{BASE64}}", if base64 { "true" } else { "false" });
    serde_json::from_str(&text).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn monday_event(kind: &str, item: u64, uuid: &str, extra: Value) -> Value {
    let mut e = json!({
        "app": "monday", "type": kind, "triggerTime": "2025-02-05T16:28:02.630Z", "subscriptionId": 466701503,
        "isRetry": false, "userId": 67214742, "originalTriggerUuid": null, "boardId": LEAD, "pulseId": item,
        "triggerUuid": uuid,
    });
    e.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    json!({ "event": e })
}

struct Function {
    child: tokio::process::Child,
}

struct World {
    sf: crmmap_emu_salesforce::RunningEmulator,
    monday: crmmap_emu_monday::RunningEmulator,
    dir: tempfile::TempDir,
    store_url: String,
}

impl World {
    async fn start() -> World {
        let emulators = Emulators::start().await;
        let dir = tempfile::tempdir().unwrap();
        let (_, store_url) = emulators.write_config(dir.path());
        let Emulators {
            salesforce: sf,
            monday,
        } = emulators;
        World {
            sf,
            monday,
            dir,
            store_url,
        }
    }

    fn function(&self, runtime: &str, mode: &str) -> Function {
        let creds = crmmap_emu_salesforce::Credentials::default();
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_bootstrap"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", runtime)
            .env("AWS_LAMBDA_FUNCTION_NAME", "crmmap-webhook")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/crmmap-webhook")
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2025/02/05/[$LATEST]0123456789abcdef",
            )
            .env("LAMBDA_TASK_ROOT", self.dir.path())
            .env("CRMMAP_LAMBDA_MODE", mode)
            .env("SF_CLIENT_ID", creds.client_id)
            .env("SF_CLIENT_SECRET", creds.client_secret)
            .env("MONDAY_TOKEN", "emulator-token")
            .env("CRMMAP_WEBHOOK_TOKEN", TOKEN)
            .env("RUST_LOG", "warn")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        Function { child }
    }
}

fn body_of(answer: &Value) -> Value {
    let body = answer["body"].as_str().unwrap_or_default();
    let body = if answer["isBase64Encoded"] == json!(true) {
        String::from_utf8(unb64(body)).unwrap()
    } else {
        body.to_owned()
    };
    serde_json::from_str(&body).unwrap_or(Value::String(body))
}

fn unb64(s: &str) -> Vec<u8> {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = T.iter().position(|t| *t == c).unwrap() as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn api_gateway_and_function_url_events_reach_the_router() {
    let world = World::start().await;
    let (rt, addr) = Runtime::start().await;
    let mut function = world.function(&addr, "http");

    // The handshake through a REST API (payload 1.0).
    let (kind, answer) = rt
        .invoke(fixture(
            "apigw-v1-rest.json",
            &json!({"challenge": "3eZbrw1aBm2rZgRNFdxV"}),
            false,
        ))
        .await;
    assert_eq!(kind, "response", "{answer}");
    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert_eq!(
        body_of(&answer),
        json!({"challenge": "3eZbrw1aBm2rZgRNFdxV"})
    );

    // A new item through an HTTP API (payload 2.0, base64 body).
    let item = world
        .monday
        .state()
        .seed_item(LEAD, "lambda org", &serde_json::Map::new())
        .unwrap();
    let leads = world.sf.state().records("Lead").len();
    let create = monday_event(
        "create_pulse",
        item,
        "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",
        json!({"pulseName": "lambda org"}),
    );
    let (_, answer) = rt
        .invoke(fixture("apigw-v2-http.json", &create, true))
        .await;
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let out = body_of(&answer);
    assert_eq!(out["outcome"], "created", "{out}");
    let records = world.sf.state().records("Lead");
    assert_eq!(records.len(), leads + 1);
    let record = out["record"].as_str().unwrap().to_owned();
    assert_eq!(
        world.sf.state().record(&record).unwrap()["Company"],
        "Lambda org"
    );

    // The same delivery again: nothing changes.
    let (_, answer) = rt
        .invoke(fixture("apigw-v2-http.json", &create, false))
        .await;
    assert_eq!(body_of(&answer)["outcome"], "duplicate", "{answer}");
    assert_eq!(world.sf.state().records("Lead").len(), leads + 1);

    // A column change through a Function URL.
    world.monday.state().with_account(|a| {
        let it = a.items.get_mut(&item).unwrap();
        it.values.insert("text_mkry13cw".into(), json!("Ada"));
    });
    let change = monday_event(
        "update_column_value",
        item,
        "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2",
        json!({"columnId": "text_mkry13cw", "columnType": "text", "value": {"value": "Ada"}, "previousValue": null}),
    );
    let (_, answer) = rt
        .invoke(fixture("function-url.json", &change, false))
        .await;
    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert_eq!(body_of(&answer)["outcome"], "updated", "{answer}");
    assert_eq!(
        world.sf.state().record(&record).unwrap()["FirstName"],
        "Ada"
    );

    // A forged path token, and a body that is not JSON.
    let mut forged = fixture("apigw-v1-rest.json", &create, false);
    forged["path"] = json!("/webhooks/monday/not-the-token-0123456789");
    let (_, answer) = rt.invoke(forged).await;
    assert_eq!(answer["statusCode"], 401, "{answer}");
    let mut broken = fixture("apigw-v2-http.json", &json!({}), false);
    broken["body"] = json!("{\"event\": ");
    let (_, answer) = rt.invoke(broken).await;
    assert_eq!(answer["statusCode"], 400, "{answer}");
    assert!(
        body_of(&answer)["error"]
            .as_str()
            .unwrap()
            .starts_with("the body is not json")
    );

    // A Salesforce change event from the EventBridge rule (realtime-and-limits.md §2b): no
    // HTTP, the same handler as POST /events/salesforce.
    let lead = world
        .sf
        .state()
        .insert_record(
            "Lead",
            json!({"LastName": "Relay", "Company": "Relay Org", "Role__c": "Partner"}),
        )
        .unwrap();
    let change_event = json!({
        "version": "0", "id": "5c42b99e-c214-4a9c-8fbd-1a41e5faa44a",
        "detail-type": "LeadChangeEvent",
        "source": "aws.partner/salesforce.com/00D5f000005KcCnEAK/0YL5f000000CabWGAS",
        "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "eu-west-1",
        "resources": [],
        "detail": {"payload": {
            "ChangeEventHeader": {"entityName": "Lead", "recordIds": [lead], "changeType": "CREATE",
                "changeOrigin": "", "transactionKey": "0001ade9-lambda", "sequenceNumber": 1,
                "commitTimestamp": 1_780_000_000_000_i64, "commitUser": "005000000000009AAA",
                "nulledFields": [], "diffFields": [], "changedFields": []},
            "LastName": "Relay", "Company": "Relay Org"
        }}
    });
    let (kind, answer) = rt.invoke(change_event.clone()).await;
    assert_eq!(kind, "response", "{answer}");
    assert_eq!(answer["records"][0]["outcome"], "created", "{answer}");
    assert!(
        world
            .monday
            .state()
            .active_items(LEAD)
            .iter()
            .any(|i| i.name == "Relay Org"),
        "the new Lead has its item"
    );
    let (_, answer) = rt.invoke(change_event).await;
    assert_eq!(answer["records"][0]["outcome"], "duplicate", "{answer}");

    // Still alive after all of it.
    assert!(
        function.child.try_wait().unwrap().is_none(),
        "the function exited"
    );
    function.child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_schedule_drains_the_retry_queue_then_migrates() {
    let world = World::start().await;
    // A linked item with a change that failed earlier and waits in the queue.
    let record = world
        .sf
        .state()
        .insert_record(
            "Lead",
            json!({"LastName": "Queued", "Company": "Queue Org", "Status": "Open", "Role__c": "Partner"}),
        )
        .unwrap();
    let mut values = serde_json::Map::new();
    values.insert("text_mkryhch5".into(), json!(record));
    values.insert("text_mkry13cw".into(), json!("Later"));
    let item = world
        .monday
        .state()
        .seed_item(LEAD, "Queue Org", &values)
        .unwrap();
    let store = crmmap_store::Store::connect(&world.store_url)
        .await
        .unwrap();
    let change = monday_event(
        "update_column_value",
        item,
        "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3",
        json!({"columnId": "text_mkry13cw", "value": {"value": "Later"}, "previousValue": null}),
    );
    let now = time_now();
    store
        .enqueue_retry(
            crmmap_webhook::RETRY_KIND,
            "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3",
            &json!({"event": change["event"], "check_dedup": false}),
            "salesforce: unavailable",
            now,
            now,
        )
        .await
        .unwrap();
    // Past the default retention (7 days of events, 90 of log): pruned by the run.
    let long_ago = now - time::Duration::days(100);
    store
        .begin_event("an-old-delivery", long_ago)
        .await
        .unwrap();
    store
        .finish_event(
            "an-old-delivery",
            crmmap_store::EventOutcome::Applied,
            None,
            long_ago,
        )
        .await
        .unwrap();
    store
        .append_log(&crmmap_store::LogEntry::new(
            long_ago,
            crmmap_store::RunnerKind::Webhook,
            crmmap_store::Action::Updated,
        ))
        .await
        .unwrap();
    store.close().await;

    let (rt, addr) = Runtime::start().await;
    let mut function = world.function(&addr, "schedule");
    let schedule: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eventbridge-schedule.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let (kind, answer) = rt.invoke(schedule.clone()).await;
    assert_eq!(kind, "response", "{answer}");
    // The queued monday edit was drained first, then the incremental migrator ran: the sample
    // records reached monday.
    assert_eq!(
        (&answer["retries"]["tried"], &answer["retries"]["applied"]),
        (&json!(1), &json!(1)),
        "{answer}"
    );
    assert!(
        answer["migrate"]["created"].as_u64().unwrap_or(0) > 0,
        "{answer}"
    );
    assert_eq!(answer["migrate"]["failed"], 0, "{answer}");
    assert_eq!(answer["pruned"], json!({"events": 1, "log": 1}), "{answer}");
    assert_eq!(
        world.sf.state().record(&record).unwrap()["FirstName"],
        "Later"
    );
    // Nothing left the second time.
    let (_, answer) = rt.invoke(schedule).await;
    assert_eq!(answer["retries"]["tried"], 0, "{answer}");
    assert_eq!(answer["migrate"]["created"], 0, "{answer}");
    function.child.kill().await.unwrap();
}

fn time_now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}
