//! The Change Data Capture knobs over HTTP, under `/__emulator__/cdc`: status, events by
//! replay id, selection, allocation, retention, the clock, date form, gap injection and the
//! EventBridge relay (the same knobs as the Rust API on [`crate::SalesforceEmulator`] and
//! [`super::ChangeLog`]).

use std::collections::HashMap;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::{ChangeType, DateForm, EnvelopeSource, RelayOptions, RelayStatus};
use crate::SalesforceEmulator;

/// The routes, to merge into the emulator's router.
pub(crate) fn routes() -> Router<SalesforceEmulator> {
    Router::new()
        .route("/__emulator__/cdc", get(status).post(configure))
        .route("/__emulator__/cdc/events", get(events))
        .route("/__emulator__/cdc/gap", post(gap))
        .route("/__emulator__/cdc/relay", post(relay).delete(stop_relay))
}

fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": message.into()})),
    )
        .into_response()
}

fn object(body: &Bytes) -> Option<serde_json::Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

fn relay_json(s: &RelayStatus) -> Value {
    json!({
        "paused": s.switches.paused,
        "duplicate": s.switches.duplicate,
        "outOfOrder": s.switches.out_of_order,
        "deliveredThrough": s.delivered_through,
        "delivered": s.delivered,
        "failedAttempts": s.failed_attempts,
        "dropped": s.dropped,
        "missed": s.missed,
        "waitingForAllocation": s.waiting_for_allocation,
    })
}

/// `GET /__emulator__/cdc`.
async fn status(State(emu): State<SalesforceEmulator>) -> Response {
    let log = emu.change_log();
    let (used, max) = log.deliveries();
    Json(json!({
        "latestReplayId": log.latest_replay_id(),
        "earliestReplayId": log.earliest_replay_id(),
        "selectedEntities": log.selected_entities(),
        "deliveries": {"used": used, "max": max},
        "relay": emu.event_relay().map(|r| relay_json(&r.status())),
    }))
    .into_response()
}

/// `GET /__emulator__/cdc/events?after=N&max=M` → `{"events": [{"replayId", "payload"}]}`;
/// 410 when events after `after` left retention.
async fn events(
    State(emu): State<SalesforceEmulator>,
    Query(qs): Query<HashMap<String, String>>,
) -> Response {
    let after = qs.get("after").and_then(|v| v.parse().ok()).unwrap_or(0);
    let max = qs
        .get("max")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000_usize);
    match emu.change_log().read_after(after, max) {
        Ok(list) => Json(json!({
            "events": list
                .iter()
                .map(|e| json!({"replayId": e.replay_id, "payload": e.event.payload()}))
                .collect::<Vec<_>>(),
        }))
        .into_response(),
        Err(e) => (StatusCode::GONE, Json(json!({"error": e.to_string()}))).into_response(),
    }
}

/// `POST /__emulator__/cdc` with any of `{"entities": [..] | null, "allocation": n,
/// "resetDeliveries": true, "retention": {"maxEvents": n | null, "maxAgeSeconds": n},
/// "advanceClockSeconds": n, "dateForm": "iso" | "epochMillis"}`.
async fn configure(State(emu): State<SalesforceEmulator>, body: Bytes) -> Response {
    let Some(body) = object(&body) else {
        return bad_request("the body must be a JSON object");
    };
    let log = emu.change_log();
    if let Some(entities) = body.get("entities") {
        match entities {
            Value::Null => log.select_entities(None),
            Value::Array(list) => {
                let names: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
                log.select_entities(Some(&names));
            }
            _ => return bad_request("`entities` must be a list or null"),
        }
    }
    if let Some(n) = body.get("allocation").and_then(Value::as_u64) {
        log.set_delivery_allocation(n);
    }
    if body.get("resetDeliveries").and_then(Value::as_bool) == Some(true) {
        log.reset_deliveries();
    }
    if let Some(r) = body.get("retention") {
        let mut retention = log.retention();
        if let Some(n) = r.get("maxEvents") {
            retention.max_events = n.as_u64().and_then(|n| usize::try_from(n).ok());
        }
        if let Some(s) = r.get("maxAgeSeconds").and_then(Value::as_u64) {
            retention.max_age = Duration::from_secs(s);
        }
        log.set_retention(retention);
    }
    if let Some(s) = body.get("advanceClockSeconds").and_then(Value::as_u64) {
        log.advance_clock(Duration::from_secs(s));
    }
    match body.get("dateForm").and_then(Value::as_str) {
        None => {}
        Some("iso") => log.set_date_form(DateForm::Iso),
        Some("epochMillis") => log.set_date_form(DateForm::EpochMillis),
        Some(_) => return bad_request("`dateForm` must be iso or epochMillis"),
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /__emulator__/cdc/gap` `{"entity": "Lead", "changeType": "GAP_UPDATE",
/// "recordIds": [..]}` (no ids for `GAP_OVERFLOW`) → `{"replayId": n}`.
async fn gap(State(emu): State<SalesforceEmulator>, body: Bytes) -> Response {
    let Some(body) = object(&body) else {
        return bad_request("the body must be a JSON object");
    };
    let entity = body.get("entity").and_then(Value::as_str).unwrap_or("");
    let Some(change_type) = body
        .get("changeType")
        .and_then(Value::as_str)
        .and_then(ChangeType::parse)
    else {
        return bad_request("`changeType` must be a GAP_* type");
    };
    let ids: Vec<&str> = body
        .get("recordIds")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    match emu.inject_gap(entity, change_type, &ids) {
        Some(replay_id) => Json(json!({"replayId": replay_id})).into_response(),
        None => bad_request(
            "refused: unknown or unselected entity, not a gap type, or record ids missing (gap) or given (overflow)",
        ),
    }
}

/// `POST /__emulator__/cdc/relay`: with `url` and `token`, starts a relay (`orgId`,
/// `channelId`, `account`, `region`, `after`, `maxAttempts` optional); `paused`,
/// `duplicate`, `outOfOrder` set the running relay's switches.
async fn relay(State(emu): State<SalesforceEmulator>, body: Bytes) -> Response {
    let Some(body) = object(&body) else {
        return bad_request("the body must be a JSON object");
    };
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    if let Some(url) = text("url") {
        let Some(token) = text("token") else {
            return bad_request("`token` is required with `url`");
        };
        let mut opts = RelayOptions::new(url, token.into());
        let default = EnvelopeSource::default();
        opts.source = EnvelopeSource {
            org_id: text("orgId").unwrap_or(default.org_id),
            channel_id: text("channelId").unwrap_or(default.channel_id),
            account: text("account").unwrap_or(default.account),
            region: text("region").unwrap_or(default.region),
        };
        opts.after = body.get("after").and_then(Value::as_u64);
        if let Some(n) = body.get("maxAttempts").and_then(Value::as_u64) {
            opts.max_attempts = u32::try_from(n).unwrap_or(u32::MAX);
        }
        emu.start_event_relay(opts);
    }
    let Some(relay) = emu.event_relay() else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no relay is running"})),
        )
            .into_response();
    };
    let mut switches = relay.status().switches;
    let flag = |k: &str| body.get(k).and_then(Value::as_bool);
    if let Some(b) = flag("paused") {
        switches.paused = b;
    }
    if let Some(b) = flag("duplicate") {
        switches.duplicate = b;
    }
    if let Some(b) = flag("outOfOrder") {
        switches.out_of_order = b;
    }
    relay.set_switches(switches);
    Json(relay_json(&relay.status())).into_response()
}

/// `DELETE /__emulator__/cdc/relay`.
async fn stop_relay(State(emu): State<SalesforceEmulator>) -> Response {
    emu.stop_event_relay();
    StatusCode::NO_CONTENT.into_response()
}
