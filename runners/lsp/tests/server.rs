//! The server end to end over an in-memory connection: the real message loop, a project on
//! disk with `crmmap.toml` and a schema snapshot, the requests an editor sends.

use std::path::Path;

use crmmap_dsl::schema::{BoardSchema, ColumnSchema, FieldSchema, SObjectSchema, SchemaSnapshot};
use lsp_types::Url;
use serde_json::{Value, json};

#[path = "common/client.rs"]
mod client;
use client::{at, start};

const TABLES: &str = "translate stages {\n  \"Open\" = \"Offen\"\n}\n";
const LEAD: &str = "object Lead {\n  salesforce Lead\n  board 7\n  key text_key\n  name <->  Company\n  field color_st : status <-> Status : picklist | translate(stages)\n}\n";
const BROKEN: &str = "object Broken {\n  salesforce Lead\n  board 7\n  key text_key\n  field text_c : txt <-> City : string\n}\n";

fn project(dir: &Path) {
    std::fs::write(
        dir.join("crmmap.toml"),
        "mappings = \"mappings\"\n[check]\nschema = \"schema\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("mappings")).unwrap();
    std::fs::write(dir.join("mappings/tables.crmmap"), TABLES).unwrap();
    std::fs::write(dir.join("mappings/lead.crmmap"), LEAD).unwrap();
    let snapshot = SchemaSnapshot {
        boards: vec![BoardSchema {
            version: 1,
            id: 7,
            name: "Leads".into(),
            columns: vec![
                ColumnSchema {
                    id: "color_st".into(),
                    title: "Lead Status".into(),
                    column_type: "status".into(),
                    labels: vec!["Offen".into()],
                    board_ids: vec![],
                },
                ColumnSchema {
                    id: "text_key".into(),
                    title: "Salesforce Id".into(),
                    column_type: "text".into(),
                    labels: vec![],
                    board_ids: vec![],
                },
            ],
        }],
        sobjects: vec![SObjectSchema {
            version: 1,
            name: "Lead".into(),
            fields: vec![
                FieldSchema {
                    name: "Status".into(),
                    label: "Lead Status".into(),
                    field_type: "picklist".into(),
                    createable: true,
                    updateable: true,
                    picklist_values: vec!["Open".into()],
                    restricted_picklist: true,
                    reference_to: vec![],
                },
                FieldSchema {
                    name: "Company".into(),
                    label: "Company".into(),
                    field_type: "string".into(),
                    createable: true,
                    updateable: true,
                    picklist_values: vec![],
                    restricted_picklist: false,
                    reference_to: vec![],
                },
            ],
        }],
    };
    crmmap_sync::schema::write_dir(&snapshot, &dir.join("schema")).unwrap();
}

#[test]
fn an_editor_session_gets_diagnostics_hover_completion_definition_formatting_and_rename() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    project(&root);
    let (mut client, handle, capabilities) = start(&root);
    assert_eq!(capabilities["renameProvider"], true);
    let broken = Url::from_file_path(root.join("mappings/broken.crmmap")).unwrap();
    let lead = Url::from_file_path(root.join("mappings/lead.crmmap")).unwrap();
    let tables = Url::from_file_path(root.join("mappings/tables.crmmap")).unwrap();

    // A broken buffer, never saved: coded diagnostics from the checker.
    client.notify("textDocument/didOpen", json!({ "textDocument": { "uri": broken, "languageId": "crmmap", "version": 1, "text": BROKEN } }));
    let diags = client.diagnostics(&broken);
    let codes: Vec<&str> = diags.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"E0301"), "{diags:?}");
    let e0301 = diags.iter().find(|d| d["code"] == "E0301").unwrap();
    assert_eq!(e0301["range"]["start"], at(BROKEN, "txt", 0));
    assert_eq!(e0301["severity"], 1);
    assert_eq!(e0301["source"], "crmmap");

    // Fixed as typed: the diagnostics are cleared.
    let fixed = BROKEN.replace("txt", "text");
    client.notify("textDocument/didChange", json!({ "textDocument": { "uri": broken, "version": 2 }, "contentChanges": [{ "text": fixed }] }));
    let diags = client.diagnostics(&broken);
    assert!(diags.iter().all(|d| d["code"] != "E0301"), "{diags:?}");

    // Formatting: one edit with the formatter's text; none for text that does not parse.
    client.notify("textDocument/didOpen", json!({ "textDocument": { "uri": lead, "languageId": "crmmap", "version": 1, "text": LEAD } }));
    let _ = client.diagnostics(&lead);
    let r = client.request("textDocument/formatting", json!({ "textDocument": { "uri": lead }, "options": { "tabSize": 2, "insertSpaces": true } }));
    let edits = r.result.unwrap();
    let formatted = edits[0]["newText"].as_str().unwrap();
    assert!(formatted.contains("  name <-> Company\n  field color_st : status <-> Status : picklist | translate(stages)\n"), "{formatted}");
    assert_ne!(formatted, LEAD);
    client.notify("textDocument/didChange", json!({ "textDocument": { "uri": broken, "version": 3 }, "contentChanges": [{ "text": "object {" }] }));
    let r = client.request("textDocument/formatting", json!({ "textDocument": { "uri": broken }, "options": { "tabSize": 2, "insertSpaces": true } }));
    assert_eq!(r.result, Some(Value::Null), "{r:?}");

    // Hover: the column's title and labels from the snapshot `crmmap.toml` names.
    let r = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": lead }, "position": at(LEAD, "color_st", 2) }),
    );
    let value = r.result.unwrap()["contents"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        value.contains("**Lead Status**: `status` on board 7 (Leads)"),
        "{value}"
    );
    assert!(value.contains("labels: `Offen`"), "{value}");

    // Completion: the board's columns with their titles.
    let typed = LEAD.replace("}\n", "  field \n}\n");
    client.notify("textDocument/didChange", json!({ "textDocument": { "uri": lead, "version": 2 }, "contentChanges": [{ "text": typed }] }));
    let _ = client.diagnostics(&lead);
    let r = client.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": lead }, "position": at(&typed, "field \n", 6) }),
    );
    let items = r.result.unwrap();
    let labels: Vec<(&str, &str)> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["label"].as_str().unwrap(), i["detail"].as_str().unwrap()))
        .collect();
    assert_eq!(
        labels,
        [
            ("color_st", "Lead Status (status)"),
            ("text_key", "Salesforce Id (text)")
        ]
    );
    client.notify("textDocument/didChange", json!({ "textDocument": { "uri": lead, "version": 3 }, "contentChanges": [{ "text": LEAD }] }));
    let _ = client.diagnostics(&lead);

    // Go to definition: the table in the other file.
    let r = client.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": lead }, "position": at(LEAD, "stages)", 1) }),
    );
    let loc = r.result.unwrap();
    assert_eq!(loc["uri"], tables.as_str());
    assert_eq!(loc["range"]["start"], json!({ "line": 0, "character": 10 }));

    // Rename: refused while a file does not parse, then the declaration and the use.
    let rename = json!({ "textDocument": { "uri": lead }, "position": at(LEAD, "stages)", 1), "newName": "phases" });
    let r = client.request("textDocument/rename", rename.clone());
    assert!(r.error.unwrap().message.contains("does not parse"));
    client.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": broken } }),
    );
    let r = client.request("textDocument/rename", rename);
    let changes = r.result.unwrap()["changes"].clone();
    assert_eq!(changes[tables.as_str()][0]["newText"], "phases");
    assert_eq!(
        changes[lead.as_str()][0]["range"]["start"],
        at(LEAD, "stages)", 0)
    );
    let r = client.request("textDocument/rename", json!({ "textDocument": { "uri": lead }, "position": at(LEAD, "stages)", 1), "newName": "1bad" }));
    assert_eq!(
        r.error.unwrap().code,
        lsp_server::ErrorCode::RequestFailed as i32
    );

    // Malformed and unknown requests answer errors; the server goes on.
    let r = client.request("textDocument/hover", json!({ "nonsense": true }));
    assert_eq!(
        r.error.unwrap().code,
        lsp_server::ErrorCode::InvalidParams as i32
    );
    let r = client.request("textDocument/hover", json!({ "textDocument": { "uri": "https://example.com/x" }, "position": { "line": 0, "character": 0 } }));
    assert_eq!(
        r.error.unwrap().code,
        lsp_server::ErrorCode::InvalidParams as i32
    );
    let r = client.request("workspace/unknown", json!(null));
    assert_eq!(
        r.error.unwrap().code,
        lsp_server::ErrorCode::MethodNotFound as i32
    );
    let r = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": lead }, "position": { "line": 999, "character": 999 } }),
    );
    assert!(r.error.is_none(), "{r:?}");

    let r = client.request("shutdown", json!(null));
    assert!(r.error.is_none());
    client.notify("exit", json!(null));
    assert_eq!(handle.join().unwrap(), Ok(()));
}
