//! Outgoing webhooks: shapes, challenge, retries, signing.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use crmmap_emu_monday::{Delivery, EmulatorOptions};
use crmmap_monday::Secret;
use serde_json::{Value, json};

use crate::common::*;

/// A webhook receiver: answers challenges, records events, and replies with queued statuses
/// (then 200).
#[derive(Clone, Default)]
struct Receiver {
    events: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
    statuses: Arc<Mutex<VecDeque<u16>>>,
    echo_challenge: bool,
}

async fn receive(
    State(receiver): State<Receiver>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if body.get("challenge").is_some() {
        let reply = if receiver.echo_challenge {
            body
        } else {
            json!({ "challenge": "something else" })
        };
        return (StatusCode::OK, Json(reply));
    }
    receiver.events.lock().unwrap().push((headers, body));
    let status = receiver.statuses.lock().unwrap().pop_front().unwrap_or(200);
    (StatusCode::from_u16(status).unwrap(), Json(json!({})))
}

async fn start_receiver(echo_challenge: bool) -> (String, Receiver) {
    let receiver = Receiver {
        echo_challenge,
        ..Receiver::default()
    };
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), receiver)
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Same keys, same JSON types, recursively through objects.
fn assert_same_shape(expected: &Value, actual: &Value, path: &str) {
    assert_eq!(
        kind(expected),
        kind(actual),
        "type at {path}: expected {expected}, got {actual}"
    );
    if let (Value::Object(e), Value::Object(a)) = (expected, actual) {
        let ek: Vec<_> = e.keys().collect();
        let ak: Vec<_> = a.keys().collect();
        let mut ek_sorted = ek.clone();
        ek_sorted.sort();
        let mut ak_sorted = ak.clone();
        ak_sorted.sort();
        assert_eq!(ek_sorted, ak_sorted, "keys at {path}");
        for (k, ev) in e {
            assert_same_shape(ev, &a[k], &format!("{path}.{k}"));
        }
    }
}

async fn wait(emu: &crmmap_emu_monday::RunningEmulator, n: usize) -> Vec<Delivery> {
    emu.state()
        .webhooks()
        .wait_for(Duration::from_secs(10), |d| {
            d.iter().filter(|d| d.acknowledged()).count() >= n
        })
        .await
}

#[tokio::test]
async fn emitted_payloads_have_the_keys_and_types_of_real_deliveries() {
    let (url, receiver) = start_receiver(true).await;
    let emu = emulator(EmulatorOptions {
        webhook_targets: vec![url],
        ..options()
    })
    .await;
    let client = client(&emu);
    let item = client
        .create_item(LEAD, "New item 1", Default::default(), false)
        .await
        .unwrap();
    client
        .change_column_values(
            LEAD,
            item.item_id,
            values(&[("color_mksj2adq", json!({ "label": "Contacted" }))]),
            false,
        )
        .await
        .unwrap();
    let deliveries = wait(&emu, 2).await;
    assert_eq!(deliveries.len(), 2, "{deliveries:?}");
    let events = receiver.events.lock().unwrap().clone();
    let create = &events
        .iter()
        .find(|(_, b)| b["event"]["type"] == "create_pulse")
        .unwrap()
        .1;
    assert_same_shape(&fixture("webhook-create_pulse.json"), create, "");
    assert_eq!(create["event"]["pulseId"], json!(item.item_id.get()));
    // The status capture has `previousValue: null`: the column was empty before, as here.
    let update = &events
        .iter()
        .find(|(_, b)| b["event"]["type"] == "update_column_value")
        .unwrap()
        .1;
    assert_same_shape(
        &fixture("webhook-update_column_value-status.json"),
        update,
        "",
    );
    assert_eq!(update["event"]["columnType"], "color");
    assert_eq!(update["event"]["value"]["label"]["text"], "Contacted");
    let uuid = update["event"]["triggerUuid"].as_str().unwrap();
    assert!(uuid.len() == 32 && uuid.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(update["event"]["userId"], 67_214_742);
}

#[tokio::test]
async fn rename_archive_and_delete_emit_their_events() {
    let (url, receiver) = start_receiver(true).await;
    let emu = emulator(EmulatorOptions {
        webhook_targets: vec![url],
        ..options()
    })
    .await;
    let client = client(&emu);
    let item = client
        .create_item(CONTACT, "Old", Default::default(), false)
        .await
        .unwrap();
    client
        .execute(&[crmmap_monday::documents::rename_item(
            CONTACT,
            item.item_id,
            "New",
        )])
        .await
        .unwrap();
    client.archive_item(item.item_id).await.unwrap();
    client.delete_item(item.item_id).await.unwrap();
    wait(&emu, 4).await;
    let events = receiver.events.lock().unwrap().clone();
    let by_type = |t: &str| {
        events
            .iter()
            .find(|(_, b)| b["event"]["type"] == t)
            .map(|(_, b)| b["event"].clone())
            .unwrap()
    };
    let rename = by_type("update_name");
    assert_eq!(
        (
            rename["value"]["name"].clone(),
            rename["previousValue"]["name"].clone()
        ),
        (json!("New"), json!("Old"))
    );
    for t in ["archive_pulse", "delete_pulse"] {
        let event = by_type(t);
        assert_eq!(event["itemId"], json!(item.item_id.get()));
        assert_eq!(event["itemName"], "New");
        assert!(event.get("pulseId").is_none());
    }
}

#[tokio::test]
async fn create_webhook_does_the_challenge_handshake() {
    let (url, receiver) = start_receiver(true).await;
    let emu = emulator(options()).await;
    let client = client(&emu);
    let hook = client
        .create_webhook(
            LEAD,
            &url,
            "change_specific_column_value",
            Some(json!({ "columnId": "text_mkry13cw" })),
        )
        .await
        .unwrap();
    assert_eq!(hook.board_id, Some(LEAD));
    assert_eq!(client.webhooks(LEAD).await.unwrap().len(), 1);
    let item = client
        .create_item(LEAD, "x", Default::default(), false)
        .await
        .unwrap();
    client
        .change_column_values(
            LEAD,
            item.item_id,
            values(&[("text_mkry1xy1", json!("not watched"))]),
            false,
        )
        .await
        .unwrap();
    client
        .change_column_values(
            LEAD,
            item.item_id,
            values(&[("text_mkry13cw", json!("Ada"))]),
            false,
        )
        .await
        .unwrap();
    let deliveries = wait(&emu, 1).await;
    assert_eq!(
        deliveries.len(),
        1,
        "only the watched column is delivered: {deliveries:?}"
    );
    assert_eq!(deliveries[0].subscription_id.to_string(), hook.id);
    let events = receiver.events.lock().unwrap().clone();
    assert_eq!(events[0].1["event"]["columnId"], "text_mkry13cw");
    assert_eq!(events[0].1["event"]["value"], json!({ "value": "Ada" }));
    client.delete_webhook(&hook.id).await.unwrap();
    assert!(client.webhooks(LEAD).await.unwrap().is_empty());

    let (bad_url, _) = start_receiver(false).await;
    let refused = client
        .create_webhook(LEAD, &bad_url, "create_item", None)
        .await;
    assert!(refused.is_err(), "{refused:?}");
}

#[tokio::test]
async fn deliveries_are_retried_each_scaled_minute_until_acknowledged() {
    let (url, receiver) = start_receiver(true).await;
    receiver.statuses.lock().unwrap().extend([500, 503]);
    let emu = emulator(EmulatorOptions {
        webhook_targets: vec![url],
        minute: Duration::from_millis(20),
        ..options()
    })
    .await;
    let client = client(&emu);
    client
        .create_item(ACCOUNT, "Retry me", Default::default(), false)
        .await
        .unwrap();
    let deliveries = wait(&emu, 1).await;
    assert_eq!(
        deliveries
            .iter()
            .map(|d| (d.attempt, d.status))
            .collect::<Vec<_>>(),
        [(0, Some(500)), (1, Some(503)), (2, Some(200))]
    );
    assert!(
        deliveries
            .iter()
            .all(|d| d.trigger_uuid == deliveries[0].trigger_uuid)
    );
    let retries: Vec<_> = deliveries
        .iter()
        .map(|d| d.body["event"]["isRetry"].clone())
        .collect();
    assert_eq!(retries, [json!(false), json!(true), json!(true)]);
}

#[tokio::test]
async fn deliveries_carry_an_hs256_jwt_when_a_signing_secret_is_set() {
    let (url, receiver) = start_receiver(true).await;
    let emu = emulator(EmulatorOptions {
        webhook_targets: vec![url.clone()],
        webhook_signing_secret: Some(Secret::new("signing-secret")),
        ..options()
    })
    .await;
    let client = client(&emu);
    client
        .create_item(ACCOUNT, "Signed", Default::default(), false)
        .await
        .unwrap();
    wait(&emu, 1).await;
    let (headers, _) = receiver.events.lock().unwrap()[0].clone();
    let token = headers["authorization"].to_str().unwrap().to_owned();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&[url]);
    let claims = jsonwebtoken::decode::<Value>(
        &token,
        &jsonwebtoken::DecodingKey::from_secret(b"signing-secret"),
        &validation,
    )
    .unwrap();
    assert_eq!(claims.claims["userId"], 67_214_742);
    let forged = jsonwebtoken::decode::<Value>(
        &token,
        &jsonwebtoken::DecodingKey::from_secret(b"other"),
        &validation,
    );
    assert!(forged.is_err());
}

#[tokio::test]
async fn status_subscriptions_filter_by_column_and_index() {
    let (url, receiver) = start_receiver(true).await;
    let emu = emulator(options()).await;
    let client = client(&emu);
    let board = client.board(LEAD).await.unwrap();
    let qualified = board
        .column("color_mksj2adq")
        .unwrap()
        .label_id("Qualified")
        .unwrap();
    client
        .create_webhook(
            LEAD,
            &url,
            "change_status_column_value",
            Some(json!({ "columnId": "color_mksj2adq", "columnValue": { "index": qualified } })),
        )
        .await
        .unwrap();
    let item = client
        .create_item(LEAD, "x", Default::default(), false)
        .await
        .unwrap();
    for (column, label) in [
        ("color_mksj2adq", "Contacted"),
        ("color_mksf6mtf", "Library"),
        ("color_mksj2adq", "Qualified"),
    ] {
        client
            .change_column_values(
                LEAD,
                item.item_id,
                values(&[(column, json!({ "label": label }))]),
                false,
            )
            .await
            .unwrap();
    }
    let deliveries = wait(&emu, 1).await;
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    let event = receiver.events.lock().unwrap()[0].1["event"].clone();
    assert_eq!(event["value"]["label"]["text"], "Qualified");
    assert_eq!(event["previousValue"]["label"]["text"], "Contacted");
}
