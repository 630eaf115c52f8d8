//! The complexity cost model, in one place.
//!
//! monday publishes no per-field costs (reference §2.2, UNCERTAIN). This model is chosen to
//! be in the same range as what real responses report:
//! * every object a query returns costs 1 point, an item 10 and a column value 2;
//! * list fields multiply the cost of their selection by how many elements they may return
//!   (`limit` of items pages, the number of ids, 25 boards or 30 columns by default);
//! * each mutation has its own cost ([`CostModel`]): `create_item` 10,000 (reference §2.2,
//!   monday's best-practice page, UNCERTAIN); the others are not published and are an
//!   ASSUMPTION (README): a column change 1,000 plus 1,000 per column it writes,
//!   delete/archive 2,000, webhooks 1,000. They differ on purpose from any client's
//!   estimate, which has to follow the `complexity` the answers report;
//! * `complexity` itself is free.

use apollo_compiler::executable::{ExecutableDocument, Field, Selection, SelectionSet};
use serde_json::{Map, Value};

/// Costs of mutations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostModel {
    /// `create_item`.
    pub create_item: u64,
    /// `change_multiple_column_values`, `change_column_value`, `change_simple_column_value`:
    /// the base cost.
    pub change_column_values: u64,
    /// Added to a column change for each column it writes.
    pub per_column_written: u64,
    /// `delete_item`, `archive_item`.
    pub delete_or_archive: u64,
    /// `create_webhook`, `delete_webhook`.
    pub webhook: u64,
}

impl Default for CostModel {
    fn default() -> Self {
        Self {
            create_item: 10_000,
            change_column_values: 1_000,
            per_column_written: 1_000,
            delete_or_archive: 2_000,
            webhook: 1_000,
        }
    }
}

/// The single-query limit.
pub const MAX_QUERY_COMPLEXITY: u64 = 5_000_000;

const ITEM: u64 = 10;
const COLUMN_VALUE: u64 = 2;
const DEFAULT_COLUMNS: u64 = 30;

fn arg(field: &Field, name: &str, variables: &Map<String, Value>) -> Option<Value> {
    let value = field
        .arguments
        .iter()
        .find(|a| a.name == name)?
        .value
        .clone();
    Some(ast_to_json(&value, variables))
}

pub(crate) fn ast_to_json(
    value: &apollo_compiler::ast::Value,
    variables: &Map<String, Value>,
) -> Value {
    use apollo_compiler::ast::Value as V;
    match value {
        V::Null => Value::Null,
        V::Variable(name) => variables.get(name.as_str()).cloned().unwrap_or(Value::Null),
        V::Int(i) => i.try_to_i32().map_or(Value::Null, Value::from),
        V::Float(f) => f.try_to_f64().map_or(Value::Null, Value::from),
        V::String(s) => Value::String(s.clone()),
        V::Boolean(b) => Value::Bool(*b),
        V::Enum(e) => Value::String(e.to_string()),
        V::List(list) => Value::Array(list.iter().map(|v| ast_to_json(v, variables)).collect()),
        V::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), ast_to_json(v, variables)))
                .collect(),
        ),
    }
}

/// How many columns a `column_values` argument writes (a JSON string or object; at least 1).
fn columns_written(value: Option<Value>) -> u64 {
    let count = match value {
        Some(Value::String(text)) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => map.len(),
            _ => 0,
        },
        Some(Value::Object(map)) => map.len(),
        _ => 0,
    };
    (count as u64).max(1)
}

fn len_of(value: Option<Value>) -> Option<u64> {
    match value? {
        Value::Array(list) => Some(list.len() as u64),
        Value::Null => None,
        _ => Some(1),
    }
}

/// Estimated cost of a root selection set.
pub fn estimate(
    document: &ExecutableDocument,
    selection_set: &SelectionSet,
    variables: &Map<String, Value>,
    model: &CostModel,
    root: bool,
) -> u64 {
    let mut total = 0u64;
    for selection in &selection_set.selections {
        match selection {
            Selection::Field(field) => {
                total = total.saturating_add(field_cost(document, field, variables, model, root));
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = document.fragments.get(&spread.fragment_name) {
                    total = total.saturating_add(estimate(
                        document,
                        &fragment.selection_set,
                        variables,
                        model,
                        root,
                    ));
                }
            }
            Selection::InlineFragment(inline) => {
                total = total.saturating_add(estimate(
                    document,
                    &inline.selection_set,
                    variables,
                    model,
                    root,
                ));
            }
        }
    }
    total
}

fn field_cost(
    document: &ExecutableDocument,
    field: &Field,
    variables: &Map<String, Value>,
    model: &CostModel,
    root: bool,
) -> u64 {
    let name = field.name.as_str();
    let fixed = if root {
        match name {
            "create_item" => model.create_item,
            "change_multiple_column_values" => model.change_column_values.saturating_add(
                model.per_column_written.saturating_mul(columns_written(arg(
                    field,
                    "column_values",
                    variables,
                ))),
            ),
            "change_column_value" | "change_simple_column_value" => model
                .change_column_values
                .saturating_add(model.per_column_written),
            "delete_item" | "archive_item" => model.delete_or_archive,
            "create_webhook" | "delete_webhook" => model.webhook,
            _ => 0,
        }
    } else {
        0
    };
    // A mutation's fixed price includes the item it returns.
    if fixed > 0 || name == "complexity" || field.selection_set.selections.is_empty() {
        return fixed;
    }
    let limit = || arg(field, "limit", variables).and_then(|v| v.as_u64());
    let (fanout, own) = match name {
        "items_page" | "next_items_page" | "items_page_by_column_values" => {
            (limit().unwrap_or(25), 1)
        }
        "items" if root => {
            let ids = len_of(arg(field, "ids", variables));
            let limit = limit().unwrap_or(25);
            (ids.map_or(limit, |n| n.min(limit)), 1)
        }
        "items" | "linked_items" => (1, ITEM),
        "boards" => (
            len_of(arg(field, "ids", variables)).unwrap_or_else(|| limit().unwrap_or(25)),
            1,
        ),
        "column_values" => (
            len_of(arg(field, "ids", variables)).unwrap_or(DEFAULT_COLUMNS),
            COLUMN_VALUE,
        ),
        "columns" => (
            len_of(arg(field, "ids", variables)).unwrap_or(DEFAULT_COLUMNS),
            1,
        ),
        _ => (1, 1),
    };
    let children = estimate(document, &field.selection_set, variables, model, false);
    let per_element = if name == "items" && root {
        ITEM + children
    } else {
        own + children
    };
    fixed.saturating_add(fanout.saturating_mul(per_element))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crmmap_monday::validate_document;
    use serde_json::json;

    fn cost_of(query: &str, variables: Value) -> u64 {
        let doc = validate_document(query).unwrap();
        let op = doc.operations.get(None).unwrap();
        let Value::Object(vars) = variables else {
            panic!()
        };
        estimate(&doc, &op.selection_set, &vars, &CostModel::default(), true)
    }

    #[test]
    fn mutations_cost_their_fixed_price_and_reads_scale_with_limit() {
        let create = cost_of(
            "mutation { a: create_item(board_id: 1, item_name: \"x\") { id } b: create_item(board_id: 1, item_name: \"y\") { id } }",
            json!({}),
        );
        assert_eq!(create, 20_000);
        let small = cost_of(
            "query($l: Int!) { boards(ids: [1]) { items_page(limit: $l) { items { id column_values(ids: [\"a\"]) { id } } } } }",
            json!({"l": 10}),
        );
        let large = cost_of(
            "query($l: Int!) { boards(ids: [1]) { items_page(limit: $l) { items { id column_values(ids: [\"a\"]) { id } } } } }",
            json!({"l": 100}),
        );
        assert!(large > 9 * small, "{small} {large}");
        assert_eq!(cost_of("query { complexity { before } }", json!({})), 0);
        let one = cost_of(
            "mutation($v: JSON!) { change_multiple_column_values(board_id: 1, item_id: 2, column_values: $v) { id } }",
            json!({"v": "{\"text\": \"a\"}"}),
        );
        let three = cost_of(
            "mutation($v: JSON!) { change_multiple_column_values(board_id: 1, item_id: 2, column_values: $v) { id } }",
            json!({"v": "{\"text\": \"a\", \"text2\": \"b\", \"status\": {\"index\": 1}}"}),
        );
        assert_eq!((one, three), (2_000, 4_000));
    }
}
