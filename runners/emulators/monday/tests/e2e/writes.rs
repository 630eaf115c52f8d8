//! Creating, changing, archiving and deleting items; batches.

use crmmap_emu_monday::{EmulatorOptions, ItemState};
use crmmap_monday::documents::{ItemMutation, rename_item};
use crmmap_monday::{MondayClient, MondayError};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn create_change_rename_archive_delete() {
    let emu = emulator(options()).await;
    let client = client(&emu);
    let created = client
        .create_item(
            OPPORTUNITY,
            "Big deal",
            values(&[
                ("text_mkry20c9", json!("006000000000001AAA")),
                ("color_mksj6ap4", json!({ "label": "Quote" })),
                ("dropdown_mksjwx1c", json!({ "labels": ["Renewal"] })),
                ("numeric_mksjdntv", json!("1250.5")),
                ("date_mkt1abcz", json!({ "date": "2026-12-01" })),
                ("long_text_mksjyg4z", json!({ "text": "Line 1\nLine 2" })),
            ]),
            false,
        )
        .await
        .unwrap();
    assert_eq!(created.board_id, Some(OPPORTUNITY));
    let item = client.item(created.item_id, None).await.unwrap().unwrap();
    assert_eq!(item.name, "Big deal");
    let stage = item.column("color_mksj6ap4").unwrap();
    assert_eq!(
        (stage.label.as_deref(), stage.text.as_deref()),
        (Some("Quote"), Some("Quote"))
    );
    assert_eq!(
        stage.value.as_ref().unwrap()["index"],
        json!(stage.index.unwrap())
    );
    assert_eq!(
        item.column("dropdown_mksjwx1c").unwrap().labels,
        ["Renewal"]
    );
    assert_eq!(
        item.column("numeric_mksjdntv").unwrap().number,
        Some(1250.5)
    );
    assert_eq!(
        item.column("numeric_mksjdntv").unwrap().value,
        Some(json!("1250.5"))
    );
    assert_eq!(
        item.column("date_mkt1abcz").unwrap().date.as_deref(),
        Some("2026-12-01")
    );
    assert_eq!(
        item.column("long_text_mksjyg4z").unwrap().text.as_deref(),
        Some("Line 1\nLine 2")
    );
    assert_eq!(
        item.column("text_mkryman1").unwrap().text.as_deref(),
        Some("")
    );
    assert_eq!(item.column("text_mkryman1").unwrap().value, None);

    client
        .change_column_values(
            OPPORTUNITY,
            created.item_id,
            values(&[
                ("color_mksj6ap4", json!({ "label": "Closed Won" })),
                ("numeric_mksjdntv", json!("")),
            ]),
            false,
        )
        .await
        .unwrap();
    let results = client
        .execute(&[rename_item(OPPORTUNITY, created.item_id, "Bigger deal")])
        .await
        .unwrap();
    assert_eq!(
        results[0].as_ref().unwrap().name.as_deref(),
        Some("Bigger deal")
    );
    let item = client.item(created.item_id, None).await.unwrap().unwrap();
    assert_eq!(item.name, "Bigger deal");
    assert_eq!(
        item.column("color_mksj6ap4").unwrap().label.as_deref(),
        Some("Closed Won")
    );
    assert_eq!(
        item.column("numeric_mksjdntv").unwrap().text.as_deref(),
        Some("")
    );

    client.archive_item(created.item_id).await.unwrap();
    let archived = client.item(created.item_id, None).await.unwrap().unwrap();
    assert_eq!(
        archived.state,
        Some(crmmap_monday::types::ItemState::Archived)
    );
    assert!(
        client
            .active_items_by_id(std::slice::from_ref(&created.item_id), None)
            .await
            .unwrap()
            .is_empty(),
        "exclude_nonactive leaves archived items out"
    );
    let change = client
        .change_column_values(
            OPPORTUNITY,
            created.item_id,
            values(&[("text_mkry20c9", json!("x"))]),
            false,
        )
        .await;
    assert!(
        matches!(change, Err(MondayError::ItemGone { .. })),
        "{change:?}"
    );

    client.delete_item(created.item_id).await.unwrap();
    // Deleted items stay readable by id, with their state (reference §3, §4.1).
    let deleted = client.item(created.item_id, None).await.unwrap().unwrap();
    assert_eq!(
        deleted.state,
        Some(crmmap_monday::types::ItemState::Deleted)
    );
    assert!(
        client
            .active_items_by_id(std::slice::from_ref(&created.item_id), None)
            .await
            .unwrap()
            .is_empty(),
        "exclude_nonactive leaves deleted items out"
    );
    let state = emu
        .state()
        .with_account(|a| a.items[&created.item_id.get()].state);
    assert_eq!(state, ItemState::Deleted);
    let change = client
        .change_column_values(
            OPPORTUNITY,
            created.item_id,
            values(&[("text_mkry20c9", json!("x"))]),
            false,
        )
        .await;
    assert!(
        matches!(change, Err(MondayError::ItemGone { .. })),
        "{change:?}"
    );
    assert!(matches!(
        client.delete_item(created.item_id).await,
        Err(MondayError::ItemGone { .. })
    ));
}

#[tokio::test]
async fn a_bad_label_fails_only_its_own_alias_in_a_batch() {
    let emu = emulator(options()).await;
    let client = client(&emu);
    let existing = client
        .create_item(LEAD, "Existing", Default::default(), false)
        .await
        .unwrap();
    let results = client
        .execute(&[
            ItemMutation::CreateItem {
                board_id: LEAD,
                item_name: "First".into(),
                column_values: values(&[("color_mksj2adq", json!({ "label": "Open" }))]),
                group_id: None,
                create_labels_if_missing: false,
            },
            ItemMutation::ChangeColumnValues {
                board_id: LEAD,
                item_id: existing.item_id,
                column_values: values(&[
                    ("color_mksj2adq", json!({ "label": "Not a status" })),
                    ("text_mkry13cw", json!("Ada")),
                ]),
                create_labels_if_missing: false,
            },
            ItemMutation::CreateItem {
                board_id: LEAD,
                item_name: "Third".into(),
                column_values: Default::default(),
                group_id: None,
                create_labels_if_missing: false,
            },
        ])
        .await
        .unwrap();
    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    match &results[1] {
        Err(MondayError::ColumnValue {
            column_type,
            column_id,
            ..
        }) => {
            assert_eq!(column_type.as_deref(), Some("color"));
            assert_eq!(column_id.as_deref(), Some("color_mksj2adq"));
        }
        other => panic!("expected a column value error, got {other:?}"),
    }
    // The failing mutation changed nothing, not even its valid column.
    let unchanged = client.item(existing.item_id, None).await.unwrap().unwrap();
    assert_eq!(
        unchanged.column("text_mkry13cw").unwrap().text.as_deref(),
        Some("")
    );
    let third = client
        .item(results[2].as_ref().unwrap().item_id, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.name, "Third");
    assert_eq!(
        emu.state().counters().executed,
        4,
        "one request for the batch"
    );
}

#[tokio::test]
async fn create_labels_if_missing_adds_the_label_to_the_column() {
    let emu = emulator(options()).await;
    let client = client(&emu);
    let item = client
        .create_item(
            LEAD,
            "New labels",
            values(&[
                ("color_mksj2adq", json!({ "label": "Nurturing" })),
                (
                    "dropdown_mkt48t9a",
                    json!({ "labels": ["Education", "Space"] }),
                ),
            ]),
            true,
        )
        .await
        .unwrap();
    let board = client.board(LEAD).await.unwrap();
    assert!(
        board
            .column("color_mksj2adq")
            .unwrap()
            .label_id("Nurturing")
            .is_some()
    );
    assert!(
        board
            .column("dropdown_mkt48t9a")
            .unwrap()
            .label_id("Space")
            .is_some()
    );
    let read = client.item(item.item_id, None).await.unwrap().unwrap();
    assert_eq!(
        read.column("dropdown_mkt48t9a").unwrap().labels,
        ["Education", "Space"]
    );
    let without = client
        .create_item(
            LEAD,
            "x",
            values(&[("color_mksj2adq", json!({ "label": "Other new" }))]),
            false,
        )
        .await;
    assert!(
        matches!(without, Err(MondayError::ColumnValue { .. })),
        "{without:?}"
    );
}

#[tokio::test]
async fn invalid_ids_names_and_limits_have_typed_errors() {
    let emu = emulator(EmulatorOptions {
        max_items_per_board: 1,
        ..options()
    })
    .await;
    let client = client(&emu);
    let bad_column = client
        .create_item(LEAD, "x", values(&[("text_nope", json!("a"))]), false)
        .await;
    match bad_column {
        Err(MondayError::InvalidColumnId { message }) => {
            assert_eq!(message, "This column ID doesn't exist for the board")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        client
            .create_item(
                crmmap_monday::BoardId::new(123),
                "x",
                Default::default(),
                false
            )
            .await,
        Err(MondayError::InvalidBoardId { .. })
    ));
    let long = "x".repeat(256);
    assert!(matches!(
        client
            .create_item(LEAD, &long, Default::default(), false)
            .await,
        Err(MondayError::ItemNameTooLong { .. })
    ));
    client
        .create_item(LEAD, "only one", Default::default(), false)
        .await
        .unwrap();
    assert!(matches!(
        client
            .create_item(LEAD, "two", Default::default(), false)
            .await,
        Err(MondayError::ItemsLimit { .. })
    ));
    let bad_email = client
        .create_item(
            ACCOUNT,
            "x",
            values(&[("text_mkrykpx4", json!({ "not": "text" }))]),
            false,
        )
        .await;
    assert!(
        matches!(bad_email, Err(MondayError::ColumnValue { .. })),
        "{bad_email:?}"
    );
}

#[tokio::test]
async fn batches_are_split_by_count_and_keep_their_order() {
    let emu = emulator(options()).await;
    let mut config = config(&emu);
    config.batch_max_mutations = 3;
    let client = MondayClient::new(config).unwrap();
    let mutations: Vec<ItemMutation> = (0..7)
        .map(|i| ItemMutation::CreateItem {
            board_id: CONTACT,
            item_name: format!("Contact {i}"),
            column_values: Default::default(),
            group_id: None,
            create_labels_if_missing: false,
        })
        .collect();
    let results = client.execute(&mutations).await.unwrap();
    let names: Vec<String> = results
        .into_iter()
        .map(|r| r.unwrap().name.unwrap())
        .collect();
    assert_eq!(
        names,
        (0..7).map(|i| format!("Contact {i}")).collect::<Vec<_>>()
    );
    assert_eq!(emu.state().counters().executed, 3);
}

#[tokio::test]
async fn seeded_items_are_served_like_created_ones() {
    let emu = emulator(options()).await;
    let id = emu
        .state()
        .seed_item(
            9_378_000_505,
            "Seeded",
            &values(&[
                ("color_mksj2adq", json!({ "label": "MOU" })),
                ("text_mkryhch5", json!("00Q000000000001AAA")),
            ]),
        )
        .unwrap();
    assert!(
        emu.state()
            .seed_item(9_378_000_505, "x", &values(&[("nope", json!("a"))]))
            .is_err()
    );
    let client = client(&emu);
    let item = client
        .item(crmmap_monday::ItemId::new(id), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        item.column("color_mksj2adq").unwrap().label.as_deref(),
        Some("MOU")
    );
    assert_eq!(emu.state().active_items(9_378_000_505).len(), 1);
    assert_eq!(emu.state().item(id).unwrap().name, "Seeded");
}
