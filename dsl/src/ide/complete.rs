//! Completion: what may be written at the cursor, read from the tokens before it (the file
//! being typed rarely parses): column ids with their titles, field names, transform and table
//! names, object names, types and keywords where the grammar allows them.

use std::collections::BTreeMap;

use super::symbols::{self, Symbol};
use super::tokens::{Token, is_word_char, tokens};
use super::{Analysis, board_of, sobject_of};
use crate::model::{ColumnType, SfType};
use crate::source::FileId;
use crate::transform;

/// One thing that may be written at the cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    /// What is inserted.
    pub label: String,
    /// A short description (a column's title and type, a field's label and type).
    pub detail: Option<String>,
    /// What it is.
    pub kind: CompletionKind,
}

/// What a completion names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    /// A monday column id.
    Column,
    /// A Salesforce field.
    Field,
    /// A transform.
    Transform,
    /// A translate table.
    Table,
    /// An object.
    Object,
    /// A column or field type.
    Type,
    /// A keyword.
    Keyword,
}

/// Statements that start a line inside an object.
const OBJECT_KEYWORDS: &[&str] = &[
    "salesforce",
    "board",
    "key",
    "select",
    "record",
    "conflict",
    "name",
    "on",
    "field",
    "link",
    "rule",
];

/// Statements that start a line inside a rule.
const RULE_KEYWORDS: &[&str] = &["when", "create", "set", "propagate"];

impl Analysis<'_> {
    /// What may be written at byte `offset` of `file`.
    pub fn completion(&self, file: FileId, offset: usize) -> Vec<Completion> {
        let Some(text) = self.text(file) else {
            return Vec::new();
        };
        if self.tree(file).is_some() {
            return self.complete_in(text, offset);
        }
        // The line being typed rarely parses: the rest of the file usually does without it.
        // Blanking the line keeps every other offset where it was.
        let blanked = blank_line(text, offset);
        let mut map = crate::source::SourceMap::new();
        for f in self.map.files() {
            if f.id == file {
                map.add(f.path.clone(), blanked.as_str());
            } else {
                map.add(f.path.clone(), f.text.clone());
            }
        }
        Analysis::new(&map, self.snapshot).complete_in(text, offset)
    }

    /// Completion in `text` (the file as typed), with names from this analysis's trees.
    fn complete_in(&self, text: &str, offset: usize) -> Vec<Completion> {
        let mut cursor = offset.min(text.len());
        while !text.is_char_boundary(cursor) {
            cursor -= 1;
        }
        let before = text.get(..cursor).unwrap_or("");
        // The word being typed is left out of the context.
        let prefix_start = before
            .char_indices()
            .rev()
            .take_while(|&(_, c)| is_word_char(c))
            .last()
            .map_or(cursor, |(i, _)| i);
        let toks = tokens(text.get(..prefix_start).unwrap_or(""));
        let scope = scope(&toks);
        let last: Vec<&str> = toks.iter().rev().take(8).map(|t| t.text).collect();
        let at_line_start = before
            .get(..prefix_start)
            .unwrap_or("")
            .rsplit('\n')
            .next()
            .is_some_and(|line| line.trim().is_empty());
        let words = |ws: &[&str], kind| -> Vec<Completion> {
            ws.iter()
                .map(|w| Completion {
                    label: (*w).to_owned(),
                    detail: None,
                    kind,
                })
                .collect()
        };
        let Some(object) = scope.object else {
            return if at_line_start || last.first() == Some(&"}") || last.is_empty() {
                words(&["object", "translate"], CompletionKind::Keyword)
            } else {
                Vec::new()
            };
        };
        let info = self.object_info(&toks, &object, scope.start);
        let arrow = |t: &&str| matches!(*t, "<->" | "->" | "<-");
        match last.as_slice() {
            ["|", ..] => self.transforms(),
            ["(", "translate", ..] => self.table_names(),
            ["field", ..] | ["key", ..] | ["link", ..] => self.columns(&info),
            [":", _, "field", ..] => types(ColumnType::ALL.iter().map(|t| t.keyword())),
            [":", f, a, _, ":", _, "field", ..] if arrow(a) && is_word(f) => {
                types(SfType::ALL.iter().map(|t| t.keyword()))
            }
            [a, _, ":", _, "field", ..] if arrow(a) => self.fields(&info),
            [a, _, "link", ..] if arrow(a) => self.object_names(),
            ["via", ..] | ["when", ..] | ["propagate", ..] | ["=", ..] | ["+", ..] | ["-", ..] => {
                self.fields(&info)
            }
            [a, "name", ..] if arrow(a) => self.fields(&info),
            ["conflict", ..] => {
                let mut out = words(&["prefer"], CompletionKind::Keyword);
                out.extend(self.fields(&info));
                out
            }
            ["prefer", ..] => words(&["salesforce", "monday", "newest"], CompletionKind::Keyword),
            ["create", ..] if scope.in_rule => self.object_names(),
            ["create", "on", ..] => words(&["in"], CompletionKind::Keyword),
            ["delete", "on", ..] => words(&["log", "delete", "set"], CompletionKind::Keyword),
            ["delete", "salesforce", "on", ..] => {
                words(&["log", "archive", "delete"], CompletionKind::Keyword)
            }
            ["on", ..] => words(&["create", "delete", "salesforce"], CompletionKind::Keyword),
            _ if at_line_start && scope.depth == 1 => {
                words(OBJECT_KEYWORDS, CompletionKind::Keyword)
            }
            _ if at_line_start && scope.in_rule && scope.depth == 2 => {
                words(RULE_KEYWORDS, CompletionKind::Keyword)
            }
            // A line inside `on create { … }`, `set { … }` or a rule's `create … { … }`.
            _ if at_line_start => self.fields(&info),
            _ => Vec::new(),
        }
    }

    fn transforms(&self) -> Vec<Completion> {
        transform::ALL
            .iter()
            .map(|t| Completion {
                label: t.name.to_owned(),
                detail: Some(t.usage.to_owned()),
                kind: CompletionKind::Transform,
            })
            .collect()
    }

    fn table_names(&self) -> Vec<Completion> {
        names(
            self.tables().map(|t| t.name.node.as_str()),
            CompletionKind::Table,
        )
    }

    fn object_names(&self) -> Vec<Completion> {
        names(
            self.objects().map(|o| o.name.node.as_str()),
            CompletionKind::Object,
        )
    }

    /// The board's columns from the snapshot, else the columns the mappings name.
    fn columns(&self, info: &ObjectInfo) -> Vec<Completion> {
        if let Some(board) = info.board.and_then(|b| self.snapshot?.board(b)) {
            return board
                .columns
                .iter()
                .map(|c| Completion {
                    label: c.id.clone(),
                    detail: Some(format!("{} ({})", c.title, c.column_type)),
                    kind: CompletionKind::Column,
                })
                .collect();
        }
        self.written(&info.name, |s| match s {
            Symbol::Column { object, column } => Some((object, column)),
            _ => None,
        })
        .into_iter()
        .map(|c| Completion {
            label: c,
            detail: None,
            kind: CompletionKind::Column,
        })
        .collect()
    }

    /// The sObject's fields from the snapshot, else the fields the mappings name.
    fn fields(&self, info: &ObjectInfo) -> Vec<Completion> {
        if let Some(sobject) = info
            .sobject
            .as_deref()
            .and_then(|s| self.snapshot?.sobject(s))
        {
            return sobject
                .fields
                .iter()
                .map(|f| Completion {
                    label: f.name.clone(),
                    detail: Some(if f.label.is_empty() {
                        f.field_type.clone()
                    } else {
                        format!("{} ({})", f.label, f.field_type)
                    }),
                    kind: CompletionKind::Field,
                })
                .collect();
        }
        self.written(&info.name, |s| match s {
            Symbol::Field { object, field } => Some((object, field)),
            _ => None,
        })
        .into_iter()
        .map(|f| Completion {
            label: f,
            detail: None,
            kind: CompletionKind::Field,
        })
        .collect()
    }

    /// The names of one kind the parsed files write for `object`, sorted, once each.
    fn written(
        &self,
        object: &str,
        pick: impl Fn(&Symbol) -> Option<(&String, &String)>,
    ) -> Vec<String> {
        let mut seen = BTreeMap::new();
        for tree in self.trees.iter().flatten() {
            for o in symbols::occurrences(tree) {
                if let Some((of, name)) = pick(&o.symbol)
                    && of == object
                {
                    seen.insert(name.clone(), ());
                }
            }
        }
        seen.into_keys().collect()
    }

    /// The sObject and board of the object being edited: from its tree when a file declaring
    /// it parses, else from the tokens of the block being typed.
    fn object_info(&self, toks: &[Token], name: &str, start: usize) -> ObjectInfo {
        if let Some(o) = self.object(name) {
            return ObjectInfo {
                name: name.to_owned(),
                sobject: sobject_of(o).map(str::to_owned),
                board: board_of(o),
            };
        }
        let mut info = ObjectInfo {
            name: name.to_owned(),
            sobject: None,
            board: None,
        };
        let block: Vec<&str> = toks
            .iter()
            .filter(|t| t.start >= start)
            .map(|t| t.text)
            .collect();
        for w in block.windows(3) {
            if let [before, kw, value] = w {
                if *kw == "salesforce" && !matches!(*before, "on" | "in") && is_word(value) {
                    info.sobject = Some((*value).to_owned());
                }
                if *kw == "board" {
                    info.board = value.parse().ok();
                }
            }
        }
        info
    }
}

struct ObjectInfo {
    name: String,
    sobject: Option<String>,
    board: Option<u64>,
}

/// Where the cursor is: in which object, how deep in braces, whether inside a rule.
struct Scope {
    object: Option<String>,
    /// Byte offset of the object's `object` keyword.
    start: usize,
    depth: usize,
    in_rule: bool,
}

fn scope(toks: &[Token]) -> Scope {
    let mut s = Scope {
        object: None,
        start: 0,
        depth: 0,
        in_rule: false,
    };
    let mut rule_depth = None;
    for (i, t) in toks.iter().enumerate() {
        match t.text {
            "{" => {
                if s.depth == 0 {
                    let opener = i.checked_sub(2).and_then(|j| toks.get(j));
                    let name = i.checked_sub(1).and_then(|j| toks.get(j));
                    if let (Some(kw), Some(name)) = (opener, name)
                        && kw.text == "object"
                    {
                        s.object = Some(name.text.to_owned());
                        s.start = kw.start;
                    }
                } else if s.depth == 1
                    && i.checked_sub(2)
                        .and_then(|j| toks.get(j))
                        .is_some_and(|t| t.text == "rule")
                {
                    rule_depth = Some(2);
                }
                s.depth += 1;
            }
            "}" => {
                s.depth = s.depth.saturating_sub(1);
                if s.depth == 0 {
                    s.object = None;
                }
                if rule_depth.is_some_and(|d| s.depth < d) {
                    rule_depth = None;
                }
            }
            _ => {}
        }
    }
    s.in_rule = rule_depth.is_some();
    s
}

/// `text` with the line holding `offset` turned into spaces (its length kept).
fn blank_line(text: &str, offset: usize) -> String {
    let mut out = String::with_capacity(text.len());
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let line_end = line_start + line.len();
        if (line_start..=line_end).contains(&offset)
            && !(offset == line_end && line.ends_with('\n'))
        {
            for c in line.chars() {
                if c == '\n' || c == '\r' {
                    out.push(c);
                } else {
                    out.extend(std::iter::repeat_n(' ', c.len_utf8()));
                }
            }
        } else {
            out.push_str(line);
        }
        line_start = line_end;
    }
    out
}

fn is_word(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
}

fn types<'a>(names: impl Iterator<Item = &'a str>) -> Vec<Completion> {
    names
        .map(|n| Completion {
            label: n.to_owned(),
            detail: None,
            kind: CompletionKind::Type,
        })
        .collect()
}

/// Declared names of one kind, sorted, each once.
fn names<'a>(declared: impl Iterator<Item = &'a str>, kind: CompletionKind) -> Vec<Completion> {
    let mut names: Vec<&str> = declared.collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|n| Completion {
            label: n.to_owned(),
            detail: None,
            kind,
        })
        .collect()
}
