//! check: [`ast::File`]s → [`Model`], reporting every problem found (never only the first).
//!
//! Checks that need no live schema: names (unknown, duplicate, mapped twice), types of columns,
//! fields and transforms, directions that write read-only fields, translate tables that are
//! not one-to-one where used both ways, links and rules that name unknown objects or aliases.

mod kinds;
mod schema;

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::ast::{self, Arrow, DeleteAction, Expr as AExpr, ItemDeleteAction, RuleStmt, Stmt};
use crate::diag::{Code, Diagnostic};
use crate::model::{
    Assignment, ColumnType, ConflictPolicy, DeletePolicy, Direction, Expr, Field, ItemDeletePolicy,
    Kind, Link, Model, Object, Origin, Propagate, Rule, RuleCreate, SfType, Step, TranslateTable,
};
use crate::schema::SchemaSnapshot;
use crate::source::{SourceMap, Span, Spanned};
use crate::transform::{self, Arg, MAX_PLACES, Param, Transform};

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
        diags: Vec::new(),
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

/// Fields that the Salesforce API never lets a client write, on every object.
const SYSTEM_READ_ONLY: &[&str] = &[
    "Id",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
    "IsDeleted",
    "LastActivityDate",
    "LastViewedDate",
    "LastReferencedDate",
];

/// Read-only fields of standard objects (compound names, conversion results, computed values).
fn standard_read_only(sobject: &str, field: &str) -> bool {
    let list: &[&str] = match sobject {
        "Lead" => &[
            "Name",
            "IsConverted",
            "ConvertedAccountId",
            "ConvertedContactId",
            "ConvertedOpportunityId",
            "ConvertedDate",
        ],
        "Contact" => &["Name"],
        "Opportunity" => &[
            "ExpectedRevenue",
            "LastStageChangeDate",
            "IsClosed",
            "IsWon",
        ],
        _ => &[],
    };
    SYSTEM_READ_ONLY.contains(&field) || list.contains(&field)
}

struct Cx<'a> {
    map: &'a SourceMap,
    diags: Vec<Diagnostic>,
}

/// Where an object's flows are written, to find columns and fields mapped twice.
#[derive(Default)]
struct Writes {
    /// Columns written from Salesforce (fields `<-`, links `<-`, the key).
    columns: HashMap<String, Span>,
    /// Board-relation columns whose links are sent to Salesforce (links `->`).
    link_reads: HashMap<String, Span>,
    /// Salesforce fields written from monday.
    fields: HashMap<String, Span>,
}

struct TableInfo {
    span: Span,
    one_to_one: bool,
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
        let mut translates = Vec::new();
        let mut tables: BTreeMap<String, TableInfo> = BTreeMap::new();
        for item in files.iter().flat_map(|f| &f.items) {
            if let ast::Item::Translate(t) = item {
                if let Some(first) = tables.get(&t.name.node) {
                    let d = Diagnostic::new(
                        Code::E0203,
                        t.name.span,
                        format!("translate table `{}` is declared twice", t.name.node),
                    )
                    .label("declared again here")
                    .secondary(first.span, "first declared here")
                    .help("merge the two tables or rename one of them");
                    self.error(d);
                    continue;
                }
                let table = self.translate(t);
                let rights: HashSet<&String> = table.pairs.iter().map(|(_, m)| m).collect();
                tables.insert(
                    t.name.node.clone(),
                    TableInfo {
                        span: t.name.span,
                        one_to_one: rights.len() == table.pairs.len(),
                    },
                );
                translates.push(table);
            }
        }

        let object_names: Vec<String> = files
            .iter()
            .flat_map(|f| &f.items)
            .filter_map(|i| match i {
                ast::Item::Object(o) => Some(o.name.node.clone()),
                _ => None,
            })
            .collect();

        let mut objects: Vec<Object> = Vec::new();
        let mut seen: HashMap<String, Span> = HashMap::new();
        let mut boards: HashMap<u64, (String, Span)> = HashMap::new();
        let mut used_tables: HashSet<String> = HashSet::new();
        for item in files.iter().flat_map(|f| &f.items) {
            let ast::Item::Object(o) = item else { continue };
            if let Some(first) = seen.get(&o.name.node) {
                let d = Diagnostic::new(
                    Code::E0202,
                    o.name.span,
                    format!("object `{}` is declared twice", o.name.node),
                )
                .label("declared again here")
                .secondary(*first, "first declared here")
                .help("keep one declaration per object (one file per object is the convention)");
                self.error(d);
                continue;
            }
            seen.insert(o.name.node.clone(), o.name.span);
            if let Some((object, board_span)) =
                self.object(o, &tables, &object_names, &mut used_tables)
            {
                if let Some((other, first)) = boards.get(&object.board) {
                    let d = Diagnostic::new(
                        Code::E0211,
                        board_span,
                        format!("board {} is already used by object `{other}`", object.board),
                    )
                    .label("used again here")
                    .secondary(*first, "first used here")
                    .help("each object needs a board of its own");
                    self.error(d);
                } else {
                    boards.insert(object.board, (object.name.clone(), board_span));
                }
                objects.push(object);
            }
        }

        for (name, info) in &tables {
            if !used_tables.contains(name) {
                self.error(
                    Diagnostic::new(
                        Code::W0001,
                        info.span,
                        format!("translate table `{name}` is never used"),
                    )
                    .label("unused")
                    .help("use it with `| translate(...)` on a field, or delete it"),
                );
            }
        }

        Model {
            objects,
            translates,
        }
    }

    fn translate(&mut self, t: &ast::TranslateBlock) -> TranslateTable {
        let mut lefts: HashMap<&str, Span> = HashMap::new();
        let mut pairs = Vec::new();
        for p in &t.pairs {
            let (sf, monday) = &p.node;
            if let Some(first) = lefts.get(sf.node.as_str()) {
                let d = Diagnostic::new(
                    Code::E0212,
                    sf.span,
                    format!(
                        "`{}` is translated twice in table `{}`",
                        sf.node, t.name.node
                    ),
                )
                .label("listed again here")
                .secondary(*first, "first listed here")
                .help("a Salesforce value can have only one monday label; delete one of the lines");
                self.error(d);
                continue;
            }
            lefts.insert(&sf.node, sf.span);
            pairs.push((sf.node.clone(), monday.node.clone()));
        }
        TranslateTable {
            name: t.name.node.clone(),
            pairs,
            origin: self.origin(t.name.span),
        }
    }

    fn object(
        &mut self,
        o: &ast::ObjectBlock,
        tables: &BTreeMap<String, TableInfo>,
        objects: &[String],
        used_tables: &mut HashSet<String>,
    ) -> Option<(Object, Span)> {
        let mut sobject: Option<&ast::Name> = None;
        let mut board: Option<&Spanned<u64>> = None;
        let mut key: Option<&ast::Name> = None;
        let mut record_type: Option<&Spanned<String>> = None;
        let mut conflict: Option<(ConflictPolicy, Span)> = None;
        let mut name_to_monday: Option<(Expr, Span)> = None;
        let mut name_to_salesforce: Vec<Assignment> = Vec::new();
        let mut on_create: Option<(Vec<Assignment>, Span)> = None;
        let mut on_delete: Option<(DeletePolicy, Span)> = None;
        let mut on_sf_delete: Option<(ItemDeletePolicy, Span)> = None;
        let mut selections = Vec::new();
        let mut field_conflicts: Vec<(&ast::Name, ConflictPolicy)> = Vec::new();
        let mut field_decls = Vec::new();
        let mut link_decls = Vec::new();
        let mut rule_blocks = Vec::new();

        for stmt in &o.stmts {
            match &stmt.node {
                Stmt::Salesforce(n) => self.once(&mut sobject, n, stmt.span, "salesforce"),
                Stmt::Board(b) => self.once(&mut board, b, stmt.span, "board"),
                Stmt::Key(k) => self.once(&mut key, k, stmt.span, "key"),
                Stmt::RecordType(r) => self.once(&mut record_type, r, stmt.span, "record type"),
                Stmt::Select(s) => selections.push(s.node.clone()),
                Stmt::Conflict(side) => {
                    if let Some(p) = self.side(side) {
                        if let Some((_, first)) = conflict {
                            self.twice(stmt.span, first, "conflict");
                        } else {
                            conflict = Some((p, stmt.span));
                        }
                    }
                }
                Stmt::ConflictField { field, side } => {
                    if let Some(p) = self.side(side) {
                        field_conflicts.push((field, p));
                    }
                }
                Stmt::NameBoth(f) => {
                    let path = Expr::Path(vec![f.node.clone()]);
                    self.set_name_to_monday(&mut name_to_monday, path, stmt.span);
                    name_to_salesforce.push(Assignment {
                        field: f.node.clone(),
                        value: Expr::Path(vec!["name".into()]),
                        origin: self.origin(stmt.span),
                    });
                }
                Stmt::NameToMonday(e) => {
                    if let Some(e) = self.expr(e, &Scope::record(), tables, used_tables) {
                        self.set_name_to_monday(&mut name_to_monday, e, stmt.span);
                    }
                }
                Stmt::NameToSalesforce { field, value } => {
                    let value = match value {
                        Some(v) => self.expr(v, &Scope::item(), tables, used_tables),
                        None => Some(Expr::Path(vec!["name".into()])),
                    };
                    if let Some(value) = value {
                        name_to_salesforce.push(Assignment {
                            field: field.node.clone(),
                            value,
                            origin: self.origin(stmt.span),
                        });
                    }
                }
                Stmt::OnCreate(assignments) => {
                    let list = self.assignments(assignments, &Scope::item(), tables, used_tables);
                    if let Some((_, first)) = on_create {
                        self.twice(stmt.span, first, "on create");
                    } else {
                        on_create = Some((list, stmt.span));
                    }
                }
                Stmt::OnDelete(action) => {
                    let policy = match action {
                        DeleteAction::Log => DeletePolicy::Log,
                        DeleteAction::Delete => DeletePolicy::Delete,
                        DeleteAction::Set(a) => DeletePolicy::Set(self.assignments(
                            a,
                            &Scope::record(),
                            tables,
                            used_tables,
                        )),
                    };
                    if let Some((_, first)) = on_delete {
                        self.twice(stmt.span, first, "on delete");
                    } else {
                        on_delete = Some((policy, stmt.span));
                    }
                }
                Stmt::OnSalesforceDelete(action) => {
                    let policy = match action {
                        ItemDeleteAction::Log => ItemDeletePolicy::Log,
                        ItemDeleteAction::Archive => ItemDeletePolicy::Archive,
                        ItemDeleteAction::Delete => ItemDeletePolicy::Delete,
                    };
                    if let Some((_, first)) = on_sf_delete {
                        self.twice(stmt.span, first, "on salesforce delete");
                    } else {
                        on_sf_delete = Some((policy, stmt.span));
                    }
                }
                Stmt::Field(f) => field_decls.push(f),
                Stmt::Link(l) => link_decls.push(l),
                Stmt::Rule(r) => rule_blocks.push(r),
            }
        }

        let mut missing = Vec::new();
        if sobject.is_none() {
            missing.push(("salesforce", "salesforce Lead"));
        }
        if board.is_none() {
            missing.push(("board", "board 1234567890"));
        }
        if key.is_none() {
            missing.push(("key", "key text_abc123"));
        }
        for (what, example) in &missing {
            self.error(
                Diagnostic::new(
                    Code::E0207,
                    o.name.span,
                    format!("object `{}` has no `{what}` statement", o.name.node),
                )
                .label(format!("`{what}` missing"))
                .help(format!("add a line such as `{example}` inside the object")),
            );
        }

        let sobject_name = sobject.map(|s| s.node.clone()).unwrap_or_default();
        let key_column = key.map(|k| k.node.clone()).unwrap_or_default();
        let mut writes = Writes::default();
        if let Some(k) = key {
            writes.columns.insert(k.node.clone(), k.span);
        }
        let mut fields = Vec::new();
        for f in field_decls {
            if let Some(field) = self.field(f, &sobject_name, key, tables, used_tables, &mut writes)
            {
                fields.push(field);
            }
        }
        for (name, policy) in field_conflicts {
            match fields.iter_mut().find(|f| f.field == name.node) {
                Some(f) => f.conflict = Some(policy),
                None => self.error(
                    Diagnostic::new(
                        Code::E0210,
                        name.span,
                        format!("`{}` is not a mapped field of `{}`", name.node, o.name.node),
                    )
                    .label("not mapped")
                    .help(
                        suggest(&name.node, fields.iter().map(|f| f.field.as_str()))
                            .unwrap_or_else(|| {
                                "a conflict policy applies to a field that a `field` line maps"
                                    .into()
                            }),
                    ),
                ),
            }
        }

        let mut links = Vec::new();
        for l in link_decls {
            let direction = direction(l.arrow.node);
            if !objects.contains(&l.target.node) {
                let mut d = Diagnostic::new(
                    Code::E0206,
                    l.target.span,
                    format!("no object is called `{}`", l.target.node),
                )
                .label("unknown object");
                d = d.help(
                    suggest(&l.target.node, objects.iter().map(String::as_str)).unwrap_or_else(
                        || {
                            "link to an object declared with `object Name { … }` in the mappings"
                                .into()
                        },
                    ),
                );
                self.error(d);
                continue;
            }
            if direction.to_salesforce() && standard_read_only(&sobject_name, &l.via.node) {
                self.read_only(l.via.span, &l.via.node, &sobject_name, l.arrow.span);
            }
            if direction.to_monday() {
                self.claim(&mut writes.columns, &l.column, Code::E0204);
            }
            if direction.to_salesforce() {
                self.claim(&mut writes.link_reads, &l.column, Code::E0204);
                self.claim(&mut writes.fields, &l.via, Code::E0205);
            }
            links.push(Link {
                column: l.column.node.clone(),
                direction,
                target: l.target.node.clone(),
                via: l.via.node.clone(),
                origin: self.origin(l.column.span),
            });
        }

        let mut rules = Vec::new();
        for r in rule_blocks {
            if let Some(rule) = self.rule(r, &fields, objects, tables, used_tables) {
                rules.push(rule);
            }
        }

        if !missing.is_empty() {
            return None;
        }
        let board = board?;
        Some((
            Object {
                name: o.name.node.clone(),
                sobject: sobject_name,
                board: board.node,
                key_column,
                selections,
                record_type: record_type.map(|r| r.node.clone()),
                name_to_monday: name_to_monday.map(|(e, _)| e),
                name_to_salesforce,
                on_create: on_create.map(|(a, _)| a).unwrap_or_default(),
                on_delete: on_delete.map(|(p, _)| p).unwrap_or_default(),
                on_salesforce_delete: on_sf_delete.map(|(p, _)| p).unwrap_or_default(),
                conflict: conflict.map(|(p, _)| p).unwrap_or_default(),
                fields,
                links,
                rules,
                origin: self.origin(o.name.span),
            },
            board.span,
        ))
    }

    fn once<'t, T>(&mut self, slot: &mut Option<&'t T>, value: &'t T, span: Span, what: &str) {
        if slot.is_some() {
            // The span of the first one is not kept for plain statements; point at the second.
            self.error(
                Diagnostic::new(
                    Code::E0208,
                    span,
                    format!("`{what}` is given twice in one object"),
                )
                .label("given again here")
                .help(format!("keep one `{what}` statement")),
            );
        } else {
            *slot = Some(value);
        }
    }

    /// Records that `name` is written; reports E0204 (columns) or E0205 (fields) when it
    /// already was.
    fn claim(&mut self, written: &mut HashMap<String, Span>, name: &ast::Name, code: Code) {
        let Some(first) = written.get(&name.node).copied() else {
            written.insert(name.node.clone(), name.span);
            return;
        };
        let d = if code == Code::E0204 {
            Diagnostic::new(
                code,
                name.span,
                format!("column `{}` is mapped twice", name.node),
            )
            .label("mapped again here")
            .secondary(first, "first mapped here")
            .help("a column can be written by one mapping only; delete one of them")
        } else {
            Diagnostic::new(
                code,
                name.span,
                format!("field `{}` is written by two mappings", name.node),
            )
            .label("written again here")
            .secondary(first, "first written here")
            .help("a Salesforce field can be written from one column only; make one of them `<-`")
        };
        self.error(d);
    }

    fn twice(&mut self, span: Span, first: Span, what: &str) {
        self.error(
            Diagnostic::new(
                Code::E0208,
                span,
                format!("`{what}` is given twice in one object"),
            )
            .label("given again here")
            .secondary(first, "first given here")
            .help(format!("merge the two `{what}` statements into one")),
        );
    }

    fn set_name_to_monday(&mut self, slot: &mut Option<(Expr, Span)>, e: Expr, span: Span) {
        if let Some((_, first)) = slot {
            let first = *first;
            self.error(
                Diagnostic::new(
                    Code::E0208,
                    span,
                    "the item name is computed twice (Salesforce to monday)",
                )
                .label("given again here")
                .secondary(first, "first given here")
                .help("keep one `name <-` or `name <->` rule; use `| default(...)` for a fallback"),
            );
        } else {
            *slot = Some((e, span));
        }
    }

    fn side(&mut self, side: &ast::Name) -> Option<ConflictPolicy> {
        match side.node.as_str() {
            "salesforce" => Some(ConflictPolicy::PreferSalesforce),
            "monday" => Some(ConflictPolicy::PreferMonday),
            "newest" => Some(ConflictPolicy::PreferNewest),
            other => {
                let d = Diagnostic::new(
                    Code::E0307,
                    side.span,
                    format!("unknown conflict side `{other}`"),
                )
                .label("not a side")
                .help(
                    suggest(other, ["salesforce", "monday", "newest"].into_iter()).unwrap_or_else(
                        || "write `prefer salesforce`, `prefer monday` or `prefer newest`".into(),
                    ),
                );
                self.error(d);
                None
            }
        }
    }

    fn read_only(&mut self, span: Span, field: &str, sobject: &str, arrow: Span) {
        self.error(
            Diagnostic::new(
                Code::E0401,
                span,
                format!("`{field}` is read-only in Salesforce but this mapping writes it"),
            )
            .label(format!("`{sobject}.{field}` cannot be written"))
            .secondary(arrow, "this direction writes to Salesforce")
            .help("use `<-` so that the value only flows from Salesforce to monday"),
        );
    }

    fn field(
        &mut self,
        f: &ast::FieldDecl,
        sobject: &str,
        key: Option<&ast::Name>,
        tables: &BTreeMap<String, TableInfo>,
        used_tables: &mut HashSet<String>,
        writes: &mut Writes,
    ) -> Option<Field> {
        let direction = direction(f.arrow.node);
        let column_type = match ColumnType::from_keyword(&f.column_type.node) {
            Some(ColumnType::BoardRelation) => {
                self.error(
                    Diagnostic::new(
                        Code::E0308,
                        f.column_type.span,
                        format!(
                            "board-relation column `{}` cannot be mapped as a field",
                            f.column.node
                        ),
                    )
                    .label("a board-relation column")
                    .help(format!(
                        "write `link {} {} Object via ReferenceField__c` instead",
                        f.column.node,
                        f.arrow.node.as_str()
                    )),
                );
                None
            }
            Some(t) => Some(t),
            None => {
                let names = ColumnType::ALL.iter().map(|t| t.keyword());
                self.error(
                    Diagnostic::new(
                        Code::E0301,
                        f.column_type.span,
                        format!("unknown monday column type `{}`", f.column_type.node),
                    )
                    .label("not a column type")
                    .help(suggest(&f.column_type.node, names).unwrap_or_else(|| {
                        format!(
                            "column types are {}",
                            ColumnType::ALL
                                .iter()
                                .map(|t| format!("`{t}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })),
                );
                None
            }
        };
        let field_type = match &f.field_type {
            None => Some(SfType::String),
            Some(t) => match SfType::from_keyword(&t.node) {
                Some(t) => Some(t),
                None => {
                    let names = SfType::ALL.iter().map(|t| t.keyword());
                    self.error(
                        Diagnostic::new(
                            Code::E0302,
                            t.span,
                            format!("unknown Salesforce field type `{}`", t.node),
                        )
                        .label("not a field type")
                        .help(suggest(&t.node, names).unwrap_or_else(|| {
                            format!(
                                "field types are {}",
                                SfType::ALL
                                    .iter()
                                    .map(|t| format!("`{t}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        })),
                    );
                    None
                }
            },
        };

        if direction.to_salesforce() && standard_read_only(sobject, &f.field.node) {
            self.read_only(f.field.span, &f.field.node, sobject, f.arrow.span);
        }
        if direction.to_monday() {
            if let Some(k) = key.filter(|k| k.node == f.column.node) {
                self.error(
                    Diagnostic::new(
                        Code::E0404,
                        f.column.span,
                        format!(
                            "column `{}` is the key column and cannot be written by a field",
                            f.column.node
                        ),
                    )
                    .label("written here")
                    .secondary(k.span, "declared as the key here")
                    .help("the key column always receives the record Id; delete this field line"),
                );
            } else {
                self.claim(&mut writes.columns, &f.column, Code::E0204);
            }
        }
        if direction.to_salesforce() {
            self.claim(&mut writes.fields, &f.field, Code::E0205);
        }

        let mut steps = Vec::new();
        let mut steps_ok = true;
        for call in &f.steps {
            match self.step(call, &Scope::item(), tables, used_tables) {
                Some(s) => {
                    if direction == Direction::Both {
                        if let Step::Translate(t) = &s {
                            if tables.get(t).is_some_and(|i| !i.one_to_one) {
                                self.error(
                                    Diagnostic::new(
                                        Code::E0402,
                                        call.span,
                                        format!("translate table `{t}` is not one-to-one but this field is mapped both ways"),
                                    )
                                    .label("used both ways here")
                                    .secondary(tables[t].span, "two values share a monday label in this table")
                                    .help("give every Salesforce value its own monday label, or make the field one-way (`<-` or `->`)"),
                                );
                            }
                        }
                        if s.spec().lossy {
                            self.error(
                                Diagnostic::new(
                                    Code::E0403,
                                    call.span,
                                    format!("`{}` cannot be undone, so it cannot be used on a field mapped both ways", s.name()),
                                )
                                .label("one-way transform")
                                .help("make the field one-way (`<-` or `->`), or drop the transform"),
                            );
                        }
                    }
                    steps.push(s);
                }
                None => steps_ok = false,
            }
        }

        let (column_type, field_type) = (column_type?, field_type?);
        if steps_ok {
            self.kind_flow(f, column_type, field_type, &steps);
        }
        Some(Field {
            column: f.column.node.clone(),
            column_type,
            direction,
            field: f.field.node.clone(),
            field_type,
            steps,
            conflict: None,
            create_labels: f.create_labels,
            origin: self.origin(f.column.span),
        })
    }

    /// Follows the kind of value from the column through the steps to the field.
    fn kind_flow(&mut self, f: &ast::FieldDecl, column: ColumnType, field: SfType, steps: &[Step]) {
        let mut kind = column.kind();
        for (step, call) in steps.iter().zip(&f.steps) {
            match step.spec().output(kind) {
                Ok(k) => kind = k,
                Err(accepts) => {
                    self.error(
                        Diagnostic::new(
                            Code::E0305,
                            call.span,
                            format!("`{}` does not apply to {} values", step.name(), kind.name()),
                        )
                        .label(format!("the value here is {}", kind.name()))
                        .help(format!("`{}` takes {accepts}", step.name())),
                    );
                    return;
                }
            }
        }
        let target = field.kind();
        if kinds::compatible(kind, target) {
            return;
        }
        let span = f.field_type.as_ref().map_or(f.field.span, |t| t.span);
        if kind == Kind::Labels {
            self.error(
                Diagnostic::new(
                    Code::E0304,
                    f.column.span,
                    format!(
                        "{} column `{}` holds several labels but `{}` is a single-value {} field",
                        column, f.column.node, f.field.node, field
                    ),
                )
                .label("several labels")
                .secondary(span, "one value")
                .help("add `| join(\";\")` to store the labels as one text, or map the column to a `multipicklist`"),
            );
        } else {
            self.error(
                Diagnostic::new(
                    Code::E0303,
                    f.column.span,
                    format!(
                        "{} column `{}` cannot be mapped to {} field `{}`",
                        column, f.column.node, field, f.field.node
                    ),
                )
                .label(format!("{} value", kind.name()))
                .secondary(span, format!("{} value", target.name()))
                .help(kinds::pairing_help(target)),
            );
        }
    }

    fn assignments(
        &mut self,
        list: &[Spanned<ast::Assignment>],
        scope: &Scope,
        tables: &BTreeMap<String, TableInfo>,
        used_tables: &mut HashSet<String>,
    ) -> Vec<Assignment> {
        list.iter()
            .filter_map(|a| {
                let value = self.expr(&a.node.value, scope, tables, used_tables)?;
                Some(Assignment {
                    field: a.node.field.node.clone(),
                    value,
                    origin: self.origin(a.span),
                })
            })
            .collect()
    }

    fn rule(
        &mut self,
        r: &ast::RuleBlock,
        fields: &[Field],
        objects: &[String],
        tables: &BTreeMap<String, TableInfo>,
        used_tables: &mut HashSet<String>,
    ) -> Option<Rule> {
        if !fields
            .iter()
            .any(|f| f.field == r.when_field.node && f.direction.to_salesforce())
        {
            let candidates = fields
                .iter()
                .filter(|f| f.direction.to_salesforce())
                .map(|f| f.field.as_str());
            self.error(
                Diagnostic::new(
                    Code::E0501,
                    r.when_field.span,
                    format!(
                        "rule `{}` waits for `{}`, which no field reads from monday",
                        r.name.node, r.when_field.node
                    ),
                )
                .label("never changes from monday")
                .help(suggest(&r.when_field.node, candidates).unwrap_or_else(|| {
                    "the trigger must be a field mapped with `->` or `<->`".into()
                })),
            );
        }
        let mut scope = Scope::record();
        let mut creates = Vec::new();
        let mut sets = Vec::new();
        let mut propagates = Vec::new();
        let mut ok = true;
        for s in &r.stmts {
            match &s.node {
                RuleStmt::Create {
                    object,
                    alias,
                    assignments,
                } => {
                    if !objects.contains(&object.node) {
                        ok = false;
                        self.error(
                            Diagnostic::new(
                                Code::E0206,
                                object.span,
                                format!("no object is called `{}`", object.node),
                            )
                            .label("unknown object")
                            .help(
                                suggest(&object.node, objects.iter().map(String::as_str))
                                    .unwrap_or_else(|| {
                                        "a rule creates records of objects declared in the mappings"
                                            .into()
                                    }),
                            ),
                        );
                    }
                    let list = self.assignments(assignments, &scope, tables, used_tables);
                    scope.aliases.push(alias.node.clone());
                    creates.push(RuleCreate {
                        object: object.node.clone(),
                        alias: alias.node.clone(),
                        assignments: list,
                        origin: self.origin(s.span),
                    });
                }
                RuleStmt::Set(a) => {
                    sets.extend(self.assignments(
                        std::slice::from_ref(a),
                        &scope,
                        tables,
                        used_tables,
                    ));
                }
                RuleStmt::Propagate { from, to, steps } => {
                    let [alias, field] = to.node.as_slice() else {
                        ok = false;
                        self.error(
                            Diagnostic::new(Code::E0502, to.span, format!("`{}` is not `alias.Field`", to.node.join(".")))
                                .label("expected an alias and a field")
                                .help("propagate to a record the rule created, such as `opportunity.StageName`"),
                        );
                        continue;
                    };
                    if !scope.aliases.contains(alias) {
                        ok = false;
                        self.unknown_alias(to.span, alias, &scope);
                        continue;
                    }
                    let mut list = Vec::new();
                    for c in steps {
                        match self.step(c, &scope, tables, used_tables) {
                            Some(s) => list.push(s),
                            None => ok = false,
                        }
                    }
                    propagates.push(Propagate {
                        from: from.node.clone(),
                        alias: alias.clone(),
                        to: field.clone(),
                        steps: list,
                    });
                }
            }
        }
        ok.then(|| Rule {
            name: r.name.node.clone(),
            when_field: r.when_field.node.clone(),
            becomes: r.becomes.node.clone(),
            creates,
            sets,
            propagates,
            origin: self.origin(r.name.span),
        })
    }

    fn unknown_alias(&mut self, span: Span, alias: &str, scope: &Scope) {
        self.error(
            Diagnostic::new(Code::E0502, span, format!("no record called `{alias}` has been created yet"))
                .label("unknown alias")
                .help(suggest(alias, scope.aliases.iter().map(String::as_str)).unwrap_or_else(|| {
                    "refer to a record created earlier in the rule with `create Object as alias { … }`".into()
                })),
        );
    }

    fn expr(
        &mut self,
        e: &Spanned<AExpr>,
        scope: &Scope,
        tables: &BTreeMap<String, TableInfo>,
        used_tables: &mut HashSet<String>,
    ) -> Option<Expr> {
        Some(match &e.node {
            AExpr::Str(s) => Expr::Str(s.clone()),
            AExpr::Number(n) => Expr::Number(n.parse().ok()?),
            AExpr::Days(d) => {
                self.error(
                    Diagnostic::new(
                        Code::E0305,
                        e.span,
                        format!("a duration of {d} days is not a value on its own"),
                    )
                    .label("a duration")
                    .help("add it to a date, as in `today + 30 days`"),
                );
                return None;
            }
            AExpr::Today => Expr::Today,
            AExpr::Path(p) => {
                if p.len() > 1 && !scope.aliases.contains(&p[0]) {
                    if scope.aliases.is_empty() {
                        self.error(
                            Diagnostic::new(
                                Code::E0210,
                                e.span,
                                format!("unknown name `{}`", p.join(".")),
                            )
                            .label("not a field")
                            .help("a dotted name reads a record created earlier in a rule; elsewhere write a field of this object"),
                        );
                    } else {
                        self.unknown_alias(e.span, &p[0], scope);
                    }
                    return None;
                }
                if p.len() == 1 && p[0] == "name" && !scope.item_name {
                    self.error(
                        Diagnostic::new(Code::E0210, e.span, "the item name cannot be read here")
                            .label("`name` is the monday item name")
                            .help("here the value comes from the Salesforce record; use its fields, such as `Name`"),
                    );
                    return None;
                }
                Expr::Path(p.clone())
            }
            AExpr::Paren(inner) => return self.expr(inner, scope, tables, used_tables),
            AExpr::Sum(first, rest) => {
                let base = self.expr(first, scope, tables, used_tables)?;
                // `date + N days` / `date - N days`.
                if let [
                    (
                        op,
                        Spanned {
                            node: AExpr::Days(d),
                            ..
                        },
                    ),
                ] = rest.as_slice()
                {
                    let days = if *op == ast::AddOp::Sub { -d } else { *d };
                    return Some(Expr::AddDays(Box::new(base), days));
                }
                let mut parts = vec![base];
                for (op, term) in rest {
                    if *op == ast::AddOp::Sub || matches!(term.node, AExpr::Days(_)) {
                        self.error(
                            Diagnostic::new(Code::E0305, term.span, "only a date can be shifted by days, and text can only be joined with `+`")
                                .label("cannot combine here")
                                .help("write `today + 30 days`, or join text as `FirstName + \" \" + LastName`"),
                        );
                        return None;
                    }
                    parts.push(self.expr(term, scope, tables, used_tables)?);
                }
                Expr::Concat(parts)
            }
            AExpr::Pipe(base, calls) => {
                let base = self.expr(base, scope, tables, used_tables);
                let mut steps = Vec::new();
                for c in calls {
                    steps.push(self.step(c, scope, tables, used_tables));
                }
                let steps: Option<Vec<Step>> = steps.into_iter().collect();
                Expr::Pipe(Box::new(base?), steps?)
            }
        })
    }

    fn step(
        &mut self,
        call: &Spanned<ast::Call>,
        scope: &Scope,
        tables: &BTreeMap<String, TableInfo>,
        used_tables: &mut HashSet<String>,
    ) -> Option<Step> {
        let name = call.node.name.node.as_str();
        let Some(transform) = Transform::named(name) else {
            self.error(
                Diagnostic::new(
                    Code::E0209,
                    call.node.name.span,
                    format!("unknown transform `{name}`"),
                )
                .label("not a transform")
                .help(
                    suggest(name, transform::names())
                        .unwrap_or_else(|| "see the list of transforms in docs/language.md".into()),
                ),
            );
            return None;
        };
        let args = call.node.args.as_deref().unwrap_or(&[]);
        let want = usize::from(transform.param != Param::None);
        if args.len() != want {
            self.error(
                Diagnostic::new(
                    Code::E0306,
                    call.span,
                    format!(
                        "`{name}` takes {want} argument{}, {} given",
                        if want == 1 { "" } else { "s" },
                        args.len()
                    ),
                )
                .label("wrong arguments")
                .help(format!("write `{}`", transform.usage)),
            );
            return None;
        }
        let arg = match (transform.param, args.first()) {
            (Param::None, _) | (_, None) => Arg::None,
            (Param::Table, Some(a)) => Arg::Table(self.table_arg(a, tables, used_tables)?),
            (Param::Separator | Param::Pattern, Some(a)) => match &a.node {
                AExpr::Str(s) => Arg::Text(s.clone()),
                _ => {
                    self.error(
                        Diagnostic::new(
                            Code::E0306,
                            call.span,
                            format!("`{name}` takes a string in double quotes"),
                        )
                        .label("expected a string")
                        .help(format!("write `{}`", transform.usage)),
                    );
                    return None;
                }
            },
            (Param::Places, Some(a)) => match &a.node {
                AExpr::Number(n) if n.parse::<u32>().is_ok_and(|n| n <= MAX_PLACES) => {
                    Arg::Places(n.parse().ok()?)
                }
                _ => {
                    self.error(
                        Diagnostic::new(
                            Code::E0306,
                            a.span,
                            format!(
                                "`{name}` takes a number of decimal places from 0 to {MAX_PLACES}"
                            ),
                        )
                        .label("not a number of places")
                        .help(format!("write `{}`", transform.usage)),
                    );
                    return None;
                }
            },
            (Param::Expr, Some(a)) => Arg::Expr(self.expr(a, scope, tables, used_tables)?),
        };
        transform.step(arg)
    }

    /// The table a `translate` names, marked used; reports a missing or misspelt one.
    fn table_arg(
        &mut self,
        arg: &Spanned<AExpr>,
        tables: &BTreeMap<String, TableInfo>,
        used_tables: &mut HashSet<String>,
    ) -> Option<String> {
        let table = match &arg.node {
            AExpr::Path(p) if p.len() == 1 => p[0].clone(),
            _ => {
                self.error(
                    Diagnostic::new(
                        Code::E0306,
                        arg.span,
                        "`translate` takes the name of a translate table",
                    )
                    .label("not a table name")
                    .help("write `translate(table_name)` without quotes"),
                );
                return None;
            }
        };
        if !tables.contains_key(&table) {
            self.error(
                Diagnostic::new(Code::E0201, arg.span, format!("no translate table is called `{table}`"))
                    .label("unknown table")
                    .help(suggest(&table, tables.keys().map(String::as_str)).unwrap_or_else(|| {
                        format!("declare it with `translate {table} {{ \"Salesforce value\" = \"monday label\" }}`")
                    })),
            );
            return None;
        }
        used_tables.insert(table.clone());
        Some(table)
    }
}

/// What an expression may read.
struct Scope {
    /// Whether `name` (the monday item name) is readable.
    item_name: bool,
    /// Records created earlier in a rule.
    aliases: Vec<String>,
}

impl Scope {
    fn record() -> Self {
        Scope {
            item_name: false,
            aliases: Vec::new(),
        }
    }

    fn item() -> Self {
        Scope {
            item_name: true,
            aliases: Vec::new(),
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
