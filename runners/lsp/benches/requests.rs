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
use std::time::Instant;

use lsp_types::Url;
use serde_json::{Value, json};

#[path = "../../webhook/benches/common/stats.rs"]
mod stats;

#[path = "../tests/common/client.rs"]
mod client;
use client::{at, start};

/// Samples per request kind.
const SAMPLES: usize = 300;

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

    let (mut client, handle, _) = start(&root);

    let lead = Url::from_file_path(&lead_path).expect("url");
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": lead, "languageId": "crmmap", "version": 1, "text": lead_text } }),
    );
    let opened = client.diagnostics(&lead).len();

    // A keystroke: the whole buffer again (full sync), then its diagnostics.
    let mut change = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        let text = format!("{lead_text}\n// edit {i}\n");
        let started = Instant::now();
        client.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": lead, "version": i + 2 }, "contentChanges": [{ "text": text }] }),
        );
        let n = client.diagnostics(&lead).len();
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
    for (label, samples) in [
        (
            "didChange → publishDiagnostics (lead.crmmap, every file checked)",
            &mut change,
        ),
        ("hover on a column (title, type, labels)", &mut hover_column),
        ("hover on a transform", &mut hover_transform),
        ("completion after `| `", &mut completion),
        ("formatting lead.crmmap", &mut formatting),
    ] {
        println!("{}", stats::p50_p99(label, samples));
    }
}
