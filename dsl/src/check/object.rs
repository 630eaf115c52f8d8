//! Object blocks: each declared once on a board of its own, its statements each given once,
//! and the object they make with its fields, links and rules.

use std::collections::HashMap;

use crate::ast::{self, DeleteAction, ItemDeleteAction, Stmt};
use crate::diag::{Code, Diagnostic};
use crate::model::{
    Assignment, ConflictPolicy, DeletePolicy, Expr, Field, ItemDeletePolicy, Link, Object,
};
use crate::source::{Span, Spanned};

use super::expr::Scope;
use super::writes::{Writes, standard_read_only};
use super::{Cx, direction, suggest};

/// An object's statements, sorted by what they say; each single statement is kept once, with
/// where it was given.
#[derive(Default)]
struct Statements<'a> {
    sobject: Option<&'a ast::Name>,
    board: Option<&'a Spanned<u64>>,
    key: Option<&'a ast::Name>,
    record_type: Option<&'a Spanned<String>>,
    conflict: Option<(ConflictPolicy, Span)>,
    name_to_monday: Option<(Expr, Span)>,
    name_to_salesforce: Vec<Assignment>,
    on_create: Option<(Vec<Assignment>, Span)>,
    on_delete: Option<(DeletePolicy, Span)>,
    on_sf_delete: Option<(ItemDeletePolicy, Span)>,
    selections: Vec<String>,
    field_conflicts: Vec<(&'a ast::Name, ConflictPolicy)>,
    fields: Vec<&'a ast::FieldDecl>,
    links: Vec<&'a ast::LinkDecl>,
    rules: Vec<&'a ast::RuleBlock>,
}

impl Cx<'_> {
    /// Every object of every file: each declared once, each on a board of its own.
    pub(super) fn objects(&mut self, files: &[ast::File]) -> Vec<Object> {
        self.objects = files
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
            if let Some((object, board_span)) = self.object(o) {
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

        objects
    }

    fn object(&mut self, o: &ast::ObjectBlock) -> Option<(Object, Span)> {
        let st = self.statements(o);

        let mut missing = Vec::new();
        if st.sobject.is_none() {
            missing.push(("salesforce", "salesforce Lead"));
        }
        if st.board.is_none() {
            missing.push(("board", "board 1234567890"));
        }
        if st.key.is_none() {
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

        let sobject_name = st.sobject.map(|s| s.node.clone()).unwrap_or_default();
        let key_column = st.key.map(|k| k.node.clone()).unwrap_or_default();
        let mut writes = Writes::default();
        if let Some(k) = st.key {
            writes.columns.insert(k.node.clone(), k.span);
        }
        let mut fields = Vec::new();
        for f in &st.fields {
            if let Some(field) = self.field(f, &sobject_name, st.key, &mut writes) {
                fields.push(field);
            }
        }
        self.field_conflicts(o, &st.field_conflicts, &mut fields);

        let mut links = Vec::new();
        for l in &st.links {
            if let Some(link) = self.link(l, &sobject_name, &mut writes) {
                links.push(link);
            }
        }

        let mut rules = Vec::new();
        for r in &st.rules {
            if let Some(rule) = self.rule(r, &fields) {
                rules.push(rule);
            }
        }

        if !missing.is_empty() {
            return None;
        }
        let board = st.board?;
        Some((
            Object {
                name: o.name.node.clone(),
                sobject: sobject_name,
                board: board.node,
                key_column,
                selections: st.selections,
                record_type: st.record_type.map(|r| r.node.clone()),
                name_to_monday: st.name_to_monday.map(|(e, _)| e),
                name_to_salesforce: st.name_to_salesforce,
                on_create: st.on_create.map(|(a, _)| a).unwrap_or_default(),
                on_delete: st.on_delete.map(|(p, _)| p).unwrap_or_default(),
                on_salesforce_delete: st.on_sf_delete.map(|(p, _)| p).unwrap_or_default(),
                conflict: st.conflict.map(|(p, _)| p).unwrap_or_default(),
                fields,
                links,
                rules,
                origin: self.origin(o.name.span),
            },
            board.span,
        ))
    }

    /// Sorts an object's statements, checking the expressions of the ones that have some and
    /// reporting a single statement given twice.
    fn statements<'a>(&mut self, o: &'a ast::ObjectBlock) -> Statements<'a> {
        let mut st = Statements::default();
        for stmt in &o.stmts {
            match &stmt.node {
                Stmt::Salesforce(n) => self.once(&mut st.sobject, n, stmt.span, "salesforce"),
                Stmt::Board(b) => self.once(&mut st.board, b, stmt.span, "board"),
                Stmt::Key(k) => self.once(&mut st.key, k, stmt.span, "key"),
                Stmt::RecordType(r) => self.once(&mut st.record_type, r, stmt.span, "record type"),
                Stmt::Select(s) => st.selections.push(s.node.clone()),
                Stmt::Conflict(side) => {
                    if let Some(p) = self.side(side) {
                        self.first(&mut st.conflict, p, stmt.span, "conflict");
                    }
                }
                Stmt::ConflictField { field, side } => {
                    if let Some(p) = self.side(side) {
                        st.field_conflicts.push((field, p));
                    }
                }
                Stmt::NameBoth(f) => {
                    let path = Expr::Path(vec![f.node.clone()]);
                    self.set_name_to_monday(&mut st.name_to_monday, path, stmt.span);
                    st.name_to_salesforce.push(Assignment {
                        field: f.node.clone(),
                        value: Expr::Path(vec!["name".into()]),
                        origin: self.origin(stmt.span),
                    });
                }
                Stmt::NameToMonday(e) => {
                    if let Some(e) = self.expr(e, &Scope::record()) {
                        self.set_name_to_monday(&mut st.name_to_monday, e, stmt.span);
                    }
                }
                Stmt::NameToSalesforce { field, value } => {
                    let value = match value {
                        Some(v) => self.expr(v, &Scope::item()),
                        None => Some(Expr::Path(vec!["name".into()])),
                    };
                    if let Some(value) = value {
                        st.name_to_salesforce.push(Assignment {
                            field: field.node.clone(),
                            value,
                            origin: self.origin(stmt.span),
                        });
                    }
                }
                Stmt::OnCreate(assignments) => {
                    let list = self.assignments(assignments, &Scope::item());
                    self.first(&mut st.on_create, list, stmt.span, "on create");
                }
                Stmt::OnDelete(action) => {
                    let policy = match action {
                        DeleteAction::Log => DeletePolicy::Log,
                        DeleteAction::Delete => DeletePolicy::Delete,
                        DeleteAction::Set(a) => {
                            DeletePolicy::Set(self.assignments(a, &Scope::record()))
                        }
                    };
                    self.first(&mut st.on_delete, policy, stmt.span, "on delete");
                }
                Stmt::OnSalesforceDelete(action) => {
                    let policy = match action {
                        ItemDeleteAction::Log => ItemDeletePolicy::Log,
                        ItemDeleteAction::Archive => ItemDeletePolicy::Archive,
                        ItemDeleteAction::Delete => ItemDeletePolicy::Delete,
                    };
                    self.first(
                        &mut st.on_sf_delete,
                        policy,
                        stmt.span,
                        "on salesforce delete",
                    );
                }
                Stmt::Field(f) => st.fields.push(f),
                Stmt::Link(l) => st.links.push(l),
                Stmt::Rule(r) => st.rules.push(r),
            }
        }
        st
    }

    /// `conflict Field prefer …`: sets the policy of a mapped field.
    fn field_conflicts(
        &mut self,
        o: &ast::ObjectBlock,
        conflicts: &[(&ast::Name, ConflictPolicy)],
        fields: &mut [Field],
    ) {
        for (name, policy) in conflicts {
            match fields.iter_mut().find(|f| f.field == name.node) {
                Some(f) => f.conflict = Some(*policy),
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
    }

    fn link(&mut self, l: &ast::LinkDecl, sobject: &str, writes: &mut Writes) -> Option<Link> {
        let direction = direction(l.arrow.node);
        if !self.objects.contains(&l.target.node) {
            let d = Diagnostic::new(
                Code::E0206,
                l.target.span,
                format!("no object is called `{}`", l.target.node),
            )
            .label("unknown object")
            .help(
                suggest(&l.target.node, self.objects.iter().map(String::as_str)).unwrap_or_else(
                    || "link to an object declared with `object Name { … }` in the mappings".into(),
                ),
            );
            self.error(d);
            return None;
        }
        if direction.to_salesforce() && standard_read_only(sobject, &l.via.node) {
            self.read_only(l.via.span, &l.via.node, sobject, l.arrow.span);
        }
        if direction.to_monday() {
            self.claim(&mut writes.columns, &l.column, Code::E0204);
        }
        if direction.to_salesforce() {
            self.claim(&mut writes.link_reads, &l.column, Code::E0204);
            self.claim(&mut writes.fields, &l.via, Code::E0205);
        }
        Some(Link {
            column: l.column.node.clone(),
            direction,
            target: l.target.node.clone(),
            via: l.via.node.clone(),
            origin: self.origin(l.column.span),
        })
    }

    /// Keeps the first of a plain statement an object takes once; reports one given again
    /// (E0208).
    fn once<'t, T>(&mut self, slot: &mut Option<&'t T>, value: &'t T, span: Span, what: &str) {
        if slot.is_some() {
            // The span of the first one is not kept for plain statements; point at the second.
            self.error(given_twice(span, what).help(format!("keep one `{what}` statement")));
        } else {
            *slot = Some(value);
        }
    }

    /// Keeps the first of a statement an object takes once; reports one given again (E0208).
    fn first<T>(&mut self, slot: &mut Option<(T, Span)>, value: T, span: Span, what: &str) {
        if let Some((_, first)) = slot {
            let first = *first;
            self.error(
                given_twice(span, what)
                    .secondary(first, "first given here")
                    .help(format!("merge the two `{what}` statements into one")),
            );
        } else {
            *slot = Some((value, span));
        }
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
}

/// E0208: a statement an object takes once, given again at `span`.
fn given_twice(span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::E0208,
        span,
        format!("`{what}` is given twice in one object"),
    )
    .label("given again here")
}
