//! Every GraphQL document the client sends: constants for reads and webhooks, and one
//! builder for (batched, aliased) item mutations. A test validates all of them against the
//! monday schema.

use crmmap_ids::{BoardId, ItemId};
use serde_json::{Map, Value, json};

/// Selection that asks for the cost of the request and the budget left; every document
/// includes it so that the budget tracker stays in step with the server.
pub const COMPLEXITY_SELECTION: &str = "complexity { before query after reset_in_x_seconds }";

/// The text of [`ITEM_FIELDS_FRAGMENT`], as a literal for `concat!`.
macro_rules! item_fields_fragment {
    () => {
        "fragment ItemFields on Item {
  id
  name
  state
  created_at
  updated_at
  board { id }
  group { id }
  column_values(ids: $column_ids) {
    id
    type
    text
    value
    ... on StatusValue { index label }
    ... on DropdownValue { values { id label } }
    ... on BoardRelationValue { linked_item_ids display_value }
    ... on DateValue { date time }
    ... on CheckboxValue { checked }
    ... on NumbersValue { number }
    ... on EmailValue { email }
    ... on PhoneValue { phone country_short_name }
    ... on LinkValue { url url_text }
    ... on PeopleValue { persons_and_teams { id kind } }
  }
}"
    };
}

/// Fields read for every item. `$column_ids` (a `[String!]` variable) limits the column values
/// returned; `null` means every column.
pub const ITEM_FIELDS_FRAGMENT: &str = item_fields_fragment!();

/// A document followed by the [`ITEM_FIELDS_FRAGMENT`] it spreads.
macro_rules! with_item_fields {
    ($body:literal) => {
        concat!($body, "\n", item_fields_fragment!())
    };
}

/// Columns of one or more boards, with their settings (status and dropdown labels).
pub const BOARD_COLUMNS: &str = "query BoardColumns($board_ids: [ID!], $column_ids: [String!]) {
  complexity { before query after reset_in_x_seconds }
  boards(ids: $board_ids) {
    id
    name
    columns(ids: $column_ids) { id title type settings }
  }
}";

/// Whether boards exist (and the token sees them): their ids, nothing more.
pub const BOARD_EXISTS: &str = "query BoardExists($board_ids: [ID!]) {
  complexity { before query after reset_in_x_seconds }
  boards(ids: $board_ids) { id }
}";

/// Up to 100 items by id. Archived and deleted items come back too, with their `state`,
/// unless `$exclude_nonactive` is true (reference §3, schema `Query.items`).
pub const ITEMS_BY_ID: &str = with_item_fields!(
    "query ItemsById($ids: [ID!], $limit: Int, $exclude_nonactive: Boolean, $column_ids: [String!]) {
  complexity { before query after reset_in_x_seconds }
  items(ids: $ids, limit: $limit, exclude_nonactive: $exclude_nonactive) { ...ItemFields }
}"
);

/// First page of a board's items, optionally filtered by `query_params`.
pub const ITEMS_PAGE: &str = with_item_fields!(
    "query ItemsPage($board_id: ID!, $limit: Int!, $query_params: ItemsQuery, $column_ids: [String!]) {
  complexity { before query after reset_in_x_seconds }
  boards(ids: [$board_id]) {
    items_page(limit: $limit, query_params: $query_params) {
      cursor
      items { ...ItemFields }
    }
  }
}"
);

/// Following pages, from the cursor of the previous page.
pub const NEXT_ITEMS_PAGE: &str = with_item_fields!(
    "query NextItemsPage($cursor: String!, $limit: Int!, $column_ids: [String!]) {
  complexity { before query after reset_in_x_seconds }
  next_items_page(cursor: $cursor, limit: $limit) {
    cursor
    items { ...ItemFields }
  }
}"
);

/// Items whose columns hold given values (for example the Salesforce-id column).
pub const ITEMS_BY_COLUMN_VALUES: &str = with_item_fields!(
    "query ItemsByColumnValues($board_id: ID!, $columns: [ItemsPageByColumnValuesQuery!], $cursor: String, $limit: Int!, $column_ids: [String!]) {
  complexity { before query after reset_in_x_seconds }
  items_page_by_column_values(board_id: $board_id, columns: $columns, cursor: $cursor, limit: $limit) {
    cursor
    items { ...ItemFields }
  }
}"
);

/// Creates a board webhook (the server performs the challenge handshake first).
pub const CREATE_WEBHOOK: &str = "mutation CreateWebhook($board_id: ID!, $url: String!, $event: WebhookEventType!, $config: JSON) {
  complexity { before query after reset_in_x_seconds }
  create_webhook(board_id: $board_id, url: $url, event: $event, config: $config) { id board_id event config }
}";

/// Deletes a webhook.
pub const DELETE_WEBHOOK: &str = "mutation DeleteWebhook($id: ID!) {
  complexity { before query after reset_in_x_seconds }
  delete_webhook(id: $id) { id board_id }
}";

/// Lists a board's webhooks.
pub const LIST_WEBHOOKS: &str = "query Webhooks($board_id: ID!) {
  complexity { before query after reset_in_x_seconds }
  webhooks(board_id: $board_id) { id board_id event config }
}";

/// Every constant document, with a name, for validation and diagnostics.
pub const ALL_CONST_DOCUMENTS: [(&str, &str); 10] = [
    ("BOARD_COLUMNS", BOARD_COLUMNS),
    ("BOARD_EXISTS", BOARD_EXISTS),
    ("ITEMS_BY_ID", ITEMS_BY_ID),
    ("ITEMS_PAGE", ITEMS_PAGE),
    ("NEXT_ITEMS_PAGE", NEXT_ITEMS_PAGE),
    ("ITEMS_BY_COLUMN_VALUES", ITEMS_BY_COLUMN_VALUES),
    ("CREATE_WEBHOOK", CREATE_WEBHOOK),
    ("DELETE_WEBHOOK", DELETE_WEBHOOK),
    ("LIST_WEBHOOKS", LIST_WEBHOOKS),
    ("RENAME_ITEM_SIMPLE", RENAME_ITEM_SIMPLE),
];

/// One item mutation, as packed into a batch document.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemMutation {
    /// `create_item`.
    CreateItem {
        /// Board to create the item on.
        board_id: BoardId,
        /// Item name (1 to 255 characters).
        item_name: String,
        /// Column values keyed by column id, in the write formats of the API.
        column_values: Map<String, Value>,
        /// Group to create the item in; the board's top group when `None`.
        group_id: Option<String>,
        /// Create missing status/dropdown labels instead of failing.
        create_labels_if_missing: bool,
    },
    /// `change_multiple_column_values`; the key `name` renames the item.
    ChangeColumnValues {
        /// Board of the item.
        board_id: BoardId,
        /// Item to change.
        item_id: ItemId,
        /// Column values keyed by column id.
        column_values: Map<String, Value>,
        /// Create missing status/dropdown labels instead of failing.
        create_labels_if_missing: bool,
    },
    /// `delete_item`.
    DeleteItem {
        /// Item to delete.
        item_id: ItemId,
    },
    /// `archive_item`.
    ArchiveItem {
        /// Item to archive.
        item_id: ItemId,
    },
}

/// The column key that renames an item inside `change_multiple_column_values`.
///
/// UNCERTAIN (reference §4.1): monday documents no `change_item_name` mutation in 2026-10;
/// common practice is `{"name": "New name"}` among the column values. Kept in this one place.
pub const ITEM_NAME_COLUMN: &str = "name";

/// Renames an item through `change_simple_column_value` on the `name` column: the fallback
/// when `change_multiple_column_values` refuses or ignores [`ITEM_NAME_COLUMN`] (UNCERTAIN,
/// reference §4.1; see `docs/uncertain.md`).
pub const RENAME_ITEM_SIMPLE: &str = "mutation RenameItem($board_id: ID!, $item_id: ID, $name: String) {
  change_simple_column_value(board_id: $board_id, item_id: $item_id, column_id: \"name\", value: $name) { id name board { id } }
}";

/// Builds a `change_multiple_column_values` that renames an item.
pub fn rename_item(board_id: BoardId, item_id: ItemId, name: impl Into<String>) -> ItemMutation {
    let mut column_values = Map::new();
    column_values.insert(ITEM_NAME_COLUMN.to_owned(), Value::String(name.into()));
    ItemMutation::ChangeColumnValues {
        board_id,
        item_id,
        column_values,
        create_labels_if_missing: false,
    }
}

impl ItemMutation {
    /// The GraphQL field this mutation uses.
    pub fn field_name(&self) -> &'static str {
        match self {
            Self::CreateItem { .. } => "create_item",
            Self::ChangeColumnValues { .. } => "change_multiple_column_values",
            Self::DeleteItem { .. } => "delete_item",
            Self::ArchiveItem { .. } => "archive_item",
        }
    }
}

/// A built batch document with its variables.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchDocument {
    /// The GraphQL text.
    pub query: String,
    /// The variables, always a JSON object.
    pub variables: Value,
    /// The alias of each mutation, in order (`m0`, `m1`, ...).
    pub aliases: Vec<String>,
}

/// Packs mutations into one document, aliased `m0`, `m1`, ... and executed in order by the
/// server. Every argument travels as a variable; column values are sent as JSON-encoded
/// strings, as monday expects for its `JSON` arguments.
pub fn build_batch(mutations: &[ItemMutation]) -> BatchDocument {
    let mut declarations: Vec<String> = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut variables = Map::new();
    let mut aliases = Vec::new();
    for (i, mutation) in mutations.iter().enumerate() {
        let alias = format!("m{i}");
        match mutation {
            ItemMutation::CreateItem {
                board_id,
                item_name,
                column_values,
                group_id,
                create_labels_if_missing,
            } => {
                declarations.push(format!(
                    "$b{i}: ID!, $n{i}: String!, $cv{i}: JSON, $g{i}: String, $cl{i}: Boolean"
                ));
                fields.push(format!(
                    "  {alias}: create_item(board_id: $b{i}, item_name: $n{i}, column_values: $cv{i}, group_id: $g{i}, create_labels_if_missing: $cl{i}) {{ id name board {{ id }} }}"
                ));
                variables.insert(format!("b{i}"), json!(board_id));
                variables.insert(format!("n{i}"), json!(item_name));
                variables.insert(
                    format!("cv{i}"),
                    json!(Value::Object(column_values.clone()).to_string()),
                );
                variables.insert(format!("g{i}"), json!(group_id));
                variables.insert(format!("cl{i}"), json!(create_labels_if_missing));
            }
            ItemMutation::ChangeColumnValues {
                board_id,
                item_id,
                column_values,
                create_labels_if_missing,
            } => {
                declarations.push(format!(
                    "$b{i}: ID!, $i{i}: ID, $cv{i}: JSON!, $cl{i}: Boolean"
                ));
                fields.push(format!(
                    "  {alias}: change_multiple_column_values(board_id: $b{i}, item_id: $i{i}, column_values: $cv{i}, create_labels_if_missing: $cl{i}) {{ id name board {{ id }} }}"
                ));
                variables.insert(format!("b{i}"), json!(board_id));
                variables.insert(format!("i{i}"), json!(item_id));
                variables.insert(
                    format!("cv{i}"),
                    json!(Value::Object(column_values.clone()).to_string()),
                );
                variables.insert(format!("cl{i}"), json!(create_labels_if_missing));
            }
            ItemMutation::DeleteItem { item_id } | ItemMutation::ArchiveItem { item_id } => {
                declarations.push(format!("$i{i}: ID"));
                fields.push(format!(
                    "  {alias}: {}(item_id: $i{i}) {{ id name board {{ id }} }}",
                    mutation.field_name()
                ));
                variables.insert(format!("i{i}"), json!(item_id));
            }
        }
        aliases.push(alias);
    }
    let header = if declarations.is_empty() {
        "mutation Batch".to_owned()
    } else {
        format!("mutation Batch({})", declarations.join(", "))
    };
    let query = format!(
        "{header} {{\n  {COMPLEXITY_SELECTION}\n{}\n}}",
        fields.join("\n")
    );
    BatchDocument {
        query,
        variables: Value::Object(variables),
        aliases,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::validate_document;

    #[test]
    fn every_constant_document_validates_against_the_schema() {
        for (name, document) in ALL_CONST_DOCUMENTS {
            if let Err(err) = validate_document(document) {
                panic!("{name} does not validate: {:?}", err.problems());
            }
        }
    }

    #[test]
    fn item_fields_fragment_constant_matches_the_one_in_documents() {
        assert!(ITEMS_BY_ID.ends_with(ITEM_FIELDS_FRAGMENT), "{ITEMS_BY_ID}");
        assert!(NEXT_ITEMS_PAGE.ends_with(ITEM_FIELDS_FRAGMENT));
    }

    fn sample_values() -> Map<String, Value> {
        let mut values = Map::new();
        values.insert("text_mkry13cw".into(), json!("Ada"));
        values.insert("color_mksj2adq".into(), json!({"label": "Open"}));
        values
    }

    #[test]
    fn batch_with_every_mutation_kind_validates_and_is_aliased_in_order() {
        let batch = build_batch(&[
            ItemMutation::CreateItem {
                board_id: BoardId::new(9_378_000_505),
                item_name: "Ada \"Lovelace\"".into(),
                column_values: sample_values(),
                group_id: None,
                create_labels_if_missing: true,
            },
            ItemMutation::ChangeColumnValues {
                board_id: BoardId::new(9_378_000_505),
                item_id: ItemId::new(1),
                column_values: sample_values(),
                create_labels_if_missing: false,
            },
            rename_item(BoardId::new(9_378_000_505), ItemId::new(1), "New"),
            ItemMutation::DeleteItem {
                item_id: ItemId::new(2),
            },
            ItemMutation::ArchiveItem {
                item_id: ItemId::new(3),
            },
        ]);
        if let Err(err) = validate_document(&batch.query) {
            panic!(
                "batch does not validate: {:?}\n{}",
                err.problems(),
                batch.query
            );
        }
        assert_eq!(batch.aliases, ["m0", "m1", "m2", "m3", "m4"]);
        let m0 = batch.query.find("m0: create_item").unwrap();
        let m1 = batch
            .query
            .find("m1: change_multiple_column_values")
            .unwrap();
        let m4 = batch.query.find("m4: archive_item").unwrap();
        assert!(m0 < m1 && m1 < m4);
        // Column values travel as JSON-encoded strings.
        let cv0 = batch.variables["cv0"].as_str().unwrap();
        let parsed: Value = serde_json::from_str(cv0).unwrap();
        assert_eq!(parsed["color_mksj2adq"]["label"], "Open");
        assert_eq!(batch.variables["n0"], "Ada \"Lovelace\"");
        let cv2: Value = serde_json::from_str(batch.variables["cv2"].as_str().unwrap()).unwrap();
        assert_eq!(cv2, json!({"name": "New"}));
    }
}
