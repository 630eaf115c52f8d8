//! The message loop: open buffers, diagnostics after every change, requests dispatched to
//! [`crate::handlers`] behind a panic boundary.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
    Notification as _, PublishDiagnostics, ShowMessage,
};
use lsp_types::request::{
    Completion, Formatting, GotoDefinition, HoverRequest, Rename, Request as _,
};
use lsp_types::{MessageType, PublishDiagnosticsParams, ShowMessageParams, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::handlers::{self, Failure, path_of};
use crate::project::Project;

/// What the server remembers between messages.
#[derive(Default)]
struct State {
    /// The open buffers by path: they override the files on disk.
    open: BTreeMap<PathBuf, String>,
    /// The documents that have diagnostics shown, to clear them when they have none.
    published: BTreeSet<Url>,
    /// Warnings already shown (a broken `crmmap.toml` is said once, not per keystroke).
    warned: BTreeSet<String>,
}

/// Serves until the client asks to shut down or the connection closes.
pub fn main_loop(connection: &Connection) -> Result<(), String> {
    let mut state = State::default();
    for message in &connection.receiver {
        match message {
            Message::Request(req) => {
                if connection
                    .handle_shutdown(&req)
                    .map_err(|e| e.to_string())?
                {
                    return Ok(());
                }
                let response = guarded(&req, |req| dispatch(req, &state.open));
                send(connection, Message::Response(response))?;
            }
            Message::Notification(n) => {
                let changed = catch_unwind(AssertUnwindSafe(|| notify(&mut state, n)));
                if let Ok(Some(path)) = changed {
                    publish(connection, &mut state, &path)?;
                }
            }
            Message::Response(_) => {}
        }
    }
    Ok(())
}

fn send(connection: &Connection, message: Message) -> Result<(), String> {
    connection
        .sender
        .send(message)
        .map_err(|e| format!("the client is gone: {e}"))
}

/// Answers `req`; a panic in a handler answers an internal error and the server goes on.
fn guarded(req: &Request, f: impl FnOnce(&Request) -> Response) -> Response {
    catch_unwind(AssertUnwindSafe(|| f(req))).unwrap_or_else(|_| {
        Response::new_err(
            req.id.clone(),
            ErrorCode::InternalError as i32,
            format!(
                "internal error answering `{}`; please report this",
                req.method
            ),
        )
    })
}

fn dispatch(req: &Request, open: &BTreeMap<PathBuf, String>) -> Response {
    match req.method.as_str() {
        HoverRequest::METHOD => answer(req, |p| handlers::hover(p, open)),
        Completion::METHOD => answer(req, |p| handlers::completion(p, open)),
        GotoDefinition::METHOD => answer(req, |p| handlers::definition(p, open)),
        Formatting::METHOD => answer(req, |p| handlers::formatting(p, open)),
        Rename::METHOD => answer(req, |p| handlers::rename(p, open)),
        other => Response::new_err(
            req.id.clone(),
            ErrorCode::MethodNotFound as i32,
            format!("`{other}` is not supported"),
        ),
    }
}

/// Parses the request's parameters and runs `f`; malformed parameters answer `InvalidParams`.
fn answer<P: DeserializeOwned, R: Serialize>(
    req: &Request,
    f: impl FnOnce(P) -> Result<R, Failure>,
) -> Response {
    let params: P = match serde_json::from_value(req.params.clone()) {
        Ok(p) => p,
        Err(e) => {
            return Response::new_err(
                req.id.clone(),
                ErrorCode::InvalidParams as i32,
                format!("invalid parameters for `{}`: {e}", req.method),
            );
        }
    };
    match f(params) {
        Ok(result) => Response::new_ok(req.id.clone(), result),
        Err(failure) => Response::new_err(req.id.clone(), failure.code, failure.message),
    }
}

/// Applies a notification; returns the file whose project must be checked again.
fn notify(state: &mut State, n: Notification) -> Option<PathBuf> {
    match n.method.as_str() {
        DidOpenTextDocument::METHOD => {
            let p: lsp_types::DidOpenTextDocumentParams = serde_json::from_value(n.params).ok()?;
            let path = path_of(&p.text_document.uri).ok()?;
            state.open.insert(path.clone(), p.text_document.text);
            Some(path)
        }
        DidChangeTextDocument::METHOD => {
            let p: lsp_types::DidChangeTextDocumentParams =
                serde_json::from_value(n.params).ok()?;
            let path = path_of(&p.text_document.uri).ok()?;
            // Full-text sync: the last change is the whole document.
            let text = p.content_changes.into_iter().last()?.text;
            state.open.insert(path.clone(), text);
            Some(path)
        }
        DidSaveTextDocument::METHOD => {
            let p: lsp_types::DidSaveTextDocumentParams = serde_json::from_value(n.params).ok()?;
            path_of(&p.text_document.uri).ok()
        }
        DidCloseTextDocument::METHOD => {
            let p: lsp_types::DidCloseTextDocumentParams = serde_json::from_value(n.params).ok()?;
            let path = path_of(&p.text_document.uri).ok()?;
            state.open.remove(&path);
            Some(path)
        }
        _ => None,
    }
}

/// Checks the project of `path` with the real checker and publishes every file's diagnostics
/// (an empty list clears a file that had some).
fn publish(connection: &Connection, state: &mut State, path: &Path) -> Result<(), String> {
    let Ok(project) = catch_unwind(AssertUnwindSafe(|| Project::of(path, &state.open))) else {
        return Ok(());
    };
    for warning in &project.warnings {
        if state.warned.insert(warning.clone()) {
            let params = ShowMessageParams {
                typ: MessageType::WARNING,
                message: format!("crmmap: {warning}"),
            };
            send(
                connection,
                Message::Notification(Notification::new(ShowMessage::METHOD.to_owned(), params)),
            )?;
        }
    }
    let Ok(checked) = catch_unwind(AssertUnwindSafe(|| {
        crmmap_dsl::check_sources_with_schema(&project.map, project.snapshot.as_ref())
    })) else {
        return Ok(());
    };
    let mut by_file: BTreeMap<Url, Vec<lsp_types::Diagnostic>> = BTreeMap::new();
    for p in &project.paths {
        if let Ok(uri) = Url::from_file_path(p) {
            by_file.insert(uri, Vec::new());
        }
    }
    for d in &checked.diagnostics {
        let Some(uri) = project
            .path(d.span().file)
            .and_then(|p| Url::from_file_path(p).ok())
        else {
            continue;
        };
        by_file
            .entry(uri)
            .or_default()
            .push(crate::convert::diagnostic(&project, d));
    }
    // Files that had diagnostics and are gone (deleted, or closed and never saved).
    let gone: Vec<Url> = state
        .published
        .iter()
        .filter(|u| !by_file.contains_key(*u))
        .filter(|u| {
            u.to_file_path()
                .is_ok_and(|p| !p.exists() && !state.open.contains_key(&p))
        })
        .cloned()
        .collect();
    for uri in gone {
        state.published.remove(&uri);
        by_file.insert(uri, Vec::new());
    }
    for (uri, diagnostics) in by_file {
        if diagnostics.is_empty() {
            state.published.remove(&uri);
        } else {
            state.published.insert(uri.clone());
        }
        let params = PublishDiagnosticsParams::new(uri, diagnostics, None);
        send(
            connection,
            Message::Notification(Notification::new(
                PublishDiagnostics::METHOD.to_owned(),
                params,
            )),
        )?;
    }
    Ok(())
}
