//! The EventBridge relay over real HTTP (realtime-and-limits.md §2b): the envelope and bearer
//! token a receiver gets, commit order, retries, the delivery allocation (§1d) and the test
//! switches; the control endpoints for people's edits and gap injection.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use crmmap_emu_salesforce::cdc::{RelayOptions, RelaySwitches};
use reqwest::Method;
use serde_json::{Value, json};

use super::Session;

/// A stand-in API destination: records every POST; answers 503 to the next `fail` ones.
#[derive(Clone, Default)]
struct Destination {
    got: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
    fail: Arc<AtomicU32>,
}

impl Destination {
    async fn start() -> (Destination, String) {
        let d = Destination::default();
        let app = Router::new()
            .route("/events", post(receive))
            .with_state(d.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/events", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (d, url)
    }

    fn bodies(&self) -> Vec<Value> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| b.clone())
            .collect()
    }

    /// Waits until `n` POSTs were accepted.
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..1000 {
            if self.got.lock().unwrap().len() >= n {
                return self.bodies();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("expected {n} deliveries, got {:?}", self.bodies());
    }
}

async fn receive(State(d): State<Destination>, headers: HeaderMap, body: Bytes) -> StatusCode {
    if d.fail
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let body: Value = serde_json::from_slice(&body).unwrap();
    d.got.lock().unwrap().push((headers, body));
    StatusCode::OK
}

fn options(url: &str) -> RelayOptions {
    let mut o = RelayOptions::new(url, "relay-token".into());
    o.backoff.base = Duration::from_millis(5);
    o
}

async fn update_lead(s: &Session, id: &str, title: &str) {
    let (status, _, b) = s
        .call(
            Method::PATCH,
            &format!("/sobjects/Lead/{id}"),
            Some(json!({"Title": title})),
        )
        .await;
    assert_eq!(status, 204, "{b}");
}

async fn new_lead(s: &Session) -> String {
    let (status, _, b) = s
        .call(
            Method::POST,
            "/sobjects/Lead",
            Some(json!({"LastName": "Relay", "Company": "Co"})),
        )
        .await;
    assert_eq!(status, 201, "{b}");
    b["id"].as_str().unwrap().to_string()
}

fn titles(bodies: &[Value]) -> Vec<String> {
    bodies
        .iter()
        .map(|b| {
            b["detail"]["payload"]["Title"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn the_relay_posts_an_eventbridge_envelope_with_the_bearer_token() {
    let s = Session::default().await;
    let id = new_lead(&s).await;
    let (dest, url) = Destination::start().await;
    let relay = s.emu.start_event_relay(options(&url));
    update_lead(&s, &id, "Countess").await;
    let bodies = dest.wait_for(1).await;
    let (headers, e) = dest.got.lock().unwrap()[0].clone();
    assert_eq!(headers["authorization"], "Bearer relay-token");
    assert_eq!(e["version"], "0");
    assert!(uuid::Uuid::parse_str(e["id"].as_str().unwrap()).is_ok());
    assert_eq!(e["detail-type"], "LeadChangeEvent");
    let org = "00D5g000004EmUlEAK";
    let source = e["source"].as_str().unwrap();
    assert!(
        source.starts_with(&format!("aws.partner/salesforce.com/{org}/0YL")),
        "{source}"
    );
    assert_eq!(e["account"], "123456789012");
    assert_eq!(e["region"], "us-east-1");
    assert_eq!(e["resources"], json!([]));
    assert!(
        time::OffsetDateTime::parse(
            e["time"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339
        )
        .is_ok()
    );
    let payload = &e["detail"]["payload"];
    assert_eq!(payload["ChangeEventHeader"]["changeType"], "UPDATE");
    assert_eq!(payload["ChangeEventHeader"]["recordIds"], json!([id]));
    assert_eq!(payload["Title"], "Countess");
    assert_eq!(
        bodies.len(),
        1,
        "the create before the relay started is not sent"
    );
    let logged = s.emu.change_log().events().last().unwrap().event.payload();
    assert_eq!(payload, &logged);
    assert_eq!(s.emu.change_log().deliveries().0, 1);
    relay.stop();
}

#[tokio::test]
async fn failed_posts_are_retried_and_events_arrive_in_commit_order() {
    let s = Session::default().await;
    let id = new_lead(&s).await;
    let (dest, url) = Destination::start().await;
    dest.fail.store(3, Ordering::SeqCst);
    let relay = s.emu.start_event_relay(options(&url));
    for t in ["one", "two", "three"] {
        update_lead(&s, &id, t).await;
    }
    let bodies = dest.wait_for(3).await;
    assert_eq!(titles(&bodies), ["one", "two", "three"]);
    let status = relay.status();
    assert_eq!(status.failed_attempts, 3);
    assert_eq!(status.delivered, 3);
    assert!(status.dropped.is_empty());
    // Retries of one event count one delivery.
    assert_eq!(s.emu.change_log().deliveries().0, 3);
}

#[tokio::test]
async fn an_event_failing_every_attempt_is_dropped_and_the_next_delivered() {
    let s = Session::default().await;
    let id = new_lead(&s).await;
    let (dest, url) = Destination::start().await;
    dest.fail.store(2, Ordering::SeqCst);
    let mut opts = options(&url);
    opts.max_attempts = 2;
    let relay = s.emu.start_event_relay(opts);
    update_lead(&s, &id, "lost").await;
    update_lead(&s, &id, "kept").await;
    let bodies = dest.wait_for(1).await;
    assert_eq!(titles(&bodies), ["kept"]);
    let latest = s.emu.change_log().latest_replay_id();
    assert!(relay.wait_delivered(latest, Duration::from_secs(5)).await);
    assert_eq!(relay.status().dropped, vec![latest - 1]);
}

#[tokio::test]
async fn a_spent_allocation_stops_delivery_and_a_raised_one_resumes_it_without_loss() {
    let s = Session::default().await;
    let id = new_lead(&s).await;
    let log = s.emu.change_log();
    log.set_delivery_allocation(2);
    let (dest, url) = Destination::start().await;
    let relay = s.emu.start_event_relay(options(&url));
    for t in ["a", "b", "c", "d"] {
        update_lead(&s, &id, t).await;
    }
    dest.wait_for(2).await;
    for _ in 0..100 {
        if relay.status().waiting_for_allocation {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(relay.status().waiting_for_allocation);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(dest.bodies().len(), 2, "nothing beyond the allocation");
    assert_eq!(
        log.read_after(0, 100).unwrap().len(),
        5,
        "events accumulate"
    );
    log.set_delivery_allocation(10);
    let bodies = dest.wait_for(4).await;
    assert_eq!(titles(&bodies), ["a", "b", "c", "d"]);
    assert!(!relay.status().waiting_for_allocation);
    assert_eq!(log.deliveries(), (4, 10));
}

#[tokio::test]
async fn the_switches_duplicate_reorder_and_pause_deliveries() {
    let s = Session::default().await;
    let id = new_lead(&s).await;
    let (dest, url) = Destination::start().await;
    let relay = s.emu.start_event_relay(options(&url));
    relay.set_switches(RelaySwitches {
        duplicate: true,
        ..RelaySwitches::default()
    });
    update_lead(&s, &id, "twice").await;
    let bodies = dest.wait_for(2).await;
    assert_eq!(titles(&bodies), ["twice", "twice"]);
    assert_ne!(
        bodies[0]["id"], bodies[1]["id"],
        "each copy is its own EventBridge event"
    );
    assert_eq!(
        bodies[0]["detail"]["payload"]["ChangeEventHeader"],
        bodies[1]["detail"]["payload"]["ChangeEventHeader"]
    );
    relay.set_switches(RelaySwitches {
        paused: true,
        ..RelaySwitches::default()
    });
    for t in ["x", "y", "z"] {
        update_lead(&s, &id, t).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(dest.bodies().len(), 2, "paused");
    relay.set_switches(RelaySwitches {
        out_of_order: true,
        ..RelaySwitches::default()
    });
    let bodies = dest.wait_for(5).await;
    assert_eq!(titles(&bodies[2..]), ["z", "y", "x"]);
}

#[tokio::test]
async fn the_control_endpoints_edit_as_a_person_inject_gaps_and_drive_the_relay() {
    let s = Session::default().await;
    let (dest, url) = Destination::start().await;
    let base = s.emu.base_url();
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        http.post(format!("{base}/__emulator__/{path}"))
            .json(&body)
            .send()
    };
    let r = post(
        "cdc/relay",
        json!({"url": url, "token": "t0ken", "orgId": "00D000000000001AAA"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let r = post(
        "records",
        json!({"op": "create", "object": "Contact", "fields": {"LastName": "Person", "MailingStreet": "1 Main St"}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = post(
        "records",
        json!({"op": "update", "id": id, "fields": {"FirstName": "Pat"}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    let r = post("records", json!({"op": "delete", "id": id}))
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = post("records", json!({"op": "undelete", "id": id}))
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = post("records", json!({"op": "undelete", "id": id}))
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "not deleted");
    let r = post("records", json!({"op": "rename"})).await.unwrap();
    assert_eq!(r.status(), 400);
    let r = post(
        "cdc/gap",
        json!({"entity": "Contact", "changeType": "GAP_DELETE", "recordIds": [id]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let r = post(
        "cdc/gap",
        json!({"entity": "Lead", "changeType": "GAP_OVERFLOW"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let r = post(
        "cdc/gap",
        json!({"entity": "Lead", "changeType": "UPDATE", "recordIds": [id]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let bodies = dest.wait_for(6).await;
    let header = |i: usize| bodies[i]["detail"]["payload"]["ChangeEventHeader"].clone();
    let types: Vec<Value> = (0..6).map(|i| header(i)["changeType"].clone()).collect();
    assert_eq!(
        types,
        [
            "CREATE",
            "UPDATE",
            "DELETE",
            "UNDELETE",
            "GAP_DELETE",
            "GAP_OVERFLOW"
        ]
        .map(Value::from)
    );
    for i in 0..4 {
        assert_eq!(header(i)["commitUser"], json!(s.emu.person_user_id()));
        assert_eq!(header(i)["changeOrigin"], "");
    }
    assert_eq!(
        bodies[0]["detail"]["payload"]["MailingAddress"]["Street"],
        "1 Main St"
    );
    assert_eq!(
        bodies[1]["detail"]["payload"]["Name"],
        json!({"FirstName": "Pat"})
    );
    assert_eq!(header(5)["recordIds"], json!([]));
    assert_eq!(header(5)["entityName"], "Lead");
    assert!(
        bodies[0]["source"]
            .as_str()
            .unwrap()
            .contains("/00D000000000001AAA/")
    );
    assert_eq!(
        dest.got.lock().unwrap()[0].0["authorization"],
        "Bearer t0ken"
    );
    // Selection, allocation and events over HTTP.
    let r = post("cdc", json!({"entities": ["Lead"], "allocation": 50}))
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let status: Value = http
        .get(format!("{base}/__emulator__/cdc"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["selectedEntities"], json!(["Lead"]));
    assert_eq!(status["deliveries"], json!({"used": 6, "max": 50}));
    assert_eq!(status["relay"]["delivered"], 6);
    let events: Value = http
        .get(format!("{base}/__emulator__/cdc/events?after=4&max=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(events["events"][0]["replayId"], 5);
    assert_eq!(
        events["events"][0]["payload"]["ChangeEventHeader"]["changeType"],
        "GAP_DELETE"
    );
    let r = http
        .delete(format!("{base}/__emulator__/cdc/relay"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(s.emu.event_relay().is_none());
}
