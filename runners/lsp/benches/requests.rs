//! What an editor waits for: `crmmap lsp` over its real message loop (an in-memory connection),
//! on the shipped mappings with a schema snapshot pulled from the emulators, the way a mapping
//! author's project looks (`crmmap.toml` with `[check] schema`).
//!
//! Every request reads `crmmap.toml`, the snapshot and the mapping files again (the open
//! buffers over them): this measures what that costs per keystroke.
//!
//! `cargo bench -p crmmap-lsp --bench requests` prints one Markdown row per request kind
//! (p50 / p99 over the samples).

use std::path::Path;
use std::time::{Duration, Instant};

use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use lsp_types::Url;
use serde_json::{Value, json};

#[path = "../../webhook/benches/common/stats.rs"]
mod stats;

/// Samples per request kind.
const SAMPLES: usize = 300;

struct Client {
    conn: Connection,
    next: i32,
}

impl Client {
    fn request(&mut self, method: &str, params: Value) -> Response {
        self.next += 1;
        let id = RequestId::from(self.next);
        let req = Request::new(id.clone(), method.to_owned(), params);
        self.conn.sender.send(Message::Request(req)).expect("send");
        loop {
            match self.conn.receiver.recv_timeout(Duration::from_secs(60)) {
                Ok(Message::Response(r)) if r.id == id => return r,
                Ok(_) => {}
                Err(e) => panic!("no answer to {method}: {e}"),
            }
        }
    }

    fn notify(&self, method: &str, params: Value) {
        let n = Notification::new(method.to_owned(), params);
        self.conn
            .sender
            .send(Message::Notification(n))
            .expect("send");
    }

    /// Waits for the diagnostics of `uri` and returns how many there are.
    fn diagnostics(&self, uri: &Url) -> usize {
        loop {
            match self.conn.receiver.recv_timeout(Duration::from_secs(60)) {
                Ok(Message::Notification(n))
                    if n.method == "textDocument/publishDiagnostics"
                        && n.params["uri"] == uri.as_str() =>
                {
                    return n.params["diagnostics"].as_array().map_or(0, Vec::len);
                }
                Ok(_) => {}
                Err(e) => panic!("no diagnostics for {uri}: {e}"),
            }
        }
    }
}

/// The shipped mappings, a `crmmap.toml` naming them and a snapshot of the emulators' boards and
/// sObjects, in `dir`.
fn project(dir: &Path) {
    let mappings = dir.join("mappings");
    std::fs::create_dir_all(&mappings).expect("mappings folder");
    for entry in std::fs::read_dir(crmmap_testkit::mappings_dir()).expect("shipped mappings") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "crmmap") {
            let name = path.file_name().expect("a file name");
            std::fs::copy(&path, mappings.join(name)).expect("copy");
        }
    }
    std::fs::write(
        dir.join("crmmap.toml"),
        "mappings = \"mappings\"\n[check]\nschema = \"schema\"\n",
    )
    .expect("crmmap.toml");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let snapshot = runtime.block_on(async {
        let emulators = crmmap_testkit::Emulators::start().await;
        let salesforce = crmmap_testkit::salesforce_client(&emulators.salesforce.base_url(), true);
        let monday = crmmap_testkit::monday_client(&emulators.monday.base_url(), true);
        crmmap_sync::schema::pull(&crmmap_testkit::shipped_plans(), &salesforce, &monday)
            .await
            .expect("a snapshot of the emulators")
    });
    crmmap_sync::schema::write_dir(&snapshot, &dir.join("schema")).expect("write the snapshot");
}

/// The zero-based line and UTF-16 column of `needle` in `text`, plus `plus` characters.
fn at(text: &str, needle: &str, plus: usize) -> Value {
    let start = text.find(needle).expect("the needle is in the text");
    let before = text.get(..start).unwrap_or_default();
    let line = before.matches('\n').count();
    let column = before
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .encode_utf16()
        .count();
    json!({ "line": line, "character": column + plus })
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = std::fs::canonicalize(dir.path()).expect("canonical");
    project(&root);
    let lead_path = root.join("mappings/lead.crmmap");
    let lead_text = std::fs::read_to_string(&lead_path).expect("lead.crmmap");
    let files = std::fs::read_dir(root.join("mappings"))
        .expect("mappings")
        .count();
    let lines: usize = std::fs::read_dir(root.join("mappings"))
        .expect("mappings")
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .map(|t| t.lines().count())
        .sum();

    let (server, conn) = Connection::memory();
    let handle = std::thread::spawn(move || crmmap_lsp::serve(&server));
    let mut client = Client { conn, next: 0 };
    let init = client.request(
        "initialize",
        json!({ "capabilities": {}, "rootUri": Url::from_file_path(&root).expect("url") }),
    );
    assert!(init.error.is_none(), "{init:?}");
    client.notify("initialized", json!({}));

    let lead = Url::from_file_path(&lead_path).expect("url");
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": lead, "languageId": "crmmap", "version": 1, "text": lead_text } }),
    );
    let opened = client.diagnostics(&lead);

    // A keystroke: the whole buffer again (full sync), then its diagnostics.
    let mut change = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        let text = format!("{lead_text}\n// edit {i}\n");
        let started = Instant::now();
        client.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": lead, "version": i + 2 }, "contentChanges": [{ "text": text }] }),
        );
        let n = client.diagnostics(&lead);
        change.push(started.elapsed());
        assert_eq!(n, opened, "an edit of a comment changes no diagnostic");
    }
    let edited = format!("{lead_text}\n// edit {}\n", SAMPLES - 1);

    let mut timed = |method: &str, params: Value| {
        let mut samples = Vec::with_capacity(SAMPLES);
        for _ in 0..SAMPLES {
            let started = Instant::now();
            let r = client.request(method, params.clone());
            samples.push(started.elapsed());
            assert!(r.error.is_none(), "{method}: {r:?}");
            assert!(
                r.result.as_ref().is_some_and(|v| !v.is_null()),
                "{method}: no answer"
            );
        }
        samples
    };
    // A column with the snapshot's title and labels; a transform's documentation.
    let mut hover_column = timed(
        "textDocument/hover",
        json!({ "textDocument": { "uri": lead }, "position": at(&edited, "color_mksj2adq", 2) }),
    );
    let mut hover_transform = timed(
        "textDocument/hover",
        json!({ "textDocument": { "uri": lead }, "position": at(&edited, "translate(", 2) }),
    );
    // After `| `: every transform and table.
    let mut completion = timed(
        "textDocument/completion",
        json!({ "textDocument": { "uri": lead }, "position": at(&edited, "| translate(", 2) }),
    );
    let mut formatting = timed(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": lead }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );

    let r = client.request("shutdown", Value::Null);
    assert!(r.error.is_none(), "{r:?}");
    client.notify("exit", Value::Null);
    handle
        .join()
        .expect("the server thread")
        .expect("the server stops cleanly");

    println!(
        "crmmap lsp on the shipped mappings ({files} files, {lines} lines) with a schema snapshot; \
         {SAMPLES} samples each; every request reads crmmap.toml, the snapshot and the files again\n"
    );
    println!("| request | p50 | p99 |");
    println!("|---|---|---|");
    println!(
        "{}",
        stats::p50_p99(
            "didChange → publishDiagnostics (lead.crmmap, every file checked)",
            &mut change
        )
    );
    println!(
        "{}",
        stats::p50_p99("hover on a column (title, type, labels)", &mut hover_column)
    );
    println!(
        "{}",
        stats::p50_p99("hover on a transform", &mut hover_transform)
    );
    println!(
        "{}",
        stats::p50_p99("completion after `| `", &mut completion)
    );
    println!(
        "{}",
        stats::p50_p99("formatting lead.crmmap", &mut formatting)
    );
}
