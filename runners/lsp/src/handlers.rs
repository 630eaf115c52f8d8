//! The requests: hover, completion, go to definition, formatting and rename, each answered
//! from a fresh [`Project`] (the open buffers over the files on disk).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crmmap_dsl::ide::{Analysis, CompletionKind};
use crmmap_dsl::{FileId, SourceMap};
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionResponse, DocumentFormattingParams,
    GotoDefinitionParams, GotoDefinitionResponse, Hover, HoverContents, HoverParams, MarkupContent,
    MarkupKind, Range, RenameParams, TextDocumentPositionParams, TextEdit, Url, WorkspaceEdit,
};

use crate::convert::{location, offset_of, position_of, range};
use crate::project::{Project, canonical};

/// A request that cannot be answered, with the protocol's error code.
pub struct Failure {
    /// The JSON-RPC error code.
    pub code: i32,
    /// Why.
    pub message: String,
}

impl Failure {
    fn params(message: impl Into<String>) -> Self {
        Failure {
            code: lsp_server::ErrorCode::InvalidParams as i32,
            message: message.into(),
        }
    }
}

/// The file a URI names, as the open buffers are keyed.
pub fn path_of(uri: &Url) -> Result<PathBuf, Failure> {
    uri.to_file_path()
        .map(|p| canonical(&p))
        .map_err(|()| Failure::params(format!("`{uri}` is not a file")))
}

/// The project of the document at `at`, its file id and the byte offset of the position.
fn locate(
    at: &TextDocumentPositionParams,
    open: &BTreeMap<PathBuf, String>,
) -> Result<(Project, FileId, usize), Failure> {
    let path = path_of(&at.text_document.uri)?;
    let project = Project::of(&path, open);
    let id = project
        .id(&path)
        .ok_or_else(|| Failure::params(format!("`{}` is not a mapping file", path.display())))?;
    let text = project
        .map
        .files()
        .get(id.0 as usize)
        .map_or("", |f| &*f.text);
    let offset = offset_of(text, at.position);
    Ok((project, id, offset))
}

/// `textDocument/hover`.
pub fn hover(p: HoverParams, open: &BTreeMap<PathBuf, String>) -> Result<Option<Hover>, Failure> {
    let (project, id, offset) = locate(&p.text_document_position_params, open)?;
    let analysis = Analysis::new(&project.map, project.snapshot.as_ref());
    Ok(analysis.hover(id, offset).map(|h| Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: h.markdown,
        }),
        range: Some(range(&project, h.span)),
    }))
}

/// `textDocument/completion`.
pub fn completion(
    p: lsp_types::CompletionParams,
    open: &BTreeMap<PathBuf, String>,
) -> Result<Option<CompletionResponse>, Failure> {
    let (project, id, offset) = locate(&p.text_document_position, open)?;
    let analysis = Analysis::new(&project.map, project.snapshot.as_ref());
    let items = analysis
        .completion(id, offset)
        .into_iter()
        .map(|c| CompletionItem {
            label: c.label,
            detail: c.detail,
            kind: Some(match c.kind {
                CompletionKind::Column | CompletionKind::Field => CompletionItemKind::FIELD,
                CompletionKind::Transform => CompletionItemKind::FUNCTION,
                CompletionKind::Table => CompletionItemKind::ENUM,
                CompletionKind::Object => CompletionItemKind::CLASS,
                CompletionKind::Type => CompletionItemKind::TYPE_PARAMETER,
                CompletionKind::Keyword => CompletionItemKind::KEYWORD,
            }),
            ..CompletionItem::default()
        })
        .collect();
    Ok(Some(CompletionResponse::Array(items)))
}

/// `textDocument/definition`.
pub fn definition(
    p: GotoDefinitionParams,
    open: &BTreeMap<PathBuf, String>,
) -> Result<Option<GotoDefinitionResponse>, Failure> {
    let (project, id, offset) = locate(&p.text_document_position_params, open)?;
    let analysis = Analysis::new(&project.map, project.snapshot.as_ref());
    Ok(analysis
        .definition(id, offset)
        .and_then(|span| location(&project, span))
        .map(GotoDefinitionResponse::Scalar))
}

/// `textDocument/rename`.
pub fn rename(
    p: RenameParams,
    open: &BTreeMap<PathBuf, String>,
) -> Result<Option<WorkspaceEdit>, Failure> {
    let (project, id, offset) = locate(&p.text_document_position, open)?;
    let analysis = Analysis::new(&project.map, project.snapshot.as_ref());
    let edits = analysis
        .rename(id, offset, &p.new_name)
        .map_err(|e| Failure {
            code: lsp_server::ErrorCode::RequestFailed as i32,
            message: e.to_string(),
        })?;
    let mut changes: HashMap<Url, Vec<TextEdit>> = HashMap::new();
    for edit in edits {
        let Some(loc) = location(&project, edit.span) else {
            continue;
        };
        changes
            .entry(loc.uri)
            .or_default()
            .push(TextEdit::new(loc.range, edit.text));
    }
    Ok(Some(WorkspaceEdit::new(changes)))
}

/// `textDocument/formatting`: the formatter's text as one edit; none when the file is already
/// formatted or does not parse (its diagnostics say why).
pub fn formatting(
    p: DocumentFormattingParams,
    open: &BTreeMap<PathBuf, String>,
) -> Result<Option<Vec<TextEdit>>, Failure> {
    let path = path_of(&p.text_document.uri)?;
    let text = match open.get(&path) {
        Some(t) => t.clone(),
        None => read(&path)?,
    };
    let mut map = SourceMap::new();
    let id = map.add(path.display().to_string(), text.as_str());
    let file = map.get(id);
    match crmmap_dsl::fmt::format(file) {
        Ok(formatted) if formatted == text => Ok(Some(Vec::new())),
        Ok(formatted) => {
            let whole = Range::new(position_of(&text, 0), position_of(&text, text.len()));
            Ok(Some(vec![TextEdit::new(whole, formatted)]))
        }
        Err(_) => Ok(None),
    }
}

fn read(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| Failure {
        code: lsp_server::ErrorCode::RequestFailed as i32,
        message: format!("cannot read `{}`: {e}", path.display()),
    })
}
