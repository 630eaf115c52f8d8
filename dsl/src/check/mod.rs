//! check: [`ast::File`]s → [`Model`], reporting every problem found (never only the first).
//!
//! Checks that need no live schema: names (unknown, duplicate, mapped twice), types of columns,
//! fields and transforms, directions that write read-only fields, translate tables that are
//! not one-to-one where used both ways, links and rules that name unknown objects or aliases.
//!
//! | module | checks |
//! |---|---|
//! | [`tables`] | translate tables: declared once, each value once, used |
//! | [`object`] | objects: declared once, one board each, their statements, links |
//! | [`field`] | `field` lines: types, the key column, steps both ways, kinds |
//! | [`writes`] | columns and fields written twice, read-only fields |
//! | [`expr`] | expressions and what they may read |
//! | [`step`] | transform calls, against the registry (`crate::transform`) |
//! | [`rule`] | lifecycle rules |
//! | [`kinds`] | which kinds can be stored in which |
//! | [`schema`] | the checks against a schema snapshot |

mod expr;
mod field;
pub(crate) mod kinds;
mod object;
mod rule;
mod schema;
mod step;
mod tables;
pub(crate) mod writes;

use std::collections::{BTreeMap, HashSet};

use crate::ast::{self, Arrow};
use crate::diag::Diagnostic;
use crate::model::{Direction, Model, Origin};
use crate::schema::SchemaSnapshot;
use crate::source::{SourceMap, Span};

use tables::TableInfo;

/// The result of checking: the model when there is no error, and every diagnostic.
#[derive(Debug)]
pub struct Checked {
    /// The model; `None` when any error was reported.
    pub model: Option<Model>,
    /// Every diagnostic, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity() == crate::Severity::Error)
    }
}

/// Parses every file of `map` and checks them together. Syntax errors in one file do not stop
/// the others from being checked.
pub fn check_sources(map: &SourceMap) -> Checked {
    check_sources_with_schema(map, None)
}

/// [`check_sources`], plus the checks against a schema snapshot when one is given.
pub fn check_sources_with_schema(map: &SourceMap, schema: Option<&SchemaSnapshot>) -> Checked {
    let mut diags = Vec::new();
    let mut files = Vec::new();
    for f in map.files() {
        match crate::parse(f) {
            Ok(ast) => files.push(ast),
            Err(d) => diags.push(d),
        }
    }
    let syntax_ok = diags.is_empty();
    let mut checked = check_with_schema(map, &files, schema);
    diags.append(&mut checked.diagnostics);
    sort(&mut diags);
    Checked {
        model: if syntax_ok { checked.model } else { None },
        diagnostics: diags,
    }
}

/// Checks parsed files together (translate tables and objects are shared between files).
pub fn check(map: &SourceMap, files: &[ast::File]) -> Checked {
    check_with_schema(map, files, None)
}

/// [`check`], plus the checks against a schema snapshot when one is given.
pub fn check_with_schema(
    map: &SourceMap,
    files: &[ast::File],
    snapshot: Option<&SchemaSnapshot>,
) -> Checked {
    let mut cx = Cx {
        map,
        snapshot,
        diags: Vec::new(),
        tables: BTreeMap::new(),
        used_tables: HashSet::new(),
        objects: Vec::new(),
    };
    let model = cx.model(files);
    let mut diags = cx.diags;
    if let Some(snapshot) = snapshot {
        schema::check(files, snapshot, &mut diags);
    }
    sort(&mut diags);
    let has_errors = diags.iter().any(|d| d.severity() == crate::Severity::Error);
    Checked {
        model: (!has_errors).then_some(model),
        diagnostics: diags,
    }
}

fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by_key(|d| {
        let s = d.span();
        (s.file, s.start, s.end, d.code)
    });
}

/// What checking carries from one part of the mappings to the next.
struct Cx<'a> {
    map: &'a SourceMap,
    /// The schema snapshot, when one is given: field types left out are taken from it.
    snapshot: Option<&'a SchemaSnapshot>,
    diags: Vec<Diagnostic>,
    /// Every translate table, by name.
    tables: BTreeMap<String, TableInfo>,
    /// The tables some step translates with.
    used_tables: HashSet<String>,
    /// The name of every object declared, for links and rules.
    objects: Vec<String>,
}

impl Cx<'_> {
    fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn origin(&self, span: Span) -> Origin {
        let file = self.map.get(span.file);
        let (line, column) = file.line_col(span.start);
        Origin {
            file: file.path.clone(),
            line,
            column,
        }
    }

    fn model(&mut self, files: &[ast::File]) -> Model {
        // Translate tables first: objects refer to them from any file.
        let translates = self.tables(files);
        let objects = self.objects(files);
        self.unused_tables();
        Model {
            objects,
            translates,
        }
    }
}

fn direction(a: Arrow) -> Direction {
    match a {
        Arrow::Both => Direction::Both,
        Arrow::ToSalesforce => Direction::ToSalesforce,
        Arrow::ToMonday => Direction::ToMonday,
    }
}

/// "did you mean `x`?" for the closest candidate, if one is close enough.
pub(crate) fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let lower = name.to_lowercase();
    candidates
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}
