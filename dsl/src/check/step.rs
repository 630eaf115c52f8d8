//! A transform call: its name and argument checked against the transform registry.

use crate::ast::{self, Expr as AExpr};
use crate::diag::{Code, Diagnostic};
use crate::model::Step;
use crate::source::Spanned;
use crate::transform::{self, Arg, MAX_PLACES, Param, Transform};

use super::expr::Scope;
use super::{Cx, suggest};

impl Cx<'_> {
    pub(super) fn step(&mut self, call: &Spanned<ast::Call>, scope: &Scope) -> Option<Step> {
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
            (Param::Table, Some(a)) => Arg::Table(self.table_arg(a)?),
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
            (Param::Expr, Some(a)) => Arg::Expr(self.expr(a, scope)?),
        };
        transform.step(arg)
    }

    /// The table a `translate` names, marked used; reports a missing or misspelt one.
    fn table_arg(&mut self, arg: &Spanned<AExpr>) -> Option<String> {
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
        if !self.tables.contains_key(&table) {
            self.error(
                Diagnostic::new(Code::E0201, arg.span, format!("no translate table is called `{table}`"))
                    .label("unknown table")
                    .help(suggest(&table, self.tables.keys().map(String::as_str)).unwrap_or_else(|| {
                        format!("declare it with `translate {table} {{ \"Salesforce value\" = \"monday label\" }}`")
                    })),
            );
            return None;
        }
        self.used_tables.insert(table.clone());
        Some(table)
    }
}
