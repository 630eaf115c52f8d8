//! Every name written in a parsed file, with its span and what it names: the one walk over the
//! syntax tree that hover, definition and rename share.

use crate::ast::{Assignment, Call, DeleteAction, Expr, File, Item, ObjectBlock, RuleStmt, Stmt};
use crate::source::Span;

/// What a name written in a mapping refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Symbol {
    /// An object (`object Name`, a link's target, a rule's `create Name`).
    Object(String),
    /// A translate table (`translate name { … }` or `translate(name)`).
    Table(String),
    /// A monday column of an object's board.
    Column {
        /// The mapping object whose board holds it.
        object: String,
        /// The column id.
        column: String,
    },
    /// A Salesforce field of an object's sObject.
    Field {
        /// The mapping object whose sObject holds it.
        object: String,
        /// The field's API name.
        field: String,
    },
    /// An sObject (`salesforce Lead`).
    SObject(String),
    /// A board (`board 9378000505`).
    Board(u64),
    /// A transform (`| trim`).
    Transform(String),
}

/// One name as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    /// Where it is written.
    pub span: Span,
    /// What it names.
    pub symbol: Symbol,
    /// Whether this is the declaration (an object's or a table's name in its block).
    pub declaration: bool,
}

/// Every name in `file`, in source order.
pub fn occurrences(file: &File) -> Vec<Occurrence> {
    let mut out = Walk { out: Vec::new() };
    for item in &file.items {
        match item {
            Item::Translate(t) => out.push(t.name.span, Symbol::Table(t.name.node.clone()), true),
            Item::Object(o) => out.object(o),
        }
    }
    out.out.sort_by_key(|o| (o.span.start, o.span.end));
    out.out
}

struct Walk {
    out: Vec<Occurrence>,
}

impl Walk {
    fn push(&mut self, span: Span, symbol: Symbol, declaration: bool) {
        self.out.push(Occurrence {
            span,
            symbol,
            declaration,
        });
    }

    fn field(&mut self, object: &str, span: Span, name: &str) {
        let symbol = Symbol::Field {
            object: object.to_owned(),
            field: name.to_owned(),
        };
        self.push(span, symbol, false);
    }

    fn column(&mut self, object: &str, span: Span, name: &str) {
        let symbol = Symbol::Column {
            object: object.to_owned(),
            column: name.to_owned(),
        };
        self.push(span, symbol, false);
    }

    fn object(&mut self, o: &ObjectBlock) {
        let name = o.name.node.as_str();
        self.push(o.name.span, Symbol::Object(name.to_owned()), true);
        for stmt in &o.stmts {
            match &stmt.node {
                Stmt::Salesforce(s) => self.push(s.span, Symbol::SObject(s.node.clone()), false),
                Stmt::Board(b) => self.push(b.span, Symbol::Board(b.node), false),
                Stmt::Key(k) => self.column(name, k.span, &k.node),
                Stmt::Select(_) | Stmt::RecordType(_) | Stmt::Conflict(_) => {}
                Stmt::OnSalesforceDelete(_) => {}
                Stmt::ConflictField { field, .. } => self.field(name, field.span, &field.node),
                Stmt::NameBoth(f) => self.field(name, f.span, &f.node),
                Stmt::NameToMonday(e) => self.expr(name, &e.node, e.span),
                Stmt::NameToSalesforce { field, value } => {
                    self.field(name, field.span, &field.node);
                    if let Some(v) = value {
                        self.expr(name, &v.node, v.span);
                    }
                }
                Stmt::OnCreate(assignments) => self.assignments(name, assignments),
                Stmt::OnDelete(DeleteAction::Set(assignments)) => {
                    self.assignments(name, assignments)
                }
                Stmt::OnDelete(_) => {}
                Stmt::Field(f) => {
                    self.column(name, f.column.span, &f.column.node);
                    self.field(name, f.field.span, &f.field.node);
                    self.calls(name, &f.steps);
                }
                Stmt::Link(l) => {
                    self.column(name, l.column.span, &l.column.node);
                    self.push(l.target.span, Symbol::Object(l.target.node.clone()), false);
                    self.field(name, l.via.span, &l.via.node);
                }
                Stmt::Rule(r) => {
                    self.field(name, r.when_field.span, &r.when_field.node);
                    for s in &r.stmts {
                        match &s.node {
                            RuleStmt::Create(c) => {
                                let target = c.object.node.as_str();
                                self.push(c.object.span, Symbol::Object(target.to_owned()), false);
                                // The created record's fields, its values read from the trigger.
                                for a in &c.assignments {
                                    self.field(target, a.node.field.span, &a.node.field.node);
                                    self.expr(name, &a.node.value.node, a.node.value.span);
                                }
                            }
                            RuleStmt::Set(a) => self.assignments(name, std::slice::from_ref(a)),
                            RuleStmt::Propagate { from, steps, .. } => {
                                self.field(name, from.span, &from.node);
                                self.calls(name, steps);
                            }
                        }
                    }
                }
            }
        }
    }

    fn assignments(&mut self, object: &str, assignments: &[crate::Spanned<Assignment>]) {
        for a in assignments {
            self.field(object, a.node.field.span, &a.node.field.node);
            self.expr(object, &a.node.value.node, a.node.value.span);
        }
    }

    fn calls(&mut self, object: &str, calls: &[crate::Spanned<Call>]) {
        for c in calls {
            let call = &c.node;
            self.push(
                call.name.span,
                Symbol::Transform(call.name.node.clone()),
                false,
            );
            for arg in call.args.iter().flatten() {
                match &arg.node {
                    // `translate(table)`: the argument names a table, not a field.
                    Expr::Path(p) if call.name.node == "translate" && p.len() == 1 => {
                        let table = p.first().cloned().unwrap_or_default();
                        self.push(arg.span, Symbol::Table(table), false);
                    }
                    e => self.expr(object, e, arg.span),
                }
            }
        }
    }

    fn expr(&mut self, object: &str, e: &Expr, span: Span) {
        match e {
            Expr::Str(_) | Expr::Number(_) | Expr::Days(_) | Expr::Today => {}
            Expr::Path(p) => {
                // `name` is the item's name; `alias.Field` a rule's created record.
                if let [field] = p.as_slice()
                    && field != "name"
                {
                    self.field(object, span, field);
                }
            }
            Expr::Paren(inner) => self.expr(object, &inner.node, inner.span),
            Expr::Sum(first, rest) => {
                self.expr(object, &first.node, first.span);
                for (_, e) in rest {
                    self.expr(object, &e.node, e.span);
                }
            }
            Expr::Pipe(first, calls) => {
                self.expr(object, &first.node, first.span);
                self.calls(object, calls);
            }
        }
    }
}
