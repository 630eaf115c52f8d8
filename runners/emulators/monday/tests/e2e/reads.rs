//! Reading boards and items through the client.

use std::collections::BTreeSet;
use std::time::Duration;

use crmmap_emu_monday::EmulatorOptions;
use crmmap_monday::{BoardId, ColumnId, ItemId, MondayError, PageRequest};
use futures::TryStreamExt as _;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn board_columns_come_with_status_and_dropdown_labels() {
    let emu = emulator(options()).await;
    let client = client(&emu);
    let lead = client.board(LEAD).await.unwrap();
    assert_eq!(lead.name, "Leads");
    let status = lead.column("color_mksj2adq").unwrap();
    assert_eq!(status.column_type, "status");
    assert!(
        status.label_id("Qualified").is_some(),
        "{:?}",
        status.labels
    );
    let needs = lead.column("dropdown_mksfyfqp").unwrap();
    assert_eq!(needs.column_type, "dropdown");
    assert!(needs.label_id("Curriculum Development").is_some());
    assert_eq!(
        lead.column("board_relation_mks9cjfs").unwrap().column_type,
        "board_relation"
    );
    assert_eq!(
        lead.column("long_text_mksfhq35").unwrap().column_type,
        "long_text"
    );
    assert!(matches!(
        client.board(BoardId::new(1)).await,
        Err(MondayError::InvalidBoardId { .. })
    ));
}

#[tokio::test]
async fn items_by_id_return_only_the_requested_columns_in_chunks_of_100() {
    let emu = emulator(EmulatorOptions {
        generated_items_per_board: 130,
        ..options()
    })
    .await;
    let client = client(&emu);
    let ids: Vec<ItemId> = emu.state().with_account(|a| {
        a.items
            .values()
            .filter(|i| i.board_id == 9_378_000_505)
            .map(|i| ItemId::new(i.id))
            .collect()
    });
    assert_eq!(ids.len(), 130);
    let columns = vec![ColumnId::new("text_mkryhch5")];
    let items = client.items_by_id(&ids, Some(&columns)).await.unwrap();
    assert_eq!(items.len(), 130);
    let first = &items[0];
    assert_eq!(
        first.column_values.keys().collect::<Vec<_>>(),
        [&ColumnId::new("text_mkryhch5")]
    );
    let sf = first.column("text_mkryhch5").unwrap();
    assert_eq!(
        sf.value.as_ref().and_then(|v| v.as_str()),
        sf.text.as_deref()
    );
    assert_eq!(first.board_id, Some(LEAD));
    assert_eq!(emu.state().counters().root_fields["items"], 2);
    assert!(client.item(ItemId::new(42), None).await.unwrap().is_none());
}

#[tokio::test]
async fn paging_walks_three_pages_with_next_items_page() {
    let emu = emulator(EmulatorOptions {
        generated_items_per_board: 60,
        ..options()
    })
    .await;
    let client = client(&emu);
    let request = PageRequest {
        limit: 25,
        column_ids: Some(vec![ColumnId::new("color_mksj2adq")]),
        query_params: None,
    };
    let pages: Vec<_> = client
        .items_pages(LEAD, request.clone())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        pages.iter().map(|p| p.items.len()).collect::<Vec<_>>(),
        [25, 25, 10]
    );
    assert!(pages[2].cursor.is_none());
    let items: Vec<_> = client.items(LEAD, request).try_collect().await.unwrap();
    let unique: BTreeSet<_> = items.iter().map(|i| i.id).collect();
    assert_eq!(unique.len(), 60);
    assert!(
        items
            .iter()
            .all(|i| i.column("color_mksj2adq").unwrap().label.is_some())
    );
    assert_eq!(emu.state().counters().root_fields["next_items_page"], 4);
}

#[tokio::test]
async fn items_page_filters_with_query_params() {
    let emu = emulator(EmulatorOptions {
        generated_items_per_board: 5,
        ..options()
    })
    .await;
    let client = client(&emu);
    let target = client
        .items_page(LEAD, &PageRequest::default())
        .await
        .unwrap()
        .items[2]
        .clone();
    let sf_id = target
        .column("text_mkryhch5")
        .unwrap()
        .text
        .clone()
        .unwrap();
    let request = PageRequest {
        limit: 10,
        column_ids: None,
        query_params: Some(
            json!({ "rules": [{ "column_id": "text_mkryhch5", "compare_value": [sf_id, "nope"], "operator": "any_of" }] }),
        ),
    };
    let page = client.items_page(LEAD, &request).await.unwrap();
    assert_eq!(
        page.items.iter().map(|i| i.id).collect::<Vec<_>>(),
        [target.id]
    );
}

#[tokio::test]
async fn lookup_by_column_value_finds_the_item_with_that_salesforce_id() {
    let emu = emulator(EmulatorOptions {
        generated_items_per_board: 40,
        ..options()
    })
    .await;
    let client = client(&emu);
    let created = client
        .create_item(
            ACCOUNT,
            "Acme",
            values(&[("text_mkrykpx4", json!("001000000000001AAA"))]),
            false,
        )
        .await
        .unwrap();
    let request = PageRequest {
        limit: 10,
        ..PageRequest::default()
    };
    let found = client
        .items_by_column_values(
            ACCOUNT,
            &ColumnId::new("text_mkrykpx4"),
            &["001000000000001AAA".into()],
            &request,
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, created.item_id);
    assert_eq!(found[0].name, "Acme");
    let none = client
        .items_by_column_values(
            ACCOUNT,
            &ColumnId::new("text_mkrykpx4"),
            &["missing".into()],
            &request,
        )
        .await
        .unwrap();
    assert!(none.is_empty());
    // Many matches follow the cursor.
    let all_status = client
        .items_by_column_values(
            LEAD,
            &ColumnId::new("color_mksj2adq"),
            &["Open".into()],
            &request,
        )
        .await
        .unwrap();
    assert_eq!(all_status.len(), 40);
}

#[tokio::test]
async fn board_relations_are_read_from_linked_item_ids() {
    let emu = emulator(options()).await;
    let client = client(&emu);
    let account = client
        .create_item(ACCOUNT, "Acme", Default::default(), false)
        .await
        .unwrap();
    let contact = client
        .create_item(CONTACT, "Ada", Default::default(), false)
        .await
        .unwrap();
    let lead = client
        .create_item(
            LEAD,
            "Lead with links",
            values(&[
                (
                    "board_relation_mks9cjfs",
                    json!({ "item_ids": [account.item_id.get()] }),
                ),
                (
                    "board_relation_mks95q",
                    json!({ "linkedPulseIds": [{ "linkedPulseId": contact.item_id }] }),
                ),
            ]),
            false,
        )
        .await
        .unwrap();
    let item = client.item(lead.item_id, None).await.unwrap().unwrap();
    let to_account = item.column("board_relation_mks9cjfs").unwrap();
    assert_eq!(to_account.linked_item_ids, vec![account.item_id]);
    assert_eq!(
        to_account.value, None,
        "value is null for board relations since 2025-04"
    );
    assert_eq!(to_account.display_value.as_deref(), Some("Acme"));
    assert_eq!(
        item.column("board_relation_mks95q")
            .unwrap()
            .linked_item_ids,
        vec![contact.item_id]
    );

    // Linking an item of a board the column is not connected to fails.
    let wrong = client
        .change_column_values(
            LEAD,
            lead.item_id,
            values(&[(
                "board_relation_mks9cjfs",
                json!({ "item_ids": [contact.item_id] }),
            )]),
            false,
        )
        .await;
    assert!(
        matches!(wrong, Err(MondayError::ColumnValue { .. })),
        "{wrong:?}"
    );
}

#[tokio::test]
async fn expired_cursors_are_rejected() {
    let emu = emulator(EmulatorOptions {
        generated_items_per_board: 3,
        minute: Duration::from_millis(5),
        ..options()
    })
    .await;
    let client = client(&emu);
    let request = PageRequest {
        limit: 1,
        ..PageRequest::default()
    };
    let page = client.items_page(LEAD, &request).await.unwrap();
    let cursor = page.cursor.unwrap();
    // 60 scaled minutes = 300 ms.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let err = client.next_items_page(&cursor, &request).await.unwrap_err();
    assert!(
        matches!(&err, MondayError::Api { code: Some(code), .. } if code == "CursorException"),
        "{err:?}"
    );
}
