//! Running a case: its change goes through the engine's own entry points ([`evaluate`] and the
//! rule functions) against the compiled plans, and what they write is compared with what the
//! case expects.

use std::collections::BTreeMap;
use std::ops::Range;

use crmmap_dsl::model::{Kind, Origin, SfType, Step};
use crmmap_ids::{ColumnId, ObjectName};
use serde_json::Value as Json;
use time::OffsetDateTime;

use super::file::{Case, Expect, Given, Input, Values};
use super::values::{same_json, show_json, show_value, toml_to_json, toml_to_value};
use crate::error::EvalError;
use crate::eval::{
    Aliases, Change, Item, ItemUpdate, Record, Writes, evaluate, propagations, rules_fired,
};
use crate::plan::{FieldPlan, Plan, PlanSet, StepPlan};
use crate::value::Value;

/// The part of the mappings that produced (or should have produced) a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blame {
    /// A declaration: a field, an assignment, a link, a rule, an object.
    At(Origin),
    /// The object's `name` rule towards monday (`name <- …` or `name <-> Field`).
    NameRule {
        /// The object.
        object: ObjectName,
    },
    /// The object's `key` column.
    Key {
        /// The object.
        object: ObjectName,
    },
    /// A translate table the value went through; `values` are the texts involved (expected,
    /// actual and given), so that the entries that mention them can be shown.
    Table {
        /// The table's name.
        table: String,
        /// Texts involved.
        values: Vec<String>,
    },
}

/// One write that differs from the case's expectation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// What was written: `column `x``, `field `Company``, `item name`, …
    pub what: String,
    /// The expected value as written in the test (`None`: expected no write).
    pub expected: Option<String>,
    /// The value written (`None`: not written).
    pub actual: Option<String>,
    /// Where the test file states the expectation.
    pub span: Range<usize>,
    /// What in the mappings produced the value.
    pub blame: Vec<Blame>,
}

/// A case that could not run: a name the mappings do not have, a value the column cannot
/// hold, or an evaluation error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseError {
    /// One line, lowercase, no final period.
    pub message: String,
    /// Where in the test file.
    pub span: Range<usize>,
    /// What in the mappings failed, when known.
    pub blame: Vec<Blame>,
}

/// How a case ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every expectation held.
    Passed,
    /// These writes differ.
    Failed(Vec<Mismatch>),
    /// The case could not run.
    Error(CaseError),
}

impl Outcome {
    /// Whether the case passed.
    pub fn passed(&self) -> bool {
        matches!(self, Outcome::Passed)
    }
}

/// What the placeholder Id of a record a rule creates looks like: `<alias.Id>`.
pub fn created_id(alias: &str) -> String {
    format!("<{alias}.Id>")
}

/// Runs one case against the plans.
pub fn run_case(plans: &PlanSet, case: &Case) -> Outcome {
    let Some(plan) = plans.plan(&case.object) else {
        let known: Vec<&str> = plans.plans.iter().map(|p| p.object.as_str()).collect();
        return Outcome::Error(CaseError {
            message: format!(
                "the mappings have no object `{}` (they have {})",
                case.object,
                known.join(", ")
            ),
            span: case.object_span.clone(),
            blame: Vec::new(),
        });
    };
    let now = case.today.midnight().assume_utc();
    let mut cx = Cx {
        plan,
        plans,
        case,
        out: Vec::new(),
    };
    let run = match &case.input {
        Input::SalesforceToMonday { record } => cx.record_change(record, now),
        Input::ColumnChange {
            column,
            column_span,
            value,
            previous,
        } => cx.column_change(column, column_span, value, previous.as_ref(), now),
        Input::Rename { name } => cx.writes(&Change::Renamed(name), now),
        Input::ItemCreated { name, columns } => cx.item_created(name, columns, now),
        Input::Rule { record, change } => cx.rule(record, change, now),
    };
    match run {
        Err(e) => Outcome::Error(e),
        Ok(()) if cx.out.is_empty() => Outcome::Passed,
        Ok(()) => Outcome::Failed(cx.out),
    }
}

struct Cx<'a> {
    plan: &'a Plan,
    plans: &'a PlanSet,
    case: &'a Case,
    out: Vec<Mismatch>,
}

impl Cx<'_> {
    fn eval_error(&self, e: EvalError, span: Range<usize>) -> CaseError {
        CaseError {
            message: e.to_string(),
            span,
            blame: e.origin.map(Blame::At).into_iter().collect(),
        }
    }

    fn given_error(&self, e: EvalError, given: &Given) -> CaseError {
        CaseError {
            message: e.message,
            span: given.span.clone(),
            blame: Vec::new(),
        }
    }

    fn record(&self, values: &Values) -> Result<Record, CaseError> {
        values
            .iter()
            .map(|(k, v)| {
                Ok((
                    k.clone(),
                    toml_to_json(&v.value).map_err(|e| self.given_error(e, v))?,
                ))
            })
            .collect()
    }

    fn record_change(&mut self, record: &Values, now: OffsetDateTime) -> Result<(), CaseError> {
        let record = self.record(record)?;
        let writes = evaluate(
            self.plan,
            Change::Record {
                record: &record,
                prior: None,
            },
            now,
        )
        .map_err(|e| self.eval_error(e, self.case.span.clone()))?;
        let update = match writes {
            Writes::Item(u) => u,
            _ => ItemUpdate::default(),
        };
        let e = &self.case.expect;
        let mut name = BTreeMap::new();
        if let Some(n) = update.writes.name.clone() {
            name.insert(String::new(), n);
        }
        let mut expected_name = Values::new();
        if let Some(n) = &e.name {
            expected_name.insert(String::new(), n.clone());
        }
        let object = self.plan.object.clone();
        self.compare(
            &expected_name,
            &name,
            |_| "item name".to_owned(),
            |_, exp, act| Ok(exp.value.as_str() == Some(act.as_str())),
            |n| show_json(&Json::String(n.clone())),
            |_, _, _| {
                vec![Blame::NameRule {
                    object: object.clone(),
                }]
            },
        )?;
        let columns: BTreeMap<String, Value> = update
            .writes
            .column_values
            .keys()
            .map(|c| {
                (
                    c.to_string(),
                    update.values.columns.get(c).cloned().unwrap_or(Value::Null),
                )
            })
            .collect();
        let plan = self.plan;
        self.compare(
            &e.columns,
            &columns,
            |c| format!("column `{c}`"),
            |c, exp, act| {
                let kind = column_kind(plan, c);
                let want = toml_to_value(&exp.value, kind)?;
                Ok(want.same_as(act, kind))
            },
            show_value,
            |c, exp, act| column_blame(plan, c, exp, act),
        )?;
        let links: BTreeMap<String, String> = update
            .writes
            .links
            .iter()
            .map(|l| {
                (
                    l.column.to_string(),
                    l.record_id.clone().unwrap_or_default(),
                )
            })
            .collect();
        self.compare(
            &e.links,
            &links,
            |c| format!("link column `{c}`"),
            |_, exp, act| Ok(exp.value.as_str() == Some(act.as_str())),
            |id| show_json(&Json::String(id.clone())),
            |c, _, _| {
                plan.link_for_column(c)
                    .map(|l| Blame::At(l.origin.clone()))
                    .into_iter()
                    .collect()
            },
        )
    }

    fn column_change(
        &mut self,
        column: &str,
        column_span: &Range<usize>,
        value: &Given,
        previous: Option<&Given>,
        now: OffsetDateTime,
    ) -> Result<(), CaseError> {
        let Some(f) = self.plan.field_for_column(column) else {
            return Err(CaseError {
                message: format!("`{}` maps no column `{column}`", self.plan.object),
                span: column_span.clone(),
                blame: vec![Blame::At(self.plan.origin.clone())],
            });
        };
        let kind = f.column_kind();
        let new = toml_to_value(&value.value, kind).map_err(|e| self.given_error(e, value))?;
        let old = match previous {
            Some(p) => toml_to_value(&p.value, kind).map_err(|e| self.given_error(e, p))?,
            None => Value::Null,
        };
        self.writes(
            &Change::ColumnChanged {
                column: &f.column,
                value: &new,
                previous: &old,
                current: None,
            },
            now,
        )
    }

    fn item_created(
        &mut self,
        name: &str,
        columns: &Values,
        now: OffsetDateTime,
    ) -> Result<(), CaseError> {
        let mut item = Item {
            name: name.to_owned(),
            columns: BTreeMap::new(),
        };
        for (c, v) in columns {
            let kind = if *c == self.plan.key_column {
                Kind::Text
            } else if let Some(f) = self.plan.field_for_column(c) {
                f.column_kind()
            } else {
                return Err(CaseError {
                    message: format!("`{}` maps no column `{c}`", self.plan.object),
                    span: v.span.clone(),
                    blame: vec![Blame::At(self.plan.origin.clone())],
                });
            };
            let value = toml_to_value(&v.value, kind).map_err(|e| self.given_error(e, v))?;
            item.columns.insert(ColumnId::from(c.as_str()), value);
        }
        self.writes(&Change::ItemCreated(&item), now)
    }

    /// A monday change → the fields written to its record, compared with `fields`.
    fn writes(&mut self, change: &Change<'_>, now: OffsetDateTime) -> Result<(), CaseError> {
        let writes = evaluate(self.plan, *change, now)
            .map_err(|e| self.eval_error(e, self.case.span.clone()))?;
        let fields = match writes {
            Writes::UpdateRecord(w) | Writes::CreateRecord(w) => w.fields,
            _ => BTreeMap::new(),
        };
        let plan = self.plan;
        self.sf_fields(
            plan,
            &self.case.expect.fields.clone(),
            &fields,
            "field",
            |f| field_blame(plan, f),
        )
    }

    fn rule(
        &mut self,
        record: &Values,
        change: &Values,
        now: OffsetDateTime,
    ) -> Result<(), CaseError> {
        let old = self.record(record)?;
        let mut new = old.clone();
        new.extend(self.record(change)?);
        let plan = self.plan;
        let fired = rules_fired(plan, &old, &new);
        let e: &Expect = &self.case.expect;
        let names: Vec<String> = fired.iter().map(|r| r.name.clone()).collect();
        if let Some((want, span)) = &e.rules {
            let mut a = names.clone();
            let mut w = want.clone();
            a.sort();
            w.sort();
            if a != w {
                let blame = plan
                    .rules
                    .iter()
                    .map(|r| Blame::At(r.origin.clone()))
                    .collect();
                self.out.push(Mismatch {
                    what: "rules fired".into(),
                    expected: Some(show_names(want)),
                    actual: Some(show_names(&names)),
                    span: span.clone(),
                    blame,
                });
            }
        } else if !self.case.only_listed && !names.is_empty() {
            self.out.push(Mismatch {
                what: "rules fired".into(),
                expected: None,
                actual: Some(show_names(&names)),
                span: self.case.expect_span.clone(),
                blame: fired.iter().map(|r| Blame::At(r.origin.clone())).collect(),
            });
        }
        let span = self.case.span.clone();
        let mut created: BTreeMap<String, (String, BTreeMap<String, Json>)> = BTreeMap::new();
        let mut sets = BTreeMap::new();
        for r in &fired {
            let mut aliases = Aliases::new();
            for (i, c) in r.creates.iter().enumerate() {
                let fields = r
                    .create_fields(plan, i, &new, &aliases, now)
                    .map_err(|e| self.eval_error(e, span.clone()))?;
                let mut rec = Record::new();
                rec.insert("Id".into(), Json::String(created_id(&c.alias)));
                rec.extend(fields.fields.clone());
                aliases.insert(c.alias.clone(), rec);
                created.insert(c.alias.clone(), (c.object.to_string(), fields.fields));
            }
            let set = r
                .set_fields(plan, &new, &aliases, now)
                .map_err(|e| self.eval_error(e, span.clone()))?;
            sets.extend(set.fields);
        }
        let expected_creates = self.case.expect.creates.clone();
        for (alias, want) in &expected_creates {
            if !created.contains_key(alias) {
                let first = want
                    .values()
                    .next()
                    .map_or(self.case.expect_span.clone(), |g| g.span.clone());
                self.out.push(Mismatch {
                    what: format!("record `{alias}`"),
                    expected: Some("created".into()),
                    actual: None,
                    span: first,
                    blame: plan
                        .rules
                        .iter()
                        .map(|r| Blame::At(r.origin.clone()))
                        .collect(),
                });
            }
        }
        for (alias, (object, fields)) in &created {
            let target = self.plans.plan(object).unwrap_or(plan);
            let empty = Values::new();
            let want = match expected_creates.get(alias) {
                Some(w) => w,
                None if self.case.only_listed => continue,
                None => &empty,
            };
            let what = format!("`{alias}` field");
            self.sf_fields(target, want, fields, &what, |f| {
                rule_blame(plan, |c| c.alias == *alias, f)
            })?;
        }
        self.sf_fields(
            plan,
            &self.case.expect.fields.clone(),
            &sets,
            "field",
            |f| {
                plan.rules
                    .iter()
                    .flat_map(|r| &r.sets)
                    .filter(|a| a.field == f)
                    .map(|a| Blame::At(a.origin.clone()))
                    .collect()
            },
        )?;
        let props: BTreeMap<String, Json> = propagations(plan, &old, &new, now)
            .map_err(|e| self.eval_error(e, span))?
            .into_iter()
            .map(|p| (format!("{}.{}", p.alias, p.field), p.value))
            .collect();
        let want = self.case.expect.propagates.clone();
        self.compare(
            &want,
            &props,
            |k| format!("propagated `{k}`"),
            |_, exp, act| Ok(same_json(None, &toml_to_json(&exp.value)?, act)),
            show_json,
            |_, _, _| {
                plan.rules
                    .iter()
                    .map(|r| Blame::At(r.origin.clone()))
                    .collect()
            },
        )
    }

    /// Compares Salesforce fields; values compare with the field's type in `target`'s plan
    /// when it declares the field.
    fn sf_fields(
        &mut self,
        target: &Plan,
        want: &Values,
        actual: &BTreeMap<String, Json>,
        label: &str,
        blame: impl Fn(&str) -> Vec<Blame>,
    ) -> Result<(), CaseError> {
        self.compare(
            want,
            actual,
            |f| format!("{label} `{f}`"),
            |key, exp, act| {
                let field_type: Option<SfType> =
                    target.field_for_sf_field(key).map(|f| f.field_type);
                Ok(same_json(field_type, &toml_to_json(&exp.value)?, act))
            },
            show_json,
            |f, exp, act| {
                let mut b = blame(f);
                add_table_values(&mut b, exp, act);
                b
            },
        )
    }

    /// Compares expected and actual values of one kind of write. With `expect`, a write not
    /// listed is a mismatch too.
    fn compare<A: Texts>(
        &mut self,
        want: &Values,
        actual: &BTreeMap<String, A>,
        what: impl Fn(&str) -> String,
        same: impl Fn(&str, &Given, &A) -> Result<bool, EvalError>,
        show: impl Fn(&A) -> String,
        blame: impl Fn(&str, Option<&Given>, Option<&A>) -> Vec<Blame>,
    ) -> Result<(), CaseError> {
        for (key, exp) in want {
            match actual.get(key) {
                Some(act) => {
                    let ok = same(key, exp, act).map_err(|e| self.given_error(e, exp))?;
                    if !ok {
                        self.out.push(Mismatch {
                            what: what(key),
                            expected: Some(exp.value.to_string()),
                            actual: Some(show(act)),
                            span: exp.span.clone(),
                            blame: blame(key, Some(exp), Some(act)),
                        });
                    }
                }
                None => self.out.push(Mismatch {
                    what: what(key),
                    expected: Some(exp.value.to_string()),
                    actual: None,
                    span: exp.span.clone(),
                    blame: blame(key, Some(exp), None),
                }),
            }
        }
        if !self.case.only_listed {
            for (key, act) in actual {
                if !want.contains_key(key) {
                    self.out.push(Mismatch {
                        what: what(key),
                        expected: None,
                        actual: Some(show(act)),
                        span: self.case.expect_span.clone(),
                        blame: blame(key, None, Some(act)),
                    });
                }
            }
        }
        Ok(())
    }
}

fn column_kind(plan: &Plan, column: &str) -> Kind {
    plan.field_for_column(column)
        .map_or(Kind::Text, FieldPlan::column_kind)
}

fn show_names(names: &[String]) -> String {
    format!(
        "[{}]",
        names
            .iter()
            .map(|n| show_json(&Json::String(n.clone())))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn tables(steps: &[StepPlan]) -> impl Iterator<Item = String> + '_ {
    steps.iter().filter_map(|s| match s {
        Step::Translate(t) => Some(t.name.clone()),
        _ => None,
    })
}

fn column_blame(plan: &Plan, column: &str, exp: Option<&Given>, act: Option<&Value>) -> Vec<Blame> {
    if column == plan.key_column {
        return vec![Blame::Key {
            object: plan.object.clone(),
        }];
    }
    let mut out = Vec::new();
    if let Some(f) = plan.field_for_column(column) {
        out.push(Blame::At(f.origin.clone()));
        out.extend(tables(&f.steps).map(|table| Blame::Table {
            table,
            values: Vec::new(),
        }));
    }
    add_table_values(&mut out, exp, act);
    out
}

/// Every place that writes Salesforce field `field` of `plan`.
fn field_blame(plan: &Plan, field: &str) -> Vec<Blame> {
    let mut out = Vec::new();
    for f in plan.fields.iter().filter(|f| f.field == field) {
        out.push(Blame::At(f.origin.clone()));
        out.extend(tables(&f.steps).map(|table| Blame::Table {
            table,
            values: Vec::new(),
        }));
    }
    for a in plan
        .name_to_salesforce
        .iter()
        .chain(&plan.on_create)
        .filter(|a| a.field == field)
    {
        out.push(Blame::At(a.origin.clone()));
    }
    if out.is_empty() {
        out.push(Blame::At(plan.origin.clone()));
    }
    out
}

fn rule_blame(
    plan: &Plan,
    create: impl Fn(&crate::plan::CreatePlan) -> bool,
    field: &str,
) -> Vec<Blame> {
    plan.rules
        .iter()
        .flat_map(|r| &r.creates)
        .filter(|c| create(c))
        .flat_map(|c| &c.assignments)
        .filter(|a| a.field == field)
        .map(|a| Blame::At(a.origin.clone()))
        .collect()
}

/// The texts in a value, for finding the translate-table entries that mention it.
pub trait Texts {
    /// Each text (a label, a multi-select value).
    fn texts(&self) -> Vec<String>;
}

impl Texts for Value {
    fn texts(&self) -> Vec<String> {
        match self {
            Value::Labels(l) => l.clone(),
            Value::Text(s) => split(s),
            _ => Vec::new(),
        }
    }
}

impl Texts for Json {
    fn texts(&self) -> Vec<String> {
        match self {
            Json::String(s) => split(s),
            Json::Array(a) => a.iter().flat_map(Texts::texts).collect(),
            _ => Vec::new(),
        }
    }
}

impl Texts for String {
    fn texts(&self) -> Vec<String> {
        vec![self.clone()]
    }
}

fn split(s: &str) -> Vec<String> {
    s.split(';').map(|p| p.trim().to_owned()).collect()
}

/// Fills the texts of the table blames with the expected and actual values.
fn add_table_values(blame: &mut [Blame], exp: Option<&Given>, act: Option<&impl Texts>) {
    let mut texts = Vec::new();
    if let Some(e) = exp {
        collect_texts(&e.value, &mut texts);
    }
    if let Some(a) = act {
        texts.extend(a.texts());
    }
    for b in blame {
        if let Blame::Table { values, .. } = b {
            values.extend(texts.iter().cloned());
        }
    }
}

fn collect_texts(v: &toml::Value, out: &mut Vec<String>) {
    match v {
        toml::Value::String(s) => out.extend(split(s)),
        toml::Value::Array(a) => a.iter().for_each(|x| collect_texts(x, out)),
        _ => {}
    }
}
