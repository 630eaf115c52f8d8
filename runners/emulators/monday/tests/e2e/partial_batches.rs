//! Batches in which a later alias fails after earlier ones were applied: aliases run one
//! after the other (reference §4.1).

use crmmap_emu_monday::{Fault, RunningEmulator};
use crmmap_monday::{ColumnId, CreateRecovery, ItemId};
use serde_json::{Value, json};

use crate::common::*;

/// The Lead board's Salesforce Id column.
const KEY: &str = "text_mkryhch5";

const BATCH: &str = "mutation { a: create_item(board_id: 9378000505, item_name: \"A\") { id } \
                     b: create_item(board_id: 9378000505, item_name: \"B\") { id } \
                     c: create_item(board_id: 9378000505, item_name: \"C\") { id } }";

fn names_on_board(emu: &RunningEmulator) -> Vec<String> {
    emu.state()
        .active_items(LEAD.get())
        .into_iter()
        .map(|i| i.name)
        .collect()
}

#[tokio::test]
async fn a_failing_alias_fails_alone_after_the_earlier_ones_were_applied() {
    let emu = emulator(options()).await;
    emu.state().push_fault(Fault::AliasFails(1));
    let (status, _, body) = raw(&emu, Some(TOKEN), &json!({ "query": BATCH }).to_string()).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["a"]["id"].is_string(), "{body}");
    assert_eq!(body["data"]["b"], Value::Null, "{body}");
    assert!(body["data"]["c"]["id"].is_string(), "{body}");
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["path"], json!(["b"]));
    assert_eq!(errors[0]["extensions"]["status_code"], 500);
    assert_eq!(names_on_board(&emu), ["A", "C"]);
    assert_eq!(emu.state().counters().injected_alias_faults, 1);

    // The fault was used up: the same batch runs whole.
    let (status, _, body) = raw(&emu, Some(TOKEN), &json!({ "query": BATCH }).to_string()).await;
    assert_eq!((status, body.get("errors")), (200, None), "{body}");
    assert_eq!(names_on_board(&emu).len(), 5);
}

#[tokio::test]
async fn a_500_at_a_later_alias_leaves_the_earlier_ones_applied_and_the_rest_not_run() {
    let emu = emulator(options()).await;
    emu.state().push_fault(Fault::ServerErrorAtAlias(1));
    let (status, headers, body) =
        raw(&emu, Some(TOKEN), &json!({ "query": BATCH }).to_string()).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["errors"][0]["message"], "Internal Server Error");
    assert!(headers.contains_key("Retry-After"));
    assert_eq!(names_on_board(&emu), ["A"]);
    assert_eq!(emu.state().counters().root_fields["create_item"], 1);
}

#[tokio::test]
async fn a_500_at_an_alias_the_batch_does_not_have_comes_after_the_whole_batch() {
    let emu = emulator(options()).await;
    emu.state().push_fault(Fault::ServerErrorAtAlias(7));
    let (status, _, _) = raw(&emu, Some(TOKEN), &json!({ "query": BATCH }).to_string()).await;
    assert_eq!(status, 500);
    assert_eq!(names_on_board(&emu), ["A", "B", "C"]);
}

#[tokio::test]
async fn a_create_batch_cut_by_a_500_at_its_second_alias_ends_with_one_item_per_key() {
    let emu = emulator(options()).await;
    let client = client(&emu);
    emu.state().push_fault(Fault::ServerErrorAtAlias(1));
    let keys = [
        "00Q000000000011AAA",
        "00Q000000000012AAA",
        "00Q000000000013AAA",
    ];
    let mutations: Vec<_> = keys
        .iter()
        .map(|k| crmmap_monday::ItemMutation::CreateItem {
            board_id: LEAD,
            item_name: format!("Lead {k}"),
            column_values: values(&[(KEY, json!(k))]),
            group_id: None,
            create_labels_if_missing: false,
        })
        .collect();
    let results = client
        .execute_recovering(&mutations, CreateRecovery::ByKeyColumn(&ColumnId::new(KEY)))
        .await
        .unwrap();
    for (key, result) in keys.iter().zip(&results) {
        let on_board: Vec<u64> = emu
            .state()
            .active_items(LEAD.get())
            .into_iter()
            .filter(|i| i.values.get(KEY) == Some(&Value::String((*key).into())))
            .map(|i| i.id)
            .collect();
        assert_eq!(on_board.len(), 1, "{key}: {on_board:?}");
        assert_eq!(result.as_ref().unwrap().item_id, ItemId::new(on_board[0]));
    }
    assert_eq!(
        emu.state().counters().root_fields["create_item"],
        3,
        "the applied create was found, not made again"
    );
}
