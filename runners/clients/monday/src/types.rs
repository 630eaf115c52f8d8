//! Typed views of what the API returns, and their parsing from the wire JSON.

use std::collections::BTreeMap;

use crmmap_ids::{BoardId, ColumnId, ItemId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::MondayError;

/// The `complexity` object returned with every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complexity {
    /// Budget left before this request.
    pub before: u64,
    /// Cost of this request.
    pub query: u64,
    /// Budget left after this request.
    pub after: u64,
    /// Seconds until the budget resets.
    pub reset_in_x_seconds: u64,
}

/// A board column with its settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Column id, e.g. `text_mkry13cw`.
    pub id: ColumnId,
    /// Title shown in the board.
    pub title: String,
    /// API column type, e.g. `status`, `dropdown`, `board_relation`.
    pub column_type: String,
    /// The raw `settings` JSON.
    pub settings: Option<Value>,
    /// Status labels by index, or dropdown labels by id.
    pub labels: BTreeMap<i64, String>,
}

impl Column {
    /// The index or id of a label, if the column has it.
    pub fn label_id(&self, label: &str) -> Option<i64> {
        self.labels
            .iter()
            .find_map(|(id, text)| (text == label).then_some(*id))
    }
}

/// A board with its columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Board {
    /// Board id.
    pub id: BoardId,
    /// Board name.
    pub name: String,
    /// Columns in board order.
    pub columns: Vec<Column>,
}

impl Board {
    /// The column with this id.
    pub fn column(&self, id: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.id.as_str() == id)
    }
}

/// One column value of an item.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnValue {
    /// Column id (empty when the answer selected none).
    pub id: ColumnId,
    /// API column type.
    pub column_type: String,
    /// Rendered text (`""` when empty; empty for board relations, see `display_value`).
    pub text: Option<String>,
    /// The stored value, parsed from the JSON string the API returns; `None` when empty and
    /// always for board relations (API 2025-04+).
    pub value: Option<Value>,
    /// Linked items of a board-relation column.
    pub linked_item_ids: Vec<ItemId>,
    /// Names of the linked items of a board-relation column.
    pub display_value: Option<String>,
    /// Status label.
    pub label: Option<String>,
    /// Status label index.
    pub index: Option<i64>,
    /// Dropdown labels, in order.
    pub labels: Vec<String>,
    /// Dropdown label ids, in order.
    pub label_ids: Vec<i64>,
    /// Date part of a date column (`YYYY-MM-DD`).
    pub date: Option<String>,
    /// Time part of a date column.
    pub time: Option<String>,
    /// Checkbox state.
    pub checked: Option<bool>,
    /// Number of a numbers column.
    pub number: Option<f64>,
    /// Email address of an email column.
    pub email: Option<String>,
    /// Phone number of a phone column.
    pub phone: Option<String>,
    /// URL of a link column.
    pub url: Option<String>,
}

impl Default for ColumnValue {
    /// An empty value of no column (an empty id), as for a column the answer did not hold.
    fn default() -> Self {
        Self {
            id: ColumnId::new(""),
            column_type: String::new(),
            text: None,
            value: None,
            linked_item_ids: Vec::new(),
            display_value: None,
            label: None,
            index: None,
            labels: Vec::new(),
            label_ids: Vec::new(),
            date: None,
            time: None,
            checked: None,
            number: None,
            email: None,
            phone: None,
            url: None,
        }
    }
}

/// The lifecycle state of an item (`Item.state`, reference §3 and the schema's `State`).
///
/// `items(ids:)` returns archived and deleted items too, each with its state, unless
/// `exclude_nonactive` is set (schema: "Excludes items that are inactive, deleted or belong
/// to deleted items"); deleted items stay in the trash, where they can be restored
/// (reference §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemState {
    /// On the board.
    Active,
    /// Archived.
    Archived,
    /// Deleted (in the trash).
    Deleted,
}

impl ItemState {
    /// The state from its API name; `None` for anything else (the schema's `State` also has
    /// `all`, which is a filter, not a state).
    pub fn from_api(name: &str) -> Option<ItemState> {
        match name {
            "active" => Some(ItemState::Active),
            "archived" => Some(ItemState::Archived),
            "deleted" => Some(ItemState::Deleted),
            _ => None,
        }
    }

    /// The API name.
    pub fn api_name(self) -> &'static str {
        match self {
            ItemState::Active => "active",
            ItemState::Archived => "archived",
            ItemState::Deleted => "deleted",
        }
    }
}

impl std::fmt::Display for ItemState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.api_name())
    }
}

/// An item with the column values that were asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Item id.
    pub id: ItemId,
    /// Item name.
    pub name: String,
    /// Board of the item, when asked for.
    pub board_id: Option<BoardId>,
    /// Group of the item.
    pub group_id: Option<String>,
    /// Its lifecycle state; `None` when the response had none (or one this client does not
    /// know).
    pub state: Option<ItemState>,
    /// Creation time as the API renders it.
    pub created_at: Option<String>,
    /// Last update time as the API renders it.
    pub updated_at: Option<String>,
    /// Column values by column id.
    pub column_values: BTreeMap<ColumnId, ColumnValue>,
}

impl Item {
    /// The value of one column.
    pub fn column(&self, id: &(impl AsRef<str> + ?Sized)) -> Option<&ColumnValue> {
        self.column_values.get(id.as_ref())
    }

    /// Its state when the item is archived or deleted; `None` for an active item (or one
    /// whose state was not returned: every document the client sends selects `state`).
    pub fn inactive(&self) -> Option<ItemState> {
        self.state.filter(|s| *s != ItemState::Active)
    }
}

/// One page of items.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ItemsPage {
    /// Cursor for the next page; `None` at the end.
    pub cursor: Option<String>,
    /// The items of this page.
    pub items: Vec<Item>,
}

/// A board webhook subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// Webhook id.
    pub id: String,
    /// Board id.
    pub board_id: Option<BoardId>,
    /// Event name.
    pub event: Option<String>,
    /// Config JSON, if any.
    pub config: Option<Value>,
}

/// Why a response did not have the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unexpected response shape: {0}")]
pub struct ShapeError(pub String);

fn shape(msg: impl Into<String>) -> ShapeError {
    ShapeError(msg.into())
}

/// An id that may arrive as a string or a number.
pub(crate) fn id_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A board or item id of an answer, read with the id's serde (digits, as a string or a
/// number): `None` when absent or null, [`MondayError::InvalidId`] when malformed.
pub(crate) fn monday_id<T: serde::de::DeserializeOwned>(
    value: Option<&Value>,
    what: &str,
) -> Result<Option<T>, MondayError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(raw) => T::deserialize(raw)
            .map(Some)
            .map_err(|e| MondayError::InvalidId {
                message: format!("{what} {raw}: {e}"),
            }),
    }
}

/// [`monday_id`] of an id the answer must hold.
pub(crate) fn required_id<T: serde::de::DeserializeOwned>(
    value: Option<&Value>,
    what: &str,
) -> Result<T, MondayError> {
    monday_id(value, what)?.ok_or_else(|| MondayError::InvalidId {
        message: format!("{what} missing"),
    })
}

fn opt_str(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Parses the labels out of a status or dropdown column's settings.
///
/// UNCERTAIN (reference §3): `settings_str` holds status labels as an object
/// `{"labels": {"0": "Working on it", ...}}` and dropdown labels as a list
/// `{"labels": [{"id": 1, "name": "A"}]}`; the `settings` JSON of 2025-10+ may use lists of
/// `{"id", "label"}` objects for both. Every shape is accepted here.
pub fn parse_labels(settings: &Value) -> BTreeMap<i64, String> {
    let mut labels = BTreeMap::new();
    match settings.get("labels") {
        Some(Value::Object(map)) => {
            for (key, text) in map {
                if let (Ok(index), Some(text)) = (key.parse::<i64>(), text.as_str()) {
                    labels.insert(index, text.to_owned());
                }
            }
        }
        Some(Value::Array(list)) => {
            for entry in list {
                let id = entry
                    .get("id")
                    .or_else(|| entry.get("index"))
                    .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()));
                let text = entry
                    .get("name")
                    .or_else(|| entry.get("label"))
                    .and_then(Value::as_str);
                if let (Some(id), Some(text)) = (id, text) {
                    labels.insert(id, text.to_owned());
                }
            }
        }
        _ => {}
    }
    labels
}

/// Parses one column from the wire JSON.
pub fn parse_column(raw: &Value) -> Result<Column, MondayError> {
    let id = raw
        .get("id")
        .and_then(id_string)
        .map(ColumnId::new)
        .ok_or_else(|| shape("column without id"))?;
    let settings = match raw.get("settings") {
        Some(Value::String(s)) => serde_json::from_str(s).ok(),
        Some(Value::Null) | None => raw
            .get("settings_str")
            .and_then(Value::as_str)
            .and_then(|s| serde_json::from_str(s).ok()),
        Some(other) => Some(other.clone()),
    };
    let labels = settings.as_ref().map(parse_labels).unwrap_or_default();
    Ok(Column {
        id,
        title: opt_str(raw, "title").unwrap_or_default(),
        column_type: opt_str(raw, "type").unwrap_or_default(),
        settings,
        labels,
    })
}

/// Parses one board from the wire JSON.
pub fn parse_board(raw: &Value) -> Result<Board, MondayError> {
    let id = required_id(raw.get("id"), "board id")?;
    let columns = match raw.get("columns") {
        Some(Value::Array(list)) => list.iter().map(parse_column).collect::<Result<_, _>>()?,
        _ => Vec::new(),
    };
    Ok(Board {
        id,
        name: opt_str(raw, "name").unwrap_or_default(),
        columns,
    })
}

/// Parses one column value from the wire JSON.
pub fn parse_column_value(raw: &Value) -> Result<ColumnValue, MondayError> {
    // Some recorded responses select no `id`; tolerate it.
    let id = ColumnId::new(raw.get("id").and_then(id_string).unwrap_or_default());
    // `value` is a JSON string that holds JSON; tolerate an already-decoded value.
    let value = match raw.get("value") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(serde_json::from_str(s).unwrap_or(Value::String(s.clone()))),
        Some(other) => Some(other.clone()),
    };
    let linked_item_ids = match raw.get("linked_item_ids") {
        Some(Value::Array(ids)) => ids
            .iter()
            .map(|id| required_id(Some(id), "linked item id"))
            .collect::<Result<_, _>>()?,
        _ => legacy_linked_ids(value.as_ref())?,
    };
    let (labels, label_ids) = match raw.get("values") {
        Some(Value::Array(options)) => (
            options.iter().filter_map(|o| opt_str(o, "label")).collect(),
            options
                .iter()
                .filter_map(|o| {
                    o.get("id")
                        .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
                })
                .collect(),
        ),
        _ => (Vec::new(), Vec::new()),
    };
    Ok(ColumnValue {
        id,
        column_type: opt_str(raw, "type").unwrap_or_default(),
        text: opt_str(raw, "text"),
        value,
        linked_item_ids,
        display_value: opt_str(raw, "display_value"),
        label: opt_str(raw, "label"),
        index: raw.get("index").and_then(Value::as_i64),
        labels,
        label_ids,
        date: opt_str(raw, "date"),
        time: opt_str(raw, "time"),
        checked: raw.get("checked").and_then(Value::as_bool),
        number: raw.get("number").and_then(Value::as_f64),
        email: opt_str(raw, "email"),
        phone: opt_str(raw, "phone"),
        url: opt_str(raw, "url"),
    })
}

/// Linked ids from a pre-2025-04 board-relation `value` (`{"linkedPulseIds":[{"linkedPulseId":1}]}`).
fn legacy_linked_ids(value: Option<&Value>) -> Result<Vec<ItemId>, MondayError> {
    value
        .and_then(|v| v.get("linkedPulseIds"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|entry| monday_id(entry.get("linkedPulseId"), "linked item id").transpose())
        .collect()
}

/// Parses one item from the wire JSON.
pub fn parse_item(raw: &Value) -> Result<Item, MondayError> {
    let mut column_values = BTreeMap::new();
    if let Some(Value::Array(values)) = raw.get("column_values") {
        for value in values {
            let parsed = parse_column_value(value)?;
            column_values.insert(parsed.id.clone(), parsed);
        }
    }
    Ok(Item {
        id: required_id(raw.get("id"), "item id")?,
        name: opt_str(raw, "name").unwrap_or_default(),
        board_id: monday_id(raw.get("board").and_then(|b| b.get("id")), "board id")?,
        group_id: raw
            .get("group")
            .and_then(|g| g.get("id"))
            .and_then(id_string),
        state: raw
            .get("state")
            .and_then(Value::as_str)
            .and_then(ItemState::from_api),
        created_at: opt_str(raw, "created_at"),
        updated_at: opt_str(raw, "updated_at"),
        column_values,
    })
}

/// Parses an `ItemsResponse` (`{cursor, items}`).
pub fn parse_items_page(raw: &Value) -> Result<ItemsPage, MondayError> {
    let items = match raw.get("items") {
        Some(Value::Array(items)) => items.iter().map(parse_item).collect::<Result<_, _>>()?,
        _ => return Err(shape("items page without items").into()),
    };
    Ok(ItemsPage {
        cursor: opt_str(raw, "cursor"),
        items,
    })
}

/// Parses a webhook.
pub fn parse_webhook(raw: &Value) -> Result<Webhook, MondayError> {
    let config = match raw.get("config") {
        Some(Value::String(s)) => serde_json::from_str(s)
            .ok()
            .or(Some(Value::String(s.clone()))),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.clone()),
    };
    Ok(Webhook {
        id: raw
            .get("id")
            .and_then(id_string)
            .ok_or_else(|| shape("webhook without id"))?,
        board_id: monday_id(raw.get("board_id"), "board id")?,
        event: opt_str(raw, "event"),
        config,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_settings_object_and_dropdown_settings_list_both_parse() {
        let status = parse_labels(&json!({"labels": {"0": "Working on it", "1": "Done"}}));
        assert_eq!(status.get(&1).map(String::as_str), Some("Done"));
        let dropdown =
            parse_labels(&json!({"labels": [{"id": 1, "name": "A"}, {"id": 2, "label": "B"}]}));
        assert_eq!(dropdown.get(&2).map(String::as_str), Some("B"));
    }

    #[test]
    fn column_value_json_string_is_decoded() {
        let cv = parse_column_value(&json!({
            "id": "color_x", "type": "status", "text": "Done",
            "value": "{\"index\":1,\"post_id\":null}", "index": 1, "label": "Done"
        }))
        .unwrap();
        assert_eq!(cv.value, Some(json!({"index": 1, "post_id": null})));
        assert_eq!(cv.label.as_deref(), Some("Done"));
        assert_eq!(cv.index, Some(1));
    }

    #[test]
    fn ids_of_an_answer_are_typed_and_a_malformed_one_is_an_invalid_id() {
        let item = parse_item(&json!({
            "id": "42", "name": "A", "board": {"id": 9_378_000_505_u64},
            "column_values": [{"id": "link", "type": "board_relation", "linked_item_ids": ["7", 8]}]
        }))
        .unwrap();
        assert_eq!(item.id, ItemId::new(42));
        assert_eq!(item.board_id, Some(BoardId::new(9_378_000_505)));
        let link = item.column("link").unwrap();
        assert_eq!(link.linked_item_ids, [ItemId::new(7), ItemId::new(8)]);
        let invalid = |raw: Value| matches!(parse_item(&raw), Err(MondayError::InvalidId { .. }));
        assert!(invalid(json!({"id": "item-1", "name": "A"})));
        assert!(invalid(json!({"name": "A"})));
        assert!(invalid(json!({"id": "1", "board": {"id": "-3"}})));
        assert!(invalid(
            json!({"id": "1", "column_values": [{"id": "l", "linked_item_ids": ["x"]}]})
        ));
        assert!(invalid(json!({"id": "1", "column_values": [
            {"id": "l", "value": "{\"linkedPulseIds\":[{\"linkedPulseId\":\"007\"}]}"}
        ]})));
        assert!(matches!(
            parse_board(&json!({"id": "b1", "name": "B"})),
            Err(MondayError::InvalidId { .. })
        ));
    }

    #[test]
    fn item_state_is_read_and_only_archived_or_deleted_is_inactive() {
        let item = |state: Value| parse_item(&json!({"id": "1", "name": "A", "state": state}));
        assert_eq!(
            item(json!("deleted")).unwrap().inactive(),
            Some(ItemState::Deleted)
        );
        assert_eq!(
            item(json!("archived")).unwrap().inactive(),
            Some(ItemState::Archived)
        );
        let active = item(json!("active")).unwrap();
        assert_eq!(active.state, Some(ItemState::Active));
        assert_eq!(active.inactive(), None);
        assert_eq!(item(json!(null)).unwrap().state, None);
        assert_eq!(item(json!("all")).unwrap().state, None);
        assert_eq!(item(json!(7)).unwrap().state, None);
    }
}
