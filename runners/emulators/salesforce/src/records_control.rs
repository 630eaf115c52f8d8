//! `POST /__emulator__/records`: a person's edits over HTTP (create, update, delete,
//! undelete). They run as the person user, so their change events have that `commitUser`
//! and an empty `changeOrigin` (see [`crate::cdc`]).

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Map, Value, json};

use crate::{SalesforceEmulator, cdc};

/// The route, to merge into the emulator's router.
pub(crate) fn routes() -> Router<SalesforceEmulator> {
    Router::new().route("/__emulator__/records", post(edit))
}

fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response()
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": "no such record"})),
    )
        .into_response()
}

/// `{"op": "create", "object": "Lead", "fields": {…}}` → 201 `{"id": …}`;
/// `{"op": "update", "id": …, "fields": {…}}`, `{"op": "delete" | "undelete", "id": …}` →
/// 204, or 404 for an unknown (update), live (undelete) or deleted (delete) record. Fields
/// are stored without validation, as [`SalesforceEmulator::update_record`] does.
async fn edit(State(emu): State<SalesforceEmulator>, body: Bytes) -> Response {
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("the body must be a JSON object");
    };
    let text = |key: &str| body.get(key).and_then(Value::as_str);
    let fields = match body.get("fields") {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return bad_request("`fields` must be an object"),
    };
    let done = |ok: bool| {
        if ok {
            StatusCode::NO_CONTENT.into_response()
        } else {
            not_found()
        }
    };
    match text("op") {
        Some("create") => {
            let Some(object) = text("object") else {
                return bad_request("`object` is required");
            };
            let mut fields = fields;
            let person = Value::String(cdc::person_user_id());
            for audit in ["CreatedById", "LastModifiedById"] {
                fields.entry(audit).or_insert_with(|| person.clone());
            }
            match emu.insert_record(object, Value::Object(fields)) {
                Some(id) => (StatusCode::CREATED, Json(json!({"id": id}))).into_response(),
                None => bad_request("unknown object"),
            }
        }
        Some(op @ ("update" | "delete" | "undelete")) => {
            let Some(id) = text("id") else {
                return bad_request("`id` is required");
            };
            let live = emu
                .record(id)
                .is_some_and(|r| r.get("IsDeleted") != Some(&Value::Bool(true)));
            match op {
                "update" if live => done(emu.update_record(id, Value::Object(fields))),
                "delete" if live => done(emu.delete_record(id)),
                "undelete" => done(emu.undelete_record(id)),
                _ => not_found(),
            }
        }
        _ => bad_request("`op` must be create, update, delete or undelete"),
    }
}
