//! Recorded monday payloads parse into the client's types.

use crmmap_monday::GraphQlResponse;
use crmmap_monday::types::{parse_column_value, parse_items_page};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture exists"))
        .expect("fixture is json")
}

#[test]
fn recorded_items_page_with_a_board_relation_value_parses() {
    let mut body = fixture("items_page-board_relation-value-2025-01.json");
    let page = &mut body["data"]["boards"][0]["items_page"];
    // The recording selected no item id; every document the client sends does, and an item
    // without one is refused.
    assert!(matches!(
        parse_items_page(page),
        Err(crmmap_monday::MondayError::InvalidId { .. })
    ));
    page["items"][0]["id"] = Value::from("1");
    let page = parse_items_page(page).unwrap();
    let relation = page.items[0].column("connect_boards").unwrap();
    assert_eq!(
        relation.linked_item_ids,
        [crmmap_monday::ItemId::new(9_876_543_210)]
    );
    assert_eq!(page.cursor, None);
}

#[test]
fn recorded_complexity_budget_error_parses() {
    let body = fixture("error-complexity-budget-exhausted-2025-07.json");
    let response = GraphQlResponse::from_json(&body);
    assert_eq!(
        response.errors[0].code.as_deref(),
        Some("COMPLEXITY_BUDGET_EXHAUSTED")
    );
    assert_eq!(response.errors[0].retry_in_seconds, Some(60));
}

#[test]
fn recorded_column_values_of_every_type_parse() {
    let body = fixture("items-column_values-all-types-2024-11.json");
    let values = body["data"]["items"][0]["column_values"]
        .as_array()
        .unwrap();
    let parsed: Vec<_> = values
        .iter()
        .map(|v| parse_column_value(v).unwrap())
        .collect();
    let hour = parsed.iter().find(|v| v.column_type == "hour").unwrap();
    assert_eq!(hour.value.as_ref().unwrap()["minute"], 42);
    let text = parsed
        .iter()
        .find(|v| v.column_type == "text" && v.value.is_some())
        .unwrap();
    assert_eq!(text.value, Some(Value::String(String::new())));
    assert!(
        parsed
            .iter()
            .filter(|v| v.column_type == "board_relation")
            .all(|v| v.value.is_none())
    );
}
