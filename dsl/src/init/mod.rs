//! init: a first mapping for one board and one sObject, from a schema snapshot.
//!
//! Columns are matched to fields by their title against the field's label and API name, both
//! reduced to words ([`names::words`]) and scored ([`names::similarity`]); pairs whose kinds of
//! value cannot meet are never proposed. The best pairs are taken first, each column once, and
//! each field written by one column only. Types come from the snapshot, status and dropdown
//! columns get a translate table for labels that differ from the picklist values
//! ([`labels::pair`]), and the direction is what the field allows: `<-` for fields Salesforce
//! does not let a client write, or whose board labels a restricted picklist would refuse.
//! What is not matched is listed as comments. The text is formatted by [`crate::fmt`].
//!
//! Pure: the caller reads the snapshot and writes the file.

pub mod labels;
pub mod names;
mod render;

use crate::check::kinds;
use crate::check::writes::standard_read_only;
use crate::model::{ColumnType, Direction, Kind, SfType};
use crate::schema::{BoardSchema, ColumnSchema, FieldSchema, SObjectSchema};

/// The lowest score at which a column title and a field are taken for the same thing.
pub const FIELD_MATCH: f64 = 0.85;

/// What to write a mapping for.
#[derive(Clone, Copy, Debug)]
pub struct InitRequest<'a> {
    /// The mapping's name for the object (`Lead`).
    pub object: &'a str,
    /// The board, from the snapshot.
    pub board: &'a BoardSchema,
    /// The sObject, from the snapshot.
    pub sobject: &'a SObjectSchema,
    /// The column that stores the Salesforce record Id; found by its title when `None`.
    pub key: Option<&'a str>,
}

/// Why no mapping could be written.
#[derive(Clone, Debug, PartialEq)]
pub enum InitError {
    /// The object name cannot be written in a mapping.
    ObjectName(String),
    /// No column looks like the one holding the Salesforce Id.
    NoKey {
        /// The board.
        board: u64,
        /// Its text columns.
        candidates: Vec<String>,
    },
    /// The key column given is not a text column of the board.
    BadKey {
        /// The board.
        board: u64,
        /// The column given.
        column: String,
    },
}

impl std::fmt::Display for InitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InitError::ObjectName(name) => write!(
                f,
                "`{name}` cannot be an object name: use ASCII letters, digits and `_`, starting with a letter"
            ),
            InitError::NoKey { board, candidates } => {
                write!(
                    f,
                    "no column of board {board} looks like the one holding the Salesforce record Id (a text column titled like `Salesforce Id`); name it with `--key COLUMN`"
                )?;
                if !candidates.is_empty() {
                    write!(f, " (text columns: {})", candidates.join(", "))?;
                }
                Ok(())
            }
            InitError::BadKey { board, column } => write!(
                f,
                "board {board} has no text column `{column}` to hold the Salesforce record Id"
            ),
        }
    }
}

impl std::error::Error for InitError {}

/// One column matched to a field.
#[derive(Clone, Debug, PartialEq)]
pub struct Matched {
    /// The column id.
    pub column: String,
    /// The field's API name.
    pub field: String,
    /// How alike the title and the field are (1 for the same words).
    pub score: f64,
    /// The direction written.
    pub direction: Direction,
    /// Why the direction is `<-` when the field itself could be written.
    pub one_way: Option<String>,
}

/// A column left out, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Unmatched {
    /// The column id.
    pub column: String,
    /// Its title.
    pub title: String,
    /// Why it was left out (the closest field, a type crmmap does not map, …).
    pub reason: String,
}

/// The mapping `init` wrote, and what it decided.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    /// The formatted `.crmmap` text.
    pub text: String,
    /// The key column.
    pub key: String,
    /// The columns matched to fields, in board order.
    pub fields: Vec<Matched>,
    /// The columns left out, in board order.
    pub unmatched: Vec<Unmatched>,
}

/// A field line to write.
struct Line<'a> {
    column: &'a ColumnSchema,
    column_type: ColumnType,
    field: &'a FieldSchema,
    field_type: SfType,
    score: f64,
    direction: Direction,
    one_way: Option<String>,
    /// What else to review about the line.
    notes: Vec<String>,
    /// The translate table's pairs `(value, label)`, when labels differ.
    translate: Vec<(String, String)>,
    join: bool,
    create_labels: bool,
}

/// Writes a first mapping for `req`.
pub fn init(req: &InitRequest<'_>) -> Result<Draft, InitError> {
    if !names::is_ident(req.object) {
        return Err(InitError::ObjectName(req.object.to_string()));
    }
    let key = key_column(req)?;
    let mut unmatched = Vec::new();
    let mut columns: Vec<(&ColumnSchema, ColumnType)> = Vec::new();
    for c in &req.board.columns {
        if c.id == key {
            continue;
        }
        match ColumnType::from_keyword(&c.column_type) {
            _ if !names::is_ident(&c.id) => unmatched.push(left_out(c, "its id cannot be written in a mapping")),
            Some(ColumnType::BoardRelation) => unmatched.push(left_out(
                c,
                &format!(
                    "a board relation{}: map it with `link {} <-> Object via ReferenceField__c` once that object has a mapping",
                    connected(c),
                    c.id
                ),
            )),
            Some(ColumnType::People) => {
                unmatched.push(left_out(c, "people columns hold monday users, not Salesforce values"))
            }
            Some(t) => columns.push((c, t)),
            None if c.column_type == "name" => {}
            None => unmatched.push(left_out(c, &format!("`{}` columns are not mapped by crmmap", c.column_type))),
        }
    }
    let fields: Vec<(&FieldSchema, SfType)> = req
        .sobject
        .fields
        .iter()
        .filter(|f| names::is_ident(&f.name) && f.name != "Id")
        .filter_map(|f| SfType::from_keyword(&f.field_type).map(|t| (f, t)))
        .collect();

    // Every pair that could be mapped, best first.
    let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
    for (ci, (c, ct)) in columns.iter().enumerate() {
        for (fi, (f, ft)) in fields.iter().enumerate() {
            if !pairs(*ct, *ft) {
                continue;
            }
            let score = score(&c.title, f);
            if score >= FIELD_MATCH {
                candidates.push((score, ci, fi));
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut taken: Vec<Option<(usize, f64)>> = vec![None; columns.len()];
    for (score, ci, fi) in candidates {
        if let Some(slot @ None) = taken.get_mut(ci) {
            *slot = Some((fi, score));
        }
    }

    // The item name is the record's `Name`: both ways where Salesforce lets it be written.
    let name = req.sobject.field("Name").map(|f| {
        if f.createable && f.updateable && !standard_read_only(&req.sobject.name, "Name") {
            Direction::Both
        } else {
            Direction::ToMonday
        }
    });
    let mut lines = Vec::new();
    let mut written: Vec<&str> = Vec::new();
    if name == Some(Direction::Both) {
        written.push("Name");
    }
    for ((c, ct), choice) in columns.iter().zip(&taken) {
        let Some((fi, score)) = choice else {
            unmatched.push(left_out(c, &closest(c, *ct, &fields)));
            continue;
        };
        let Some((f, ft)) = fields.get(*fi) else {
            continue;
        };
        let mut line = line(req.sobject, c, *ct, f, *ft, *score);
        // One column writes a field; the others read it.
        if line.direction.to_salesforce() {
            if written.contains(&f.name.as_str()) {
                line.direction = Direction::ToMonday;
                line.one_way = Some("another column writes this field".into());
            } else {
                written.push(&f.name);
            }
        }
        lines.push(line);
    }
    unmatched.sort_by_key(|u| req.board.columns.iter().position(|c| c.id == u.column));

    let text = render::render(req, &key, name, &lines, &unmatched);
    let fields = lines
        .iter()
        .map(|l| Matched {
            column: l.column.id.clone(),
            field: l.field.name.clone(),
            score: l.score,
            direction: l.direction,
            one_way: l.one_way.clone(),
        })
        .collect();
    Ok(Draft {
        text,
        key,
        fields,
        unmatched,
    })
}

/// The key column: the one given, or the text column whose title reads like "Salesforce Id".
fn key_column(req: &InitRequest<'_>) -> Result<String, InitError> {
    let text_columns = || {
        req.board
            .columns
            .iter()
            .filter(|c| c.column_type == "text" && names::is_ident(&c.id))
    };
    if let Some(k) = req.key {
        return text_columns()
            .find(|c| c.id == k)
            .map(|c| c.id.clone())
            .ok_or_else(|| InitError::BadKey {
                board: req.board.id,
                column: k.to_string(),
            });
    }
    const KEY_TITLES: &[&str] = &[
        "salesforce id",
        "salesforce record id",
        "sf id",
        "sfdc id",
        "record id",
        "salesforce",
        "id",
    ];
    text_columns()
        .filter_map(|c| {
            let w = names::words(&c.title);
            KEY_TITLES
                .iter()
                .position(|k| *k == w)
                .map(|rank| (rank, c))
        })
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, c)| c.id.clone())
        .ok_or_else(|| InitError::NoKey {
            board: req.board.id,
            candidates: text_columns().map(|c| c.id.clone()).collect(),
        })
}

/// Whether a column of this type can be mapped to a field of that type by what `init` writes
/// (labels to text through `join`).
fn pairs(c: ColumnType, f: SfType) -> bool {
    let (ck, fk) = (c.kind(), f.kind());
    if ck == Kind::Labels && fk == Kind::Text {
        // `join(";")`: a dropdown into one text or picklist value, not into an Id.
        return !matches!(f, SfType::Id | SfType::Reference);
    }
    kinds::compatible(ck, fk)
}

/// The title against the field's label and its API name.
fn score(title: &str, f: &FieldSchema) -> f64 {
    let by_name = names::similarity(title, &f.name);
    if f.label.is_empty() {
        by_name
    } else {
        by_name.max(names::similarity(title, &f.label))
    }
}

fn left_out(c: &ColumnSchema, reason: &str) -> Unmatched {
    Unmatched {
        column: c.id.clone(),
        title: c.title.clone(),
        reason: reason.to_string(),
    }
}

fn connected(c: &ColumnSchema) -> String {
    match c.board_ids.as_slice() {
        [] => String::new(),
        ids => format!(
            " to board {}",
            ids.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Why a column has no field: the closest field below the bar, if any.
fn closest(c: &ColumnSchema, ct: ColumnType, fields: &[(&FieldSchema, SfType)]) -> String {
    let best = fields
        .iter()
        .filter(|(_, ft)| pairs(ct, *ft))
        .map(|(f, _)| (score(&c.title, f), f))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((s, f)) if s >= 0.5 => format!(
            "no field close enough; the closest is `{}` ({:.2})",
            f.name, s
        ),
        _ => "no field with a similar name".to_string(),
    }
}

/// The line for a matched pair: direction, steps and labels.
fn line<'a>(
    sobject: &SObjectSchema,
    c: &'a ColumnSchema,
    ct: ColumnType,
    f: &'a FieldSchema,
    ft: SfType,
    score: f64,
) -> Line<'a> {
    let writable = f.createable && f.updateable && !standard_read_only(&sobject.name, &f.name);
    let mut l = Line {
        column: c,
        column_type: ct,
        field: f,
        field_type: ft,
        score,
        direction: if writable {
            Direction::Both
        } else {
            Direction::ToMonday
        },
        one_way: None,
        notes: Vec::new(),
        translate: Vec::new(),
        join: ct.kind() == Kind::Labels && ft.kind() == Kind::Text,
        create_labels: false,
    };
    if !matches!(ct, ColumnType::Status | ColumnType::Dropdown) {
        if writable && f.restricted_picklist {
            l.direction = Direction::ToMonday;
            l.one_way = Some(format!(
                "`{}` is a restricted picklist and the column is free text",
                f.name
            ));
        }
        return l;
    }
    if f.picklist_values.is_empty() {
        return l;
    }
    let p = labels::pair(&f.picklist_values, &c.labels);
    l.translate = p.translate;
    // Values with no label would fail on the board: let writes create them.
    l.create_labels = !p.values_without_label.is_empty();
    if l.create_labels {
        l.notes.push(format!(
            "`create labels` adds {} to the board",
            quoted(&p.values_without_label)
        ));
    }
    if writable && !p.labels_without_value.is_empty() {
        if f.restricted_picklist {
            l.direction = Direction::ToMonday;
            l.one_way = Some(format!(
                "the restricted picklist has no value for the labels {}",
                quoted(&p.labels_without_value)
            ));
        } else {
            l.notes.push(format!(
                "the labels {} reach Salesforce as they are (not picklist values); translate them if they mean one",
                quoted(&p.labels_without_value)
            ));
        }
    }
    l
}

/// `"a", "b"`, safe in a comment.
fn quoted(texts: &[String]) -> String {
    texts
        .iter()
        .map(|s| format!("\"{}\"", render::comment_text(s)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests;
