//! The HTTP client: headers, retries, budget pacing, reads, batched writes.

use std::time::Duration;

use futures::Stream;
use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use serde_json::{Map, Value, json};

use crate::budget::BudgetTracker;
use crate::config::MondayConfig;
use crate::documents::{self, ItemMutation};
use crate::error::{GraphQlError, MondayError, classify, is_rate_limit_code};
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
        let errors = body
            .get("errors")
            .and_then(Value::as_array)
            .map(|list| list.iter().map(GraphQlError::from_json).collect())
            .unwrap_or_default();
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
}

impl MondayClient {
    /// Builds a client.
    pub fn new(config: MondayConfig) -> Result<Self, MondayError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| MondayError::Transport(e.to_string()))?;
        let budget = BudgetTracker::new(config.complexity_budget_per_minute);
        Ok(Self {
            config,
            http,
            budget,
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

    /// Sends one document with retries: HTTP 429 (complexity budget and other rate limits)
    /// waits `retry_in_seconds` (or `Retry-After`) and tries again; 423, 5xx and transport
    /// errors back off exponentially with jitter. `variables` must be a JSON object.
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

    /// [`Self::send`] with a choice of what is resent. With [`Resend::OnlyUnapplied`], a
    /// failure after which monday may have applied the document (a timeout, a connection lost
    /// after the request was sent, HTTP 5xx, an unreadable answer) is returned at once as
    /// [`MondayError::OutcomeUnknown`]; only failures that say the document was not run (a
    /// refused connection, 423, rate limits) are resent.
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
        let mut attempts = 0u32;
        let mut rate_limited = 0u32;
        loop {
            self.budget.acquire(estimate).await;
            let sent = self
                .http
                .post(self.config.api_url.clone())
                .header(AUTHORIZATION, token.clone())
                .header("API-Version", &self.config.api_version)
                .header(CONTENT_TYPE, "application/json")
                .json(&body)
                .send()
                .await;
            let response = match sent {
                Ok(response) => response,
                Err(err) => {
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
            };
            let status = response.status();
            if let Some(quota) = response
                .headers()
                .get("RateLimit-Policy")
                .and_then(|v| v.to_str().ok())
                .and_then(crate::budget::complexity_quota)
            {
                self.budget.set_limit(quota);
            }
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let bytes = match response.bytes().await {
                Ok(bytes) => bytes,
                Err(err) => {
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
            let json: Option<Value> = serde_json::from_slice(&bytes).ok();
            let parsed = json.as_ref().map(GraphQlResponse::from_json);
            let first_error = parsed.as_ref().and_then(|p| p.errors.first().cloned());

            let rate_limit = status == StatusCode::TOO_MANY_REQUESTS
                || first_error
                    .as_ref()
                    .is_some_and(|e| is_rate_limit_code(e.code.as_deref()));
            if rate_limit {
                rate_limited += 1;
                let seconds = first_error
                    .as_ref()
                    .and_then(|e| e.retry_in_seconds)
                    .or(retry_after);
                if rate_limited >= self.config.max_rate_limit_attempts {
                    return Err(MondayError::RateLimited {
                        message: first_error.map_or_else(|| status.to_string(), |e| e.message),
                        attempts: rate_limited,
                    });
                }
                let wait = seconds.map_or_else(|| self.backoff(rate_limited), Duration::from_secs);
                tracing::debug!(?wait, "monday rate limit, waiting");
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
                let wait = retry_after.map_or_else(|| self.backoff(attempts), Duration::from_secs);
                tokio::time::sleep(wait.min(self.config.retry_max_delay)).await;
                continue;
            }
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                return Err(MondayError::Unauthorized {
                    status: status.as_u16(),
                });
            }
            if !status.is_success() {
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
                message: format!("board `{board_id}` not found"),
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
        let data = self
            .send(documents::ITEMS_PAGE, variables, estimate)
            .await?
            .into_data()?;
        let page = data
            .get("boards")
            .and_then(|b| b.get(0))
            .and_then(|b| b.get("items_page"))
            .ok_or_else(|| MondayError::InvalidBoardId {
                message: format!("board `{board_id}` not found"),
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
            let data = self
                .send(documents::ITEMS_BY_COLUMN_VALUES, variables, estimate)
                .await?
                .into_data()?;
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
