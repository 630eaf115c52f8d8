//! Expressions: what they may read where they stand, literals, paths, sums and pipes.

use crate::ast::{self, Expr as AExpr};
use crate::diag::{Code, Diagnostic};
use crate::model::{Assignment, Expr, Step};
use crate::source::{Span, Spanned};

use super::{Cx, suggest};

/// What an expression may read.
pub(super) struct Scope {
    /// Whether `name` (the monday item name) is readable.
    pub(super) item_name: bool,
    /// Records created earlier in a rule.
    pub(super) aliases: Vec<String>,
}

impl Scope {
    pub(super) fn record() -> Self {
        Scope {
            item_name: false,
            aliases: Vec::new(),
        }
    }

    pub(super) fn item() -> Self {
        Scope {
            item_name: true,
            aliases: Vec::new(),
        }
    }
}

impl Cx<'_> {
    pub(super) fn expr(&mut self, e: &Spanned<AExpr>, scope: &Scope) -> Option<Expr> {
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
            AExpr::Paren(inner) => return self.expr(inner, scope),
            AExpr::Sum(first, rest) => {
                let base = self.expr(first, scope)?;
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
                    parts.push(self.expr(term, scope)?);
                }
                Expr::Concat(parts)
            }
            AExpr::Pipe(base, calls) => {
                let base = self.expr(base, scope);
                let mut steps = Vec::new();
                for c in calls {
                    steps.push(self.step(c, scope));
                }
                let steps: Option<Vec<Step>> = steps.into_iter().collect();
                Expr::Pipe(Box::new(base?), steps?)
            }
        })
    }

    pub(super) fn assignments(
        &mut self,
        list: &[Spanned<ast::Assignment>],
        scope: &Scope,
    ) -> Vec<Assignment> {
        list.iter()
            .filter_map(|a| {
                let value = self.expr(&a.node.value, scope)?;
                Some(Assignment {
                    field: a.node.field.node.clone(),
                    value,
                    origin: self.origin(a.span),
                })
            })
            .collect()
    }

    pub(super) fn unknown_alias(&mut self, span: Span, alias: &str, scope: &Scope) {
        self.error(
            Diagnostic::new(Code::E0502, span, format!("no record called `{alias}` has been created yet"))
                .label("unknown alias")
                .help(suggest(alias, scope.aliases.iter().map(String::as_str)).unwrap_or_else(|| {
                    "refer to a record created earlier in the rule with `create Object as alias { … }`".into()
                })),
        );
    }
}
