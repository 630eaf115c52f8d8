//! The text of the mapping `init` writes, formatted in the canonical layout.

use std::fmt::Write as _;

use crate::fmt::string;
use crate::model::Direction;
use crate::source::SourceMap;

use super::{InitRequest, Line, Unmatched, names};

/// A text from a board or an org, safe inside a `//` comment: one line, no control characters.
pub fn comment_text(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The mapping text: the object, its field lines, the columns left out as comments, and a
/// translate table per field whose labels differ from the picklist values.
pub(super) fn render(
    req: &InitRequest<'_>,
    key: &str,
    name: Option<Direction>,
    lines: &[Line<'_>],
    unmatched: &[Unmatched],
) -> String {
    let mut out = String::new();
    let board = req.board;
    let sobject = &req.sobject.name;
    let _ = writeln!(
        out,
        "// {}: written by `crmmap init` from the schema snapshot (board {} \"{}\", sObject {}).",
        req.object,
        board.id,
        comment_text(&board.name),
        sobject
    );
    let _ = writeln!(
        out,
        "// Review it: the lines to check and the columns left out are listed at the end of the object."
    );
    let _ = writeln!(out, "object {} {{", req.object);
    let _ = writeln!(out, "  salesforce {sobject}");
    let _ = writeln!(out, "  board {}", board.id);
    let _ = writeln!(out, "  key {key}");
    if let Some(d) = name {
        let _ = writeln!(out);
        let _ = writeln!(out, "  name {} Name", d.arrow());
    }
    let mut tables = Vec::new();
    let mut review = Vec::new();
    if !lines.is_empty() {
        let _ = writeln!(out);
    }
    for l in lines {
        let mut steps = String::new();
        if !l.translate.is_empty() {
            let mut table = format!(
                "{}_{}",
                names::snake(req.object),
                names::snake(&l.field.name)
            );
            if tables.iter().any(|(t, _)| *t == table) {
                table = format!("{table}_{}", l.column.id);
            }
            let _ = write!(steps, " | translate({table})");
            tables.push((table, &l.translate));
        }
        if l.join {
            steps.push_str(" | join(\";\")");
        }
        if l.create_labels {
            steps.push_str(" create labels");
        }
        let mut notes = Vec::new();
        if l.score < 1.0 {
            notes.push(format!("alike at {:.2}", l.score));
        }
        if let Some(why) = &l.one_way {
            notes.push(format!("`<-` because {}", comment_text(why)));
        }
        notes.extend(l.notes.iter().map(|n| comment_text(n)));
        if !notes.is_empty() {
            review.push(format!(
                "{} \"{}\" ~ {}: {}",
                l.column.id,
                comment_text(&l.column.title),
                l.field.name,
                notes.join("; ")
            ));
        }
        let _ = writeln!(
            out,
            "  field {} : {} {} {} : {}{steps}",
            l.column.id,
            l.column_type,
            l.direction.arrow(),
            l.field.name,
            l.field_type
        );
    }
    if !review.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "  // To review:");
        for r in &review {
            let _ = writeln!(out, "  // {r}");
        }
    }
    if !unmatched.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "  // Not mapped:");
        for u in unmatched {
            let _ = writeln!(
                out,
                "  // {} \"{}\": {}",
                u.column,
                comment_text(&u.title),
                comment_text(&u.reason)
            );
        }
    }
    let _ = writeln!(out, "}}");
    for (name, pairs) in tables {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "// Salesforce value = monday label, where they differ."
        );
        let _ = writeln!(out, "translate {name} {{");
        for (value, label) in pairs {
            let _ = writeln!(out, "  {} = {}", string(value), string(label));
        }
        let _ = writeln!(out, "}}");
    }
    formatted(out)
}

/// The text in the canonical layout; the text as written if the formatter refuses it (it
/// cannot: every name was checked to be an identifier and every string is quoted).
fn formatted(text: String) -> String {
    let mut map = SourceMap::new();
    let id = map.add("init.crmmap", text.as_str());
    crate::fmt::format(map.get(id)).unwrap_or(text)
}
