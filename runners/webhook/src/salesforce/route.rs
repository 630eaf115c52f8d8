//! The change events' entries: `POST /events/salesforce` (one EventBridge event as its body,
//! what an EventBridge API destination sends), the Lambda's EventBridge events, and the retry
//! of a queued record's change.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use crmmap_ids::RecordId;
use crmmap_store::{Action, FailureClass, RetryItem, record_lock_item};
use crmmap_sync::failure::Classified;
use serde_json::Value as Json;

use super::event::{self, Envelope};
use super::{EventReport, Failed};
use crate::Webhook;
use crate::http::{error_reply, reply};

/// The route's path.
pub const EVENTS_PATH: &str = "/events/salesforce";

/// The environment variable holding the route's bearer token.
pub const EVENTS_TOKEN_ENV: &str = "CRMMAP_EVENTS_TOKEN";

/// Whether `Authorization` is `Bearer <token>` (compared in constant time).
fn authorized(w: &Webhook, headers: &HeaderMap) -> bool {
    let Some(want) = &w.inner.options.events_token else {
        return false;
    };
    let got = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim);
    got.is_some_and(|got| crate::auth::constant_time_eq(want.expose().as_bytes(), got.as_bytes()))
}

/// `POST /events/salesforce`: 2xx once every record of the event is applied or durably
/// queued; 401 without the right token; 400 for a body that is not a change event; 503 when
/// the store cannot record it (the sender delivers it again).
pub(crate) async fn receive(State(w): State<Webhook>, headers: HeaderMap, body: Body) -> Response {
    if !authorized(&w, &headers) {
        // Never the header, never the token.
        tracing::warn!("salesforce event refused: missing or wrong bearer token");
        return error_reply(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
    }
    let limit = w.inner.options.max_body_bytes;
    let bytes: Bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return error_reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("the body is larger than {limit} bytes"),
            );
        }
    };
    let envelope = match event::parse(&bytes) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(reason = %e, bytes = bytes.len(), "bad salesforce event");
            return error_reply(StatusCode::BAD_REQUEST, &e.to_string());
        }
    };
    answer(w.dispatch(envelope).await)
}

fn answer(handled: Result<EventReport, String>) -> Response {
    match handled {
        Ok(report) => reply(StatusCode::OK, report.to_json()),
        Err(e) => {
            tracing::error!(error = %e, "salesforce event not recorded; the sender will retry");
            error_reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "state store unavailable, retry later",
            )
        }
    }
}

impl Webhook {
    /// Handles a change event in a task of its own (a closed connection must not cancel it
    /// between its writes and its commit).
    async fn dispatch(&self, envelope: Envelope) -> Result<EventReport, String> {
        let w = self.clone();
        tokio::spawn(async move { w.handle_salesforce_event(&envelope).await })
            .await
            .map_err(|e| format!("internal error: {e}"))?
            .map_err(|e| e.to_string())
    }

    /// An EventBridge event the Lambda received (no HTTP): applied like a `POST
    /// /events/salesforce` body. An error makes the invocation fail, so EventBridge retries
    /// it (and sends it to the dead-letter queue in the end).
    pub async fn handle_eventbridge(&self, event: &Json) -> Result<Json, String> {
        let envelope = event::parse_envelope(event).map_err(|e| e.to_string())?;
        self.dispatch(envelope).await.map(|r| r.to_json())
    }

    /// A queued record's change (the retry drain): the record read again (its newest
    /// values), a delete's policy, or an overflow's reconcile, under the record's item lock.
    pub(crate) async fn retry_salesforce(&self, item: &RetryItem) -> Result<(), Failed> {
        let p = &item.payload;
        let permanent = |e: &str| Failed {
            classified: Classified::local(FailureClass::Permanent),
            error: e.to_owned(),
        };
        let plan = p
            .get("object")
            .and_then(Json::as_str)
            .and_then(|o| self.plans().plan(o))
            .ok_or_else(|| permanent("queued change names no mapped object"))?;
        let change = p.get("change").and_then(Json::as_str).unwrap_or_default();
        let Some(id) = p.get("record_id").and_then(Json::as_str) else {
            let commit_ms = p.get("commit_ms").and_then(Json::as_i64);
            let done = self.sf_reconcile(plan, commit_ms).await?;
            self.sf_retry_log(plan, "", &done.reason, done.action).await;
            return Ok(());
        };
        let id = &RecordId::parse(id)
            .map_err(|e| permanent(&format!("queued change names no record id: {e}")))?;
        let store = &self.inner.ctx.store;
        let sobject = plan.sobject.clone();
        let link = store.link_by_record(&sobject, id).await?;
        let lock_item = link
            .as_ref()
            .map_or_else(|| record_lock_item(&sobject, id), |l| l.item_id);
        let guard = store.lock_item(plan.board, lock_item).await?;
        // The link as it is now that the item is held.
        let link = store.link_by_record(&sobject, id).await?;
        let done = if change == "DELETE" {
            self.sf_delete(plan, id, link, "deleted in salesforce")
                .await
        } else {
            self.sf_read(plan, id, link, "queued change: read the record")
                .await
        };
        let released = guard.release().await;
        let done = done?;
        released?;
        self.sf_retry_log(plan, id.as_str(), &done.reason, done.action)
            .await;
        Ok(())
    }

    async fn sf_retry_log(
        &self,
        plan: &crmmap_engine::plan::Plan,
        id: &str,
        reason: &str,
        action: Action,
    ) {
        let entry = crmmap_store::LogEntry::new(
            self.inner.ctx.now(),
            crmmap_store::RunnerKind::Retry,
            action,
        )
        .object(plan.sobject.clone())
        .record(id.to_owned())
        .reason(reason.to_owned());
        if let Err(e) = self.inner.ctx.store.append_log(&entry).await {
            tracing::error!(error = %e, "cannot write the sync log");
        }
    }
}
