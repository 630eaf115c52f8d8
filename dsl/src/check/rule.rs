//! A lifecycle rule: its trigger, the records it creates, the fields it sets and propagates.

use crate::ast::{self, RuleStmt};
use crate::diag::{Code, Diagnostic};
use crate::model::{Field, Propagate, Rule, RuleCreate};

use super::expr::Scope;
use super::{Cx, suggest};

impl Cx<'_> {
    pub(super) fn rule(&mut self, r: &ast::RuleBlock, fields: &[Field]) -> Option<Rule> {
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
                    if !self.objects.contains(&object.node) {
                        ok = false;
                        self.error(
                            Diagnostic::new(
                                Code::E0206,
                                object.span,
                                format!("no object is called `{}`", object.node),
                            )
                            .label("unknown object")
                            .help(
                                suggest(&object.node, self.objects.iter().map(String::as_str))
                                    .unwrap_or_else(|| {
                                        "a rule creates records of objects declared in the mappings"
                                            .into()
                                    }),
                            ),
                        );
                    }
                    let list = self.assignments(assignments, &scope);
                    scope.aliases.push(alias.node.clone());
                    creates.push(RuleCreate {
                        object: object.node.clone(),
                        alias: alias.node.clone(),
                        assignments: list,
                        origin: self.origin(s.span),
                    });
                }
                RuleStmt::Set(a) => {
                    sets.extend(self.assignments(std::slice::from_ref(a), &scope));
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
                        match self.step(c, &scope) {
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
}
