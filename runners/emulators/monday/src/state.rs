//! The in-memory monday account: boards, columns, items, webhooks, cursors, budget, counters.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

/// API column types the emulator stores and validates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    /// The item name pseudo-column.
    Name,
    /// `text`.
    Text,
    /// `long_text`.
    LongText,
    /// `numbers`.
    Numbers,
    /// `status`.
    Status,
    /// `dropdown`.
    Dropdown,
    /// `date`.
    Date,
    /// `email`.
    Email,
    /// `phone`.
    Phone,
    /// `link`.
    Link,
    /// `checkbox`.
    Checkbox,
    /// `people`.
    People,
    /// `board_relation`.
    BoardRelation,
}

impl ColumnKind {
    /// The API `ColumnType` enum value.
    pub fn api_name(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Text => "text",
            Self::LongText => "long_text",
            Self::Numbers => "numbers",
            Self::Status => "status",
            Self::Dropdown => "dropdown",
            Self::Date => "date",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Link => "link",
            Self::Checkbox => "checkbox",
            Self::People => "people",
            Self::BoardRelation => "board_relation",
        }
    }

    /// The legacy type name used in webhook `columnType` and `error_data.column_type`.
    ///
    /// UNCERTAIN (reference §4.2): confirmed for text, long-text, numeric, color, date,
    /// multiple-person, boolean, board-relation, dropdown, link; assumed for email and phone.
    pub fn legacy_name(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Text => "text",
            Self::LongText => "long-text",
            Self::Numbers => "numeric",
            Self::Status => "color",
            Self::Dropdown => "dropdown",
            Self::Date => "date",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Link => "link",
            Self::Checkbox => "boolean",
            Self::People => "multiple-person",
            Self::BoardRelation => "board-relation",
        }
    }

    /// The concrete GraphQL type of this column's values.
    pub fn value_type_name(self) -> &'static str {
        match self {
            Self::Name | Self::Text => "TextValue",
            Self::LongText => "LongTextValue",
            Self::Numbers => "NumbersValue",
            Self::Status => "StatusValue",
            Self::Dropdown => "DropdownValue",
            Self::Date => "DateValue",
            Self::Email => "EmailValue",
            Self::Phone => "PhoneValue",
            Self::Link => "LinkValue",
            Self::Checkbox => "CheckboxValue",
            Self::People => "PeopleValue",
            Self::BoardRelation => "BoardRelationValue",
        }
    }

    /// Parses an API type name.
    pub fn from_api_name(name: &str) -> Option<Self> {
        [
            Self::Name,
            Self::Text,
            Self::LongText,
            Self::Numbers,
            Self::Status,
            Self::Dropdown,
            Self::Date,
            Self::Email,
            Self::Phone,
            Self::Link,
            Self::Checkbox,
            Self::People,
            Self::BoardRelation,
        ]
        .into_iter()
        .find(|k| k.api_name() == name)
    }
}

/// A status or dropdown label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Status index or dropdown id.
    pub id: i64,
    /// Label text.
    pub text: String,
}

/// A board column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Column id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Type.
    pub kind: ColumnKind,
    /// Status/dropdown labels.
    pub labels: Vec<Label>,
    /// Boards a board-relation column connects to.
    pub connected_board_ids: Vec<u64>,
}

/// Status colours by label position, as in monday's default palette.
const STATUS_COLORS: [(&str, &str, &str); 6] = [
    ("#fdab3d", "#e99729", "orange"),
    ("#00c875", "#00b461", "green-shadow"),
    ("#df2f4a", "#ce3048", "red-shadow"),
    ("#579bfc", "#4387e8", "bright-blue"),
    ("#a25ddc", "#9238af", "purple"),
    ("#c4c4c4", "#b0b0b0", "grey"),
];

impl Column {
    /// The label with this text.
    pub fn label_by_text(&self, text: &str) -> Option<&Label> {
        self.labels.iter().find(|l| l.text == text)
    }

    /// The label with this id or index.
    pub fn label_by_id(&self, id: i64) -> Option<&Label> {
        self.labels.iter().find(|l| l.id == id)
    }

    /// Adds a label with the next free id (status index 5 stays reserved for the blank label).
    pub fn add_label(&mut self, text: &str) -> i64 {
        let first = if self.kind == ColumnKind::Status {
            0
        } else {
            1
        };
        let mut id = self.labels.iter().map(|l| l.id + 1).max().unwrap_or(first);
        if self.kind == ColumnKind::Status && id == 5 {
            id = 6;
        }
        self.labels.push(Label {
            id,
            text: text.to_owned(),
        });
        id
    }

    /// Webhook style of a status label.
    pub fn label_style(&self, id: i64) -> Value {
        let (color, border, var_name) =
            STATUS_COLORS[(id.unsigned_abs() as usize) % STATUS_COLORS.len()];
        json!({ "color": color, "border": border, "var_name": var_name })
    }

    /// The `settings` JSON of API 2025-10 and later (`Column.settings: JSON`, schema L2964):
    /// status and dropdown labels as lists of objects. The fields are the schema's
    /// `StatusLabel` (`id`, `label`, `color`, `index`, `description`, `is_deactivated`,
    /// `is_done`) and `DropdownLabel` (`id`, `label`, `is_deactivated`); that `Column.settings`
    /// uses them, with `id` the value's index and `index` the label's position, follows
    /// monday's changelog of 2025-10 and is an ASSUMPTION (README).
    pub fn settings(&self) -> Value {
        match self.kind {
            ColumnKind::Status => {
                let labels: Vec<Value> = self
                    .labels
                    .iter()
                    .enumerate()
                    .map(|(position, l)| {
                        json!({
                            "id": l.id,
                            "color": l.id.unsigned_abs() as usize % STATUS_COLORS.len(),
                            "label": l.text,
                            "index": position,
                            "is_done": l.id == 1,
                            "is_deactivated": false,
                        })
                    })
                    .collect();
                json!({ "labels": labels })
            }
            ColumnKind::Dropdown => {
                let labels: Vec<Value> = self
                    .labels
                    .iter()
                    .map(|l| json!({ "id": l.id, "label": l.text, "is_deactivated": false }))
                    .collect();
                json!({ "hide_footer": false, "labels": labels })
            }
            _ => self.settings_legacy(),
        }
    }

    /// The settings in the shape of `settings_str` (deprecated from 2025-10 but still served,
    /// schema L2967): status labels as an index → text map with `done_colors` (reference §3,
    /// real data), dropdown labels as a list of `{id, name}`.
    pub fn settings_legacy(&self) -> Value {
        match self.kind {
            ColumnKind::Status => {
                let labels: serde_json::Map<String, Value> = self
                    .labels
                    .iter()
                    .map(|l| (l.id.to_string(), Value::String(l.text.clone())))
                    .collect();
                let positions: serde_json::Map<String, Value> = self
                    .labels
                    .iter()
                    .enumerate()
                    .map(|(position, l)| (l.id.to_string(), json!(position)))
                    .collect();
                json!({ "labels": labels, "done_colors": [1], "labels_positions_v2": positions })
            }
            ColumnKind::Dropdown => {
                let labels: Vec<Value> = self
                    .labels
                    .iter()
                    .map(|l| json!({ "id": l.id, "name": l.text }))
                    .collect();
                json!({ "hide_footer": false, "labels": labels })
            }
            ColumnKind::BoardRelation => {
                json!({ "allowMultipleItems": true, "boardIds": self.connected_board_ids })
            }
            _ => json!({}),
        }
    }
}

/// A group of a board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Group id, e.g. `topics`.
    pub id: String,
    /// Title.
    pub title: String,
    /// Colour.
    pub color: String,
}

/// A board.
#[derive(Debug, Clone, PartialEq)]
pub struct Board {
    /// Board id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Columns in board order (the first is `name`).
    pub columns: Vec<Column>,
    /// Groups; the first is the top group.
    pub groups: Vec<Group>,
}

impl Board {
    /// The column with this id.
    pub fn column(&self, id: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.id == id)
    }
}

/// Item lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemState {
    /// Active.
    Active,
    /// Archived.
    Archived,
    /// Deleted (in the trash).
    Deleted,
}

impl ItemState {
    /// API name.
    pub fn api_name(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Archived => "archived",
            Self::Deleted => "deleted",
        }
    }
}

/// An item.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Item id.
    pub id: u64,
    /// Board.
    pub board_id: u64,
    /// Group.
    pub group_id: String,
    /// Name.
    pub name: String,
    /// State.
    pub state: ItemState,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
    /// Stored values by column id: the JSON the API `value` string encodes.
    pub values: BTreeMap<String, Value>,
}

/// A webhook subscription created with `create_webhook`.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSubscription {
    /// Id (also the payload's `subscriptionId`).
    pub id: u64,
    /// Board.
    pub board_id: u64,
    /// Target URL.
    pub url: String,
    /// `WebhookEventType` value.
    pub event: String,
    /// Config JSON, if any.
    pub config: Option<Value>,
}

/// A paging cursor.
#[derive(Debug, Clone)]
pub struct CursorState {
    /// Items still to serve, in order.
    pub remaining: VecDeque<u64>,
    /// When the cursor was first issued.
    pub issued: Instant,
}

/// What `change_multiple_column_values` does with the key `name` (the item's name) among its
/// column values. The reference leaves it UNCERTAIN (§4.1): common practice renames through it,
/// a third-party tool says column-value mutations cannot rename. `change_simple_column_value`
/// on `name` renames in every case. An ASSUMPTION (README).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameInColumnValues {
    /// The item is renamed (the default).
    #[default]
    Renames,
    /// The key is ignored: the other columns change, the name stays.
    Ignored,
    /// The mutation is refused as naming an unknown column (`InvalidColumnIdException`);
    /// nothing changes.
    Refused,
}

/// An injected failure for the next request ([`Fault::ServerError`], [`Fault::Locked`]: the
/// document is not run) or for the next mutation that runs (the `…AfterApply` faults: it is
/// applied, webhooks included, and then answered badly).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 500 Internal Server Error.
    ServerError,
    /// HTTP 423 resource locked.
    Locked,
    /// The next mutation is applied, then answered with HTTP 500 Internal Server Error.
    ServerErrorAfterApply,
    /// The next mutation is applied, then the connection is closed before the answer's body
    /// is complete.
    DropAfterApply,
    /// In the next mutation, the alias at this position (0-based, in document order) fails
    /// with an application error (HTTP 200, an `errors` entry with its path, `data` for the
    /// others); the aliases before it were applied and those after it run too. A mutation
    /// with fewer aliases runs whole.
    AliasFails(usize),
    /// The next mutation runs its aliases one after the other up to the one at this position
    /// (0-based), which fails, and the request is answered HTTP 500 Internal Server Error:
    /// the aliases before it were applied (webhooks included), it and those after it were
    /// not. A mutation with fewer aliases is applied whole, then answered 500.
    ServerErrorAtAlias(usize),
}

impl Fault {
    /// Whether the fault waits for the next mutation (and strikes while or after it runs)
    /// rather than striking the next request before anything runs.
    pub fn after_apply(self) -> bool {
        !matches!(self, Fault::ServerError | Fault::Locked)
    }
}

/// Request counters, for tests and benchmarks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Every POST to /v2.
    pub requests: u64,
    /// Requests that executed (got past auth, faults, validation and the budget).
    pub executed: u64,
    /// Complexity charged.
    pub complexity_spent: u64,
    /// Requests answered 429 for the complexity budget.
    pub budget_exhausted: u64,
    /// Requests answered 429 for the minute limit.
    pub minute_limited: u64,
    /// Requests answered 429 for the concurrency limit.
    pub concurrency_limited: u64,
    /// Requests answered 429 for the daily call limit.
    pub daily_limited: u64,
    /// Injected 500 responses.
    pub injected_server_errors: u64,
    /// Injected 423 responses.
    pub injected_locks: u64,
    /// Mutation documents that ran.
    pub mutations: u64,
    /// Mutations applied and then answered with an injected 500 or a dropped connection.
    pub injected_after_apply: u64,
    /// Mutations run with [`Fault::AliasFails`] or [`Fault::ServerErrorAtAlias`].
    pub injected_alias_faults: u64,
    /// Documents rejected by parsing or validation.
    pub invalid_documents: u64,
    /// Executions per root field.
    pub root_fields: BTreeMap<String, u64>,
}

/// The sliding per-minute complexity budget. The window opens with the first charged
/// request and resets one (scaled) minute later, as monday describes it.
#[derive(Debug, Clone)]
pub struct Budget {
    /// Points per minute.
    pub limit: u64,
    /// Points left in this window.
    pub remaining: u64,
    /// When this window opened.
    pub window_start: Option<Instant>,
    /// Length of a minute (scaled).
    pub minute: Duration,
}

/// Result of charging the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    /// Budget before.
    pub before: u64,
    /// Cost.
    pub query: u64,
    /// Budget after.
    pub after: u64,
    /// Whole seconds until the reset (rounded up).
    pub reset_in_seconds: u64,
}

fn ceil_secs(d: Duration) -> u64 {
    let secs = d.as_secs();
    if d.subsec_nanos() > 0 { secs + 1 } else { secs }
}

impl Budget {
    fn roll(&mut self, now: Instant) {
        if let Some(start) = self.window_start
            && now >= start + self.minute
        {
            self.window_start = None;
            self.remaining = self.limit;
        }
    }

    /// Time until the window resets (a whole minute when no window is open).
    pub fn reset_in(&self, now: Instant) -> Duration {
        match self.window_start {
            Some(start) => (start + self.minute).saturating_duration_since(now),
            None => self.minute,
        }
    }

    /// Charges `cost`, or returns the whole seconds to wait when the budget is short.
    pub fn charge(&mut self, cost: u64, now: Instant) -> Result<Charge, u64> {
        self.roll(now);
        if cost > self.remaining {
            return Err(ceil_secs(self.reset_in(now)).max(1));
        }
        if self.window_start.is_none() {
            self.window_start = Some(now);
        }
        let before = self.remaining;
        self.remaining -= cost;
        Ok(Charge {
            before,
            query: cost,
            after: self.remaining,
            reset_in_seconds: ceil_secs(self.reset_in(now)),
        })
    }

    /// Points left now.
    pub fn remaining_now(&mut self, now: Instant) -> u64 {
        self.roll(now);
        self.remaining
    }
}

/// The whole account.
#[derive(Debug, Clone)]
pub struct Account {
    /// Boards by id.
    pub boards: BTreeMap<u64, Board>,
    /// Items by id (including archived and deleted ones).
    pub items: BTreeMap<u64, Item>,
    /// Next item id.
    pub next_item_id: u64,
    /// Webhooks created through the API.
    pub webhooks: Vec<WebhookSubscription>,
    /// Next webhook id.
    pub next_webhook_id: u64,
    /// Open cursors.
    pub cursors: HashMap<String, CursorState>,
    /// Complexity budget.
    pub budget: Budget,
    /// Counters.
    pub counters: Counters,
    /// Faults to inject into the next requests, in order.
    pub faults: VecDeque<Fault>,
    /// Faults to inject into the answers of the next mutations that run, in order.
    pub after_apply_faults: VecDeque<Fault>,
}

impl Account {
    /// An empty account with this budget.
    pub fn new(budget_per_minute: u64, minute: Duration) -> Self {
        Self {
            boards: BTreeMap::new(),
            items: BTreeMap::new(),
            next_item_id: 10_000_000_001,
            webhooks: Vec::new(),
            next_webhook_id: 500_000_001,
            cursors: HashMap::new(),
            budget: Budget {
                limit: budget_per_minute,
                remaining: budget_per_minute,
                window_start: None,
                minute,
            },
            counters: Counters::default(),
            faults: VecDeque::new(),
            after_apply_faults: VecDeque::new(),
        }
    }

    /// Active items of a board, in creation order.
    pub fn active_items(&self, board_id: u64) -> impl Iterator<Item = &Item> {
        self.items
            .values()
            .filter(move |i| i.board_id == board_id && i.state == ItemState::Active)
    }

    /// Number of items on a board that count towards its limit (active and archived).
    pub fn board_item_count(&self, board_id: u64) -> usize {
        self.items
            .values()
            .filter(|i| i.board_id == board_id && i.state != ItemState::Deleted)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_refuses_over_spending_and_resets_after_a_minute() {
        let minute = Duration::from_secs(60);
        let mut budget = Budget {
            limit: 100,
            remaining: 100,
            window_start: None,
            minute,
        };
        let t0 = Instant::now();
        let first = budget.charge(70, t0).unwrap();
        assert_eq!(
            (first.before, first.after, first.reset_in_seconds),
            (100, 30, 60)
        );
        assert_eq!(budget.charge(40, t0 + Duration::from_secs(10)), Err(50));
        let later = budget.charge(40, t0 + Duration::from_secs(61)).unwrap();
        assert_eq!(later.before, 100);
    }
}
