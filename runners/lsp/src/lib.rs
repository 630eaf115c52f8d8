//! `crmmap lsp`: the language server of the mapping language, over stdio.
//!
//! Diagnostics come from the real checker (`crmmap_dsl::check_sources_with_schema`) on every
//! open, change and save, for every file of the mappings folder (the open buffers override the
//! files on disk), with the schema snapshot `[check] schema` of the nearest `crmmap.toml`.
//! Hover, completion, go to definition and rename are `crmmap_dsl::ide`; formatting is
//! `crmmap fmt`'s formatter. A file that does not parse gets no formatting edits. Every request
//! reads the project again (`crmmap.toml`, the snapshot, the files under the open buffers), so
//! nothing needs watching; `benches/requests.rs` measures what that costs per request.
//!
//! | module | what |
//! |---|---|
//! | [`project`] | the mappings a file belongs to: `crmmap.toml`, the folder, the snapshot |
//! | [`convert`] | spans and diagnostics as protocol ranges and diagnostics |
//! | [`handlers`] | hover, completion, definition, formatting, rename |
//! | `server` | the message loop, open buffers, publishing diagnostics |
//!
//! Built on `lsp-server` and `lsp-types`, rust-analyzer's own protocol crates, rather than
//! `tower-lsp`: every answer is a pure, fast function of the sources, so a synchronous loop
//! needs no async runtime, and `Connection::memory` lets the tests drive the real loop
//! in-process. `tower-lsp` would bring tokio and an `async_trait` server for nothing here.
//!
//! Nothing a client sends makes the server panic: malformed parameters answer
//! `InvalidParams`, an unknown method `MethodNotFound`, and each request runs behind a panic
//! boundary that answers `InternalError`. Text that is not JSON-RPC at all ends the
//! connection (the transport reads no further), and the process exits with an error.

pub mod convert;
pub mod handlers;
pub mod project;
mod server;

use lsp_server::Connection;
use lsp_types::{
    CompletionOptions, HoverProviderCapability, OneOf, ServerCapabilities,
    TextDocumentSyncCapability, TextDocumentSyncKind,
};

/// What the server offers.
pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(["|", "(", ":", " "].map(str::to_owned).to_vec()),
            ..CompletionOptions::default()
        }),
        definition_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}

/// Runs the server on an established connection: the initialize handshake, then messages
/// until `shutdown` and `exit` or the connection closes.
pub fn serve(connection: &Connection) -> Result<(), String> {
    let caps = serde_json::to_value(capabilities()).map_err(|e| e.to_string())?;
    connection
        .initialize(caps)
        .map_err(|e| format!("the initialize handshake failed: {e}"))?;
    server::main_loop(connection)
}

/// Runs the server on stdin and stdout (`crmmap lsp`).
pub fn run_stdio() -> Result<(), String> {
    let (connection, io_threads) = Connection::stdio();
    let served = serve(&connection);
    drop(connection);
    let joined = io_threads.join().map_err(|e| e.to_string());
    served.and(joined)
}
