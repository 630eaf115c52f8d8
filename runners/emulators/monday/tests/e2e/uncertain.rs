//! Both readings of what the reference leaves UNCERTAIN, where crmmap depends on it
//! (`docs/uncertain.md`).

use crmmap_emu_monday::NameInColumnValues;
use crmmap_monday::MondayError;
use crmmap_monday::documents::ItemMutation;
use serde_json::json;

use crate::common::*;

/// Renaming through `{"name": …}` among the column values (§4.1): whether monday renames,
/// ignores the key or refuses the change, the item ends with the new name and the other
/// columns written, and the fallback runs only when it is needed.
#[tokio::test]
async fn an_item_is_renamed_whatever_change_multiple_column_values_does_with_name() {
    for (reading, fallbacks) in [
        (NameInColumnValues::Renames, 0),
        (NameInColumnValues::Ignored, 1),
        (NameInColumnValues::Refused, 1),
    ] {
        let emu = emulator(options()).await;
        emu.state().set_name_in_column_values(reading);
        let client = client(&emu);
        let created = client
            .create_item(OPPORTUNITY, "Small deal", values(&[]), false)
            .await
            .unwrap();
        let results = client
            .execute(&[ItemMutation::ChangeColumnValues {
                board_id: OPPORTUNITY.to_owned(),
                item_id: created.item_id,
                column_values: values(&[
                    ("name", json!("Bigger deal")),
                    ("color_mksj6ap4", json!({ "label": "Closed Won" })),
                ]),
                create_labels_if_missing: false,
            }])
            .await
            .unwrap();
        let result = results[0].as_ref().unwrap();
        assert_eq!(result.name.as_deref(), Some("Bigger deal"), "{reading:?}");
        let item = client.item(created.item_id, None).await.unwrap().unwrap();
        assert_eq!(item.name, "Bigger deal", "{reading:?}");
        assert_eq!(
            item.column("color_mksj6ap4").unwrap().label.as_deref(),
            Some("Closed Won"),
            "{reading:?}"
        );
        let counters = emu.state().counters();
        assert_eq!(
            counters
                .root_fields
                .get("change_simple_column_value")
                .copied()
                .unwrap_or(0),
            fallbacks,
            "{reading:?}"
        );
    }
}

/// The knob itself: under `Ignored` the other columns change and the name stays; under
/// `Refused` nothing changes (checked with raw GraphQL, without the client's fallback).
#[tokio::test]
async fn the_emulator_ignores_or_refuses_name_among_column_values_when_told() {
    let emu = emulator(options()).await;
    let client = client(&emu);
    let created = client
        .create_item(OPPORTUNITY, "Small deal", values(&[]), false)
        .await
        .unwrap();
    let change = |name: &str, stage: &str| {
        json!({
            "query": "mutation ($b: ID!, $i: ID, $cv: JSON!) { change_multiple_column_values(board_id: $b, item_id: $i, column_values: $cv) { id name } }",
            "variables": {
                "b": OPPORTUNITY,
                "i": created.item_id,
                "cv": json!({ "name": name, "color_mksj6ap4": { "label": stage } }).to_string(),
            },
        })
    };
    emu.state()
        .set_name_in_column_values(NameInColumnValues::Ignored);
    let (_, _, body) = raw(
        &emu,
        Some(TOKEN),
        &change("Ignored name", "Closed Won").to_string(),
    )
    .await;
    assert_eq!(
        body["data"]["change_multiple_column_values"]["name"],
        "Small deal"
    );
    emu.state()
        .set_name_in_column_values(NameInColumnValues::Refused);
    let (_, _, body) = raw(
        &emu,
        Some(TOKEN),
        &change("Refused name", "Quote").to_string(),
    )
    .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "InvalidColumnIdException"
    );
    let item = client.item(created.item_id, None).await.unwrap().unwrap();
    assert_eq!(item.name, "Small deal");
    assert_eq!(
        item.column("color_mksj6ap4").unwrap().label.as_deref(),
        Some("Closed Won")
    );
}

/// A change refused for another column than `name` keeps that column's error, and the item
/// is not renamed.
#[tokio::test]
async fn a_change_refused_for_another_column_is_not_renamed() {
    let emu = emulator(options()).await;
    emu.state()
        .set_name_in_column_values(NameInColumnValues::Refused);
    let client = client(&emu);
    let created = client
        .create_item(OPPORTUNITY, "Small deal", values(&[]), false)
        .await
        .unwrap();
    let results = client
        .execute(&[ItemMutation::ChangeColumnValues {
            board_id: OPPORTUNITY.to_owned(),
            item_id: created.item_id,
            column_values: values(&[
                ("name", json!("Bigger deal")),
                ("no_such_column", json!("x")),
            ]),
            create_labels_if_missing: false,
        }])
        .await
        .unwrap();
    assert!(
        matches!(results[0], Err(MondayError::InvalidColumnId { .. })),
        "{:?}",
        results[0]
    );
    let item = client.item(created.item_id, None).await.unwrap().unwrap();
    assert_eq!(item.name, "Small deal");
}
