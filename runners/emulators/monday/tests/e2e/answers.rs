//! The shapes of answers, over raw HTTP: column settings (2025-10 `settings`, deprecated
//! `settings_str`), not-found errors, the complexity mutations report.

use serde_json::{Value, json};

use crate::common::*;

const STATUS: &str = "color_mksj2adq";
const DROPDOWN: &str = "dropdown_mksfyfqp";
const CITY: &str = "text_mkrym6fa";

async fn columns(emu: &crmmap_emu_monday::RunningEmulator) -> Vec<Value> {
    let query = json!({ "query": format!(
        "query {{ boards(ids: [{LEAD}]) {{ columns(ids: [\"{STATUS}\", \"{DROPDOWN}\"]) {{ id settings settings_str }} }} }}"
    ) })
    .to_string();
    let (status, _, body) = raw(emu, Some(TOKEN), &query).await;
    assert_eq!(status, 200, "{body}");
    body["data"]["boards"][0]["columns"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn settings_lists_labels_as_objects_and_settings_str_keeps_the_label_map() {
    let emu = emulator(options()).await;
    let columns = columns(&emu).await;
    let by_id = |id: &str| {
        columns
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    };

    let status = by_id(STATUS);
    let labels = status["settings"]["labels"].as_array().unwrap();
    assert!(!labels.is_empty());
    for (position, label) in labels.iter().enumerate() {
        for key in ["id", "label", "color", "index", "is_done", "is_deactivated"] {
            assert!(label.get(key).is_some(), "{key} missing in {label}");
        }
        assert_eq!(label["index"], position);
    }
    let qualified = labels
        .iter()
        .find(|l| l["label"] == "Qualified")
        .expect("Qualified is a label");
    // The deprecated string keeps the index → text map, and agrees on the index.
    let legacy: Value = serde_json::from_str(status["settings_str"].as_str().unwrap()).unwrap();
    let id = qualified["id"].as_i64().unwrap().to_string();
    assert_eq!(legacy["labels"][&id], "Qualified", "{legacy}");
    assert_eq!(legacy["done_colors"], json!([1]));

    let dropdown = by_id(DROPDOWN);
    let labels = dropdown["settings"]["labels"].as_array().unwrap();
    assert!(
        labels
            .iter()
            .any(|l| l["label"] == "Curriculum Development" && l["id"].is_i64())
    );
    let legacy: Value = serde_json::from_str(dropdown["settings_str"].as_str().unwrap()).unwrap();
    assert!(
        legacy["labels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["name"] == "Curriculum Development")
    );
}

#[tokio::test]
async fn a_deleted_item_is_a_resource_not_found() {
    let emu = emulator(options()).await;
    let id = emu
        .state()
        .seed_item(LEAD.get(), "Gone soon", &Default::default())
        .unwrap();
    let delete = json!({ "query": format!("mutation {{ delete_item(item_id: {id}) {{ id }} }}") })
        .to_string();
    assert_eq!(raw(&emu, Some(TOKEN), &delete).await.0, 200);
    let change = json!({ "query": format!(
        "mutation {{ change_simple_column_value(board_id: {LEAD}, item_id: {id}, column_id: \"{CITY}\", value: \"x\") {{ id }} }}"
    ) })
    .to_string();
    let (status, _, body) = raw(&emu, Some(TOKEN), &change).await;
    assert_eq!(status, 200, "{body}");
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "ResourceNotFoundException");
    assert_eq!(error["extensions"]["status_code"], 404);
    assert_eq!(error["extensions"]["error_data"]["item_id"], id.to_string());
    assert_eq!(error["path"], json!(["change_simple_column_value"]));
}

#[tokio::test]
async fn a_create_costs_the_documented_10000_and_a_change_grows_with_its_columns() {
    let emu = emulator(options()).await;
    let cost = |document: String| {
        let emu = &emu;
        async move {
            let body = json!({ "query": document }).to_string();
            let (status, _, body) = raw(emu, Some(TOKEN), &body).await;
            assert_eq!(status, 200, "{body}");
            (body["data"]["complexity"]["query"].as_u64().unwrap(), body)
        }
    };
    let (create, body) = cost(format!(
        "mutation {{ complexity {{ query }} create_item(board_id: {LEAD}, item_name: \"x\") {{ id }} }}"
    ))
    .await;
    assert_eq!(create, 10_000);
    let id = body["data"]["create_item"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let change = |columns: &str| {
        format!(
            "mutation {{ complexity {{ query }} change_multiple_column_values(board_id: {LEAD}, item_id: {id}, column_values: {}) {{ id }} }}",
            serde_json::to_string(columns).unwrap()
        )
    };
    let (one, _) = cost(change(&json!({ CITY: "Salem" }).to_string())).await;
    let (two, _) = cost(change(&json!({ CITY: "Salem", "name": "y" }).to_string())).await;
    assert!(two > one, "{one} {two}");
}

#[tokio::test]
async fn items_by_id_serve_archived_and_deleted_items_with_their_state_unless_excluded() {
    let emu = emulator(options()).await;
    let board: u64 = LEAD.get();
    let seed = |name: &str| {
        emu.state()
            .seed_item(board, name, &Default::default())
            .unwrap()
    };
    let (active, archived, deleted) = (seed("Active"), seed("Archived"), seed("Deleted"));
    for (mutation, id) in [("archive_item", archived), ("delete_item", deleted)] {
        let body = json!({ "query": format!("mutation {{ {mutation}(item_id: {id}) {{ id }} }}") })
            .to_string();
        assert_eq!(raw(&emu, Some(TOKEN), &body).await.0, 200);
    }
    let read = |exclude: &str| {
        json!({ "query": format!(
            "query {{ items(ids: [{active}, {archived}, {deleted}]{exclude}) {{ id state }} }}"
        ) })
        .to_string()
    };
    let states = |body: &Value| -> Vec<(String, String)> {
        body["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["id"].as_str().unwrap().to_owned(),
                    i["state"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let all = raw(&emu, Some(TOKEN), &read("")).await.2;
    assert_eq!(
        states(&all),
        [
            (active.to_string(), "active".to_owned()),
            (archived.to_string(), "archived".to_owned()),
            (deleted.to_string(), "deleted".to_owned()),
        ]
    );
    let not_excluded = raw(&emu, Some(TOKEN), &read(", exclude_nonactive: false"))
        .await
        .2;
    assert_eq!(states(&not_excluded), states(&all));
    let only_active = raw(&emu, Some(TOKEN), &read(", exclude_nonactive: true"))
        .await
        .2;
    assert_eq!(
        states(&only_active),
        [(active.to_string(), "active".to_owned())]
    );
}
