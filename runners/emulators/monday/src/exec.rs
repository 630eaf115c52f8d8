//! Execution of validated documents against the account, with apollo-compiler's resolver
//! framework: one `ObjectValue` per GraphQL object type the client subset uses.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use apollo_compiler::resolvers::{FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use apollo_compiler::response::JsonValue;
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use crate::events::Event;
use crate::state::{
    Account, Charge, ColumnKind, Item, ItemState, NameInColumnValues, WebhookSubscription,
};
use crate::values::{self, ValueError};

/// An application error produced while resolving a field.
#[derive(Debug, Clone, PartialEq)]
pub struct AppError {
    /// `extensions.code`.
    pub code: &'static str,
    /// Message.
    pub message: String,
    /// `extensions.status_code`.
    pub status_code: u16,
    /// `extensions.error_data`.
    pub error_data: Value,
}

impl AppError {
    fn new(code: &'static str, message: impl Into<String>, error_data: Value) -> Self {
        Self {
            code,
            message: message.into(),
            status_code: 200,
            error_data,
        }
    }
}

impl From<ValueError> for AppError {
    fn from(e: ValueError) -> Self {
        Self::new(e.code, e.message, e.error_data)
    }
}

/// The error codes and messages the emulator uses for missing things, in one place.
///
/// Codes are the reference's where it documents one (§1.5: `ResourceNotFoundException` for
/// an item, group or board id that does not exist, `InvalidBoardIdException`,
/// `InvalidColumnIdException`, `InvalidArgumentException`); messages follow what third-party
/// clients observe (§1.5, UNCERTAIN). Every code or message the reference does not give is an
/// ASSUMPTION listed in the README.
pub mod codes {
    use super::{AppError, json};

    /// Unknown board.
    pub fn board_not_found(id: &str) -> AppError {
        AppError::new(
            "InvalidBoardIdException",
            "This board ID doesn't exist",
            json!({ "board_id": id }),
        )
    }

    /// Unknown or deleted item: `ResourceNotFoundException` (§1.5: "id of item/group/board
    /// doesn't exist"), with `status_code` 404 (§1.5 lists it as 404 at the transport level)
    /// and the third-party message (ASSUMPTION).
    pub fn item_not_found(id: &str) -> AppError {
        let mut error = AppError::new(
            "ResourceNotFoundException",
            "This item ID doesn't exist for the board",
            json!({ "item_id": id }),
        );
        error.status_code = 404;
        error
    }

    /// Item on another board than the one named: as [`item_not_found`], with the message
    /// third parties observe ("Item not found in board", §1.5).
    pub fn item_not_in_board(id: &str) -> AppError {
        let mut error = AppError::new(
            "ResourceNotFoundException",
            "Item not found in board",
            json!({ "item_id": id }),
        );
        error.status_code = 404;
        error
    }

    /// Archived item. Code and message are third-party observations (§1.5, UNCERTAIN):
    /// ASSUMPTION.
    pub fn inactive_item(id: &str) -> AppError {
        AppError::new(
            "inactiveItems",
            "Cannot change column value for inactive items",
            json!({ "item_id": id }),
        )
    }

    /// Unknown column.
    pub fn column_not_found(id: &str) -> AppError {
        AppError::new(
            "InvalidColumnIdException",
            "This column ID doesn't exist for the board",
            json!({ "column_id": id }),
        )
    }

    /// Bad argument.
    pub fn invalid_argument(message: impl Into<String>) -> AppError {
        AppError::new("InvalidArgumentException", message, json!({}))
    }

    /// Expired or unknown cursor. The reference gives no answer (§3: lifetime 60 minutes,
    /// UNCERTAIN): code and message are an ASSUMPTION.
    pub fn cursor_expired() -> AppError {
        AppError::new(
            "CursorException",
            "The cursor has expired or is invalid, start from items_page again",
            json!({}),
        )
    }

    /// Webhook challenge not answered. UNCERTAIN: the real wording is not documented.
    pub fn webhook_challenge_failed(url: &str, why: &str) -> AppError {
        AppError::new(
            "InvalidArgumentException",
            format!("Failed to communicate with URL provided: {why}"),
            json!({ "url": url }),
        )
    }

    /// An internal error of one field (an injected fault). The message is the 500's of the
    /// reference (§1.5); the code is an ASSUMPTION (README).
    pub fn internal_error() -> AppError {
        let mut error = AppError::new("INTERNAL_SERVER_ERROR", "Internal Server Error", json!({}));
        error.status_code = 500;
        error
    }

    /// A valid field this emulator does not implement.
    pub fn unsupported(type_name: &str, field: &str) -> AppError {
        AppError::new(
            "UnsupportedByEmulator",
            format!(
                "field `{field}` of `{type_name}` is not supported by the crmmap monday emulator"
            ),
            json!({ "type_name": type_name, "field_name": field }),
        )
    }
}

/// Knobs execution needs from the options.
#[derive(Debug, Clone)]
pub struct ExecSettings {
    /// Length of a (scaled) minute.
    pub minute: Duration,
    /// Most items per board.
    pub max_items_per_board: usize,
    /// Serve the pre-2025-04 board-relation `value` instead of `null`.
    pub legacy_relation_value: bool,
    /// The token's user id (for webhook payloads).
    pub user_id: u64,
    /// What `change_multiple_column_values` does with `name` (an ASSUMPTION knob: README).
    pub name_in_column_values: crate::state::NameInColumnValues,
}

/// Everything one execution reads and writes.
pub struct ExecCtx<'s> {
    account: RefCell<&'s mut Account>,
    errors: RefCell<Vec<AppError>>,
    events: RefCell<Vec<Event>>,
    complexity: Charge,
    now: String,
    now_instant: Instant,
    settings: &'s ExecSettings,
    challenges: &'s HashMap<String, Result<(), String>>,
    alias_fault: Option<AliasFault>,
    /// Position of the next root field of a mutation.
    position: std::cell::Cell<usize>,
    /// A [`AliasFault::ServerErrorAt`] struck: the remaining aliases do not run.
    aborted: std::cell::Cell<bool>,
}

/// A fault injected into one alias of a mutation (see [`crate::Fault::AliasFails`] and
/// [`crate::Fault::ServerErrorAtAlias`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AliasFault {
    /// The alias at this position fails alone.
    Fails(usize),
    /// The alias at this position fails and the rest of the document does not run.
    ServerErrorAt(usize),
}

/// What an execution produced besides the response data.
pub struct ExecOutput {
    /// Application errors, by the index encoded in field error messages.
    pub errors: Vec<AppError>,
    /// Changes to notify webhooks about.
    pub events: Vec<Event>,
    /// An [`AliasFault::ServerErrorAt`] stopped the document.
    pub aborted: bool,
}

/// Marker that starts the message of a field error carrying an [`AppError`] index.
pub const APP_ERROR_MARKER: &str = "\u{1}app-error:";

impl<'s> ExecCtx<'s> {
    /// A context for one request.
    pub fn new(
        account: &'s mut Account,
        complexity: Charge,
        now: String,
        settings: &'s ExecSettings,
        challenges: &'s HashMap<String, Result<(), String>>,
    ) -> Self {
        Self {
            account: RefCell::new(account),
            errors: RefCell::new(Vec::new()),
            events: RefCell::new(Vec::new()),
            complexity,
            now,
            now_instant: Instant::now(),
            settings,
            challenges,
            alias_fault: None,
            position: std::cell::Cell::new(0),
            aborted: std::cell::Cell::new(false),
        }
    }

    /// Injects a fault into one alias of this mutation.
    pub fn with_alias_fault(mut self, fault: Option<AliasFault>) -> Self {
        self.alias_fault = fault;
        self
    }

    /// Runs at this instant of the emulator's clock (cursor lifetimes).
    pub fn at(mut self, now: Instant) -> Self {
        self.now_instant = now;
        self
    }

    /// Ends the execution.
    pub fn finish(self) -> ExecOutput {
        ExecOutput {
            errors: self.errors.into_inner(),
            events: self.events.into_inner(),
            aborted: self.aborted.get(),
        }
    }

    fn fail(&self, error: AppError) -> FieldError {
        let mut errors = self.errors.borrow_mut();
        errors.push(error);
        FieldError {
            message: format!("{APP_ERROR_MARKER}{}", errors.len() - 1),
        }
    }
}

fn leaf<'a>(value: Value) -> ResolvedValue<'a> {
    ResolvedValue::leaf(JsonValue::from(value))
}

fn args(info: &ResolveInfo<'_>) -> Map<String, Value> {
    match serde_json::to_value(info.arguments()) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

fn id_value(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

fn id_text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn string_list(value: Option<&Value>) -> Option<Vec<String>> {
    value.and_then(Value::as_array).map(|l| {
        l.iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect()
    })
}

/// Parses a `JSON` argument that monday expects as a JSON-encoded string (objects are
/// accepted too).
fn json_arg(value: Option<&Value>) -> Result<Value, AppError> {
    match value {
        None | Some(Value::Null) => Ok(Value::Object(Map::new())),
        Some(Value::String(s)) => serde_json::from_str(s).map_err(|e| {
            AppError::new(
                "JsonParseException",
                format!("column values are not valid json: {e}"),
                json!({}),
            )
        }),
        Some(other) => Ok(other.clone()),
    }
}

/// A fixed JSON object type (Complexity, Group, Webhook, DropdownValueOption, PeopleEntity).
struct JsonObj {
    type_name: &'static str,
    value: Value,
}

impl ObjectValue for JsonObj {
    fn type_name(&self) -> &str {
        self.type_name
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        Ok(leaf(
            self.value
                .get(info.field_name())
                .cloned()
                .unwrap_or(Value::Null),
        ))
    }
}

/// The root object of a query or mutation.
pub struct Root<'c, 's> {
    ctx: &'c ExecCtx<'s>,
    mutation: bool,
}

impl<'c, 's> Root<'c, 's> {
    /// The root for a query (`mutation == false`) or a mutation.
    pub fn new(ctx: &'c ExecCtx<'s>, mutation: bool) -> Self {
        Self { ctx, mutation }
    }
}

struct BoardObj<'c, 's> {
    ctx: &'c ExecCtx<'s>,
    id: u64,
}

struct ColumnObj<'c, 's> {
    ctx: &'c ExecCtx<'s>,
    board_id: u64,
    column_id: String,
}

struct ItemObj<'c, 's> {
    ctx: &'c ExecCtx<'s>,
    id: u64,
}

struct ColumnValueObj<'c, 's> {
    ctx: &'c ExecCtx<'s>,
    item_id: u64,
    board_id: u64,
    column_id: String,
    kind: ColumnKind,
}

struct ItemsResponseObj<'c, 's> {
    ctx: &'c ExecCtx<'s>,
    cursor: Option<String>,
    items: Vec<u64>,
}

fn complexity_obj(charge: &Charge) -> JsonObj {
    JsonObj {
        type_name: "Complexity",
        value: json!({
            "before": charge.before,
            "query": charge.query,
            "after": charge.after,
            "reset_in_x_seconds": charge.reset_in_seconds,
        }),
    }
}

const MAX_PAGE: u64 = 500;
const DEFAULT_PAGE: u64 = 25;
const MAX_ITEMS_BY_ID: usize = 100;
/// Cursors live 60 (scaled) minutes from when they were issued. UNCERTAIN whether monday
/// measures from the first request or from the last use; first request here.
const CURSOR_LIFETIME_MINUTES: u32 = 60;

fn page_limit(args: &Map<String, Value>) -> Result<usize, AppError> {
    let limit = args
        .get("limit")
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Err(codes::invalid_argument(format!(
            "limit must be between 1 and {MAX_PAGE}, got {limit}"
        )));
    }
    Ok(limit as usize)
}

impl<'c, 's> Root<'c, 's> {
    fn count(&self, field: &str) {
        *self
            .ctx
            .account
            .borrow_mut()
            .counters
            .root_fields
            .entry(field.to_owned())
            .or_default() += 1;
    }

    fn start_page(&self, matching: Vec<u64>, limit: usize) -> ItemsResponseObj<'c, 's> {
        let mut remaining: VecDeque<u64> = matching.into();
        let items: Vec<u64> = remaining.drain(..limit.min(remaining.len())).collect();
        let cursor = (!remaining.is_empty()).then(|| {
            let cursor = new_cursor();
            self.ctx.account.borrow_mut().cursors.insert(
                cursor.clone(),
                crate::state::CursorState {
                    remaining,
                    issued: self.ctx.now_instant,
                },
            );
            cursor
        });
        ItemsResponseObj {
            ctx: self.ctx,
            cursor,
            items,
        }
    }

    fn next_page(&self, cursor: &str, limit: usize) -> Result<ItemsResponseObj<'c, 's>, AppError> {
        let lifetime = self.ctx.settings.minute * CURSOR_LIFETIME_MINUTES;
        let now = self.ctx.now_instant;
        let mut account = self.ctx.account.borrow_mut();
        account.cursors.retain(|_, c| c.issued + lifetime > now);
        let state = account
            .cursors
            .get(cursor)
            .cloned()
            .ok_or_else(codes::cursor_expired)?;
        let mut remaining = state.remaining;
        let mut items = Vec::new();
        while items.len() < limit {
            let Some(id) = remaining.pop_front() else {
                break;
            };
            if account
                .items
                .get(&id)
                .is_some_and(|i| i.state == ItemState::Active)
            {
                items.push(id);
            }
        }
        let cursor = (!remaining.is_empty()).then(|| {
            let cursor = new_cursor();
            account.cursors.insert(
                cursor.clone(),
                crate::state::CursorState {
                    remaining,
                    issued: state.issued,
                },
            );
            cursor
        });
        Ok(ItemsResponseObj {
            ctx: self.ctx,
            cursor,
            items,
        })
    }
}

fn new_cursor() -> String {
    format!("MSw{}", uuid::Uuid::new_v4().simple())
}

/// Whether `item` satisfies `query_params` (`rules` with `operator`, `ids`).
fn matches_query(account: &Account, item: &Item, query: &Value) -> Result<bool, AppError> {
    if let Some(ids) = string_list(query.get("ids"))
        && !ids.contains(&item.id.to_string())
    {
        return Ok(false);
    }
    let Some(rules) = query.get("rules").and_then(Value::as_array) else {
        return Ok(true);
    };
    let any = query.get("operator").and_then(Value::as_str) == Some("or");
    let board = account
        .boards
        .get(&item.board_id)
        .ok_or_else(|| codes::board_not_found(&item.board_id.to_string()))?;
    let mut results = Vec::new();
    for rule in rules {
        let column_id = id_text(rule.get("column_id"));
        let Some(column) = board.column(&column_id) else {
            return Err(codes::column_not_found(&column_id));
        };
        let stored = if column.kind == ColumnKind::Name {
            Some(Value::String(item.name.clone()))
        } else {
            item.values.get(&column_id).cloned()
        };
        let text = values::render_text(column, stored.as_ref());
        let compare: Vec<String> = match rule.get("compare_value") {
            Some(Value::Array(list)) => list
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect(),
            Some(Value::Null) | None => Vec::new(),
            Some(v) => vec![v.as_str().map_or_else(|| v.to_string(), str::to_owned)],
        };
        let mut ids: Vec<String> = Vec::new();
        match column.kind {
            ColumnKind::Status => {
                ids.extend(values::status_index(stored.as_ref()).map(|i| i.to_string()))
            }
            ColumnKind::Dropdown => ids.extend(
                values::dropdown_ids(stored.as_ref())
                    .iter()
                    .map(i64::to_string),
            ),
            ColumnKind::BoardRelation => ids.extend(
                values::linked_ids(stored.as_ref())
                    .iter()
                    .map(u64::to_string),
            ),
            _ => {}
        }
        let texts: Vec<&str> = if column.kind == ColumnKind::Dropdown {
            text.split(", ").collect()
        } else {
            vec![text.as_str()]
        };
        let hit_any = compare
            .iter()
            .any(|c| texts.contains(&c.as_str()) || ids.contains(c));
        let empty = text.is_empty() && ids.is_empty();
        let operator = rule
            .get("operator")
            .and_then(Value::as_str)
            .unwrap_or("any_of");
        let result = match operator {
            "any_of" => hit_any,
            "not_any_of" => !hit_any,
            "is_empty" => empty,
            "is_not_empty" => !empty,
            "contains_text" => compare
                .first()
                .is_some_and(|c| text.to_lowercase().contains(&c.to_lowercase())),
            "not_contains_text" => !compare
                .first()
                .is_some_and(|c| text.to_lowercase().contains(&c.to_lowercase())),
            other => {
                return Err(codes::unsupported(
                    "ItemsQueryRule",
                    &format!("operator {other}"),
                ));
            }
        };
        results.push(result);
    }
    Ok(if any {
        results.iter().any(|r| *r)
    } else {
        results.iter().all(|r| *r)
    })
}

impl ObjectValue for Root<'_, '_> {
    fn type_name(&self) -> &str {
        if self.mutation { "Mutation" } else { "Query" }
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        let field = info.field_name();
        if self.mutation {
            // Aliases run one after the other (reference §4.1, [gql]).
            let position = self.ctx.position.get();
            self.ctx.position.set(position + 1);
            let fails = match self.ctx.alias_fault {
                _ if self.ctx.aborted.get() => true,
                Some(AliasFault::Fails(n)) => n == position,
                Some(AliasFault::ServerErrorAt(n)) if n == position => {
                    self.ctx.aborted.set(true);
                    true
                }
                _ => false,
            };
            if fails {
                return Err(self.ctx.fail(codes::internal_error()));
            }
        }
        self.count(field);
        let result = if self.mutation {
            self.resolve_mutation(field, args(info))
        } else {
            self.resolve_query(field, args(info))
        };
        result.map_err(|e| self.ctx.fail(e))
    }
}

impl<'c, 's> Root<'c, 's> {
    fn resolve_query<'a>(
        &'a self,
        field: &str,
        args: Map<String, Value>,
    ) -> Result<ResolvedValue<'a>, AppError> {
        let ctx = self.ctx;
        match field {
            "complexity" => Ok(ResolvedValue::object(complexity_obj(&ctx.complexity))),
            "boards" => {
                let account = ctx.account.borrow();
                let limit = args.get("limit").and_then(Value::as_u64).unwrap_or(25) as usize;
                let ids: Vec<u64> = match string_list(args.get("ids")) {
                    Some(ids) => ids
                        .iter()
                        .filter_map(|i| i.parse().ok())
                        .filter(|i| account.boards.contains_key(i))
                        .collect(),
                    None => account.boards.keys().copied().take(limit).collect(),
                };
                Ok(ResolvedValue::list(ids.into_iter().map(move |id| {
                    ResolvedValue::object(BoardObj { ctx, id })
                })))
            }
            "items" => {
                let limit = args
                    .get("limit")
                    .and_then(Value::as_u64)
                    .unwrap_or(DEFAULT_PAGE) as usize;
                let Some(ids) = string_list(args.get("ids")) else {
                    return Err(codes::unsupported("Query", "items without ids"));
                };
                if ids.len() > MAX_ITEMS_BY_ID {
                    return Err(codes::invalid_argument(format!(
                        "items takes at most {MAX_ITEMS_BY_ID} ids, got {}",
                        ids.len()
                    )));
                }
                // Archived and deleted items are served with their `state` unless
                // `exclude_nonactive` is true (reference §3; schema `Query.items`: "Excludes
                // items that are inactive, deleted or belong to deleted items"). Deleted items
                // stay readable from the trash (reference §4.1); see the README.
                let only_active = args
                    .get("exclude_nonactive")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let account = ctx.account.borrow();
                let found: Vec<u64> = ids
                    .iter()
                    .filter_map(|i| i.parse::<u64>().ok())
                    .filter(|i| {
                        account
                            .items
                            .get(i)
                            .is_some_and(|item| !only_active || item.state == ItemState::Active)
                    })
                    .take(limit)
                    .collect();
                Ok(ResolvedValue::list(
                    found
                        .into_iter()
                        .map(move |id| ResolvedValue::object(ItemObj { ctx, id })),
                ))
            }
            "next_items_page" => {
                let limit = page_limit(&args)?;
                let cursor = args
                    .get("cursor")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                Ok(ResolvedValue::object(self.next_page(&cursor, limit)?))
            }
            "items_page_by_column_values" => {
                let limit = page_limit(&args)?;
                if let Some(cursor) = args.get("cursor").and_then(Value::as_str) {
                    return Ok(ResolvedValue::object(self.next_page(cursor, limit)?));
                }
                let board_id = id_value(args.get("board_id"));
                let matching = {
                    let account = ctx.account.borrow();
                    let board = board_id
                        .and_then(|id| account.boards.get(&id))
                        .ok_or_else(|| codes::board_not_found(&id_text(args.get("board_id"))))?;
                    let columns = args
                        .get("columns")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    let mut filters = Vec::new();
                    for column in &columns {
                        let column_id = id_text(column.get("column_id"));
                        let Some(def) = board.column(&column_id) else {
                            return Err(codes::column_not_found(&column_id));
                        };
                        let wanted = string_list(column.get("column_values")).unwrap_or_default();
                        filters.push((def.clone(), wanted));
                    }
                    account
                        .active_items(board.id)
                        .filter(|item| {
                            filters.iter().all(|(def, wanted)| {
                                let stored = if def.kind == ColumnKind::Name {
                                    Some(Value::String(item.name.clone()))
                                } else {
                                    item.values.get(&def.id).cloned()
                                };
                                let text = values::render_text(def, stored.as_ref());
                                wanted.contains(&text)
                            })
                        })
                        .map(|i| i.id)
                        .collect::<Vec<_>>()
                };
                Ok(ResolvedValue::object(self.start_page(matching, limit)))
            }
            "webhooks" => {
                let board_id = id_value(args.get("board_id")).unwrap_or_default();
                let list: Vec<Value> = ctx
                    .account
                    .borrow()
                    .webhooks
                    .iter()
                    .filter(|w| w.board_id == board_id)
                    .map(webhook_json)
                    .collect();
                Ok(ResolvedValue::list(list.into_iter().map(|value| {
                    ResolvedValue::object(JsonObj {
                        type_name: "Webhook",
                        value,
                    })
                })))
            }
            other => Err(codes::unsupported("Query", other)),
        }
    }

    fn resolve_mutation<'a>(
        &'a self,
        field: &str,
        args: Map<String, Value>,
    ) -> Result<ResolvedValue<'a>, AppError> {
        let ctx = self.ctx;
        let item = |id: u64| Ok(ResolvedValue::object(ItemObj { ctx, id }));
        match field {
            "complexity" => Ok(ResolvedValue::object(complexity_obj(&ctx.complexity))),
            "create_item" => {
                let board_id = id_value(args.get("board_id"));
                let name = args
                    .get("item_name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let values = json_arg(args.get("column_values"))?;
                let group = args
                    .get("group_id")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let create_labels = args
                    .get("create_labels_if_missing")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let id = mutations::create_item(
                    ctx,
                    board_id,
                    &id_text(args.get("board_id")),
                    &name,
                    &values,
                    group,
                    create_labels,
                )?;
                item(id)
            }
            "change_multiple_column_values"
            | "change_column_value"
            | "change_simple_column_value" => {
                let board_id = id_text(args.get("board_id"));
                let item_id = id_text(args.get("item_id"));
                let create_labels = args
                    .get("create_labels_if_missing")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let values = match field {
                    "change_multiple_column_values" => {
                        let mut values = json_arg(args.get("column_values"))?;
                        let named = values
                            .get(crmmap_monday::documents::ITEM_NAME_COLUMN)
                            .is_some();
                        match ctx.settings.name_in_column_values {
                            NameInColumnValues::Renames => {}
                            NameInColumnValues::Ignored => {
                                if let Some(map) = values.as_object_mut() {
                                    map.remove(crmmap_monday::documents::ITEM_NAME_COLUMN);
                                }
                            }
                            NameInColumnValues::Refused if named => {
                                return Err(codes::column_not_found(
                                    crmmap_monday::documents::ITEM_NAME_COLUMN,
                                ));
                            }
                            NameInColumnValues::Refused => {}
                        }
                        values
                    }
                    "change_column_value" => {
                        let column_id = id_text(args.get("column_id"));
                        let value = match args.get("value") {
                            Some(Value::String(s)) => {
                                serde_json::from_str(s).unwrap_or(Value::String(s.clone()))
                            }
                            Some(other) => other.clone(),
                            None => Value::Null,
                        };
                        json!({ column_id: value })
                    }
                    _ => {
                        let column_id = id_text(args.get("column_id"));
                        let simple = args.get("value").and_then(Value::as_str).map(str::to_owned);
                        let account = ctx.account.borrow();
                        let board = id_value(Some(&Value::String(board_id.clone())))
                            .and_then(|b| account.boards.get(&b))
                            .ok_or_else(|| codes::board_not_found(&board_id))?;
                        let column = board
                            .column(&column_id)
                            .ok_or_else(|| codes::column_not_found(&column_id))?;
                        let value = match simple {
                            None => Value::Null,
                            Some(s) if column.kind == ColumnKind::Name => Value::String(s),
                            Some(s) if s.is_empty() => match column.kind {
                                ColumnKind::Text | ColumnKind::Numbers => {
                                    Value::String(String::new())
                                }
                                _ => Value::Null,
                            },
                            Some(s) => values::simple_to_json(column, &s)?,
                        };
                        json!({ column_id: value })
                    }
                };
                let id =
                    mutations::change_values(ctx, &board_id, &item_id, &values, create_labels)?;
                item(id)
            }
            "delete_item" | "archive_item" => {
                let item_id = id_text(args.get("item_id"));
                let id = mutations::remove_item(ctx, &item_id, field == "delete_item")?;
                item(id)
            }
            "create_webhook" => {
                let board_text = id_text(args.get("board_id"));
                let url = args
                    .get("url")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let event = args
                    .get("event")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let config = match args.get("config") {
                    Some(Value::String(s)) => {
                        Some(serde_json::from_str(s).unwrap_or(Value::String(s.clone())))
                    }
                    Some(Value::Null) | None => None,
                    Some(other) => Some(other.clone()),
                };
                let mut account = ctx.account.borrow_mut();
                let board_id = id_value(args.get("board_id"))
                    .filter(|b| account.boards.contains_key(b))
                    .ok_or_else(|| codes::board_not_found(&board_text))?;
                if url.len() > 255 {
                    return Err(codes::invalid_argument(
                        "webhook url is limited to 255 characters",
                    ));
                }
                match ctx.challenges.get(&url) {
                    Some(Ok(())) => {}
                    Some(Err(why)) => return Err(codes::webhook_challenge_failed(&url, why)),
                    None => {
                        return Err(codes::webhook_challenge_failed(
                            &url,
                            "no challenge was made",
                        ));
                    }
                }
                let id = account.next_webhook_id;
                account.next_webhook_id += 1;
                let subscription = WebhookSubscription {
                    id,
                    board_id,
                    url,
                    event,
                    config,
                };
                let value = webhook_json(&subscription);
                account.webhooks.push(subscription);
                Ok(ResolvedValue::object(JsonObj {
                    type_name: "Webhook",
                    value,
                }))
            }
            "delete_webhook" => {
                let id = id_value(args.get("id"));
                let mut account = ctx.account.borrow_mut();
                let position = account
                    .webhooks
                    .iter()
                    .position(|w| Some(w.id) == id)
                    .ok_or_else(|| {
                        AppError::new(
                            "ResourceNotFoundException",
                            "Webhook not found",
                            json!({ "id": id_text(args.get("id")) }),
                        )
                    })?;
                let removed = account.webhooks.remove(position);
                Ok(ResolvedValue::object(JsonObj {
                    type_name: "Webhook",
                    value: webhook_json(&removed),
                }))
            }
            other => Err(codes::unsupported("Mutation", other)),
        }
    }
}

fn webhook_json(w: &WebhookSubscription) -> Value {
    json!({
        "id": w.id.to_string(),
        "board_id": w.board_id.to_string(),
        "event": w.event,
        "config": w.config.as_ref().map(Value::to_string),
    })
}

mod mutations {
    use super::*;

    const MAX_NAME: usize = 255;

    /// A new name, if any, and the values to store (`None` clears) per column.
    type Staged = (Option<String>, Vec<(String, Option<Value>)>);

    fn check_name(name: &str) -> Result<(), AppError> {
        let len = name.chars().count();
        if len == 0 || len > MAX_NAME {
            return Err(AppError::new(
                "ItemNameTooLongException",
                format!("Item name must be between 1 and {MAX_NAME} characters, got {len}"),
                json!({}),
            ));
        }
        Ok(())
    }

    /// Applies column writes to a staged copy of the board's columns and returns the new
    /// values (and a new name, if `name` was among them). Nothing is changed on error.
    fn stage(
        account: &mut Account,
        board_id: u64,
        values: &Value,
        create_labels: bool,
        now: &str,
    ) -> Result<Staged, AppError> {
        let Value::Object(map) = values else {
            return Err(AppError::new(
                "ColumnValueException",
                "column values must be a json object keyed by column id",
                json!({}),
            ));
        };
        let board = account
            .boards
            .get(&board_id)
            .ok_or_else(|| codes::board_not_found(&board_id.to_string()))?;
        let mut columns = board.columns.clone();
        let items = &account.items;
        let item_board = |id: u64| {
            items
                .get(&id)
                .filter(|i| i.state != ItemState::Deleted)
                .map(|i| i.board_id)
        };
        let mut name = None;
        let mut writes = Vec::new();
        for (column_id, raw) in map {
            if column_id == crmmap_monday::documents::ITEM_NAME_COLUMN {
                let new = raw
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| raw.to_string());
                check_name(&new)?;
                name = Some(new);
                continue;
            }
            let column = columns
                .iter_mut()
                .find(|c| &c.id == column_id)
                .ok_or_else(|| codes::column_not_found(column_id))?;
            let stored = values::write_value(column, raw, create_labels, now, &item_board)?;
            writes.push((column_id.clone(), stored));
        }
        if let Some(board) = account.boards.get_mut(&board_id) {
            board.columns = columns;
        }
        Ok((name, writes))
    }

    pub(super) fn create_item(
        ctx: &ExecCtx<'_>,
        board_id: Option<u64>,
        board_text: &str,
        name: &str,
        values: &Value,
        group: Option<String>,
        create_labels: bool,
    ) -> Result<u64, AppError> {
        let mut account = ctx.account.borrow_mut();
        let board_id = board_id
            .filter(|b| account.boards.contains_key(b))
            .ok_or_else(|| codes::board_not_found(board_text))?;
        check_name(name)?;
        if account.board_item_count(board_id) >= ctx.settings.max_items_per_board {
            return Err(AppError::new(
                "ItemsLimitationException",
                format!(
                    "Board has reached the limit of {} items",
                    ctx.settings.max_items_per_board
                ),
                json!({ "board_id": board_id.to_string() }),
            ));
        }
        let board = &account.boards[&board_id];
        let group = match group {
            Some(g) => board
                .groups
                .iter()
                .find(|x| x.id == g)
                .cloned()
                .ok_or_else(|| {
                    AppError::new(
                        "InvalidGroupIdException",
                        "This group ID doesn't exist for the board",
                        json!({ "group_id": g }),
                    )
                })?,
            None => board.groups[0].clone(),
        };
        let (new_name, writes) = stage(&mut account, board_id, values, create_labels, &ctx.now)?;
        let id = account.next_item_id;
        account.next_item_id += 1;
        let item = Item {
            id,
            board_id,
            group_id: group.id.clone(),
            name: new_name.unwrap_or_else(|| name.to_owned()),
            state: ItemState::Active,
            created_at: ctx.now.clone(),
            updated_at: ctx.now.clone(),
            values: writes
                .into_iter()
                .filter_map(|(k, v)| Some((k, v?)))
                .collect(),
        };
        ctx.events.borrow_mut().push(Event::CreatePulse {
            board_id,
            item_id: id,
            name: item.name.clone(),
            group_id: group.id,
            group_title: group.title,
            group_color: group.color,
        });
        account.items.insert(id, item);
        Ok(id)
    }

    fn find_item(
        account: &Account,
        board_text: Option<&str>,
        item_text: &str,
    ) -> Result<u64, AppError> {
        let id: u64 = item_text
            .trim()
            .parse()
            .map_err(|_| codes::item_not_found(item_text))?;
        let item = account
            .items
            .get(&id)
            .ok_or_else(|| codes::item_not_found(item_text))?;
        match item.state {
            ItemState::Deleted => return Err(codes::item_not_found(item_text)),
            ItemState::Archived => return Err(codes::inactive_item(item_text)),
            ItemState::Active => {}
        }
        if let Some(board_text) = board_text {
            let board: u64 = board_text
                .trim()
                .parse()
                .map_err(|_| codes::board_not_found(board_text))?;
            if !account.boards.contains_key(&board) {
                return Err(codes::board_not_found(board_text));
            }
            if item.board_id != board {
                return Err(codes::item_not_in_board(item_text));
            }
        }
        Ok(id)
    }

    fn same_ignoring_changed_at(a: Option<&Value>, b: Option<&Value>) -> bool {
        let strip = |v: Option<&Value>| {
            v.cloned().map(|mut v| {
                if let Value::Object(map) = &mut v {
                    map.remove("changed_at");
                }
                v
            })
        };
        strip(a) == strip(b)
    }

    pub(super) fn change_values(
        ctx: &ExecCtx<'_>,
        board_text: &str,
        item_text: &str,
        values: &Value,
        create_labels: bool,
    ) -> Result<u64, AppError> {
        let mut account = ctx.account.borrow_mut();
        let id = find_item(&account, Some(board_text), item_text)?;
        let board_id = account.items[&id].board_id;
        let (name, writes) = stage(&mut account, board_id, values, create_labels, &ctx.now)?;
        let board = account.boards[&board_id].clone();
        let item = account.items.get_mut(&id).expect("found above");
        let mut events = ctx.events.borrow_mut();
        if let Some(name) = name
            && name != item.name
        {
            events.push(Event::UpdateName {
                board_id,
                item_id: id,
                group_id: item.group_id.clone(),
                previous: std::mem::replace(&mut item.name, name.clone()),
                name,
            });
        }
        for (column_id, stored) in writes {
            let previous = item.values.get(&column_id).cloned();
            if same_ignoring_changed_at(previous.as_ref(), stored.as_ref()) {
                continue;
            }
            match &stored {
                Some(v) => item.values.insert(column_id.clone(), v.clone()),
                None => item.values.remove(&column_id),
            };
            let column = board.column(&column_id).expect("staged columns exist");
            events.push(Event::UpdateColumnValue {
                board_id,
                item_id: id,
                item_name: item.name.clone(),
                group_id: item.group_id.clone(),
                column: column.clone(),
                value: values::webhook_value(column, stored.as_ref()),
                previous: values::webhook_value(column, previous.as_ref()),
            });
        }
        item.updated_at = ctx.now.clone();
        Ok(id)
    }

    pub(super) fn remove_item(
        ctx: &ExecCtx<'_>,
        item_text: &str,
        delete: bool,
    ) -> Result<u64, AppError> {
        let mut account = ctx.account.borrow_mut();
        let id: u64 = item_text
            .trim()
            .parse()
            .map_err(|_| codes::item_not_found(item_text))?;
        let item = account
            .items
            .get_mut(&id)
            .filter(|i| i.state != ItemState::Deleted)
            .ok_or_else(|| codes::item_not_found(item_text))?;
        if !delete && item.state == ItemState::Archived {
            return Err(codes::inactive_item(item_text));
        }
        item.state = if delete {
            ItemState::Deleted
        } else {
            ItemState::Archived
        };
        item.updated_at = ctx.now.clone();
        let event = if delete {
            Event::DeletePulse {
                board_id: item.board_id,
                item_id: id,
                item_name: item.name.clone(),
            }
        } else {
            Event::ArchivePulse {
                board_id: item.board_id,
                item_id: id,
                item_name: item.name.clone(),
            }
        };
        ctx.events.borrow_mut().push(event);
        Ok(id)
    }
}

impl ObjectValue for BoardObj<'_, '_> {
    fn type_name(&self) -> &str {
        "Board"
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        let ctx = self.ctx;
        let account = ctx.account.borrow();
        let Some(board) = account.boards.get(&self.id) else {
            return Ok(ResolvedValue::null());
        };
        let args = args(info);
        Ok(match info.field_name() {
            "id" => leaf(json!(board.id.to_string())),
            "name" => leaf(json!(board.name)),
            "state" => leaf(json!("active")),
            "board_kind" => leaf(json!("public")),
            "items_count" => leaf(json!(account.board_item_count(board.id))),
            "columns" => {
                let ids = string_list(args.get("ids"));
                let types = string_list(args.get("types"));
                let board_id = board.id;
                let columns: Vec<String> = board
                    .columns
                    .iter()
                    .filter(|c| ids.as_ref().is_none_or(|ids| ids.contains(&c.id)))
                    .filter(|c| {
                        types
                            .as_ref()
                            .is_none_or(|t| t.iter().any(|t| t == c.kind.api_name()))
                    })
                    .map(|c| c.id.clone())
                    .collect();
                ResolvedValue::list(columns.into_iter().map(move |column_id| {
                    ResolvedValue::object(ColumnObj {
                        ctx,
                        board_id,
                        column_id,
                    })
                }))
            }
            "groups" => {
                let groups: Vec<Value> = board
                    .groups
                    .iter()
                    .enumerate()
                    .map(|(i, g)| json!({ "id": g.id, "title": g.title, "color": g.color, "archived": false, "deleted": false, "position": format!("{}", 65536 * (i + 1)) }))
                    .collect();
                ResolvedValue::list(groups.into_iter().map(|value| {
                    ResolvedValue::object(JsonObj {
                        type_name: "Group",
                        value,
                    })
                }))
            }
            "items_page" => {
                let root = Root {
                    ctx,
                    mutation: false,
                };
                let limit = page_limit(&args).map_err(|e| ctx.fail(e))?;
                if let Some(cursor) = args.get("cursor").and_then(Value::as_str) {
                    drop(account);
                    return root
                        .next_page(cursor, limit)
                        .map(ResolvedValue::object)
                        .map_err(|e| ctx.fail(e));
                }
                let query = args.get("query_params").cloned().unwrap_or(Value::Null);
                let mut matching = Vec::new();
                for item in account.active_items(board.id) {
                    if query.is_null()
                        || matches_query(&account, item, &query).map_err(|e| ctx.fail(e))?
                    {
                        matching.push(item.id);
                    }
                }
                drop(account);
                ResolvedValue::object(root.start_page(matching, limit))
            }
            other => return Err(ctx.fail(codes::unsupported("Board", other))),
        })
    }
}

impl ObjectValue for ColumnObj<'_, '_> {
    fn type_name(&self) -> &str {
        "Column"
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        let account = self.ctx.account.borrow();
        let Some(column) = account
            .boards
            .get(&self.board_id)
            .and_then(|b| b.column(&self.column_id))
        else {
            return Ok(ResolvedValue::null());
        };
        Ok(match info.field_name() {
            "id" => leaf(json!(column.id)),
            "title" => leaf(json!(column.title)),
            "type" => leaf(json!(column.kind.api_name())),
            "settings" => leaf(column.settings()),
            "settings_str" => leaf(json!(column.settings_legacy().to_string())),
            "archived" => leaf(json!(false)),
            "description" | "width" => ResolvedValue::null(),
            other => return Err(self.ctx.fail(codes::unsupported("Column", other))),
        })
    }
}

impl ObjectValue for ItemObj<'_, '_> {
    fn type_name(&self) -> &str {
        "Item"
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        let ctx = self.ctx;
        let account = ctx.account.borrow();
        let Some(item) = account.items.get(&self.id) else {
            return Ok(ResolvedValue::null());
        };
        Ok(match info.field_name() {
            "id" => leaf(json!(item.id.to_string())),
            "name" => leaf(json!(item.name)),
            "state" => leaf(json!(item.state.api_name())),
            "created_at" => leaf(json!(item.created_at)),
            "updated_at" => leaf(json!(item.updated_at)),
            "url" | "relative_link" => leaf(json!(format!(
                "https://emulator.monday.local/boards/{}/pulses/{}",
                item.board_id, item.id
            ))),
            "board" => ResolvedValue::object(BoardObj {
                ctx,
                id: item.board_id,
            }),
            "group" => {
                let group = account
                    .boards
                    .get(&item.board_id)
                    .and_then(|b| b.groups.iter().find(|g| g.id == item.group_id));
                match group {
                    Some(g) => ResolvedValue::object(JsonObj {
                        type_name: "Group",
                        value: json!({ "id": g.id, "title": g.title, "color": g.color, "archived": false, "deleted": false, "position": "65536" }),
                    }),
                    None => ResolvedValue::null(),
                }
            }
            "column_values" => {
                let args = args(info);
                let ids = string_list(args.get("ids"));
                let types = string_list(args.get("types"));
                let Some(board) = account.boards.get(&item.board_id) else {
                    return Ok(ResolvedValue::list(Vec::new()));
                };
                let item_id = item.id;
                let board_id = board.id;
                let columns: Vec<(String, ColumnKind)> = board
                    .columns
                    .iter()
                    .filter(|c| c.kind != ColumnKind::Name)
                    .filter(|c| ids.as_ref().is_none_or(|ids| ids.contains(&c.id)))
                    .filter(|c| {
                        types
                            .as_ref()
                            .is_none_or(|t| t.iter().any(|t| t == c.kind.api_name()))
                    })
                    .map(|c| (c.id.clone(), c.kind))
                    .collect();
                ResolvedValue::list(columns.into_iter().map(move |(column_id, kind)| {
                    ResolvedValue::object(ColumnValueObj {
                        ctx,
                        item_id,
                        board_id,
                        column_id,
                        kind,
                    })
                }))
            }
            other => return Err(ctx.fail(codes::unsupported("Item", other))),
        })
    }
}

impl ObjectValue for ColumnValueObj<'_, '_> {
    fn type_name(&self) -> &str {
        self.kind.value_type_name()
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        let ctx = self.ctx;
        let account = ctx.account.borrow();
        let (Some(item), Some(column)) = (
            account.items.get(&self.item_id),
            account
                .boards
                .get(&self.board_id)
                .and_then(|b| b.column(&self.column_id)),
        ) else {
            return Ok(ResolvedValue::null());
        };
        let stored = item.values.get(&self.column_id);
        let str_of = |key: &str| {
            leaf(
                stored
                    .and_then(|v| v.get(key))
                    .cloned()
                    .unwrap_or(Value::Null),
            )
        };
        let text = values::render_text(column, stored);
        Ok(match (info.field_name(), self.kind) {
            ("id", _) => leaf(json!(column.id)),
            ("type", _) => leaf(json!(column.kind.api_name())),
            ("text", _) => leaf(json!(text)),
            ("is_leaf", _) => leaf(json!(true)),
            ("updated_at", _) => leaf(
                stored
                    .and_then(|v| v.get("changed_at"))
                    .cloned()
                    .unwrap_or(Value::Null),
            ),
            ("value", ColumnKind::BoardRelation) if !ctx.settings.legacy_relation_value => {
                ResolvedValue::null()
            }
            ("value", _) => leaf(stored.map_or(Value::Null, |v| Value::String(v.to_string()))),
            ("column", _) => ResolvedValue::object(ColumnObj {
                ctx,
                board_id: self.board_id,
                column_id: self.column_id.clone(),
            }),
            ("index", ColumnKind::Status) => leaf(json!(values::status_index(stored))),
            ("label", ColumnKind::Status) => leaf(if stored.is_some() && !text.is_empty() {
                json!(text)
            } else {
                Value::Null
            }),
            ("is_done", ColumnKind::Status) => leaf(json!(values::status_index(stored) == Some(1))),
            ("update_id", ColumnKind::Status) => ResolvedValue::null(),
            ("values", ColumnKind::Dropdown) => {
                let options: Vec<Value> = values::dropdown_ids(stored)
                    .into_iter()
                    .filter_map(|id| {
                        column
                            .label_by_id(id)
                            .map(|l| json!({ "id": id.to_string(), "label": l.text }))
                    })
                    .collect();
                ResolvedValue::list(options.into_iter().map(|value| {
                    ResolvedValue::object(JsonObj {
                        type_name: "DropdownValueOption",
                        value,
                    })
                }))
            }
            ("linked_item_ids", ColumnKind::BoardRelation) => {
                let ids: Vec<u64> = values::linked_ids(stored);
                ResolvedValue::list(ids.into_iter().map(|id| leaf(json!(id.to_string()))))
            }
            ("display_value", ColumnKind::BoardRelation) => {
                let names: Vec<String> = values::linked_ids(stored)
                    .iter()
                    .filter_map(|id| account.items.get(id).map(|i| i.name.clone()))
                    .collect();
                leaf(json!(names.join(", ")))
            }
            ("linked_items", ColumnKind::BoardRelation) => {
                let ids: Vec<u64> = values::linked_ids(stored)
                    .into_iter()
                    .filter(|id| {
                        account
                            .items
                            .get(id)
                            .is_some_and(|i| i.state != ItemState::Deleted)
                    })
                    .collect();
                ResolvedValue::list(
                    ids.into_iter()
                        .map(move |id| ResolvedValue::object(ItemObj { ctx, id })),
                )
            }
            ("date" | "time" | "icon", ColumnKind::Date) => str_of(info.field_name()),
            ("checked", ColumnKind::Checkbox) => leaf(json!(
                stored.is_some_and(|v| v.get("checked") == Some(&json!("true")))
            )),
            ("number", ColumnKind::Numbers) => leaf(
                stored
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse::<f64>().ok())
                    .map_or(Value::Null, |n| json!(n)),
            ),
            ("symbol" | "direction", ColumnKind::Numbers) => ResolvedValue::null(),
            ("email", ColumnKind::Email) => str_of("email"),
            ("label", ColumnKind::Email) => str_of("text"),
            ("phone", ColumnKind::Phone) => str_of("phone"),
            ("country_short_name", ColumnKind::Phone) => str_of("countryShortName"),
            ("url", ColumnKind::Link) => str_of("url"),
            ("url_text", ColumnKind::Link) => str_of("text"),
            ("persons_and_teams", ColumnKind::People) => {
                let persons: Vec<Value> = stored
                    .and_then(|v| v.get("personsAndTeams"))
                    .and_then(Value::as_array)
                    .map(|l| {
                        l.iter()
                            .map(|p| json!({ "id": id_text(p.get("id")), "kind": p.get("kind") }))
                            .collect()
                    })
                    .unwrap_or_default();
                ResolvedValue::list(persons.into_iter().map(|value| {
                    ResolvedValue::object(JsonObj {
                        type_name: "PeopleEntity",
                        value,
                    })
                }))
            }
            (other, _) => {
                return Err(ctx.fail(codes::unsupported(self.kind.value_type_name(), other)));
            }
        })
    }
}

impl ObjectValue for ItemsResponseObj<'_, '_> {
    fn type_name(&self) -> &str {
        "ItemsResponse"
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        let ctx = self.ctx;
        Ok(match info.field_name() {
            "cursor" => leaf(self.cursor.clone().map_or(Value::Null, Value::String)),
            "items" => ResolvedValue::list(
                self.items
                    .iter()
                    .map(move |&id| ResolvedValue::object(ItemObj { ctx, id })),
            ),
            other => return Err(ctx.fail(codes::unsupported("ItemsResponse", other))),
        })
    }
}
