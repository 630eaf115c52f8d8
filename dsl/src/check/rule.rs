//! A lifecycle rule: its trigger, the records it creates, the fields it sets and propagates.

use crate::ast::{self, RuleStmt};
use crate::diag::{Code, Diagnostic};
use crate::model::{Field, Propagate, Rule, RuleCreate};
use crate::source::Span;

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
                RuleStmt::Create(c) => {
                    ok &= self.objects.contains(&c.object.node);
                    creates.push(self.create(c, s.span, &mut scope));
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

    /// `create Object as alias { … }`: a mapped object, its values read what the rule has
    /// (the triggering record and earlier aliases); later statements may read the alias.
    fn create(&mut self, c: &ast::CreateBlock, span: Span, scope: &mut Scope) -> RuleCreate {
        if !self.objects.contains(&c.object.node) {
            self.error(
                Diagnostic::new(
                    Code::E0206,
                    c.object.span,
                    format!("no object is called `{}`", c.object.node),
                )
                .label("unknown object")
                .help(
                    suggest(&c.object.node, self.objects.iter().map(String::as_str))
                        .unwrap_or_else(|| {
                            "a rule creates records of objects declared in the mappings".into()
                        }),
                ),
            );
        }
        let assignments = self.assignments(&c.assignments, scope);
        scope.aliases.push(c.alias.node.clone());
        RuleCreate {
            object: c.object.node.clone(),
            alias: c.alias.node.clone(),
            assignments,
            origin: self.origin(span),
        }
    }
}
