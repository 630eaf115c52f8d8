//! `crmmap lsp` spawned as an editor starts it (no arguments, the project as working
//! directory), spoken to over stdio; and `[check] schema` as `crmmap check`'s default.

use std::io::BufReader;
use std::path::Path;
use std::process::{Command, Stdio};

use lsp_server::{Message, Notification, Request, RequestId};
use serde_json::json;

const BROKEN: &str = "object Lead {\n  salesforce Lead\n  board 7\n  key text_key\n  field text_c : txt <-> City : string\n}\n";

fn project(dir: &Path, broken: &str) {
    std::fs::write(dir.join("crmmap.toml"), "[check]\nschema = \"schema\"\n").unwrap();
    std::fs::create_dir_all(dir.join("mappings")).unwrap();
    std::fs::write(dir.join("mappings/lead.crmmap"), broken).unwrap();
    let snapshot = crmmap_dsl::schema::SchemaSnapshot::default();
    crmmap_sync::schema::write_dir(&snapshot, &dir.join("schema")).unwrap();
    std::fs::create_dir_all(dir.join("schema/monday")).unwrap();
    std::fs::create_dir_all(dir.join("schema/salesforce")).unwrap();
}

#[test]
fn the_spawned_server_publishes_coded_diagnostics_and_exits_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    project(&root, BROKEN);
    let mut child = Command::new(env!("CARGO_BIN_EXE_crmmap"))
        .arg("lsp")
        .current_dir(&root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let uri = lsp_types::Url::from_file_path(root.join("mappings/lead.crmmap")).unwrap();
    let send = |stdin: &mut std::process::ChildStdin, m: Message| m.write(stdin).unwrap();
    send(
        &mut stdin,
        Message::Request(Request::new(
            RequestId::from(1),
            "initialize".into(),
            json!({ "capabilities": {} }),
        )),
    );
    let Some(Message::Response(init)) = Message::read(&mut stdout).unwrap() else {
        panic!("no initialize response");
    };
    assert_eq!(
        init.result.unwrap()["capabilities"]["documentFormattingProvider"],
        true
    );
    send(
        &mut stdin,
        Message::Notification(Notification::new("initialized".into(), json!({}))),
    );
    send(
        &mut stdin,
        Message::Notification(Notification::new(
            "textDocument/didOpen".into(),
            json!({ "textDocument": { "uri": uri, "languageId": "crmmap", "version": 1, "text": BROKEN } }),
        )),
    );
    let diagnostics = loop {
        match Message::read(&mut stdout).unwrap() {
            Some(Message::Notification(n)) if n.method == "textDocument/publishDiagnostics" => {
                break n.params;
            }
            Some(_) => {}
            None => panic!("the server closed its output"),
        }
    };
    assert_eq!(diagnostics["uri"], uri.as_str());
    let codes: Vec<&str> = diagnostics["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    // E0301 from the checker, and the empty snapshot of `[check] schema` reports the board.
    assert!(codes.contains(&"E0301"), "{codes:?}");
    assert!(codes.contains(&"E0601"), "{codes:?}");
    send(
        &mut stdin,
        Message::Request(Request::new(
            RequestId::from(2),
            "shutdown".into(),
            json!(null),
        )),
    );
    send(
        &mut stdin,
        Message::Notification(Notification::new("exit".into(), json!(null))),
    );
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn check_uses_the_schema_named_in_crmmap_toml_unless_given_one() {
    let dir = tempfile::tempdir().unwrap();
    let fixed = BROKEN.replace("txt", "text");
    project(dir.path(), &fixed);
    let out = Command::new(env!("CARGO_BIN_EXE_crmmap"))
        .args(["check", "--format", "json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("E0601"), "{stdout}");
    assert_eq!(out.status.code(), Some(1));
    // `fmt` does not take it (it would write types in): the file is formatted as it is.
    let out = Command::new(env!("CARGO_BIN_EXE_crmmap"))
        .args(["fmt", "--check"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
