//! Write batches whose outcome is unknown: applied by the emulator, then answered with a 500
//! or a dropped connection. Creates are looked up by their key column, never resent blindly;
//! changes are resent.

use crmmap_emu_monday::{Fault, RunningEmulator};
use crmmap_monday::{ColumnId, CreateRecovery, ItemId, ItemMutation, MondayError};
use serde_json::{Value, json};

use crate::common::*;

/// The Lead board's Salesforce Id column.
const KEY: &str = "text_mkryhch5";
const CITY: &str = "text_mkrym6fa";

fn create(key: &str) -> ItemMutation {
    ItemMutation::CreateItem {
        board_id: LEAD,
        item_name: format!("Lead {key}"),
        column_values: values(&[(KEY, json!(key))]),
        group_id: None,
        create_labels_if_missing: false,
    }
}

fn change(item_id: ItemId, city: &str) -> ItemMutation {
    ItemMutation::ChangeColumnValues {
        board_id: LEAD,
        item_id,
        column_values: values(&[(CITY, json!(city))]),
        create_labels_if_missing: false,
    }
}

/// Active items on the Lead board holding `key` in the key column.
fn items_with_key(emu: &RunningEmulator, key: &str) -> Vec<u64> {
    emu.state()
        .active_items(LEAD.get())
        .into_iter()
        .filter(|i| i.values.get(KEY) == Some(&Value::String(key.into())))
        .map(|i| i.id)
        .collect()
}

fn executions(emu: &RunningEmulator, field: &str) -> u64 {
    emu.state()
        .counters()
        .root_fields
        .get(field)
        .copied()
        .unwrap_or(0)
}

async fn applied_creates_are_found_not_made_again(fault: Fault) {
    let emu = emulator(options()).await;
    let client = client(&emu);
    emu.state().push_fault(fault);
    let keys = [
        "00Q000000000001AAA",
        "00Q000000000002AAA",
        "00Q000000000003AAA",
    ];
    let mutations: Vec<_> = keys.iter().map(|k| create(k)).collect();
    let results = client
        .execute_recovering(&mutations, CreateRecovery::ByKeyColumn(&ColumnId::new(KEY)))
        .await
        .unwrap();
    assert_eq!(emu.state().counters().injected_after_apply, 1);
    assert_eq!(executions(&emu, "create_item"), 3, "each create ran once");
    assert_eq!(executions(&emu, "items_page_by_column_values"), 1);
    for (key, result) in keys.iter().zip(&results) {
        let on_board = items_with_key(&emu, key);
        assert_eq!(on_board.len(), 1, "{key}: {on_board:?}");
        let result = result.as_ref().unwrap();
        assert_eq!(result.item_id, ItemId::new(on_board[0]), "{key}");
        assert_eq!(result.name.as_deref(), Some(format!("Lead {key}").as_str()));
    }
}

#[tokio::test]
async fn a_create_batch_applied_then_answered_500_is_found_by_key_not_resent() {
    applied_creates_are_found_not_made_again(Fault::ServerErrorAfterApply).await;
}

#[tokio::test]
async fn a_create_batch_applied_then_dropped_is_found_by_key_not_resent() {
    applied_creates_are_found_not_made_again(Fault::DropAfterApply).await;
}

#[tokio::test]
async fn only_the_creates_without_an_item_are_sent_again() {
    let emu = emulator(options()).await;
    let client = client(&emu);
    let existing = emu
        .state()
        .seed_item(
            LEAD.get(),
            "Already there",
            &values(&[(KEY, json!("00Q000000000001AAA"))]),
        )
        .unwrap();
    // A 500 before the batch ran: from the client's side, just as unknown.
    emu.state().push_fault(Fault::ServerError);
    let results = client
        .execute_recovering(
            &[create("00Q000000000001AAA"), create("00Q000000000002AAA")],
            CreateRecovery::ByKeyColumn(&ColumnId::new(KEY)),
        )
        .await
        .unwrap();
    assert_eq!(
        results[0].as_ref().unwrap().item_id,
        ItemId::new(existing),
        "the item that holds the key is the create's"
    );
    let made = items_with_key(&emu, "00Q000000000002AAA");
    assert_eq!(made.len(), 1);
    assert_eq!(results[1].as_ref().unwrap().item_id, ItemId::new(made[0]));
    assert_eq!(items_with_key(&emu, "00Q000000000001AAA"), [existing]);
    assert_eq!(
        executions(&emu, "create_item"),
        1,
        "the second request held only the missing create"
    );
}

#[tokio::test]
async fn without_recovery_a_create_with_an_unknown_outcome_fails_and_is_not_resent() {
    let emu = emulator(options()).await;
    let client = client(&emu);
    emu.state().push_fault(Fault::DropAfterApply);
    let result = client
        .create_item(
            LEAD,
            "Maybe",
            values(&[(KEY, json!("00Q000000000009AAA"))]),
            false,
        )
        .await;
    assert!(
        matches!(result, Err(MondayError::OutcomeUnknown { .. })),
        "{result:?}"
    );
    assert_eq!(executions(&emu, "create_item"), 1, "not resent");
    assert_eq!(items_with_key(&emu, "00Q000000000009AAA").len(), 1);
}

#[tokio::test]
async fn a_create_without_its_key_is_not_resent() {
    let emu = emulator(options()).await;
    let client = client(&emu);
    emu.state().push_fault(Fault::ServerErrorAfterApply);
    let keyless = ItemMutation::CreateItem {
        board_id: LEAD,
        item_name: "No key".into(),
        column_values: values(&[(CITY, json!("Salem"))]),
        group_id: None,
        create_labels_if_missing: false,
    };
    let results = client
        .execute_recovering(
            &[keyless, create("00Q000000000004AAA")],
            CreateRecovery::ByKeyColumn(&ColumnId::new(KEY)),
        )
        .await
        .unwrap();
    assert!(
        matches!(results[0], Err(MondayError::OutcomeUnknown { .. })),
        "{results:?}"
    );
    assert!(results[1].is_ok(), "{results:?}");
    assert_eq!(executions(&emu, "create_item"), 2, "nothing resent");
    let named = emu
        .state()
        .active_items(LEAD.get())
        .into_iter()
        .filter(|i| i.name == "No key")
        .count();
    assert_eq!(named, 1);
}

async fn change_batches_are_resent(fault: Fault) {
    let emu = emulator(options()).await;
    let client = client(&emu);
    let a = client
        .create_item(LEAD, "A", Default::default(), false)
        .await
        .unwrap();
    let b = client
        .create_item(LEAD, "B", Default::default(), false)
        .await
        .unwrap();
    emu.state().push_fault(fault);
    let before = executions(&emu, "change_multiple_column_values");
    let results = client
        .execute(&[change(a.item_id, "Salem"), change(b.item_id, "Boston")])
        .await
        .unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(
        executions(&emu, "change_multiple_column_values") - before,
        4,
        "the batch ran twice"
    );
    for (item, city) in [(&a, "Salem"), (&b, "Boston")] {
        let read = client.item(item.item_id, None).await.unwrap().unwrap();
        assert_eq!(read.column(CITY).unwrap().text.as_deref(), Some(city));
    }
}

#[tokio::test]
async fn a_change_batch_answered_500_after_it_ran_is_resent() {
    change_batches_are_resent(Fault::ServerErrorAfterApply).await;
}

#[tokio::test]
async fn a_change_batch_dropped_after_it_ran_is_resent() {
    change_batches_are_resent(Fault::DropAfterApply).await;
}

#[tokio::test]
async fn in_a_mixed_batch_changes_are_resent_and_creates_found() {
    let emu = emulator(options()).await;
    let client = client(&emu);
    let a = client
        .create_item(LEAD, "A", Default::default(), false)
        .await
        .unwrap();
    emu.state().push_fault(Fault::DropAfterApply);
    let results = client
        .execute_recovering(
            &[change(a.item_id, "Salem"), create("00Q000000000005AAA")],
            CreateRecovery::ByKeyColumn(&ColumnId::new(KEY)),
        )
        .await
        .unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(executions(&emu, "create_item"), 2, "A, then the batch once");
    assert_eq!(executions(&emu, "change_multiple_column_values"), 2);
    assert_eq!(items_with_key(&emu, "00Q000000000005AAA").len(), 1);
}

#[tokio::test]
async fn at_an_after_apply_rate_every_create_is_made_once() {
    let emu = emulator(options()).await;
    let client = client(&emu);
    emu.state().set_after_apply_rate(0.5);
    let keys: Vec<String> = (0..10).map(|i| format!("00Q00000000010{i}AAA")).collect();
    for key in &keys {
        let results = client
            .execute_recovering(
                &[create(key)],
                CreateRecovery::ByKeyColumn(&ColumnId::new(KEY)),
            )
            .await
            .unwrap();
        assert!(results[0].is_ok(), "{key}: {results:?}");
    }
    let c = emu.state().counters();
    assert_eq!((c.mutations, c.injected_after_apply), (10, 5), "{c:?}");
    for key in &keys {
        assert_eq!(items_with_key(&emu, key).len(), 1, "{key}");
    }
}
