//! crmmap's webhook runner: monday.com board events applied to Salesforce, in real time.
//!
//! ```text
//! POST /webhooks/monday[/{token}] ─► size limit ─► auth (JWT or path token) ─► parse
//!     ─► challenge? echo it
//!     ─► skipped for what it is (unmapped board, unhandled type, crmmap's own user)? record
//!        it (dedup) with its log row, one commit
//!     ─► item lock + event claim (store, one step: dedup) ─► read the item (one call, only
//!        the columns needed) while the store reads its link and last-synced values (one
//!        query) ─► compare with last-synced ─► engine eval ─► Salesforce write
//!        (If-Unmodified-Since) ─► outcome + last-synced values + sync log (one commit)
//!     ─► failure, classified (`crmmap_sync::failure`): the same commit queues the retry,
//!        or the dead letter when the item itself is refused (200 to monday); a panic while
//!        applying is such a failure. The queue is drained by [`drain`] (`crmmap serve`'s
//!        supervised task, `crmmap retry`, the schedule)
//! GET /health ─► store ping; the drain's last progress (503 when it stalled)
//! ```
//!
//! One [`Webhook`] per process holds the [`RunContext`] (plans, clients with their token
//! cache, the store's pool); [`Webhook::router`] is the one axum `Router` that both
//! `crmmap serve` and the Lambda function serve.
//!
//! Where the API references are UNCERTAIN, the choice is made in one place:
//!
//! | fact | choice | where |
//! |---|---|---|
//! | redelivery keeps `triggerUuid`; `originalTriggerUuid` (undocumented, always `null` in captures) may be shared by distinct events | deduplicate on `triggerUuid` only; the original is kept in the sync log | [`crmmap_store::event_dedup_key`] |
//! | JWT bare or `Bearer` in `Authorization` | both | `auth::jwt_of` |
//! | JWT algorithm and claims; `aud` is the endpoint URL as registered | HS256, `exp` required; `aud` must be `CRMMAP_PUBLIC_URL` + the request path when that is set, else not checked | `auth::validation` |
//! | delete/archive payloads name `itemId` or `pulseId` | both | [`event::parse_event`] |
//! | board-relation webhook `value` shape | the item is read anyway; the payload is only a fallback | `apply` (links) |
//! | a record created before a crash, without an external id | a lookup by name fields, `CreatedDate` and crmmap's own `CreatedById` | `apply::Webhook::reconcile` |
//! | `If-Unmodified-Since` has second granularity | the last-seen time is kept per item ([`LAST_SEEN_KEY`]); an unknown time means read first | `apply` (`update_record`) |

pub mod alerts;
pub mod apply;
pub mod auth;
pub mod drain;
pub mod event;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use crmmap_store::{
    Action, Completion, EventOutcome, FailureClass, ItemEvent, LogEntry, RetryPolicy, RetryRequest,
    RunnerKind,
};
use crmmap_sync::{ConfigError, RunContext, Settings};
use futures::FutureExt;
use serde_json::{Value as Json, json};

pub use crate::alerts::{Alert, AlertConfig, Alerter};
pub use crate::apply::{ApplyError, Done, LAST_SEEN_KEY, rule_key};
pub use crate::auth::{AuthConfig, AuthError, SecretString};
pub use crate::drain::DrainReport;
pub use crate::event::{BadRequest, Event, EventKind, Incoming};

/// The retry-queue kind of webhook events.
pub const RETRY_KIND: &str = "webhook_event";

/// Most items one drain round of `crmmap serve` tries.
const DRAIN_ROUND_LIMIT: u32 = 100;

/// Largest accepted request body. monday's events are a few KB; long-text values stay well
/// below this.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;

/// How the runner behaves.
#[derive(Clone, Debug)]
pub struct WebhookOptions {
    /// Authentication.
    pub auth: AuthConfig,
    /// Largest accepted body (larger: 413).
    pub max_body_bytes: usize,
    /// Retry backoff and dead-lettering.
    pub retry: RetryPolicy,
    /// A Salesforce external-id field present on every synced sObject (e.g.
    /// `External_Id__c`): creates become upserts by an idempotency key. Without it, a crashed
    /// create is reconciled by a lookup (see [`Webhook::handle_event`]).
    pub external_id_field: Option<String>,
    /// Send monday changes to converted Leads (`[salesforce] update_converted_leads`): only
    /// for orgs whose integration user has "View and Edit Converted Leads". Off, a change to a
    /// converted Lead is logged as skipped and never sent or retried.
    pub update_converted_leads: bool,
    /// Alert channels.
    pub alerts: AlertConfig,
    /// Longest time one event may take before it is queued for a retry instead.
    pub apply_timeout: Duration,
    /// Test hook: abort the process right after a Salesforce create, before the write-back.
    #[doc(hidden)]
    pub crash_after_create: bool,
    /// Test hook: panic while applying a change of this column (the panic boundaries' test).
    #[doc(hidden)]
    pub panic_on_column: Option<String>,
}

impl Default for WebhookOptions {
    fn default() -> WebhookOptions {
        WebhookOptions {
            auth: AuthConfig::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            retry: RetryPolicy::default(),
            external_id_field: None,
            update_converted_leads: false,
            alerts: AlertConfig::default(),
            apply_timeout: Duration::from_secs(25),
            crash_after_create: false,
            panic_on_column: None,
        }
    }
}

/// The environment variable naming an external-id field for crash-safe creates.
pub const EXTERNAL_ID_FIELD_ENV: &str = "CRMMAP_EXTERNAL_ID_FIELD";

impl WebhookOptions {
    /// Options from `crmmap.toml` (`[webhook]`, `[alerts]`) and the environment
    /// (`MONDAY_SIGNING_SECRET`, the path token variable, `CRMMAP_PUBLIC_URL`, `TELEGRAM_*`,
    /// `SLACK_WEBHOOK_URL`, `CRMMAP_EXTERNAL_ID_FIELD`). Fails when no authentication is
    /// configured, `CRMMAP_PUBLIC_URL` is not an http(s) URL, or an enabled
    /// alert channel lacks its variables.
    pub fn from_settings(
        settings: &Settings,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<WebhookOptions, ConfigError> {
        let w = &settings.file.webhook;
        let token_env = w
            .path_token_env
            .clone()
            .unwrap_or_else(|| "CRMMAP_WEBHOOK_TOKEN".to_owned());
        let nonempty = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let auth = AuthConfig {
            signing_secret: nonempty("MONDAY_SIGNING_SECRET").map(SecretString::new),
            require_signature: w.require_signature,
            path_token: nonempty(&token_env).map(SecretString::new),
            public_url: nonempty(auth::PUBLIC_URL_ENV)
                .map(|u| auth::public_url(&u))
                .transpose()
                .map_err(ConfigError::Value)?,
        };
        if w.require_signature && auth.signing_secret.is_none() {
            return Err(ConfigError::MissingEnv(
                "MONDAY_SIGNING_SECRET",
                "[webhook] require_signature".into(),
            ));
        }
        if !auth.is_configured() {
            return Err(ConfigError::Value(format!(
                "no webhook authentication: set MONDAY_SIGNING_SECRET or {token_env}"
            )));
        }
        if let Some(t) = &auth.path_token {
            if t.expose().len() < 16 {
                return Err(ConfigError::Value(format!(
                    "{token_env} is too short: use at least 16 random characters"
                )));
            }
        }
        let a = &settings.file.alerts;
        let mut alerts = AlertConfig::default();
        if a.telegram {
            let token = nonempty("TELEGRAM_TOKEN").ok_or_else(|| {
                ConfigError::MissingEnv("TELEGRAM_TOKEN", "[alerts] telegram".into())
            })?;
            let chat = nonempty("TELEGRAM_CHAT_ID").ok_or_else(|| {
                ConfigError::MissingEnv("TELEGRAM_CHAT_ID", "[alerts] telegram".into())
            })?;
            let base = a
                .telegram_api_url
                .clone()
                .unwrap_or_else(|| alerts::TELEGRAM_API_URL.to_owned());
            alerts.telegram = Some((base, SecretString::new(token), chat));
        }
        if a.slack {
            let hook = nonempty("SLACK_WEBHOOK_URL").ok_or_else(|| {
                ConfigError::MissingEnv("SLACK_WEBHOOK_URL", "[alerts] slack".into())
            })?;
            alerts.slack = Some(SecretString::new(hook));
        }
        let retry = settings.retry_policy()?;
        Ok(WebhookOptions {
            auth,
            retry,
            alerts,
            external_id_field: nonempty(EXTERNAL_ID_FIELD_ENV),
            update_converted_leads: settings.file.salesforce.update_converted_leads,
            ..WebhookOptions::default()
        })
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`); for `crmmap serve` and `retry`.
/// Does nothing when a subscriber is already installed.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The webhook runner: built once per process, cheap to clone.
#[derive(Clone)]
pub struct Webhook {
    inner: Arc<Inner>,
}

struct Inner {
    ctx: RunContext,
    options: WebhookOptions,
    alerter: Alerter,
    /// When this process's retry drain last made progress (see [`Webhook::last_drain`]).
    drain_beat: std::sync::Mutex<Option<tokio::time::Instant>>,
    /// The interval of the drain [`Webhook::serve`] runs, if it runs one.
    drain_every: std::sync::Mutex<Option<Duration>>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("store", &self.inner.ctx.store)
            .field("options", &self.inner.options)
            .finish()
    }
}

/// What the handler answered for an event (the JSON body's `outcome`).
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Applied now (or deliberately skipped); see the sync log.
    Done(Done),
    /// Already applied: a redelivery.
    Duplicate,
    /// Could not be applied now: in the retry queue.
    Queued(String),
    /// Refused for good (a value Salesforce rejects, a bug): a dead letter, alerted.
    DeadLetter(String),
}

impl Webhook {
    /// A runner over a built context.
    pub fn new(ctx: RunContext, options: WebhookOptions) -> Webhook {
        let alerter = Alerter::new(options.alerts.clone());
        Webhook {
            inner: Arc::new(Inner {
                ctx,
                options,
                alerter,
                drain_beat: std::sync::Mutex::new(None),
                drain_every: std::sync::Mutex::new(None),
            }),
        }
    }

    /// The context.
    pub fn context(&self) -> &RunContext {
        &self.inner.ctx
    }

    /// The options.
    pub fn options(&self) -> &WebhookOptions {
        &self.inner.options
    }

    /// The router: `POST /webhooks/monday` (signed), `POST /webhooks/monday/{token}`,
    /// `GET /health`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/webhooks/monday", post(receive_signed))
            .route("/webhooks/monday/{token}", post(receive_with_token))
            .route("/health", get(health))
            .with_state(self.clone())
    }

    /// Serves [`Webhook::router`] on `listener` until `shutdown` completes, draining the
    /// retry queue every `retry_every` meanwhile (`None`: never).
    ///
    /// The drain is supervised: a round that panics or fails is logged and the next round
    /// starts on schedule, and a drain task that ends is started again. `/health` reports the
    /// last round and turns unhealthy when rounds stop.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        retry_every: Option<Duration>,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let drainer = retry_every.map(|every| {
            if let Ok(mut e) = self.inner.drain_every.lock() {
                *e = Some(every);
            }
            self.beat_now();
            let w = self.clone();
            tokio::spawn(async move { w.supervise_drain(every).await })
        });
        let served = axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await;
        if let Some(d) = drainer {
            d.abort();
        }
        served
    }

    /// Runs drain rounds every `every`, restarting the round task whenever it ends.
    async fn supervise_drain(&self, every: Duration) {
        loop {
            let w = self.clone();
            let rounds = tokio::spawn(async move { w.drain_rounds(every).await });
            match rounds.await {
                Ok(()) => tracing::error!("the retry drain stopped; restarting it"),
                Err(e) if e.is_cancelled() => return,
                Err(e) => tracing::error!(error = %e, "the retry drain failed; restarting it"),
            }
            tokio::time::sleep(every).await;
        }
    }

    async fn drain_rounds(&self, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let round = std::panic::AssertUnwindSafe(self.drain_retries(DRAIN_ROUND_LIMIT))
                .catch_unwind()
                .await;
            match round {
                Ok(Ok(r)) if r.claimed > 0 || r.paused.is_some() => {
                    tracing::info!(?r, "retry queue drained")
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "retry drain failed"),
                Err(panic) => tracing::error!(
                    panic = %drain::panic_message(panic.as_ref()),
                    "a retry drain round panicked"
                ),
            }
        }
    }

    fn beat_now(&self) {
        if let Ok(mut h) = self.inner.drain_beat.lock() {
            *h = Some(tokio::time::Instant::now());
        }
    }

    fn log_entry(
        &self,
        ev: &Event,
        runner: RunnerKind,
        action: Action,
        done: Option<&Done>,
        reason: &str,
    ) -> LogEntry {
        let mut entry = LogEntry::new(self.inner.ctx.now(), runner, action)
            .item(ev.board_id.to_string(), ev.item_id.to_string())
            .trigger(ev.key.clone())
            .reason(reason)
            .request(ev.log_request());
        if let Some(d) = done {
            if let Some(o) = &d.object {
                entry = entry.object(o.clone());
            }
            if let Some(r) = &d.record_id {
                entry = entry.record(r.clone());
            }
        } else if let Some(p) = self.inner.ctx.plans.plan_for_board(ev.board_id) {
            entry = entry.object(p.sobject.clone());
        }
        entry
    }

    async fn log(
        &self,
        ev: &Event,
        runner: RunnerKind,
        action: Action,
        done: Option<&Done>,
        reason: &str,
    ) {
        let entry = self.log_entry(ev, runner, action, done, reason);
        if let Err(e) = self.inner.ctx.store.append_log(&entry).await {
            tracing::error!(error = %e, "cannot write the sync log");
        }
    }

    /// Handles one delivered event: takes its item's lock and claims it (deduplication),
    /// applies it (bounded in time), and records the outcome, its last-synced values, its
    /// log row and, when it failed, its retry together. Errors only when the store cannot
    /// record anything (then monday should redeliver).
    pub async fn handle_event(&self, ev: &Event) -> Result<Outcome, crmmap_store::StoreError> {
        let plan = match self.triage(ev) {
            Ok(plan) => plan,
            Err(skip) => return self.handle_skipped(ev, skip).await,
        };
        let store = &self.inner.ctx.store;
        let timeout = self.inner.options.apply_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let (board, item) = (ev.board_id.to_string(), ev.item_id.to_string());
        let begun = tokio::time::timeout_at(
            deadline,
            store.begin_item_event(&ev.key, &board, &item, self.inner.ctx.now()),
        )
        .await;
        let scope = match begun {
            Err(_) => {
                // The item stayed busy: the queue takes the event, still deduplicated (a
                // redelivery may get to it first).
                let error = format!("item busy: not started within {timeout:?}");
                return self.queue_unclaimed(ev, &error).await;
            }
            Ok(begun) => match begun? {
                ItemEvent::Started(scope) => scope,
                ItemEvent::AlreadyApplied => return Ok(self.duplicate(ev).await),
                ItemEvent::InProgress => {
                    // Another process holds it; if that one dies, the retry queue takes
                    // over once its lease has run out.
                    let due = self.inner.ctx.now() + crmmap_store::EVENT_LEASE;
                    self.enqueue(ev, true, "another instance is applying this event", due)
                        .await?;
                    return Ok(Outcome::Queued("in progress elsewhere".into()));
                }
            },
        };
        // A panic while applying becomes the event's failure: the claim is finished, never
        // lost with the task.
        let guarded =
            std::panic::AssertUnwindSafe(self.apply_locked(plan, ev, &board, &item)).catch_unwind();
        let applied = match tokio::time::timeout_at(deadline, guarded).await {
            Ok(Ok(applied)) => applied,
            Ok(Err(panic)) => {
                let message = drain::panic_message(panic.as_ref());
                tracing::error!(panic = %message, "applying an event panicked");
                Err(ApplyError::Panicked(message))
            }
            Err(_) => Err(ApplyError::Other(format!("not applied within {timeout:?}"))),
        };
        let now = self.inner.ctx.now();
        match applied {
            Ok(mut done) => {
                let values = std::mem::take(&mut done.remember);
                let entry = self.log_entry(
                    ev,
                    RunnerKind::Webhook,
                    done.action,
                    Some(&done),
                    &done.reason,
                );
                scope
                    .finish(Completion {
                        outcome: EventOutcome::Applied,
                        detail: Some(&done.reason),
                        values: &values,
                        log: &entry,
                        retry: None,
                        now,
                    })
                    .await?;
                Ok(Outcome::Done(done))
            }
            Err(e) => {
                let error = e.to_string();
                let failure = drain::classify_apply(&e).class;
                // A refusal of the item itself goes to the dead letters at once (a person must
                // act); anything else to the queue.
                let (note, detail) = match failure {
                    FailureClass::Permanent => ("dead letter", "dead letter"),
                    _ => ("queued for retry", "queued for retry"),
                };
                let entry = self.log_entry(
                    ev,
                    RunnerKind::Webhook,
                    Action::Failed,
                    None,
                    &format!("{note}: {error}"),
                );
                // The queue owns it now: a redelivery from monday must not apply it twice.
                let payload = json!({ "event": ev.raw, "check_dedup": false });
                scope
                    .finish(Completion {
                        outcome: EventOutcome::Applied,
                        detail: Some(detail),
                        values: &[],
                        log: &entry,
                        retry: Some(RetryRequest {
                            kind: RETRY_KIND,
                            payload: &payload,
                            error: &error,
                            failure,
                            due: self.first_retry_due(),
                        }),
                        now,
                    })
                    .await?;
                Ok(match failure {
                    FailureClass::Permanent => Outcome::DeadLetter(error),
                    _ => Outcome::Queued(error),
                })
            }
        }
    }

    /// An event skipped for what it is (unmapped board, unhandled type, crmmap's own
    /// change): recorded with its log row in one commit, without taking its item's lock.
    async fn handle_skipped(
        &self,
        ev: &Event,
        skip: Done,
    ) -> Result<Outcome, crmmap_store::StoreError> {
        let entry = self.log_entry(
            ev,
            RunnerKind::Webhook,
            skip.action,
            Some(&skip),
            &skip.reason,
        );
        let store = &self.inner.ctx.store;
        if store
            .record_skipped_event(&ev.key, &entry, self.inner.ctx.now())
            .await?
        {
            Ok(Outcome::Done(skip))
        } else {
            Ok(self.duplicate(ev).await)
        }
    }

    /// A redelivery of an applied event: logged, nothing else.
    async fn duplicate(&self, ev: &Event) -> Outcome {
        self.log(
            ev,
            RunnerKind::Webhook,
            Action::Skipped,
            None,
            "duplicate delivery",
        )
        .await;
        Outcome::Duplicate
    }

    /// Queues an event that was not claimed, for the retry queue to claim it later.
    async fn queue_unclaimed(
        &self,
        ev: &Event,
        error: &str,
    ) -> Result<Outcome, crmmap_store::StoreError> {
        self.enqueue(ev, true, error, self.first_retry_due())
            .await?;
        self.log(
            ev,
            RunnerKind::Webhook,
            Action::Failed,
            None,
            &format!("queued for retry: {error}"),
        )
        .await;
        Ok(Outcome::Queued(error.to_owned()))
    }

    fn first_retry_due(&self) -> time::OffsetDateTime {
        let delay = self.inner.options.retry.delay(1, &mut rand::thread_rng());
        self.inner.ctx.now() + time::Duration::try_from(delay).unwrap_or(time::Duration::MINUTE)
    }

    async fn enqueue(
        &self,
        ev: &Event,
        check_dedup: bool,
        error: &str,
        due: time::OffsetDateTime,
    ) -> Result<i64, crmmap_store::StoreError> {
        let payload = json!({ "event": ev.raw, "check_dedup": check_dedup });
        self.inner
            .ctx
            .store
            .enqueue_retry(
                RETRY_KIND,
                &ev.key,
                &payload,
                error,
                due,
                self.inner.ctx.now(),
            )
            .await
    }
}

/// The routes' paths start with one of these.
const ROUTE_ROOTS: [&str; 2] = ["/webhooks/monday", "/health"];

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
pub fn without_path_prefix<B>(mut req: http::Request<B>) -> http::Request<B> {
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

fn reply(status: StatusCode, body: Json) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn error_reply(status: StatusCode, message: &str) -> Response {
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

/// `GET /health`: the store answers, and (when this process drains the retry queue) the
/// drain made progress recently. 503 otherwise, with what is wrong.
async fn health(State(w): State<Webhook>) -> Response {
    if w.inner.ctx.store.ping().await.is_err() {
        return error_reply(StatusCode::SERVICE_UNAVAILABLE, "state store unavailable");
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn settings(text: &str) -> Settings {
        Settings::parse(text, Path::new("crmmap.toml"), Path::new("."), |_| None).unwrap()
    }

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(a, _)| *a == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn options_need_some_authentication() {
        let e = WebhookOptions::from_settings(&settings(""), env(&[])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no webhook authentication: set MONDAY_SIGNING_SECRET or CRMMAP_WEBHOOK_TOKEN"
        );
        let e = WebhookOptions::from_settings(
            &settings("[webhook]\nrequire_signature = true\n"),
            env(&[("CRMMAP_WEBHOOK_TOKEN", "0123456789abcdef0")]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("MONDAY_SIGNING_SECRET"), "{e}");
        let e =
            WebhookOptions::from_settings(&settings(""), env(&[("CRMMAP_WEBHOOK_TOKEN", "short")]))
                .unwrap_err();
        assert!(e.to_string().contains("too short"), "{e}");
    }

    #[test]
    fn options_read_the_file_and_the_environment_without_showing_secrets() {
        let s = settings(
            "[webhook]\npath_token_env = \"MY_TOKEN\"\n[retry]\nmax_attempts = 3\nfirst_delay_s = 5\nmax_delay_s = 60\n[alerts]\ntelegram = true\nslack = true\ntelegram_api_url = \"http://127.0.0.1:1\"\n",
        );
        let o = WebhookOptions::from_settings(
            &s,
            env(&[
                ("MY_TOKEN", "path-token-0123456789"),
                ("MONDAY_SIGNING_SECRET", "sign-s3cret"),
                ("TELEGRAM_TOKEN", "123:tg-s3cret"),
                ("TELEGRAM_CHAT_ID", "42"),
                ("SLACK_WEBHOOK_URL", "https://hooks.example/slack-s3cret"),
                ("CRMMAP_EXTERNAL_ID_FIELD", "External_Id__c"),
            ]),
        )
        .unwrap();
        assert_eq!(
            (o.retry.max_attempts, o.retry.base_delay, o.retry.max_delay),
            (3, Duration::from_secs(5), Duration::from_secs(60))
        );
        assert_eq!(o.external_id_field.as_deref(), Some("External_Id__c"));
        assert!(o.auth.check(None, Some("path-token-0123456789")).is_ok());
        assert_eq!(o.alerts.telegram.as_ref().unwrap().0, "http://127.0.0.1:1");
        let shown = format!("{o:?}");
        for secret in ["path-token", "sign-s3cret", "tg-s3cret", "slack-s3cret"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        // An enabled channel without its variables is an error, not a silent no-op.
        let e = WebhookOptions::from_settings(&s, env(&[("MY_TOKEN", "path-token-0123456789")]))
            .unwrap_err();
        assert!(e.to_string().contains("TELEGRAM_TOKEN"), "{e}");
    }
}
