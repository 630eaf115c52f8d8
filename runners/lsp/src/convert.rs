//! Spans and diagnostics of the front end as the protocol's ranges and diagnostics.

use crmmap_dsl::ide::position::{self, Position as IdePosition};
use crmmap_dsl::{Diagnostic, Severity, Span};
use lsp_types::{
    DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Position, Range,
    Url,
};

use crate::project::Project;

/// The protocol position of byte `offset` in `text`.
pub fn position_of(text: &str, offset: usize) -> Position {
    let p = position::position(text, offset);
    Position::new(p.line, p.character)
}

/// The byte offset of a protocol position in `text`.
pub fn offset_of(text: &str, p: Position) -> usize {
    position::offset(
        text,
        IdePosition {
            line: p.line,
            character: p.character,
        },
    )
}

/// The range of `span` in its file.
pub fn range(project: &Project, span: Span) -> Range {
    let text = project
        .map
        .files()
        .get(span.file.0 as usize)
        .map_or("", |f| &*f.text);
    Range::new(
        position_of(text, span.start as usize),
        position_of(text, span.end as usize),
    )
}

/// Where `span` is, as a location.
pub fn location(project: &Project, span: Span) -> Option<Location> {
    let uri = Url::from_file_path(project.path(span.file)?).ok()?;
    Some(Location::new(uri, range(project, span)))
}

/// A diagnostic of the checker for the editor: its code, its message with the help, the other
/// labels and the related diagnostics as related information.
pub fn diagnostic(project: &Project, d: &Diagnostic) -> lsp_types::Diagnostic {
    let mut message = d.message.clone();
    let primary = d.labels.iter().find(|l| l.primary);
    if let Some(label) = primary.filter(|l| !l.text.is_empty()) {
        message = format!("{message}: {}", label.text);
    }
    if let Some(help) = &d.help {
        message = format!("{message}\nhelp: {help}");
    }
    let mut related: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter(|l| !l.primary && !l.text.is_empty())
        .filter_map(|l| {
            Some(DiagnosticRelatedInformation {
                location: location(project, l.span)?,
                message: l.text.clone(),
            })
        })
        .collect();
    related.extend(d.related.iter().filter_map(|r| {
        Some(DiagnosticRelatedInformation {
            location: location(project, r.span())?,
            message: r.message.clone(),
        })
    }));
    lsp_types::Diagnostic {
        range: range(project, d.span()),
        severity: Some(match d.severity() {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.to_string())),
        source: Some("crmmap".to_owned()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..lsp_types::Diagnostic::default()
    }
}
