//! Rules: which fire when a record changes, the records they create, the fields they set, and
//! the field changes they copy to the records they created.

use std::collections::BTreeMap;

use crmmap_ids::SObjectName;
use serde_json::Value as Json;

use time::{Date, OffsetDateTime};

use super::to_monday::record_value;
use super::{Record, RecordEnv, SfWrites};
use crate::error::{Code, EvalError};
use crate::plan::{AssignPlan, Plan, RulePlan};
use crate::transform::{self, Env, Flow, apply, today_of};
use crate::value::{Value, salesforce};

/// Records created by a rule, by alias: each holds at least `Id` once created.
pub type Aliases = BTreeMap<String, Record>;

/// The rules that fire when a record goes from `old` to `new`: the trigger field becomes the
/// rule's value and was not it before. For a monday change, pass the record before the change
/// and `SfWrites::apply_to` of it.
pub fn rules_fired<'p>(plan: &'p Plan, old: &Record, new: &Record) -> Vec<&'p RulePlan> {
    plan.rules
        .iter()
        .filter(|r| {
            let is = |rec: &Record| {
                rec.get(&r.when_field)
                    .map(salesforce::read_untyped)
                    .is_some_and(|v| v.display() == r.becomes)
            };
            is(new) && !is(old)
        })
        .collect()
}

struct RuleEnv<'a> {
    plan: &'a Plan,
    record: &'a Record,
    aliases: &'a Aliases,
    rule: &'a RulePlan,
    today: Date,
}

impl Env for RuleEnv<'_> {
    fn get(&self, path: &[String]) -> Result<Value, EvalError> {
        if let [alias, field, ..] = path
            && self.rule.creates.iter().any(|c| &c.alias == alias)
        {
            return match self.aliases.get(alias) {
                Some(rec) => Ok(rec.get(field).map_or(Value::Null, salesforce::read_untyped)),
                None => Err(EvalError::new(
                    Code::UnresolvedAlias,
                    format!("`{}` is read before its record is created", path.join(".")),
                )),
            };
        }
        if path.is_empty() {
            return Ok(Value::Null);
        }
        record_value(self.plan, self.record, path)
    }

    fn today(&self) -> Date {
        self.today
    }
}

impl RulePlan {
    /// The aliases each create step reads, in create order (what the runner must have
    /// created, with their Ids, before it can evaluate that step).
    pub fn create_needs(&self) -> Vec<Vec<String>> {
        let aliases: Vec<&str> = self.creates.iter().map(|c| c.alias.as_str()).collect();
        self.creates
            .iter()
            .map(|c| {
                let mut needs = Vec::new();
                for a in &c.assignments {
                    a.value.for_each_path(&mut |p| {
                        if p.len() > 1 && aliases.contains(&p[0].as_str()) && !needs.contains(&p[0])
                        {
                            needs.push(p[0].clone());
                        }
                    });
                }
                needs
            })
            .collect()
    }

    /// The fields of create step `index`, evaluated against the triggering record and the
    /// records created so far (`aliases`). A read of an alias not yet created is
    /// [`Code::UnresolvedAlias`].
    pub fn create_fields(
        &self,
        plan: &Plan,
        index: usize,
        record: &Record,
        aliases: &Aliases,
        now: OffsetDateTime,
    ) -> Result<SfWrites, EvalError> {
        let Some(create) = self.creates.get(index) else {
            return Ok(SfWrites::default());
        };
        self.assign(plan, &create.assignments, record, aliases, now)
    }

    /// The fields of the triggering record to set once every create is done.
    pub fn set_fields(
        &self,
        plan: &Plan,
        record: &Record,
        aliases: &Aliases,
        now: OffsetDateTime,
    ) -> Result<SfWrites, EvalError> {
        self.assign(plan, &self.sets, record, aliases, now)
    }

    fn assign(
        &self,
        plan: &Plan,
        assignments: &[AssignPlan],
        record: &Record,
        aliases: &Aliases,
        now: OffsetDateTime,
    ) -> Result<SfWrites, EvalError> {
        let env = RuleEnv {
            plan,
            record,
            aliases,
            rule: self,
            today: today_of(now),
        };
        let mut out = SfWrites::default();
        for a in assignments {
            let v = transform::evaluate(&a.value, &env, Flow::ToSalesforce)
                .map_err(|e| e.with_field(&a.field).with_origin(&a.origin))?;
            out.fields
                .insert(a.field.clone(), salesforce::write_untyped(&v));
        }
        Ok(out)
    }
}

/// A field change copied to a record a rule created.
#[derive(Clone, Debug, PartialEq)]
pub struct PropagateWrite {
    /// The rule.
    pub rule: String,
    /// The created record's alias; the runner looks up its Id for this record and rule and
    /// skips the write when the rule never fired for it.
    pub alias: String,
    /// The created record's sObject.
    pub sobject: SObjectName,
    /// Its field.
    pub field: String,
    /// The value.
    pub value: Json,
}

/// The propagation writes a record change causes (for every rule; see [`PropagateWrite`]).
pub fn propagations(
    plan: &Plan,
    old: &Record,
    new: &Record,
    now: OffsetDateTime,
) -> Result<Vec<PropagateWrite>, EvalError> {
    let env = RecordEnv::new(plan, new, today_of(now));
    let mut out = Vec::new();
    for r in &plan.rules {
        for p in &r.propagates {
            let path = [p.from.clone()];
            let before = record_value(plan, old, &path)?;
            let after = record_value(plan, new, &path)?;
            let kind = after
                .kind()
                .or(before.kind())
                .unwrap_or(crmmap_dsl::model::Kind::Text);
            if before.same_as(&after, kind) {
                continue;
            }
            let mut v = after;
            for s in &p.steps {
                v = apply(s, v, Flow::ToSalesforce, &env)?;
            }
            // The checker makes every alias name a create of the rule.
            let Some(sobject) = r
                .creates
                .iter()
                .find(|c| c.alias == p.alias)
                .map(|c| c.sobject.clone())
            else {
                continue;
            };
            out.push(PropagateWrite {
                rule: r.name.clone(),
                alias: p.alias.clone(),
                sobject,
                field: p.to.clone(),
                value: salesforce::write_untyped(&v),
            });
        }
    }
    Ok(out)
}
