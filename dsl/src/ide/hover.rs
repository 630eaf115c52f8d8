//! Hover: what a name is, in Markdown: a column's title, type and labels and a field's label,
//! type and picklist values (from the schema snapshot when there is one, else from the
//! mapping), a transform's documentation from the registry, a translate table's entries.

use std::fmt::Write as _;

use super::symbols::Symbol;
use super::{Analysis, board_of, sobject_of};
use crate::ast::Stmt;
use crate::source::{FileId, Span};
use crate::transform::Transform;

/// What to show for the name under the cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hover {
    /// Markdown.
    pub markdown: String,
    /// The name it is about.
    pub span: Span,
}

impl Analysis<'_> {
    /// The hover of the name at byte `offset` of `file`, if there is a name there.
    pub fn hover(&self, file: FileId, offset: usize) -> Option<Hover> {
        let at = self.occurrence_at(file, offset)?;
        let markdown = match &at.symbol {
            Symbol::Column { object, column } => self.hover_column(object, column),
            Symbol::Field { object, field } => self.hover_field(object, field),
            Symbol::Transform(name) => hover_transform(name),
            Symbol::Table(name) => self.hover_table(name),
            Symbol::Object(name) => self.hover_object(name),
            Symbol::SObject(name) => self.hover_sobject(name),
            Symbol::Board(id) => self.hover_board(*id),
        }?;
        Some(Hover {
            markdown,
            span: at.span,
        })
    }

    fn hover_column(&self, object: &str, column: &str) -> Option<String> {
        let mut out = format!("**column** `{column}`");
        let o = self.object(object)?;
        let declared = o.stmts.iter().find_map(|s| match &s.node {
            Stmt::Field(f) if f.column.node == column => Some(f.column_type.node.as_str()),
            Stmt::Link(l) if l.column.node == column => Some("board_relation"),
            _ => None,
        });
        if let Some(t) = declared {
            let _ = write!(out, " : `{t}`");
        }
        let _ = write!(out, " of object `{object}`");
        let board = board_of(o);
        match board.and_then(|b| self.snapshot?.board(b)) {
            Some(b) => match b.column(column) {
                Some(c) => {
                    let _ = write!(
                        out,
                        "\n\n**{}**: `{}` on board {} ({})",
                        escape(&c.title),
                        c.column_type,
                        b.id,
                        escape(&b.name)
                    );
                    if !c.labels.is_empty() {
                        let _ = write!(out, "\n\nlabels: {}", quoted(&c.labels));
                    }
                    if !c.board_ids.is_empty() {
                        let ids: Vec<String> = c.board_ids.iter().map(u64::to_string).collect();
                        let _ = write!(out, "\n\nlinks to boards {}", ids.join(", "));
                    }
                }
                None => {
                    let _ = write!(out, "\n\nnot a column of board {} in the snapshot", b.id);
                }
            },
            None if self.snapshot.is_some() => {
                let _ = write!(out, "\n\nthe snapshot has no board for this object");
            }
            None => {}
        }
        Some(out)
    }

    fn hover_field(&self, object: &str, field: &str) -> Option<String> {
        let o = self.object(object)?;
        let sobject = sobject_of(o).unwrap_or(object);
        let mut out = format!("**field** `{sobject}.{field}`");
        let declared = o.stmts.iter().find_map(|s| match &s.node {
            Stmt::Field(f) if f.field.node == field => f.field_type.as_ref(),
            _ => None,
        });
        if let Some(t) = declared {
            let _ = write!(out, " : `{}`", t.node);
        }
        let Some(snapshot) = self.snapshot else {
            return Some(out);
        };
        match snapshot.field(sobject, field) {
            Some(f) => {
                let label = if f.label.is_empty() {
                    String::new()
                } else {
                    format!("**{}**: ", escape(&f.label))
                };
                let access = match (f.createable, f.updateable) {
                    (true, true) => "createable, updateable",
                    (true, false) => "createable, not updateable",
                    (false, true) => "updateable, not createable",
                    (false, false) => "read-only",
                };
                let _ = write!(out, "\n\n{label}`{}` ({access})", f.field_type);
                if !f.picklist_values.is_empty() {
                    let restricted = if f.restricted_picklist {
                        " (restricted)"
                    } else {
                        ""
                    };
                    let _ = write!(
                        out,
                        "\n\npicklist values{restricted}: {}",
                        quoted(&f.picklist_values)
                    );
                }
                if !f.reference_to.is_empty() {
                    let _ = write!(out, "\n\nrefers to {}", f.reference_to.join(", "));
                }
            }
            None => {
                let _ = write!(out, "\n\nnot a field of `{sobject}` in the snapshot");
            }
        }
        Some(out)
    }

    fn hover_table(&self, name: &str) -> Option<String> {
        let table = self.tables().find(|t| t.name.node == name)?;
        let mut out = format!("**translate** `{name}`\n\n| Salesforce | monday |\n|---|---|\n");
        for pair in &table.pairs {
            let (sf, monday) = &pair.node;
            let _ = writeln!(out, "| `{}` | `{}` |", cell(&sf.node), cell(&monday.node));
        }
        Some(out)
    }

    fn hover_object(&self, name: &str) -> Option<String> {
        let o = self.object(name)?;
        let mut out = format!("**object** `{name}`");
        if let Some(s) = sobject_of(o) {
            let _ = write!(out, "\n\nsObject `{s}`");
        }
        if let Some(b) = board_of(o) {
            let _ = write!(out, "\n\nboard {b}");
        }
        Some(out)
    }

    fn hover_sobject(&self, name: &str) -> Option<String> {
        let mut out = format!("**sObject** `{name}`");
        if let Some(s) = self.snapshot.and_then(|s| s.sobject(name)) {
            let _ = write!(out, "\n\n{} fields in the snapshot", s.fields.len());
        }
        Some(out)
    }

    fn hover_board(&self, id: u64) -> Option<String> {
        let mut out = format!("**board** {id}");
        if let Some(b) = self.snapshot.and_then(|s| s.board(id)) {
            let _ = write!(
                out,
                "\n\n**{}**: {} columns in the snapshot",
                escape(&b.name),
                b.columns.len()
            );
        }
        Some(out)
    }
}

/// A transform's reference entry.
pub(super) fn hover_transform(name: &str) -> Option<String> {
    let t = Transform::named(name)?;
    let mut out = format!("**transform** `{}`\n\n{}.\n\n", t.usage, t.summary);
    if !t.param_doc.is_empty() {
        let _ = writeln!(out, "- parameters: {}", t.param_doc);
    }
    let _ = writeln!(out, "- kinds: {}", t.kinds_doc);
    let _ = writeln!(out, "- fallible: {}", if t.fallible { "yes" } else { "no" });
    let _ = writeln!(
        out,
        "- both ways: {}",
        if t.lossy { "no (lossy)" } else { "yes" }
    );
    if let Some(e) = t.examples.first() {
        let _ = writeln!(out, "\nexample: `{}`", e.written);
    }
    Some(out)
}

fn quoted(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("`{}`", cell(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Text shown inside backticks in a table cell.
fn cell(s: &str) -> String {
    s.replace('`', "'").replace('|', "\\|").replace('\n', " ")
}

/// Text shown as Markdown.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
