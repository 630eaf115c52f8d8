//! The HTTP surface: the one axum `Router` (`POST /webhooks/monday[/{token}]`, `GET /health`,
//! and `POST /events/salesforce` when its token is set)
//! that `crmmap serve` and the Lambda function both serve, and its handlers.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value as Json, json};

use crate::{Incoming, Outcome, Webhook, drain, event};

impl Webhook {
    /// The router: `POST /webhooks/monday` (signed), `POST /webhooks/monday/{token}`,
    /// `GET /health`.
    pub fn router(&self) -> Router {
        let router = Router::new()
            .route("/webhooks/monday", post(receive_signed))
            .route("/webhooks/monday/{token}", post(receive_with_token))
            .route("/health", get(health));
        // Off (404) unless its token is configured.
        let router = match self.inner.options.events_token {
            Some(_) => router.route(
                crate::salesforce::EVENTS_PATH,
                post(crate::salesforce::receive),
            ),
            None => router,
        };
        router.with_state(self.clone())
    }
}

/// The routes' paths start with one of these.
const ROUTE_ROOTS: [&str; 3] = ["/webhooks/monday", "/events/salesforce", "/health"];

/// Drops what comes before the router's own paths: the stage `lambda_http` puts in front of
/// an API Gateway REST path (`/prod/webhooks/monday/…`), or a custom domain's base path.
/// Other paths are returned unchanged.
///
/// ```
/// assert_eq!(crmmap_webhook::strip_path_prefix("/prod/webhooks/monday/t"), "/webhooks/monday/t");
/// assert_eq!(crmmap_webhook::strip_path_prefix("/health"), "/health");
/// assert_eq!(crmmap_webhook::strip_path_prefix("/other"), "/other");
/// ```
pub fn strip_path_prefix(path: &str) -> &str {
    ROUTE_ROOTS
        .iter()
        .filter_map(|root| path.find(root).map(|i| &path[i..]))
        .find(|rest| ROUTE_ROOTS.iter().any(|r| rest.starts_with(r)))
        .unwrap_or(path)
}

/// A request with [`strip_path_prefix`] applied to its URI (query kept).
pub fn without_path_prefix<B>(mut req: ::http::Request<B>) -> ::http::Request<B> {
    let path = req.uri().path();
    let stripped = strip_path_prefix(path);
    if stripped.len() != path.len() {
        let mut target = stripped.to_owned();
        if let Some(q) = req.uri().query() {
            target.push('?');
            target.push_str(q);
        }
        if let Ok(uri) = target.parse() {
            *req.uri_mut() = uri;
        }
    }
    req
}

pub(crate) fn reply(status: StatusCode, body: Json) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub(crate) fn error_reply(status: StatusCode, message: &str) -> Response {
    reply(status, json!({ "error": message }))
}

async fn receive_signed(State(w): State<Webhook>, headers: HeaderMap, body: Body) -> Response {
    receive(w, headers, None, body).await
}

async fn receive_with_token(
    State(w): State<Webhook>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    receive(w, headers, Some(token), body).await
}

/// One delivery, from its body to the response (the span covers the whole handler).
#[tracing::instrument(name = "webhook.request", level = "debug", skip_all)]
async fn receive(w: Webhook, headers: HeaderMap, token: Option<String>, body: Body) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok());
    if let Err(e) = w.inner.options.auth.check(authorization, token.as_deref()) {
        // Never the body, never the token.
        tracing::warn!(reason = %e, "webhook request refused");
        return error_reply(StatusCode::UNAUTHORIZED, &e.to_string());
    }
    let limit = w.inner.options.max_body_bytes;
    let bytes: Bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            tracing::warn!(limit, "webhook body too large");
            return error_reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("the body is larger than {limit} bytes"),
            );
        }
    };
    let incoming = match event::parse(&bytes) {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(reason = %e, bytes = bytes.len(), "bad webhook request");
            return error_reply(StatusCode::BAD_REQUEST, &e.to_string());
        }
    };
    let ev = match incoming {
        Incoming::Challenge(c) => return reply(StatusCode::OK, json!({ "challenge": c })),
        Incoming::Event(ev) => ev,
    };
    // The event runs in a task of its own: monday closing the connection (its delivery timed
    // out) must not cancel an event halfway, between its API writes and its commit.
    let handled = tokio::spawn({
        let w = w.clone();
        async move { w.handle_event(&ev).await }
    })
    .await;
    let handled = match handled {
        Ok(handled) => handled,
        Err(e) => {
            tracing::error!(error = %e, "handling an event failed outside its panic boundary");
            return error_reply(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    match handled {
        Ok(Outcome::Done(d)) => reply(
            StatusCode::OK,
            json!({ "outcome": d.action.as_str(), "record": d.record_id, "detail": d.reason }),
        ),
        Ok(Outcome::Duplicate) => reply(StatusCode::OK, json!({ "outcome": "duplicate" })),
        Ok(Outcome::Queued(e)) => {
            reply(StatusCode::OK, json!({ "outcome": "queued", "detail": e }))
        }
        Ok(Outcome::DeadLetter(e)) => reply(
            StatusCode::OK,
            json!({ "outcome": "dead_letter", "detail": e }),
        ),
        Err(e) => {
            tracing::error!(error = %e, "store unavailable; monday will redeliver");
            error_reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "state store unavailable, retry later",
            )
        }
    }
}

/// `GET /health`: the store answers, every Pub/Sub subscription (when this process runs
/// them) receives, and (when this process drains the retry queue) the drain made progress
/// recently. 503 otherwise, with what is wrong.
async fn health(State(w): State<Webhook>) -> Response {
    if w.inner.ctx.store.ping().await.is_err() {
        return error_reply(StatusCode::SERVICE_UNAVAILABLE, "state store unavailable");
    }
    if let Some((false, pubsub)) = w.inner.subscribers.report() {
        return reply(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({
                "status": "unhealthy",
                "error": "a pub/sub subscription is stopped, restarting or stalled",
                "pubsub": pubsub,
            }),
        );
    }
    let every = w.inner.drain_every.lock().ok().and_then(|e| *e);
    let Some(every) = every else {
        return reply(StatusCode::OK, json!({ "status": "ok" }));
    };
    let age = w.last_drain().map(|t| t.elapsed());
    let limit = drain::stall_after(every, w.inner.options.apply_timeout);
    let drain = json!({
        "every_s": every.as_secs_f64(),
        "last_progress_s_ago": age.map(|a| a.as_secs_f64()),
    });
    match age {
        Some(a) if a <= limit => reply(
            StatusCode::OK,
            json!({ "status": "ok", "retry_drain": drain }),
        ),
        _ => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({
                "status": "unhealthy",
                "error": format!("the retry drain made no progress for over {limit:?}"),
                "retry_drain": drain,
            }),
        ),
    }
}
