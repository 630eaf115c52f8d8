//! The HTTP client: headers, retries, budget pacing, reads, batched writes.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::Stream;
use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use serde_json::{Map, Value, json};
use tokio::sync::Semaphore;

use crate::budget::BudgetTracker;
use crate::config::MondayConfig;
use crate::documents::{self, ItemMutation};
use crate::error::{
    GraphQlError, LONGEST_HINT, Limit, MondayError, board_unsure, classify, limit_error,
    limit_named,
};
use crate::types::{
    Board, Complexity, Item, ItemsPage, ShapeError, Webhook, parse_board, parse_item,
    parse_items_page, parse_webhook,
};

/// Largest page monday serves for `items_page`, `next_items_page` and
/// `items_page_by_column_values`.
pub const MAX_PAGE_SIZE: u32 = 500;

/// Most ids the root `items` query takes without the stricter rate limit.
pub const MAX_ITEMS_BY_ID: usize = 100;

/// The client-side cost estimates used for pacing and batch sizing. monday publishes no
/// per-mutation costs (reference §2.2, UNCERTAIN); its best-practice page says 10,000 per
/// `create_item`. Observed `complexity.query` values keep the tracker honest either way.
pub mod cost {
    /// Estimated cost of one `create_item`.
    pub const CREATE_ITEM: u64 = 10_000;
    /// Estimated cost of one `change_multiple_column_values`.
    pub const CHANGE_COLUMN_VALUES: u64 = 3_000;
    /// Estimated cost of one `delete_item` or `archive_item`.
    pub const DELETE_OR_ARCHIVE: u64 = 3_000;
    /// Estimated cost of webhook management calls.
    pub const WEBHOOK: u64 = 1_000;

    /// Estimated cost of reading `items` items with `columns` column values each
    /// (`None`: every column, assumed 30): about 13 points per item for the item, its board
    /// and group, and 4 per column value with its typed fragments.
    pub fn read(items: u64, columns: Option<usize>) -> u64 {
        let columns = columns.map_or(30, |c| c as u64);
        10 + items * (13 + 4 * columns)
    }
}

/// What to read per page.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageRequest {
    /// Items per page, 1 to 500 (25 when 0).
    pub limit: u32,
    /// Columns to return; every column when `None`.
    pub column_ids: Option<Vec<String>>,
    /// `items_page` `query_params` (an `ItemsQuery` object), e.g.
    /// `{"rules": [{"column_id": "text_x", "compare_value": ["a"], "operator": "any_of"}]}`.
    pub query_params: Option<Value>,
}

impl PageRequest {
    /// Estimated complexity of reading one page.
    fn estimate(&self) -> u64 {
        cost::read(
            u64::from(self.limit()),
            self.column_ids.as_ref().map(Vec::len),
        )
    }

    fn limit(&self) -> u32 {
        match self.limit {
            0 => 25,
            n => n.min(MAX_PAGE_SIZE),
        }
    }
}

/// The result of one successful mutation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MutationResult {
    /// Id of the created or changed item.
    pub item_id: String,
    /// Its name after the mutation.
    pub name: Option<String>,
    /// Its board, when returned.
    pub board_id: Option<String>,
}

/// A decoded GraphQL response.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphQlResponse {
    /// `data`, `Null` when absent.
    pub data: Value,
    /// `errors`.
    pub errors: Vec<GraphQlError>,
    /// `data.complexity`, when present.
    pub complexity: Option<Complexity>,
}

impl GraphQlResponse {
    /// Parses a response body.
    pub fn from_json(body: &Value) -> Self {
        let data = body.get("data").cloned().unwrap_or(Value::Null);
        // The historic flat shape (reference §1.5) carries its code beside `errors`.
        let errors = GraphQlError::from_flat(body)
            .into_iter()
            .chain(
                body.get("errors")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(GraphQlError::from_json),
            )
            .collect();
        let complexity = data
            .get("complexity")
            .and_then(|c| serde_json::from_value(c.clone()).ok());
        Self {
            data,
            errors,
            complexity,
        }
    }

    fn into_data(self) -> Result<Value, MondayError> {
        match self.errors.first() {
            Some(error) => Err(classify(error)),
            None => Ok(self.data),
        }
    }

    /// Whether `data` holds a result of any root field besides `complexity`: then monday ran
    /// at least part of the document.
    fn ran(&self) -> bool {
        self.data
            .as_object()
            .is_some_and(|d| d.iter().any(|(k, v)| k != "complexity" && !v.is_null()))
    }

    /// The first error that names a limit, with the limit.
    fn limit(&self) -> Option<(Limit, &GraphQlError)> {
        self.errors
            .iter()
            .find_map(|e| limit_named(None, e.code.as_deref(), &e.message).map(|limit| (limit, e)))
    }
}

/// What came back for one request.
enum Exchange {
    /// Nothing: the request failed before an answer (it may have been sent).
    Unanswered(reqwest::Error),
    /// A status and headers, but the body could not be read.
    Unread(StatusCode, reqwest::Error),
    /// A whole answer; its body as JSON, when it is.
    Answered {
        status: StatusCode,
        headers: HeaderMap,
        json: Option<Value>,
    },
}

/// The wait an answer asks for: the longest of `Retry-After` (seconds or an HTTP date),
/// the error's `retry_in_seconds` (in `extensions` or `error_data`), the `t` of each
/// exhausted item of the `RateLimit` header, and a "reset in N seconds" in the message
/// (reference §1.4, §1.5, §2.3, §2.4). `None` when the answer names no wait.
fn hinted_wait(headers: &HeaderMap, error: Option<&GraphQlError>) -> Option<Duration> {
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| retry_after(v.trim()));
    let rate_limit = headers
        .get_all("RateLimit")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(rate_limit_reset)
        .max()
        .map(Duration::from_secs);
    let in_error = error
        .and_then(|e| e.retry_in_seconds)
        .map(Duration::from_secs);
    let in_message = error
        .and_then(|e| reset_in_message(&e.message))
        .map(Duration::from_secs);
    [retry_after, rate_limit, in_error, in_message]
        .into_iter()
        .flatten()
        .max()
        .map(|d| d.min(LONGEST_HINT))
}

/// `Retry-After`: delay seconds or an HTTP date (RFC 9110 §10.2.3).
fn retry_after(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// The longest `t` among the exhausted items (`r=0`, or no `r`) of a `RateLimit` header, e.g.
/// `"minuteRate";r=0;t=38, "concurrency";r=249` → 38 (reference §2.4). The complexity item
/// always carries a `t`, so only exhausted items count.
fn rate_limit_reset(header: &str) -> Option<u64> {
    header
        .split(',')
        .filter_map(|item| {
            let mut remaining = None;
            let mut reset = None;
            for param in item.split(';').skip(1) {
                let (key, value) = param.trim().split_once('=')?;
                let value = value.trim().trim_matches('"').parse::<u64>().ok();
                match key.trim() {
                    "r" => remaining = value,
                    "t" => reset = value,
                    _ => {}
                }
            }
            reset.filter(|_| remaining.is_none_or(|r| r == 0))
        })
        .max()
}

/// The N of "… reset in N seconds" (the historic complexity message, reference §1.5).
fn reset_in_message(message: &str) -> Option<u64> {
    let lower = message.to_ascii_lowercase();
    let at = lower.find("reset in ")? + "reset in ".len();
    let rest = lower.get(at..)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Which failed requests [`MondayClient::send_with`] sends again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resend {
    /// Every transient failure (reads and idempotent writes).
    Always,
    /// Only failures after which monday has certainly not run the document (writes that
    /// create items).
    OnlyUnapplied,
}

/// A monday.com GraphQL client. Cheap to share behind an `Arc`; build one per process.
#[derive(Debug)]
pub struct MondayClient {
    config: MondayConfig,
    http: reqwest::Client,
    budget: BudgetTracker,
    /// One permit per request in flight ([`MondayConfig::max_concurrency`]).
    in_flight: Semaphore,
}

impl MondayClient {
    /// Builds a client.
    pub fn new(config: MondayConfig) -> Result<Self, MondayError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| MondayError::Transport(e.to_string()))?;
        let budget = BudgetTracker::new(config.complexity_budget_per_minute);
        let in_flight = Semaphore::new(config.max_concurrency.clamp(1, Semaphore::MAX_PERMITS));
        Ok(Self {
            config,
            http,
            budget,
            in_flight,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &MondayConfig {
        &self.config
    }

    /// The budget tracker.
    pub fn budget(&self) -> &BudgetTracker {
        &self.budget
    }

    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let base = self.config.retry_base_delay.as_millis() as u64;
        let exp = base.saturating_mul(1u64 << attempt.min(16));
        let capped = exp.min(self.config.retry_max_delay.as_millis() as u64);
        let jitter = rand::thread_rng().gen_range(0..=capped / 2 + 1);
        Duration::from_millis(capped / 2 + jitter)
    }

    /// Sends one document with retries. Rate limits (HTTP 429, or an error naming the
    /// complexity budget, the minute, concurrency or IP limit) are waited out for as long as
    /// the answer asks (`Retry-After`, `retry_in_seconds`, the `RateLimit` header's `t`), as
    /// long as the call's waits stay within [`MondayConfig::max_wait`]; past it the call fails
    /// at once with [`MondayError::RateLimited`]. The daily limit fails at once with
    /// [`MondayError::DailyLimit`]. 423, 5xx and transport errors back off exponentially with
    /// jitter. At most [`MondayConfig::max_concurrency`] requests are in flight at once.
    /// `variables` must be a JSON object.
    ///
    /// Every failure is resent, also one after which monday may have applied the document:
    /// use it for reads and idempotent writes only.
    pub async fn send(
        &self,
        query: &str,
        variables: Value,
        estimate: u64,
    ) -> Result<GraphQlResponse, MondayError> {
        self.send_with(query, variables, estimate, Resend::Always)
            .await
    }

    /// Sends the request once, holding a concurrency permit until its answer is read.
    async fn exchange(&self, token: &HeaderValue, body: &Value) -> Exchange {
        // The semaphore is never closed, so a permit always comes.
        let _permit = self.in_flight.acquire().await.ok();
        let sent = self
            .http
            .post(self.config.api_url.clone())
            .header(AUTHORIZATION, token.clone())
            .header("API-Version", &self.config.api_version)
            .header(CONTENT_TYPE, "application/json")
            .json(body)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(err) => return Exchange::Unanswered(err),
        };
        let status = response.status();
        let headers = response.headers().clone();
        match response.bytes().await {
            Ok(bytes) => Exchange::Answered {
                status,
                headers,
                json: serde_json::from_slice(&bytes).ok(),
            },
            Err(err) => Exchange::Unread(status, err),
        }
    }

    /// [`Self::send`] with a choice of what is resent. With [`Resend::OnlyUnapplied`], a
    /// failure after which monday may have applied the document (a timeout, a connection lost
    /// after the request was sent, HTTP 5xx, an unreadable answer) is returned at once as
    /// [`MondayError::OutcomeUnknown`]; only failures that say the document was not run (a
    /// refused connection, 423, rate limits) are resent. An answer that names a limit but
    /// holds results (monday ran part of the document) is never resent: it is returned, and
    /// the failed parts carry their own errors.
    #[tracing::instrument(name = "monday.request", level = "debug", skip_all)]
    pub(crate) async fn send_with(
        &self,
        query: &str,
        variables: Value,
        estimate: u64,
        resend: Resend,
    ) -> Result<GraphQlResponse, MondayError> {
        // Variables are always a JSON object (a string is rejected since 2025-04). Null
        // values are left out, so that optional arguments are absent rather than null.
        let variables: Map<String, Value> = match variables {
            Value::Object(map) => map.into_iter().filter(|(_, v)| !v.is_null()).collect(),
            _ => Map::new(),
        };
        let body = json!({ "query": query, "variables": variables });
        let mut token = HeaderValue::from_str(self.config.token.expose()).map_err(|_| {
            MondayError::BadRequest {
                status: 0,
                message: "api token is not a valid header value".into(),
            }
        })?;
        token.set_sensitive(true);
        let max_wait = self.config.max_wait;
        // Time this call has spent waiting for limits (the budget's pacing included).
        let mut waited = Duration::ZERO;
        let mut attempts = 0u32;
        let mut rate_limited = 0u32;
        loop {
            match self
                .budget
                .acquire_within(estimate, max_wait.saturating_sub(waited))
                .await
            {
                Ok(paced) => waited = waited.saturating_add(paced),
                Err(needed) => {
                    return Err(MondayError::RateLimited {
                        message: "the complexity budget is spent until its window resets".into(),
                        retry_in: Some(needed.saturating_sub(waited)),
                        waited,
                    });
                }
            }
            let (status, headers, json) = match self.exchange(&token, &body).await {
                Exchange::Answered {
                    status,
                    headers,
                    json,
                } => (status, headers, json),
                Exchange::Unanswered(err) => {
                    // A refused connection never reached monday; anything later may have.
                    if resend == Resend::OnlyUnapplied && !err.is_connect() {
                        return Err(MondayError::OutcomeUnknown {
                            message: err.without_url().to_string(),
                        });
                    }
                    attempts += 1;
                    if attempts >= self.config.max_attempts {
                        return Err(MondayError::Transport(err.without_url().to_string()));
                    }
                    tokio::time::sleep(self.backoff(attempts)).await;
                    continue;
                }
                Exchange::Unread(status, err) => {
                    if resend == Resend::OnlyUnapplied {
                        return Err(MondayError::OutcomeUnknown {
                            message: format!(
                                "http {status}, answer unreadable: {}",
                                err.without_url()
                            ),
                        });
                    }
                    attempts += 1;
                    if attempts >= self.config.max_attempts {
                        return Err(MondayError::Transport(err.without_url().to_string()));
                    }
                    tokio::time::sleep(self.backoff(attempts)).await;
                    continue;
                }
            };
            if let Some(quota) = headers
                .get("RateLimit-Policy")
                .and_then(|v| v.to_str().ok())
                .and_then(crate::budget::complexity_quota)
            {
                self.budget.set_limit(quota);
            }
            let parsed = json.as_ref().map(GraphQlResponse::from_json);
            let first_error = parsed.as_ref().and_then(|p| p.errors.first().cloned());

            let named = parsed.as_ref().and_then(GraphQlResponse::limit);
            let limit = match named {
                Some((limit, error)) => Some((limit, Some(error.clone()))),
                None if status == StatusCode::TOO_MANY_REQUESTS => Some((Limit::Passing, None)),
                None => None,
            };
            let ran = parsed.as_ref().is_some_and(GraphQlResponse::ran);
            if let (Some((limit, error)), false) = (limit, ran) {
                let hinted = hinted_wait(&headers, error.as_ref());
                let code = error.as_ref().and_then(|e| e.code.clone());
                let message = error
                    .as_ref()
                    .map_or_else(|| format!("http {status}"), |e| e.message.clone());
                if limit == Limit::Daily {
                    return Err(limit_error(
                        limit,
                        code.as_deref(),
                        &message,
                        hinted,
                        waited,
                    ));
                }
                rate_limited += 1;
                let wait = hinted.unwrap_or_else(|| self.backoff(rate_limited));
                if waited.saturating_add(wait) > max_wait {
                    tracing::debug!(
                        ?wait,
                        ?waited,
                        "monday rate limit outlasts the wait allowed"
                    );
                    return Err(limit_error(
                        limit,
                        code.as_deref(),
                        &message,
                        Some(wait),
                        waited,
                    ));
                }
                tracing::debug!(?wait, "monday rate limit, waiting");
                // Every request of this client waits for it (the budget's pacing).
                self.budget.exhausted(wait).await;
                continue;
            }
            if status.is_server_error() && resend == Resend::OnlyUnapplied {
                return Err(MondayError::OutcomeUnknown {
                    message: format!("http {status}"),
                });
            }
            if status == StatusCode::LOCKED || status.is_server_error() {
                attempts += 1;
                if attempts >= self.config.max_attempts {
                    return Err(MondayError::Unavailable {
                        status: status.as_u16(),
                        attempts,
                    });
                }
                let retry_after = headers
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry_after(v.trim()));
                let wait = retry_after.unwrap_or_else(|| self.backoff(attempts));
                tokio::time::sleep(wait.min(self.config.retry_max_delay)).await;
                continue;
            }
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                return Err(MondayError::Unauthorized {
                    status: status.as_u16(),
                });
            }
            if !status.is_success() {
                // A 404 with `ResourceNotFoundException` and the like keep their meaning.
                if let Some(error) = first_error.as_ref().filter(|e| {
                    crate::error::missing(e.code.as_deref(), &e.message, e.error_data.as_ref())
                        .is_some()
                }) {
                    return Err(classify(error));
                }
                return Err(MondayError::BadRequest {
                    status: status.as_u16(),
                    message: first_error.map_or_else(|| status.to_string(), |e| e.message),
                });
            }
            let Some(parsed) = parsed else {
                if resend == Resend::OnlyUnapplied {
                    return Err(MondayError::OutcomeUnknown {
                        message: format!("http {status}, answer is not json"),
                    });
                }
                return Err(ShapeError("response body is not json".into()).into());
            };
            if let Some(complexity) = &parsed.complexity {
                self.budget.observe(complexity).await;
            }
            return Ok(parsed);
        }
    }

    /// Whether the board exists and the token sees it: one cheap `boards(ids:)` read (a deleted
    /// or archived board is not returned: `state` defaults to `active`, schema `Query.boards`).
    pub async fn board_exists(&self, board_id: &str) -> Result<bool, MondayError> {
        let data = self
            .send(
                documents::BOARD_EXISTS,
                json!({ "board_ids": [board_id] }),
                10,
            )
            .await?
            .into_data()?;
        Ok(data
            .get("boards")
            .and_then(Value::as_array)
            .is_some_and(|boards| boards.iter().any(|b| !b.is_null())))
    }

    /// The typed error for `error` of a request on `board`. When the error leaves open whether
    /// the board or something on it is missing (`ResourceNotFoundException` is used for both,
    /// reference §1.5), the board is looked up first (at most once per board, `checked`): a
    /// missing board is [`MondayError::InvalidBoardId`], never an item gone; if the lookup
    /// fails, its error is returned.
    pub(crate) async fn typed(
        &self,
        error: &GraphQlError,
        board: Option<&str>,
        checked: &mut BTreeMap<String, Result<bool, MondayError>>,
    ) -> MondayError {
        let typed = match (classify(error), board) {
            (
                MondayError::InvalidBoardId {
                    board_id: None,
                    message,
                },
                Some(b),
            ) => MondayError::InvalidBoardId {
                board_id: Some(b.to_owned()),
                message,
            },
            (other, _) => other,
        };
        let Some(board) = board.filter(|_| board_unsure(error)) else {
            return typed;
        };
        let exists = match checked.get(board) {
            Some(known) => known.clone(),
            None => {
                let found = self.board_exists(board).await;
                checked.insert(board.to_owned(), found.clone());
                found
            }
        };
        match exists {
            Ok(true) => typed,
            Ok(false) => MondayError::InvalidBoardId {
                board_id: Some(board.to_owned()),
                message: error.message.clone(),
            },
            Err(e) => e,
        }
    }

    /// `data`, or the typed error of the first error, for a request on `board_id`.
    async fn data_on_board(
        &self,
        response: GraphQlResponse,
        board_id: &str,
    ) -> Result<Value, MondayError> {
        match response.errors.first() {
            Some(error) => Err(self
                .typed(error, Some(board_id), &mut BTreeMap::new())
                .await),
            None => Ok(response.data),
        }
    }

    /// Boards with their columns (`column_ids` limits the columns).
    pub async fn boards(
        &self,
        board_ids: &[String],
        column_ids: Option<&[String]>,
    ) -> Result<Vec<Board>, MondayError> {
        let variables = json!({ "board_ids": board_ids, "column_ids": column_ids });
        let data = self
            .send(
                documents::BOARD_COLUMNS,
                variables,
                10 + 10 * board_ids.len() as u64,
            )
            .await?
            .into_data()?;
        let boards = data
            .get("boards")
            .and_then(Value::as_array)
            .ok_or_else(|| ShapeError("no boards in response".into()))?;
        Ok(boards
            .iter()
            .filter(|b| !b.is_null())
            .map(parse_board)
            .collect::<Result<_, _>>()?)
    }

    /// One board with its columns and their labels.
    pub async fn board(&self, board_id: &str) -> Result<Board, MondayError> {
        self.boards(&[board_id.to_owned()], None)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| MondayError::InvalidBoardId {
                board_id: Some(board_id.to_owned()),
                message: "no such board".into(),
            })
    }

    /// Items by id (any number; sent 100 per request), with only `column_ids` when given.
    /// Archived and deleted items are included, each with its [`Item::state`] (reference
    /// §3: `items(ids:)` returns them unless `exclude_nonactive`); items that do not exist
    /// are absent from the result.
    pub async fn items_by_id(
        &self,
        ids: &[String],
        column_ids: Option<&[String]>,
    ) -> Result<Vec<Item>, MondayError> {
        self.items_by_id_with(ids, column_ids, false).await
    }

    /// The live items among `ids`: like [`MondayClient::items_by_id`], with
    /// `exclude_nonactive: true` (schema `Query.items`: "Excludes items that are inactive,
    /// deleted or belong to deleted items"), so archived, deleted and missing items are all
    /// absent. An item answered with another state is dropped as well.
    pub async fn active_items_by_id(
        &self,
        ids: &[String],
        column_ids: Option<&[String]>,
    ) -> Result<Vec<Item>, MondayError> {
        let mut items = self.items_by_id_with(ids, column_ids, true).await?;
        items.retain(|i| i.inactive().is_none());
        Ok(items)
    }

    async fn items_by_id_with(
        &self,
        ids: &[String],
        column_ids: Option<&[String]>,
        exclude_nonactive: bool,
    ) -> Result<Vec<Item>, MondayError> {
        let mut items = Vec::with_capacity(ids.len());
        // Absent rather than `false` when every item is wanted (nulls are left out).
        let exclude = exclude_nonactive.then_some(true);
        for chunk in ids.chunks(MAX_ITEMS_BY_ID) {
            let variables = json!({
                "ids": chunk,
                "limit": chunk.len(),
                "exclude_nonactive": exclude,
                "column_ids": column_ids,
            });
            let estimate = cost::read(chunk.len() as u64, column_ids.map(<[String]>::len));
            let data = self
                .send(documents::ITEMS_BY_ID, variables, estimate)
                .await?
                .into_data()?;
            let list = data
                .get("items")
                .and_then(Value::as_array)
                .ok_or_else(|| ShapeError("no items in response".into()))?;
            for raw in list.iter().filter(|i| !i.is_null()) {
                items.push(parse_item(raw)?);
            }
        }
        Ok(items)
    }

    /// One item by id, archived or deleted ones included (see [`Item::inactive`]); `None`
    /// when it does not exist.
    pub async fn item(
        &self,
        id: &str,
        column_ids: Option<&[String]>,
    ) -> Result<Option<Item>, MondayError> {
        Ok(self
            .items_by_id(&[id.to_owned()], column_ids)
            .await?
            .into_iter()
            .next())
    }

    /// The first page of a board's items.
    pub async fn items_page(
        &self,
        board_id: &str,
        request: &PageRequest,
    ) -> Result<ItemsPage, MondayError> {
        let variables = json!({
            "board_id": board_id,
            "limit": request.limit(),
            "query_params": request.query_params,
            "column_ids": request.column_ids,
        });
        let estimate = request.estimate();
        let response = self
            .send(documents::ITEMS_PAGE, variables, estimate)
            .await?;
        let data = self.data_on_board(response, board_id).await?;
        let page = data
            .get("boards")
            .and_then(|b| b.get(0))
            .and_then(|b| b.get("items_page"))
            .ok_or_else(|| MondayError::InvalidBoardId {
                board_id: Some(board_id.to_owned()),
                message: "no such board".into(),
            })?;
        Ok(parse_items_page(page)?)
    }

    /// The page after `cursor`.
    pub async fn next_items_page(
        &self,
        cursor: &str,
        request: &PageRequest,
    ) -> Result<ItemsPage, MondayError> {
        let variables = json!({
            "cursor": cursor,
            "limit": request.limit(),
            "column_ids": request.column_ids,
        });
        let estimate = request.estimate();
        let data = self
            .send(documents::NEXT_ITEMS_PAGE, variables, estimate)
            .await?
            .into_data()?;
        let page = data
            .get("next_items_page")
            .ok_or_else(|| ShapeError("no next_items_page in response".into()))?;
        Ok(parse_items_page(page)?)
    }

    /// Every page of a board's items: `items_page` first, then `next_items_page` until the
    /// cursor is null.
    pub fn items_pages<'a>(
        &'a self,
        board_id: &'a str,
        request: PageRequest,
    ) -> impl Stream<Item = Result<ItemsPage, MondayError>> + 'a {
        enum Next {
            First,
            Cursor(String),
            Done,
        }
        futures::stream::try_unfold(Next::First, move |next| {
            let request = request.clone();
            async move {
                let page = match next {
                    Next::Done => return Ok(None),
                    Next::First => self.items_page(board_id, &request).await?,
                    Next::Cursor(cursor) => self.next_items_page(&cursor, &request).await?,
                };
                let next = page.cursor.clone().map_or(Next::Done, Next::Cursor);
                Ok(Some((page, next)))
            }
        })
    }

    /// Every item of a board, page by page.
    pub fn items<'a>(
        &'a self,
        board_id: &'a str,
        request: PageRequest,
    ) -> impl Stream<Item = Result<Item, MondayError>> + 'a {
        use futures::StreamExt as _;
        self.items_pages(board_id, request).flat_map(|page| {
            let items: Vec<Result<Item, MondayError>> = match page {
                Ok(page) => page.items.into_iter().map(Ok).collect(),
                Err(err) => vec![Err(err)],
            };
            futures::stream::iter(items)
        })
    }

    /// Items whose column `column_id` holds any of `values` (e.g. a Salesforce id), all pages.
    pub async fn items_by_column_values(
        &self,
        board_id: &str,
        column_id: &str,
        values: &[String],
        request: &PageRequest,
    ) -> Result<Vec<Item>, MondayError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let estimate = request.estimate();
        loop {
            // `columns` and `cursor` are mutually exclusive: the cursor carries the filter.
            let columns = match cursor {
                None => json!([{ "column_id": column_id, "column_values": values }]),
                Some(_) => Value::Null,
            };
            let variables = json!({
                "board_id": board_id,
                "columns": columns,
                "cursor": cursor,
                "limit": request.limit(),
                "column_ids": request.column_ids,
            });
            let response = self
                .send(documents::ITEMS_BY_COLUMN_VALUES, variables, estimate)
                .await?;
            let data = self.data_on_board(response, board_id).await?;
            let page =
                parse_items_page(data.get("items_page_by_column_values").ok_or_else(|| {
                    ShapeError("no items_page_by_column_values in response".into())
                })?)?;
            items.extend(page.items);
            match page.cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(items),
            }
        }
    }

    pub(crate) fn mutation_estimate(mutation: &ItemMutation) -> u64 {
        match mutation {
            ItemMutation::CreateItem { .. } => cost::CREATE_ITEM,
            ItemMutation::ChangeColumnValues { .. } => cost::CHANGE_COLUMN_VALUES,
            ItemMutation::DeleteItem { .. } | ItemMutation::ArchiveItem { .. } => {
                cost::DELETE_OR_ARCHIVE
            }
        }
    }

    /// Splits mutations into batches by count and estimated complexity (never above the
    /// per-minute budget, as configured or announced by the server, so that a batch can
    /// always run).
    pub fn plan_batches(&self, mutations: &[ItemMutation]) -> Vec<std::ops::Range<usize>> {
        let max_count = self.config.batch_max_mutations.max(1);
        let max_cost = self.config.batch_max_complexity.min(self.budget.limit());
        let mut ranges = Vec::new();
        let mut start = 0;
        let mut cost = 0;
        for (i, mutation) in mutations.iter().enumerate() {
            let c = Self::mutation_estimate(mutation);
            if i > start && (i - start >= max_count || cost + c > max_cost) {
                ranges.push(start..i);
                start = i;
                cost = 0;
            }
            cost += c;
        }
        if start < mutations.len() {
            ranges.push(start..mutations.len());
        }
        ranges
    }

    async fn execute_one(&self, mutation: ItemMutation) -> Result<MutationResult, MondayError> {
        self.execute(std::slice::from_ref(&mutation))
            .await?
            .pop()
            .unwrap_or_else(|| Err(ShapeError("no mutation result".into()).into()))
    }

    /// Creates an item.
    pub async fn create_item(
        &self,
        board_id: &str,
        item_name: &str,
        column_values: Map<String, Value>,
        create_labels_if_missing: bool,
    ) -> Result<MutationResult, MondayError> {
        self.execute_one(ItemMutation::CreateItem {
            board_id: board_id.to_owned(),
            item_name: item_name.to_owned(),
            column_values,
            group_id: None,
            create_labels_if_missing,
        })
        .await
    }

    /// Changes several column values of an item (`name` renames it).
    pub async fn change_column_values(
        &self,
        board_id: &str,
        item_id: &str,
        column_values: Map<String, Value>,
        create_labels_if_missing: bool,
    ) -> Result<MutationResult, MondayError> {
        self.execute_one(ItemMutation::ChangeColumnValues {
            board_id: board_id.to_owned(),
            item_id: item_id.to_owned(),
            column_values,
            create_labels_if_missing,
        })
        .await
    }

    /// Deletes an item.
    pub async fn delete_item(&self, item_id: &str) -> Result<MutationResult, MondayError> {
        self.execute_one(ItemMutation::DeleteItem {
            item_id: item_id.to_owned(),
        })
        .await
    }

    /// Archives an item.
    pub async fn archive_item(&self, item_id: &str) -> Result<MutationResult, MondayError> {
        self.execute_one(ItemMutation::ArchiveItem {
            item_id: item_id.to_owned(),
        })
        .await
    }

    /// Creates a board webhook for `event` (e.g. `change_column_value`).
    pub async fn create_webhook(
        &self,
        board_id: &str,
        url: &str,
        event: &str,
        config: Option<Value>,
    ) -> Result<Webhook, MondayError> {
        let variables = json!({
            "board_id": board_id,
            "url": url,
            "event": event,
            "config": config.map(|c| c.to_string()),
        });
        let data = self
            .send(documents::CREATE_WEBHOOK, variables, cost::WEBHOOK)
            .await?
            .into_data()?;
        Ok(parse_webhook(data.get("create_webhook").ok_or_else(
            || ShapeError("no create_webhook in response".into()),
        )?)?)
    }

    /// Deletes a webhook.
    pub async fn delete_webhook(&self, id: &str) -> Result<(), MondayError> {
        self.send(
            documents::DELETE_WEBHOOK,
            json!({ "id": id }),
            cost::WEBHOOK,
        )
        .await?
        .into_data()
        .map(|_| ())
    }

    /// A board's webhooks.
    pub async fn webhooks(&self, board_id: &str) -> Result<Vec<Webhook>, MondayError> {
        let data = self
            .send(
                documents::LIST_WEBHOOKS,
                json!({ "board_id": board_id }),
                cost::WEBHOOK,
            )
            .await?
            .into_data()?;
        let list = data
            .get("webhooks")
            .and_then(Value::as_array)
            .ok_or_else(|| ShapeError("no webhooks in response".into()))?;
        Ok(list.iter().map(parse_webhook).collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(n: usize) -> ItemMutation {
        ItemMutation::CreateItem {
            board_id: "1".into(),
            item_name: format!("item {n}"),
            column_values: Map::new(),
            group_id: None,
            create_labels_if_missing: false,
        }
    }

    #[test]
    fn batches_are_capped_by_count_complexity_and_budget() {
        let mut config = MondayConfig::new("t");
        config.batch_max_mutations = 4;
        config.batch_max_complexity = 25_000;
        let client = MondayClient::new(config.clone()).unwrap();
        let mutations: Vec<_> = (0..7).map(create).collect();
        // 10,000 per create: at most two fit in 25,000.
        assert_eq!(client.plan_batches(&mutations), [0..2, 2..4, 4..6, 6..7]);

        config.batch_max_complexity = 1_000_000;
        let client = MondayClient::new(config.clone()).unwrap();
        assert_eq!(client.plan_batches(&mutations), [0..4, 4..7]);

        // A budget smaller than one mutation still lets each run alone.
        config.complexity_budget_per_minute = 5_000;
        let client = MondayClient::new(config).unwrap();
        assert_eq!(client.plan_batches(&mutations[..2]), [0..1, 1..2]);
        assert!(client.plan_batches(&[]).is_empty());
    }

    #[test]
    fn the_rate_limit_header_counts_only_exhausted_items() {
        // reference §2.4: the complexity item always has a `t`; the others only when exceeded.
        let header =
            "\"minuteRate\";r=0;t=38, \"concurrency\";r=249, \"complexityMinute\";r=4950000;t=45";
        assert_eq!(rate_limit_reset(header), Some(38));
        let fine = "\"minuteRate\";r=4999, \"complexityMinute\";r=4950000;t=45";
        assert_eq!(rate_limit_reset(fine), None);
        assert_eq!(rate_limit_reset("\"concurrency\";t=7"), Some(7));
        assert_eq!(rate_limit_reset("garbage;;=, ;t=x"), None);
    }

    #[test]
    fn waits_are_read_from_every_place_monday_puts_them() {
        assert_eq!(retry_after("12"), Some(Duration::from_secs(12)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon"), None);
        assert_eq!(
            reset_in_message(
                "Complexity budget exhausted, query cost 30001 budget remaining 19986 out of 1000000 reset in 3 seconds"
            ),
            Some(3)
        );
        assert_eq!(reset_in_message("reset in a while"), None);
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("5"));
        headers.insert(
            "RateLimit",
            HeaderValue::from_static("\"minuteRate\";r=0;t=40"),
        );
        let error = GraphQlError::from_json(&json!({
            "message": "Rate Limit Exceeded",
            "extensions": {"retry_in_seconds": 20, "error_data": {"retry_in_seconds": 30}}
        }));
        // The longest of them.
        assert_eq!(
            hinted_wait(&headers, Some(&error)),
            Some(Duration::from_secs(40))
        );
        assert_eq!(hinted_wait(&HeaderMap::new(), None), None);
        // Absurd values are clamped.
        headers.insert(RETRY_AFTER, HeaderValue::from_static("99999999999999"));
        assert_eq!(hinted_wait(&headers, None), Some(LONGEST_HINT));
    }

    #[test]
    fn page_limits_are_clamped_to_monday_bounds() {
        let request = |limit| PageRequest {
            limit,
            ..PageRequest::default()
        };
        assert_eq!(request(0).limit(), 25);
        assert_eq!(request(100).limit(), 100);
        assert_eq!(request(10_000).limit(), MAX_PAGE_SIZE);
    }
}
