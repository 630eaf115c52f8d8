//! Local emulator of the monday.com GraphQL API (`POST /v2`) and its board webhooks, for
//! tests, benchmarks and `crmmap sandbox`.
//!
//! ```text
//! POST /v2 ─► auth (raw token) ─► faults/latency ─► JSON body ─► parse + validate (real SDL)
//!         ─► cost model ─► per-minute budget (429) ─► execute (apollo-compiler resolvers)
//!         ─► response {data, errors, extensions.request_id} ─► webhooks (async, retried)
//! ```
//!
//! Every document is parsed and validated against the official 2026-10 SDL before it runs;
//! the subset of fields the crmmap client uses is executed against an in-memory account
//! seeded with the four sample boards of the seed mappings.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use crmmap_emu_monday::{EmulatorOptions, start};
//!
//! let emulator = start(EmulatorOptions::default()).await.unwrap();
//! assert!(emulator.base_url().ends_with("/v2"));
//! assert_eq!(emulator.state().with_account(|a| a.boards.len()), 4);
//! emulator.shutdown().await;
//! # });
//! ```

pub mod cost;
pub mod events;
pub mod exec;
pub mod limits;
mod receipts;
pub mod sample;
pub mod state;
pub mod values;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apollo_compiler::executable::OperationType;
use apollo_compiler::resolvers::Execution;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use crmmap_monday::{DocumentError, Secret, schema, validate_document};
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use crate::cost::CostModel;
pub use crate::events::{Delivery, Event, WebhookSender};
pub use crate::limits::{LimitKind, LimitUsage, Limits, Plan, Refusal};
pub use crate::receipts::MutationReceipt;
pub use crate::state::{Account, ColumnKind, Counters, Fault, ItemState, NameInColumnValues};

/// The API version served when the request names none.
pub const CURRENT_API_VERSION: &str = "2026-10";

/// How the emulator behaves.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The accepted API token (sent raw in `Authorization`).
    pub token: Secret,
    /// User id of the token (webhook `userId`).
    pub user_id: u64,
    /// Account id (webhook JWT claims).
    pub account_id: u64,
    /// Seed the four sample boards.
    pub seed_sample_boards: bool,
    /// Deterministic items generated per sample board.
    pub generated_items_per_board: usize,
    /// Complexity budget per minute (10,000,000 for a personal token).
    pub complexity_budget_per_minute: u64,
    /// Length of an emulated minute (budget window, cursor lifetime, webhook retry interval).
    pub minute: Duration,
    /// Latency added to every request.
    pub latency: Duration,
    /// Fraction of requests (0.0..=1.0) that fail, deterministically spread, alternating
    /// HTTP 500 and HTTP 423.
    pub error_rate: f64,
    /// Targets that receive every change of every board (besides `create_webhook` ones).
    pub webhook_targets: Vec<String>,
    /// Sign webhook deliveries with an HS256 JWT in `Authorization`.
    pub webhook_signing_secret: Option<Secret>,
    /// Most items per board (`ItemsLimitationException`).
    pub max_items_per_board: usize,
    /// Mutation costs.
    pub costs: CostModel,
    /// The minute, concurrency and daily limits (none by default; see [`Limits::of_plan`]).
    pub limits: Limits,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        Self {
            port: 0,
            token: Secret::new("emulator-token"),
            user_id: 67_214_742,
            account_id: 25_228_442,
            seed_sample_boards: true,
            generated_items_per_board: 0,
            complexity_budget_per_minute: 10_000_000,
            minute: Duration::from_secs(60),
            latency: Duration::ZERO,
            error_rate: 0.0,
            webhook_targets: Vec::new(),
            webhook_signing_secret: None,
            max_items_per_board: 10_000,
            costs: CostModel::default(),
            limits: Limits::NONE,
        }
    }
}

/// Subscription ids of the option-configured webhook targets start here.
pub const CONFIGURED_TARGET_SUBSCRIPTION_BASE: u64 = 400_000_001;

/// The emulator's shared state: account, options and webhook sender.
#[derive(Debug)]
pub struct EmulatorState {
    options: EmulatorOptions,
    account: Mutex<Account>,
    webhooks: Arc<WebhookSender>,
    knobs: Mutex<Knobs>,
    limits: Mutex<limits::LimitState>,
    /// Open (`true`) unless requests are held ([`EmulatorState::hold_requests`]).
    gate: tokio::sync::watch::Sender<bool>,
    receipts: receipts::Receipts,
}

/// Fault knobs that can change while the emulator runs.
#[derive(Debug, Clone, Copy)]
struct Knobs {
    latency: Duration,
    error_rate: f64,
    after_apply_rate: f64,
    /// How far the emulator's clock is ahead of the real one.
    clock_offset: Duration,
    /// What `change_multiple_column_values` does with `name`.
    name_in_column_values: NameInColumnValues,
}

/// Locks a mutex, also after a panic elsewhere poisoned it (the state stays usable).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Current time as monday renders it (`2025-02-05T16:28:02.630Z`).
pub fn now_iso() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

impl EmulatorState {
    /// A fresh state for these options.
    pub fn new(options: EmulatorOptions) -> Self {
        let mut account = Account::new(options.complexity_budget_per_minute, options.minute);
        if options.seed_sample_boards {
            for board in sample::sample_boards() {
                account.boards.insert(board.id, board);
            }
            sample::generate_items(&mut account, options.generated_items_per_board, &now_iso());
        }
        let webhooks = Arc::new(WebhookSender::new(
            options.minute,
            options.webhook_signing_secret.clone(),
            options.user_id,
            options.account_id,
        ));
        let knobs = Mutex::new(Knobs {
            latency: options.latency,
            error_rate: options.error_rate,
            after_apply_rate: 0.0,
            clock_offset: Duration::ZERO,
            name_in_column_values: NameInColumnValues::default(),
        });
        let limits = Mutex::new(limits::LimitState::new(options.limits));
        Self {
            options,
            account: Mutex::new(account),
            webhooks,
            knobs,
            limits,
            gate: tokio::sync::watch::Sender::new(true),
            receipts: receipts::Receipts::default(),
        }
    }

    fn knobs(&self) -> Knobs {
        *lock(&self.knobs)
    }

    /// Changes the latency added to every request.
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.knobs).latency = latency;
    }

    /// Changes the fraction of requests that fail (HTTP 500 and 423, alternating).
    pub fn set_error_rate(&self, error_rate: f64) {
        lock(&self.knobs).error_rate = error_rate;
    }

    /// Chooses what `change_multiple_column_values` does with the key `name` (renames by
    /// default; see [`NameInColumnValues`]).
    pub fn set_name_in_column_values(&self, reading: NameInColumnValues) {
        lock(&self.knobs).name_in_column_values = reading;
    }

    /// Changes the fraction of mutations (0.0..=1.0) that are applied and then answered badly,
    /// deterministically spread, alternating HTTP 500 and a dropped connection (see
    /// [`Fault::ServerErrorAfterApply`]). Queued faults go first.
    pub fn set_after_apply_rate(&self, rate: f64) {
        lock(&self.knobs).after_apply_rate = rate;
    }

    /// The emulator's clock, for the limits, the complexity budget and cursor lifetimes: the
    /// real clock plus every [`advance_clock`](Self::advance_clock). Item timestamps and
    /// webhook times stay on the real clock.
    pub fn now_instant(&self) -> Instant {
        Instant::now() + self.knobs().clock_offset
    }

    /// The emulator's clock in UTC (the daily limit resets at its midnight).
    pub fn now_utc(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc() + self.knobs().clock_offset
    }

    /// Moves the emulator's clock forward: minute windows, the complexity budget, cursors and
    /// the UTC day see the time pass at once.
    pub fn advance_clock(&self, by: Duration) {
        lock(&self.knobs).clock_offset += by;
    }

    /// Moves the emulator's clock to just after the next midnight UTC: the daily limit's
    /// count starts again (and every minute window and the complexity budget reset).
    pub fn start_next_day(&self) {
        let now = self.now_utc();
        let into_day = Duration::from_secs(
            u64::try_from(now.unix_timestamp().rem_euclid(86_400)).unwrap_or(0),
        ) + Duration::from_nanos(u64::from(now.nanosecond()));
        self.advance_clock(Duration::from_secs(86_400) - into_day + Duration::from_millis(1));
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        lock(&self.limits).limits
    }

    /// Replaces the minute, concurrency and daily limits (counts so far are kept).
    pub fn set_limits(&self, limits: Limits) {
        lock(&self.limits).limits = limits;
    }

    /// Sets the minute limit (requests per emulated minute; `None`: no limit).
    pub fn set_minute_limit(&self, requests_per_minute: Option<u32>) {
        lock(&self.limits).limits.requests_per_minute = requests_per_minute;
    }

    /// Sets the concurrency limit (requests in flight at once; `None`: no limit).
    pub fn set_concurrency_limit(&self, concurrency: Option<u32>) {
        lock(&self.limits).limits.concurrency = concurrency;
    }

    /// Sets the daily call limit (calls per UTC day; `None`: no limit).
    pub fn set_daily_limit(&self, daily_calls: Option<u32>) {
        lock(&self.limits).limits.daily_calls = daily_calls;
    }

    /// Sets how many calls today has already used (another integration's, say).
    pub fn set_daily_calls_used(&self, calls: u32) {
        let unix = self.now_utc().unix_timestamp();
        lock(&self.limits).set_daily_calls(calls, unix);
    }

    /// What the limits have counted: this minute's requests, requests in flight, today's
    /// calls.
    pub fn limit_usage(&self) -> LimitUsage {
        let (now, unix) = (self.now_instant(), self.now_utc().unix_timestamp());
        lock(&self.limits).usage(now, self.options.minute, unix)
    }

    /// Holds every request that arrives from now on (after the limits admitted it, before
    /// it runs) until [`release_requests`](Self::release_requests): held requests stay in
    /// flight, so a test can fill the concurrency limit without timing.
    pub fn hold_requests(&self) {
        self.gate.send_replace(false);
    }

    /// Lets held requests run, and new ones through.
    pub fn release_requests(&self) {
        self.gate.send_replace(true);
    }

    /// Admits a request or answers which limit refuses it (reference: `limits`).
    fn admit(&self, level: u32) -> Result<(), Refusal> {
        let (now, unix) = (self.now_instant(), self.now_utc().unix_timestamp());
        let result = lock(&self.limits).admit(level, now, self.options.minute, unix);
        if let Err(refusal) = &result {
            self.with_account(|a| {
                a.counters.requests += 1;
                match refusal.kind {
                    LimitKind::Minute => a.counters.minute_limited += 1,
                    LimitKind::Concurrency => a.counters.concurrency_limited += 1,
                    LimitKind::Daily => a.counters.daily_limited += 1,
                }
            });
        }
        result
    }

    /// A copy of one item (any state).
    pub fn item(&self, id: u64) -> Option<state::Item> {
        self.with_account(|a| a.items.get(&id).cloned())
    }

    /// Copies of a board's active items, in creation order.
    pub fn active_items(&self, board_id: u64) -> Vec<state::Item> {
        self.with_account(|a| a.active_items(board_id).cloned().collect())
    }

    /// Adds an item directly (no webhooks, no budget), with column values in the API write
    /// formats keyed by column id. For seeding tests and sandboxes.
    pub fn seed_item(
        &self,
        board_id: u64,
        name: &str,
        column_values: &serde_json::Map<String, Value>,
    ) -> Result<u64, exec::AppError> {
        let now = now_iso();
        self.with_account(|account| {
            let board = account
                .boards
                .get(&board_id)
                .ok_or_else(|| exec::codes::board_not_found(&board_id.to_string()))?;
            let group_id = board.groups[0].id.clone();
            let mut columns = board.columns.clone();
            let mut stored = std::collections::BTreeMap::new();
            {
                let items = &account.items;
                let item_board = |id: u64| {
                    items
                        .get(&id)
                        .filter(|i| i.state != ItemState::Deleted)
                        .map(|i| i.board_id)
                };
                for (column_id, raw) in column_values {
                    let column = columns
                        .iter_mut()
                        .find(|c| &c.id == column_id)
                        .ok_or_else(|| exec::codes::column_not_found(column_id))?;
                    if let Some(value) = values::write_value(column, raw, true, &now, &item_board)?
                    {
                        stored.insert(column_id.clone(), value);
                    }
                }
            }
            if let Some(board) = account.boards.get_mut(&board_id) {
                board.columns = columns;
            }
            let id = account.next_item_id;
            account.next_item_id += 1;
            account.items.insert(
                id,
                state::Item {
                    id,
                    board_id,
                    group_id,
                    name: name.to_owned(),
                    state: ItemState::Active,
                    created_at: now.clone(),
                    updated_at: now.clone(),
                    values: stored,
                },
            );
            Ok(id)
        })
    }

    /// The options.
    pub fn options(&self) -> &EmulatorOptions {
        &self.options
    }

    /// Runs `f` on the account (boards, items, counters, faults, budget).
    pub fn with_account<R>(&self, f: impl FnOnce(&mut Account) -> R) -> R {
        f(&mut lock(&self.account))
    }

    /// A copy of the counters.
    pub fn counters(&self) -> Counters {
        self.with_account(|a| a.counters.clone())
    }

    /// Makes one of the next requests fail (faults are used in order). A fault that strikes
    /// after the document ran ([`Fault::after_apply`]) waits for the next mutation.
    pub fn push_fault(&self, fault: Fault) {
        self.with_account(|a| {
            if fault.after_apply() {
                a.after_apply_faults.push_back(fault);
            } else {
                a.faults.push_back(fault);
            }
        });
    }

    /// Every mutation document that ran, oldest first (the newest 100,000): when its request
    /// arrived, when it was applied, the items it touched.
    pub fn mutation_receipts(&self) -> Vec<MutationReceipt> {
        self.receipts.all()
    }

    /// The webhook sender and its delivery log.
    pub fn webhooks(&self) -> &Arc<WebhookSender> {
        &self.webhooks
    }
}

/// The router: `POST /v2` only.
pub fn router(state: Arc<EmulatorState>) -> Router {
    Router::new().route("/v2", post(graphql)).with_state(state)
}

/// A running emulator.
#[derive(Debug)]
pub struct RunningEmulator {
    addr: SocketAddr,
    state: Arc<EmulatorState>,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl RunningEmulator {
    /// `http://127.0.0.1:<port>/v2`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v2", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state.
    pub fn state(&self) -> &Arc<EmulatorState> {
        &self.state
    }

    /// Stops serving and waits for the server task.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(());
        let _ = self.task.await;
    }
}

/// Binds 127.0.0.1 and serves the emulator in a tokio task.
pub async fn start(options: EmulatorOptions) -> std::io::Result<RunningEmulator> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port)).await?;
    let addr = listener.local_addr()?;
    let state = Arc::new(EmulatorState::new(options));
    let app = router(state.clone());
    let (shutdown, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = rx.await;
        });
        if let Err(err) = serve.await {
            tracing::error!(%err, "monday emulator stopped");
        }
    });
    Ok(RunningEmulator {
        addr,
        state,
        shutdown,
        task,
    })
}

/// HTTP 500 with the reference's message (§1.5); the code is an ASSUMPTION (README).
fn internal_error(request_id: &str) -> (StatusCode, Value) {
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        vec![error_entry(
            "Internal Server Error",
            "INTERNAL_SERVER_ERROR",
            500,
        )],
        request_id,
    )
}

/// An error response with the envelope every response has.
fn error_response(status: StatusCode, errors: Vec<Value>, request_id: &str) -> (StatusCode, Value) {
    (
        status,
        json!({ "errors": errors, "extensions": { "request_id": request_id } }),
    )
}

fn error_entry(message: &str, code: &str, status_code: u16) -> Value {
    json!({
        "message": message,
        "extensions": { "code": code, "status_code": status_code, "error_data": {} },
    })
}

/// Whether the `n`-th request (1-based) fails at this error rate: failures are spread
/// evenly and deterministically.
fn fails_at_rate(n: u64, rate: f64) -> bool {
    if rate <= 0.0 {
        return false;
    }
    let rate = rate.min(1.0);
    ((n as f64) * rate).floor() > (((n - 1) as f64) * rate).floor()
}

/// Well-formed `YYYY-MM`.
fn valid_version(version: &str) -> bool {
    let bytes = version.as_bytes();
    bytes.len() == 7
        && bytes[4] == b'-'
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[5..].iter().all(u8::is_ascii_digit)
}

fn document_errors(error: &DocumentError) -> Vec<Value> {
    let errors: Vec<Value> = error
        .problems()
        .iter()
        .map(|problem| {
            let locations: Vec<Value> = problem
                .location
                .iter()
                .map(|(line, column)| json!({ "line": line, "column": column }))
                .collect();
            match error {
                DocumentError::Syntax(_) => json!({
                    "message": format!("Parse error on {}", problem.message),
                    "locations": locations,
                    "extensions": { "code": "PARSE_ERROR" },
                }),
                DocumentError::Invalid(_) => {
                    // apollo-compiler: "type `Board` does not have a field `items`"
                    let undefined = problem
                        .message
                        .strip_prefix("type `")
                        .and_then(|rest| rest.split_once("` does not have a field `"))
                        .map(|(type_name, field)| (type_name.to_owned(), field.trim_end_matches('`').to_owned()));
                    match undefined {
                        Some((type_name, field_name)) => json!({
                            "message": format!("Field '{field_name}' doesn't exist on type '{type_name}'"),
                            "locations": locations,
                            "extensions": { "code": "undefinedField", "typeName": type_name, "fieldName": field_name },
                        }),
                        None => json!({
                            "message": problem.message,
                            "locations": locations,
                            "extensions": { "code": "GRAPHQL_VALIDATION_FAILED" },
                        }),
                    }
                }
            }
        })
        .collect();
    // apollo-compiler also reports the parent of an unknown field as lacking a selection
    // set; monday reports only the unknown field.
    if errors
        .iter()
        .any(|e| e["extensions"]["code"] == "undefinedField")
    {
        errors
            .into_iter()
            .filter(|e| e["extensions"]["code"] == "undefinedField")
            .collect()
    } else {
        errors
    }
}

/// A request in flight, for the concurrency limit; leaves when the answer is sent or the
/// request is abandoned.
struct InFlight {
    state: Arc<EmulatorState>,
    level: u32,
}

impl InFlight {
    fn enter(state: &Arc<EmulatorState>) -> Self {
        let level = lock(&state.limits).enter();
        Self {
            state: state.clone(),
            level,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        lock(&self.state.limits).leave();
    }
}

async fn graphql(
    State(state): State<Arc<EmulatorState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let received = std::time::Instant::now();
    let in_flight = InFlight::enter(&state);
    let request_id = uuid::Uuid::new_v4().to_string();
    let version = headers
        .get("API-Version")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| CURRENT_API_VERSION.to_owned(), str::to_owned);
    // The limits count the account's requests: those with its token (an unauthorized one is
    // answered 401 below). A refusal is answered at once.
    let admitted = authorized(&state, &headers);
    if admitted && let Err(refusal) = state.admit(in_flight.level) {
        return respond(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            refusal.body(&request_id),
            Some(refusal.retry_in_seconds),
            &version,
            Some(&refusal),
        );
    }
    let latency = state.knobs().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut gate = state.gate.subscribe();
    // The sender lives as long as the state this handler holds.
    let _ = gate.wait_for(|open| *open).await;
    let mut dropped = false;
    let (status, body, retry_after) = handle(
        &state,
        &headers,
        &body,
        &version,
        &request_id,
        received,
        &mut dropped,
    )
    .await;
    if admitted && status == StatusCode::TOO_MANY_REQUESTS {
        lock(&state.limits).count_as_tenth_of_a_call();
    }
    if dropped {
        return dropped_connection();
    }
    let response = respond(&state, status, body, retry_after, &version, None);
    drop(in_flight);
    response
}

fn authorized(state: &EmulatorState, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == state.options.token.expose())
}

/// The answer with its headers: `API-Version` echoed, `RateLimit-Policy` and `RateLimit`
/// (reference §2.4) for the complexity budget and the limits in force, `Retry-After`.
fn respond(
    state: &EmulatorState,
    status: StatusCode,
    body: Value,
    retry_after: Option<u64>,
    version: &str,
    refused: Option<&Refusal>,
) -> Response {
    let options = &state.options;
    let now = state.now_instant();
    let unix = state.now_utc().unix_timestamp();
    let (limit, remaining, reset) = state.with_account(|a| {
        let remaining = a.budget.remaining_now(now);
        let reset = a.budget.reset_in(now).as_secs_f64().ceil() as u64;
        (a.budget.limit, remaining, reset)
    });
    let (mut policy, mut rate) = {
        let mut limits = lock(&state.limits);
        (
            limits.policy_items(options.minute),
            limits.rate_items(now, options.minute, unix, refused),
        )
    };
    policy.push(format!(
        "\"complexityMinute\";q={limit};w={};qu=\"content-bytes\"",
        options.minute.as_secs().max(1)
    ));
    rate.push(format!("\"complexityMinute\";r={remaining};t={reset}"));
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(version) {
        headers.insert("API-Version", v);
    }
    if let Ok(v) = HeaderValue::from_str(&policy.join(", ")) {
        headers.insert("RateLimit-Policy", v);
    }
    if let Ok(v) = HeaderValue::from_str(&rate.join(", ")) {
        headers.insert("RateLimit", v);
    }
    if let Some(seconds) = retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// An answer whose body breaks off: the server closes the connection before the client has
/// read a complete response.
fn dropped_connection() -> Response {
    let broken = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected: connection dropped after the mutation was applied",
        ))
    });
    (StatusCode::OK, axum::body::Body::from_stream(broken)).into_response()
}

/// Runs one request. `dropped` is set when the connection is to be dropped instead of
/// answered ([`Fault::DropAfterApply`]).
async fn handle(
    state: &Arc<EmulatorState>,
    headers: &HeaderMap,
    body: &[u8],
    version: &str,
    request_id: &str,
    received: std::time::Instant,
    dropped: &mut bool,
) -> (StatusCode, Value, Option<u64>) {
    let options = &state.options;
    let n = state.with_account(|a| {
        a.counters.requests += 1;
        a.counters.requests
    });

    if !authorized(state, headers) {
        let (s, b) = error_response(
            StatusCode::UNAUTHORIZED,
            vec![error_entry("Unauthorized", "Unauthorized", 401)],
            request_id,
        );
        return (s, b, Some(0));
    }
    if !valid_version(version) {
        let (s, b) = error_response(
            StatusCode::BAD_REQUEST,
            vec![error_entry(
                &format!("Invalid API version `{version}`, expected YYYY-MM"),
                "InvalidVersionException",
                400,
            )],
            request_id,
        );
        return (s, b, Some(0));
    }

    let fault = state.with_account(|a| {
        let fault = a.faults.pop_front().or_else(|| {
            fails_at_rate(n, state.knobs().error_rate).then(|| {
                if (a.counters.injected_server_errors + a.counters.injected_locks) % 2 == 0 {
                    Fault::ServerError
                } else {
                    Fault::Locked
                }
            })
        });
        match fault {
            Some(Fault::ServerError) => a.counters.injected_server_errors += 1,
            Some(Fault::Locked) => a.counters.injected_locks += 1,
            _ => {}
        }
        fault
    });
    match fault {
        Some(Fault::ServerError) => {
            let (s, b) = internal_error(request_id);
            return (s, b, Some(1));
        }
        Some(Fault::Locked) => {
            let (s, b) = error_response(
                StatusCode::LOCKED,
                // The message is the reference's (§1.5, 423); the code is an ASSUMPTION.
                vec![error_entry(
                    "Resource is currently locked, please try again later",
                    "ResourceLocked",
                    423,
                )],
                request_id,
            );
            return (s, b, Some(1));
        }
        _ => {}
    }

    let bad_request = |message: &str| {
        let (s, b) = error_response(
            StatusCode::BAD_REQUEST,
            vec![error_entry(message, "JsonParseException", 400)],
            request_id,
        );
        (s, b, Some(0))
    };
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return bad_request("Bad request: the body is not valid json");
    };
    let Some(query) = request.get("query").and_then(Value::as_str) else {
        return bad_request("Bad request: the body has no `query` string");
    };
    let variables = match request.get("variables") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => return bad_request("Bad request: `variables` must be a json object"),
    };
    let operation_name = request.get("operationName").and_then(Value::as_str);

    let document = match validate_document(query) {
        Ok(document) => document,
        Err(error) => {
            state.with_account(|a| a.counters.invalid_documents += 1);
            let (s, b) = error_response(StatusCode::OK, document_errors(&error), request_id);
            return (s, b, None);
        }
    };
    let operation = match document.operations.get(operation_name) {
        Ok(op) => op.clone(),
        Err(err) => {
            let (s, b) = error_response(
                StatusCode::OK,
                vec![
                    json!({ "message": err.message().to_string(), "extensions": { "code": "GRAPHQL_VALIDATION_FAILED" } }),
                ],
                request_id,
            );
            return (s, b, None);
        }
    };
    // A standalone `complexity` query counts a tenth of a daily call (reference §2.1).
    let only_complexity = !operation.selection_set.selections.is_empty()
        && operation.selection_set.selections.iter().all(|s| {
            matches!(s, apollo_compiler::executable::Selection::Field(f) if f.name == "complexity")
        });
    if only_complexity {
        lock(&state.limits).count_as_tenth_of_a_call();
    }
    let raw_variables = match serde_json_bytes::Value::from(Value::Object(variables.clone())) {
        serde_json_bytes::Value::Object(map) => map,
        _ => serde_json_bytes::Map::new(),
    };
    let coerced = match apollo_compiler::request::coerce_variable_values(
        schema(),
        &operation,
        &raw_variables,
    ) {
        Ok(coerced) => coerced,
        Err(err) => {
            let (s, b) = error_response(
                StatusCode::OK,
                vec![
                    json!({ "message": err.message().to_string(), "extensions": { "code": "GRAPHQL_VALIDATION_FAILED" } }),
                ],
                request_id,
            );
            return (s, b, None);
        }
    };

    let cost = cost::estimate(
        &document,
        &operation.selection_set,
        &variables,
        &options.costs,
        true,
    );
    if cost > cost::MAX_QUERY_COMPLEXITY {
        let (s, b) = error_response(
            StatusCode::OK,
            vec![json!({
                "message": format!("Query has complexity of {cost}, which exceeds max complexity of {}", cost::MAX_QUERY_COMPLEXITY),
                "extensions": { "code": "ComplexityException", "status_code": 200, "error_data": {} },
            })],
            request_id,
        );
        return (s, b, None);
    }
    let charge = state.with_account(|a| {
        let result = a.budget.charge(cost, state.now_instant());
        if result.is_err() {
            a.counters.budget_exhausted += 1;
        }
        result
    });
    let charge = match charge {
        Ok(charge) => charge,
        Err(retry_in) => {
            // The 2025-07+ body (reference §2.3).
            let body = json!({
                "errors": [{
                    "message": "Complexity budget exhausted",
                    "extensions": { "code": "COMPLEXITY_BUDGET_EXHAUSTED", "retry_in_seconds": retry_in },
                }],
                "extensions": { "request_id": request_id },
            });
            return (StatusCode::TOO_MANY_REQUESTS, body, Some(retry_in));
        }
    };

    // The challenge handshake happens before execution, outside the account lock.
    let mut challenges = HashMap::new();
    if operation.operation_type == OperationType::Mutation {
        for selection in &operation.selection_set.selections {
            if let apollo_compiler::executable::Selection::Field(field) = selection
                && field.name == "create_webhook"
            {
                let url = field
                    .arguments
                    .iter()
                    .find(|a| a.name == "url")
                    .map(|a| cost::ast_to_json(&a.value, &variables));
                if let Some(Value::String(url)) = url
                    && let std::collections::hash_map::Entry::Vacant(entry) = challenges.entry(url)
                {
                    let result = state.webhooks.challenge(entry.key()).await;
                    entry.insert(result);
                }
            }
        }
    }

    let settings = exec::ExecSettings {
        minute: options.minute,
        max_items_per_board: options.max_items_per_board,
        legacy_relation_value: version < "2025-04",
        user_id: options.user_id,
        name_in_column_values: state.knobs().name_in_column_values,
    };
    // A fault that waits for a mutation strikes this one: in one of its aliases, or once it
    // was applied (an assumption: see README).
    let after = if operation.operation_type == OperationType::Mutation {
        let rate = state.knobs().after_apply_rate;
        state.with_account(|a| {
            a.counters.mutations += 1;
            let fault = a.after_apply_faults.pop_front().or_else(|| {
                let kind = if a.counters.injected_after_apply % 2 == 0 {
                    Fault::ServerErrorAfterApply
                } else {
                    Fault::DropAfterApply
                };
                fails_at_rate(a.counters.mutations, rate).then_some(kind)
            });
            match fault {
                Some(Fault::AliasFails(_) | Fault::ServerErrorAtAlias(_)) => {
                    a.counters.injected_alias_faults += 1;
                }
                Some(_) => a.counters.injected_after_apply += 1,
                None => {}
            }
            fault
        })
    } else {
        None
    };
    let alias_fault = match after {
        Some(Fault::AliasFails(n)) => Some(exec::AliasFault::Fails(n)),
        Some(Fault::ServerErrorAtAlias(n)) => Some(exec::AliasFault::ServerErrorAt(n)),
        _ => None,
    };
    // A bug in a resolver must not take the emulator down: it becomes an HTTP 500.
    let executed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut account = lock(&state.account);
        account.counters.executed += 1;
        account.counters.complexity_spent += cost;
        let ctx = exec::ExecCtx::new(&mut account, charge, now_iso(), &settings, &challenges)
            .at(state.now_instant())
            .with_alias_fault(alias_fault);
        let response = {
            let root = exec::Root::new(&ctx, operation.operation_type == OperationType::Mutation);
            Execution::new(schema(), &document)
                .operation(&operation)
                .coerced_variable_values(&coerced)
                .execute_sync(&root)
        };
        let output = ctx.finish();
        let mut deliveries = Vec::new();
        for event in &output.events {
            for subscription in account
                .webhooks
                .iter()
                .filter(|w| w.board_id == event.board_id())
            {
                if event.matches(&subscription.event, subscription.config.as_ref()) {
                    deliveries.push((subscription.url.clone(), subscription.id, event.clone()));
                }
            }
            for (i, url) in options.webhook_targets.iter().enumerate() {
                deliveries.push((
                    url.clone(),
                    CONFIGURED_TARGET_SUBSCRIPTION_BASE + i as u64,
                    event.clone(),
                ));
            }
        }
        (response, output, deliveries)
    }));
    let Ok((response, output, deliveries)) = executed else {
        let (s, b) = internal_error(request_id);
        return (s, b, Some(1));
    };
    if operation.operation_type == OperationType::Mutation {
        state
            .receipts
            .record(received, std::time::Instant::now(), &output.events);
    }
    for (url, subscription_id, event) in deliveries {
        tokio::spawn(state.webhooks.clone().deliver(url, subscription_id, event));
    }
    // A mutation applied (wholly, or up to a failing alias) and then answered badly.
    match after {
        Some(Fault::DropAfterApply) => {
            *dropped = true;
            let (s, b) = internal_error(request_id);
            return (s, b, None);
        }
        Some(Fault::ServerErrorAfterApply | Fault::ServerErrorAtAlias(_)) => {
            let (s, b) = internal_error(request_id);
            return (s, b, Some(1));
        }
        _ => {}
    }

    let response = match response {
        Ok(response) => response,
        Err(err) => {
            let (s, b) = error_response(
                StatusCode::OK,
                vec![
                    json!({ "message": err.message().to_string(), "extensions": { "code": "GRAPHQL_VALIDATION_FAILED" } }),
                ],
                request_id,
            );
            return (s, b, None);
        }
    };
    let errors: Vec<Value> = response
        .errors
        .iter()
        .map(|error| {
            let mut value = serde_json::to_value(error).unwrap_or(Value::Null);
            // apollo-compiler prefixes resolver messages ("resolver error: …").
            let app = error
                .message
                .split_once(exec::APP_ERROR_MARKER)
                .and_then(|(_, i)| i.parse::<usize>().ok())
                .and_then(|i| output.errors.get(i));
            if let (Some(app), Value::Object(map)) = (app, &mut value) {
                map.insert("message".into(), json!(app.message));
                map.insert(
                    "extensions".into(),
                    json!({ "code": app.code, "status_code": app.status_code, "error_data": app.error_data }),
                );
            }
            value
        })
        .collect();
    let data = serde_json::to_value(&response.data).unwrap_or(Value::Null);
    let mut body = Map::new();
    body.insert("data".into(), data);
    if !errors.is_empty() {
        body.insert("errors".into(), Value::Array(errors));
    }
    body.insert("extensions".into(), json!({ "request_id": request_id }));
    (StatusCode::OK, Value::Object(body), None)
}
