//! The checks that need the live systems, against a schema snapshot (E06xx).

use std::collections::HashMap;

use crate::ast::{self, Arrow, Expr, Stmt};
use crate::diag::{Code, Diagnostic};
use crate::schema::{BoardSchema, ColumnSchema, FieldSchema, SObjectSchema, SchemaSnapshot};
use crate::source::{Span, Spanned};

use super::kinds::{self, TypeDifference};
use super::suggest;

const PULL_HELP: &str = "run `crmmap schema pull` to refresh the snapshot";

/// How many missing values a message lists before it says "and N more".
const LIST_MAX: usize = 5;

/// Runs every schema check over the parsed files.
pub(super) fn check(files: &[ast::File], snapshot: &SchemaSnapshot, diags: &mut Vec<Diagnostic>) {
    let tables: HashMap<&str, &ast::TranslateBlock> = files
        .iter()
        .flat_map(|f| &f.items)
        .filter_map(|i| match i {
            ast::Item::Translate(t) => Some((t.name.node.as_str(), t)),
            _ => None,
        })
        .collect();
    let objects: HashMap<&str, &ast::ObjectBlock> = files
        .iter()
        .flat_map(|f| &f.items)
        .filter_map(|i| match i {
            ast::Item::Object(o) => Some((o.name.node.as_str(), o)),
            _ => None,
        })
        .collect();
    let mut cx = Cx {
        snapshot,
        tables,
        objects,
        diags,
    };
    for file in files {
        for item in &file.items {
            if let ast::Item::Object(o) = item {
                cx.object(o);
            }
        }
    }
}

struct Cx<'a> {
    snapshot: &'a SchemaSnapshot,
    tables: HashMap<&'a str, &'a ast::TranslateBlock>,
    objects: HashMap<&'a str, &'a ast::ObjectBlock>,
    diags: &'a mut Vec<Diagnostic>,
}

fn statement<'a, T>(o: &'a ast::ObjectBlock, pick: impl Fn(&'a Stmt) -> Option<T>) -> Option<T> {
    o.stmts.iter().find_map(|s| pick(&s.node))
}

fn board_of(o: &ast::ObjectBlock) -> Option<&Spanned<u64>> {
    statement(o, |s| match s {
        Stmt::Board(b) => Some(b),
        _ => None,
    })
}

fn sobject_of(o: &ast::ObjectBlock) -> Option<&ast::Name> {
    statement(o, |s| match s {
        Stmt::Salesforce(n) => Some(n),
        _ => None,
    })
}

fn listed(values: &[String]) -> String {
    let mut s: Vec<String> = values
        .iter()
        .take(LIST_MAX)
        .map(|v| format!("`{v}`"))
        .collect();
    if values.len() > LIST_MAX {
        s.push(format!("and {} more", values.len() - LIST_MAX));
    }
    s.join(", ")
}

impl<'a> Cx<'a> {
    fn object(&mut self, o: &'a ast::ObjectBlock) {
        let board = board_of(o).and_then(|b| {
            let found = self.snapshot.board(b.node);
            if found.is_none() {
                self.diags.push(
                    Diagnostic::new(
                        Code::E0601,
                        b.span,
                        format!("board {} is not in the schema snapshot", b.node),
                    )
                    .label("unknown board")
                    .help(format!("check the board id, or {PULL_HELP}")),
                );
            }
            found
        });
        let sobject = sobject_of(o).and_then(|n| {
            let found = self.snapshot.sobject(&n.node);
            if found.is_none() {
                self.diags.push(
                    Diagnostic::new(
                        Code::E0602,
                        n.span,
                        format!("sObject `{}` is not in the schema snapshot", n.node),
                    )
                    .label("unknown sObject")
                    .help(
                        suggest(
                            &n.node,
                            self.snapshot.sobjects.iter().map(|s| s.name.as_str()),
                        )
                        .unwrap_or_else(|| PULL_HELP.into()),
                    ),
                );
            }
            found
        });
        for stmt in &o.stmts {
            match &stmt.node {
                Stmt::Key(k) => {
                    if let Some(b) = board {
                        self.column(b, k);
                    }
                }
                Stmt::Field(f) => self.field(f, board, sobject),
                Stmt::Link(l) => self.link(l, board, sobject),
                Stmt::NameBoth(f) | Stmt::NameToSalesforce { field: f, .. } => {
                    if let Some(s) = sobject
                        && let Some(field) = self.sf_field(s, f)
                    {
                        self.writable(field, f.span, s, true);
                    }
                }
                Stmt::OnCreate(list) => {
                    if let Some(s) = sobject {
                        self.assignments(s, list, true);
                    }
                }
                Stmt::OnDelete(ast::DeleteAction::Set(list)) => {
                    if let Some(s) = sobject {
                        self.assignments(s, list, false);
                    }
                }
                Stmt::Rule(r) => self.rule(r, sobject),
                _ => {}
            }
        }
    }

    fn column(&mut self, board: &'a BoardSchema, name: &ast::Name) -> Option<&'a ColumnSchema> {
        let found = board.column(&name.node);
        if found.is_none() {
            self.diags.push(
                Diagnostic::new(
                    Code::E0601,
                    name.span,
                    format!("board {} has no column `{}`", board.id, name.node),
                )
                .label("unknown column")
                .help(
                    suggest(&name.node, board.columns.iter().map(|c| c.id.as_str()))
                        .unwrap_or_else(|| {
                            format!(
                                "check the column id on board `{}`, or {PULL_HELP}",
                                board.name
                            )
                        }),
                ),
            );
        }
        found
    }

    fn sf_field(
        &mut self,
        sobject: &'a SObjectSchema,
        name: &ast::Name,
    ) -> Option<&'a FieldSchema> {
        let found = sobject.field(&name.node);
        if found.is_none() {
            self.diags.push(
                Diagnostic::new(
                    Code::E0602,
                    name.span,
                    format!("`{}` has no field `{}`", sobject.name, name.node),
                )
                .label("unknown field")
                .help(
                    suggest(&name.node, sobject.fields.iter().map(|f| f.name.as_str()))
                        .unwrap_or_else(|| format!("custom fields end in `__c`; or {PULL_HELP}")),
                ),
            );
        }
        found
    }

    /// E0607 when the mapping writes a field Salesforce does not let it write.
    fn writable(
        &mut self,
        field: &FieldSchema,
        span: Span,
        sobject: &SObjectSchema,
        on_update: bool,
    ) {
        let ok = field.createable && (!on_update || field.updateable);
        if ok {
            return;
        }
        let what = match (field.createable, field.updateable) {
            (false, false) => "cannot be written",
            (true, false) => "can only be set when a record is created",
            _ => "cannot be set when a record is created",
        };
        self.diags.push(
            Diagnostic::new(
                Code::E0607,
                span,
                format!(
                    "`{}.{}` {what}, but this mapping writes it",
                    sobject.name, field.name
                ),
            )
            .label("not writable")
            .help("make the mapping `<-` (Salesforce to monday only), or write another field"),
        );
    }

    fn field(
        &mut self,
        f: &'a ast::FieldDecl,
        board: Option<&'a BoardSchema>,
        sobject: Option<&'a SObjectSchema>,
    ) {
        let column = board.and_then(|b| self.column(b, &f.column));
        if let Some(c) = column
            && c.column_type != f.column_type.node
        {
            self.diags.push(
                Diagnostic::new(
                    Code::E0603,
                    f.column_type.span,
                    format!(
                        "column `{}` is a `{}` column on the board, not `{}`",
                        c.id, c.column_type, f.column_type.node
                    ),
                )
                .label(format!("the board says `{}`", c.column_type))
                .help(format!("write `: {}`", c.column_type)),
            );
        }
        let field = sobject.and_then(|s| self.sf_field(s, &f.field));
        if let (Some(field), Some(s)) = (field, sobject) {
            if let Some(declared) = &f.field_type {
                self.field_type(s, field, declared);
            }
            if f.arrow.node != Arrow::ToMonday {
                self.writable(field, f.field.span, s, true);
            }
        }
        let (Some(c), Some(field)) = (column, field) else {
            return;
        };
        if f.arrow.node != Arrow::ToMonday
            && field.restricted_picklist
            && !matches!(c.column_type.as_str(), "status" | "dropdown")
        {
            self.free_text_to_restricted(f, c, field);
        }
        if !matches!(c.column_type.as_str(), "status" | "dropdown")
            || field.picklist_values.is_empty()
        {
            return;
        }
        let tables: Vec<&ast::TranslateBlock> = f
            .steps
            .iter()
            .filter(|s| s.node.name.node == "translate")
            .filter_map(|s| match s.node.args.as_deref() {
                Some(
                    [
                        Spanned {
                            node: Expr::Path(p),
                            ..
                        },
                    ],
                ) if p.len() == 1 => self.tables.get(p[0].as_str()).copied(),
                _ => None,
            })
            .collect();
        let to_monday = |v: &str| -> String {
            tables.iter().rev().fold(v.to_string(), |v, t| {
                t.pairs
                    .iter()
                    .find(|p| p.node.0.node == v)
                    .map_or(v, |p| p.node.1.node.clone())
            })
        };
        let to_salesforce = |l: &str| -> String {
            tables.iter().fold(l.to_string(), |l, t| {
                t.pairs
                    .iter()
                    .find(|p| p.node.1.node == l)
                    .map_or(l, |p| p.node.0.node.clone())
            })
        };
        if f.arrow.node != Arrow::ToSalesforce && !f.create_labels {
            let missing: Vec<String> = field
                .picklist_values
                .iter()
                .map(|v| to_monday(v))
                .filter(|l| !c.labels.contains(l))
                .collect();
            if !missing.is_empty() {
                self.diags.push(
                    Diagnostic::new(
                        Code::E0605,
                        f.column.span,
                        format!("column `{}` has no label for {}", c.id, listed(&missing)),
                    )
                    .label("labels missing on the board")
                    .help("add the labels on the board, translate the values to existing labels, or write `create labels` on this field"),
                );
            }
        }
        // E0606 is an error: a label outside a restricted picklist is refused by Salesforce
        // every time it is written (`INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`,
        // `salesforce-api.md` §4.3, §8). An unrestricted picklist stores any value, so labels
        // outside it are not reported.
        if f.arrow.node != Arrow::ToMonday && field.restricted_picklist {
            let outside: Vec<String> = c
                .labels
                .iter()
                .map(|l| to_salesforce(l))
                .filter(|v| !field.picklist_values.contains(v))
                .collect();
            if !outside.is_empty() {
                self.diags.push(
                    Diagnostic::new(
                        Code::E0606,
                        f.field.span,
                        format!(
                            "labels of `{}` become {}, which the restricted picklist `{}` rejects",
                            c.id,
                            listed(&outside),
                            field.name
                        ),
                    )
                    .label("restricted picklist")
                    .help("translate those labels to picklist values, remove them from the board, or make the field `<-`"),
                );
            }
        }
    }

    /// E0604 when the declared type holds another kind of value than the field's (text and a
    /// number: the values written would change); W0604 when both hold the same kind (`string`
    /// and `picklist`: nothing changes at run time, only the declaration is off).
    fn field_type(&mut self, s: &SObjectSchema, field: &FieldSchema, declared: &ast::Name) {
        let (code, note) = match kinds::compare_types(&declared.node, &field.field_type) {
            TypeDifference::Same => return,
            TypeDifference::SameKind => (
                Code::W0604,
                "; both hold the same kind of value, so nothing changes at run time",
            ),
            TypeDifference::OtherKind => (Code::E0604, ""),
        };
        self.diags.push(
            Diagnostic::new(
                code,
                declared.span,
                format!(
                    "`{}.{}` is a `{}` field in Salesforce, not `{}`{note}",
                    s.name, field.name, field.field_type, declared.node
                ),
            )
            .label(format!("Salesforce says `{}`", field.field_type))
            .help(format!(
                "write `{} : {}`, or leave the type out and let the snapshot give it",
                field.name, field.field_type
            )),
        );
    }

    /// W0606: a free-text column written to a restricted picklist. Salesforce refuses a value
    /// outside the list (`INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`, `salesforce-api.md` §4.3), for
    /// that record only: the write fails permanently and is reported, the other records and
    /// values go through. A warning, because which texts people type is not known here.
    fn free_text_to_restricted(
        &mut self,
        f: &ast::FieldDecl,
        c: &ColumnSchema,
        field: &FieldSchema,
    ) {
        self.diags.push(
            Diagnostic::new(
                Code::W0606,
                f.column.span,
                format!(
                    "`{}` column `{}` is free text, but `{}` is a restricted picklist: a value other than {} is refused",
                    c.column_type,
                    c.id,
                    field.name,
                    listed(&field.picklist_values)
                ),
            )
            .label("free text")
            .help("use a status or dropdown column with the picklist's values as labels, or make the field `<-`"),
        );
    }

    fn link(
        &mut self,
        l: &'a ast::LinkDecl,
        board: Option<&'a BoardSchema>,
        sobject: Option<&'a SObjectSchema>,
    ) {
        if let Some(c) = board.and_then(|b| self.column(b, &l.column)) {
            if c.column_type != "board_relation" {
                self.diags.push(
                    Diagnostic::new(
                        Code::E0603,
                        l.column.span,
                        format!(
                            "column `{}` is a `{}` column, not a board relation",
                            c.id, c.column_type
                        ),
                    )
                    .label("not a board relation")
                    .help("links need a connect-boards column; map other columns with `field`"),
                );
            } else if let Some(target_board) = self
                .objects
                .get(l.target.node.as_str())
                .and_then(|o| board_of(o))
                && !c.board_ids.is_empty()
                && !c.board_ids.contains(&target_board.node)
            {
                let connected: Vec<String> = c.board_ids.iter().map(u64::to_string).collect();
                self.diags.push(
                        Diagnostic::new(
                            Code::E0608,
                            l.target.span,
                            format!(
                                "column `{}` connects board {}, not board {} of `{}`",
                                c.id,
                                connected.join(", "),
                                target_board.node,
                                l.target.node
                            ),
                        )
                        .label("another board")
                        .help("connect the column to the object's board in monday, or link another object"),
                    );
            }
        }
        if let Some(s) = sobject
            && let Some(field) = self.sf_field(s, &l.via)
            && l.arrow.node != Arrow::ToMonday
        {
            self.writable(field, l.via.span, s, true);
        }
    }

    fn assignments(
        &mut self,
        sobject: &'a SObjectSchema,
        list: &[Spanned<ast::Assignment>],
        on_create: bool,
    ) {
        for a in list {
            let Some(field) = self.sf_field(sobject, &a.node.field) else {
                continue;
            };
            self.writable(field, a.node.field.span, sobject, !on_create);
            self.literal(sobject, field, &a.node.value);
        }
    }

    /// E0606 for a literal (or a literal default) outside a restricted picklist.
    fn literal(&mut self, sobject: &SObjectSchema, field: &FieldSchema, e: &Spanned<Expr>) {
        if !field.restricted_picklist {
            return;
        }
        let literals: Vec<(&str, Span)> = match &e.node {
            Expr::Str(s) => vec![(s.as_str(), e.span)],
            Expr::Pipe(_, calls) => calls
                .iter()
                .filter(|c| c.node.name.node == "default")
                .filter_map(|c| match c.node.args.as_deref() {
                    Some(
                        [
                            Spanned {
                                node: Expr::Str(s),
                                span,
                            },
                        ],
                    ) => Some((s.as_str(), *span)),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for (value, span) in literals {
            if !field.picklist_values.iter().any(|v| v == value) {
                self.diags.push(
                    Diagnostic::new(
                        Code::E0606,
                        span,
                        format!(
                            "`{value}` is not a value of the restricted picklist `{}.{}`",
                            sobject.name, field.name
                        ),
                    )
                    .label("rejected by Salesforce")
                    .help(
                        suggest(value, field.picklist_values.iter().map(String::as_str))
                            .unwrap_or_else(|| {
                                format!("use one of {}", listed(&field.picklist_values))
                            }),
                    ),
                );
            }
        }
    }

    fn rule(&mut self, r: &'a ast::RuleBlock, sobject: Option<&'a SObjectSchema>) {
        if let Some(s) = sobject
            && let Some(field) = self.sf_field(s, &r.when_field)
        {
            let when = Spanned::new(Expr::Str(r.becomes.node.clone()), r.becomes.span);
            self.literal(s, field, &when);
        }
        for stmt in &r.stmts {
            match &stmt.node {
                ast::RuleStmt::Create(c) => {
                    let created = self
                        .objects
                        .get(c.object.node.as_str())
                        .and_then(|o| sobject_of(o))
                        .and_then(|n| self.snapshot.sobject(&n.node));
                    if let Some(created) = created {
                        self.assignments(created, &c.assignments, true);
                    }
                }
                ast::RuleStmt::Set(a) => {
                    if let Some(s) = sobject {
                        self.assignments(s, std::slice::from_ref(a), false);
                    }
                }
                ast::RuleStmt::Propagate { .. } => {}
            }
        }
    }
}
