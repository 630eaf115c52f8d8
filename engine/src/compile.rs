//! `compile`: checked model → one [`Plan`] per object.
//!
//! Compilation cannot fail: the checker guarantees every name resolves. Should a name be missing
//! anyway (a checker bug), the plan degrades gracefully: an unknown translate table translates
//! nothing, and an unknown link target has board 0.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crmmap_dsl::model::{
    Assignment, DeletePolicy, Expr, Field, Kind, Link, Model, Object, Rule, Step, TranslateTable,
};

use crmmap_dsl::transform::Signature;
use crmmap_ids::{BoardId, ColumnId, ObjectName, SObjectName};

use crate::plan::{
    AssignPlan, CreatePlan, DatePattern, DeletePlan, ExprPlan, Facts, FieldPlan, LinkPlan, Plan,
    PlanSet, PropagatePlan, RulePlan, Select, StepPlan, Table,
};
use crate::value::Number;

/// Fields every select reads, first.
pub const ALWAYS_SELECTED: [&str; 3] = ["Id", "SystemModstamp", "LastModifiedDate"];

/// Compiles a checked model into plans.
pub fn compile(model: &Model) -> PlanSet {
    let cx = Cx {
        model,
        tables: Tables::new(&model.translates),
    };
    let plans: Vec<Plan> = model.objects.iter().map(|o| cx.plan(o)).collect();
    PlanSet {
        order: dependency_order(model),
        plans,
    }
}

fn table(t: &TranslateTable) -> Table {
    let mut to_salesforce = HashMap::new();
    let mut to_monday = HashMap::new();
    for (sf, label) in &t.pairs {
        // The first pair wins in each direction, as declared.
        to_salesforce
            .entry(label.clone())
            .or_insert_with(|| sf.clone());
        to_monday.entry(sf.clone()).or_insert_with(|| label.clone());
    }
    Table {
        name: t.name.clone(),
        to_salesforce,
        to_monday,
    }
}

/// Objects with every link target before the objects linking to it; declaration order otherwise.
/// Objects in a cycle keep their declaration order.
fn dependency_order(model: &Model) -> Vec<ObjectName> {
    let names: Vec<&str> = model.objects.iter().map(|o| o.name.as_str()).collect();
    let parents: Vec<Vec<&str>> = model
        .objects
        .iter()
        .map(|o| {
            o.links
                .iter()
                .map(|l| l.target.as_str())
                .filter(|t| *t != o.name && names.contains(t))
                .collect()
        })
        .collect();
    let mut done: Vec<ObjectName> = Vec::new();
    let mut placed: HashSet<&str> = HashSet::new();
    while done.len() < names.len() {
        let ready = (0..names.len())
            .find(|&i| !placed.contains(names[i]) && parents[i].iter().all(|p| placed.contains(p)))
            // A cycle: take the first object not yet placed.
            .or_else(|| (0..names.len()).find(|&i| !placed.contains(names[i])));
        let Some(i) = ready else { break };
        placed.insert(names[i]);
        done.push(ObjectName::new(names[i]));
    }
    done
}

/// A step with its names resolved against `translates`, as [`compile()`] resolves every step.
pub fn compile_step(step: &Step, translates: &[TranslateTable]) -> StepPlan {
    Tables::new(translates).step(step)
}

struct Cx<'a> {
    model: &'a Model,
    tables: Tables<'a>,
}

/// The translate tables, by name: what steps and expressions need to be resolved.
struct Tables<'a>(HashMap<&'a str, Arc<Table>>);

fn push_unique<T: PartialEq<str> + for<'s> From<&'s str>>(list: &mut Vec<T>, item: &str) {
    if !list.iter().any(|x| x == item) {
        list.push(T::from(item));
    }
}

impl<'a> Tables<'a> {
    fn new(translates: &'a [TranslateTable]) -> Self {
        Tables(
            translates
                .iter()
                .map(|t| (t.name.as_str(), Arc::new(table(t))))
                .collect(),
        )
    }

    fn step(&self, s: &Step) -> StepPlan {
        s.map(
            &mut |name: &String| {
                self.0.get(name.as_str()).cloned().unwrap_or_else(|| {
                    Arc::new(Table {
                        name: name.clone(),
                        to_salesforce: HashMap::new(),
                        to_monday: HashMap::new(),
                    })
                })
            },
            &mut |p: &String| DatePattern::new(p),
            &mut |e: &Expr| self.expr(e),
        )
    }

    fn steps(&self, s: &[Step]) -> Vec<StepPlan> {
        s.iter().map(|s| self.step(s)).collect()
    }

    fn expr(&self, e: &Expr) -> ExprPlan {
        match e {
            Expr::Str(s) => ExprPlan::Str(s.clone()),
            // INVARIANT: the parser only produces finite literals.
            Expr::Number(n) => ExprPlan::Number(Number::from_f64(*n).unwrap_or(Number::ZERO)),
            Expr::Today => ExprPlan::Today,
            Expr::Path(p) => ExprPlan::Path(p.clone()),
            Expr::Concat(parts) => ExprPlan::Concat(parts.iter().map(|p| self.expr(p)).collect()),
            Expr::AddDays(e, n) => ExprPlan::AddDays(Box::new(self.expr(e)), *n),
            Expr::Pipe(e, steps) => ExprPlan::Pipe(Box::new(self.expr(e)), self.steps(steps)),
        }
    }
}

impl Cx<'_> {
    fn assign(&self, a: &Assignment) -> AssignPlan {
        AssignPlan {
            field: a.field.clone(),
            value: self.tables.expr(&a.value),
            origin: a.origin.clone(),
        }
    }

    fn field(&self, o: &Object, f: &Field) -> FieldPlan {
        let steps = self.tables.steps(&f.steps);
        let kinds = step_kinds(f.column_type.kind(), &steps);
        FieldPlan {
            fallible_to_salesforce: fallible_to_salesforce(&kinds, &steps, f.field_type.kind()),
            fallible_to_monday: fallible_to_monday(&kinds, f.field_type.kind()),
            kinds,
            column: ColumnId::new(f.column.as_str()),
            column_type: f.column_type,
            direction: f.direction,
            field: f.field.clone(),
            field_type: f.field_type,
            steps,
            conflict: f.conflict.unwrap_or(o.conflict),
            create_labels: f.create_labels,
            origin: f.origin.clone(),
        }
    }

    fn link(&self, l: &Link) -> LinkPlan {
        let target = self.model.object(&l.target);
        LinkPlan {
            column: ColumnId::new(l.column.as_str()),
            direction: l.direction,
            target: ObjectName::new(l.target.as_str()),
            target_sobject: SObjectName::new(target.map_or(&l.target, |t| &t.sobject).as_str()),
            target_board: BoardId::new(target.map_or(0, |t| t.board)),
            via: l.via.clone(),
            origin: l.origin.clone(),
        }
    }

    fn rule(&self, r: &Rule) -> RulePlan {
        RulePlan {
            name: r.name.clone(),
            when_field: r.when_field.clone(),
            becomes: r.becomes.clone(),
            creates: r
                .creates
                .iter()
                .map(|c| CreatePlan {
                    object: ObjectName::new(c.object.as_str()),
                    sobject: SObjectName::new(
                        self.model
                            .object(&c.object)
                            .map_or(&c.object, |o| &o.sobject)
                            .as_str(),
                    ),
                    alias: c.alias.clone(),
                    assignments: c.assignments.iter().map(|a| self.assign(a)).collect(),
                    origin: c.origin.clone(),
                })
                .collect(),
            sets: r.sets.iter().map(|a| self.assign(a)).collect(),
            propagates: r
                .propagates
                .iter()
                .map(|p| PropagatePlan {
                    from: p.from.clone(),
                    alias: p.alias.clone(),
                    to: p.to.clone(),
                    steps: self.tables.steps(&p.steps),
                })
                .collect(),
            origin: r.origin.clone(),
        }
    }

    fn plan(&self, o: &Object) -> Plan {
        let fields: Vec<FieldPlan> = o.fields.iter().map(|f| self.field(o, f)).collect();
        let name_to_monday = o.name_to_monday.as_ref().map(|e| self.tables.expr(e));
        let name_to_salesforce: Vec<AssignPlan> = o
            .name_to_salesforce
            .iter()
            .map(|a| self.assign(a))
            .collect();
        let on_create: Vec<AssignPlan> = o.on_create.iter().map(|a| self.assign(a)).collect();
        let on_delete = match &o.on_delete {
            DeletePolicy::Log => DeletePlan::Log,
            DeletePolicy::Delete => DeletePlan::Delete,
            DeletePolicy::Set(a) => DeletePlan::Set(a.iter().map(|a| self.assign(a)).collect()),
        };
        let links: Vec<LinkPlan> = o.links.iter().map(|l| self.link(l)).collect();
        let rules: Vec<RulePlan> = o.rules.iter().map(|r| self.rule(r)).collect();

        // What to read from Salesforce.
        let mut select = Vec::new();
        for f in ALWAYS_SELECTED {
            push_unique(&mut select, f);
        }
        for f in fields.iter().filter(|f| f.direction.to_monday()) {
            push_unique(&mut select, &f.field);
        }
        if let Some(e) = &name_to_monday {
            e.for_each_path(&mut |p| push_unique(&mut select, &p.join(".")));
        }
        for l in &links {
            push_unique(&mut select, &l.via);
        }
        for r in &rules {
            push_unique(&mut select, &r.when_field);
            let aliases: Vec<&str> = r.creates.iter().map(|c| c.alias.as_str()).collect();
            let mut record_path = |p: &[String]| {
                if !(p.len() > 1 && aliases.contains(&p[0].as_str())) {
                    push_unique(&mut select, &p.join("."));
                }
            };
            for a in r.creates.iter().flat_map(|c| &c.assignments).chain(&r.sets) {
                a.value.for_each_path(&mut record_path);
            }
            for p in &r.propagates {
                push_unique(&mut select, &p.from);
            }
        }

        // What the plan writes to Salesforce.
        let mut sf_written = Vec::new();
        for f in fields.iter().filter(|f| f.direction.to_salesforce()) {
            push_unique(&mut sf_written, &f.field);
        }
        for a in &name_to_salesforce {
            push_unique(&mut sf_written, &a.field);
        }
        if o.record_type.is_some() {
            push_unique(&mut sf_written, "RecordTypeId");
        }
        for a in &on_create {
            push_unique(&mut sf_written, &a.field);
        }
        if let DeletePlan::Set(assignments) = &on_delete {
            for a in assignments {
                push_unique(&mut sf_written, &a.field);
            }
        }
        for l in links.iter().filter(|l| l.direction.to_salesforce()) {
            push_unique(&mut sf_written, &l.via);
        }
        for a in rules.iter().flat_map(|r| &r.sets) {
            push_unique(&mut sf_written, &a.field);
        }

        // monday columns.
        let key_column = ColumnId::new(o.key_column.as_str());
        let mut monday_read = vec![key_column.clone()];
        for f in fields.iter().filter(|f| f.direction.to_salesforce()) {
            push_unique(&mut monday_read, f.column.as_str());
        }
        for l in links.iter().filter(|l| l.direction.to_salesforce()) {
            push_unique(&mut monday_read, l.column.as_str());
        }
        let mut monday_written = vec![key_column.clone()];
        for f in fields.iter().filter(|f| f.direction.to_monday()) {
            push_unique(&mut monday_written, f.column.as_str());
        }
        for l in links.iter().filter(|l| l.direction.to_monday()) {
            push_unique(&mut monday_written, l.column.as_str());
        }
        let mut creates = Vec::new();
        for c in rules.iter().flat_map(|r| &r.creates) {
            push_unique(&mut creates, c.object.as_str());
        }
        let fallible = fields.iter().any(|f| {
            (f.direction.to_salesforce() && f.fallible_to_salesforce)
                || (f.direction.to_monday() && f.fallible_to_monday)
        });

        let facts = Facts {
            salesforce_read: select.clone(),
            salesforce_written: sf_written,
            monday_read,
            monday_written,
            reads_name: !name_to_salesforce.is_empty(),
            writes_name: name_to_monday.is_some(),
            creates,
            fallible,
        };
        Plan {
            object: ObjectName::new(o.name.as_str()),
            sobject: SObjectName::new(o.sobject.as_str()),
            board: BoardId::new(o.board),
            key_column,
            select: Select {
                fields: select,
                conditions: o.selections.clone(),
            },
            fields,
            name_to_monday,
            name_to_salesforce,
            record_type: o.record_type.clone(),
            on_create,
            on_delete,
            on_salesforce_delete: o.on_salesforce_delete,
            conflict: o.conflict,
            links,
            rules,
            facts,
            origin: o.origin.clone(),
        }
    }
}

/// Whether converting a value of kind `from` to kind `to` can fail.
fn conversion_fallible(from: Kind, to: Kind) -> bool {
    match (from, to) {
        (a, b) if a == b => false,
        (Kind::Number | Kind::Bool | Kind::Date | Kind::DateTime, Kind::Text) => false,
        (Kind::Date, Kind::DateTime) | (Kind::DateTime, Kind::Date) => false,
        (Kind::Text, Kind::Labels) | (Kind::Labels, Kind::Text) => false,
        _ => true,
    }
}

/// The kind a step makes of its input going to Salesforce: its registry entry's signature,
/// with a date pattern that shows a time making a datetime.
fn step_kind(step: &StepPlan, input: Kind) -> Kind {
    match step {
        StepPlan::FormatDate(p) if p.has_time() => Kind::DateTime,
        step => match step.spec().signature {
            Signature::Makes(_, output) => output,
            Signature::Keeps(_) | Signature::Any => input,
        },
    }
}

/// The kinds between the steps: the column's kind, then each step's output going to Salesforce.
fn step_kinds(column: Kind, steps: &[StepPlan]) -> Vec<Kind> {
    let mut kinds = Vec::with_capacity(steps.len() + 1);
    kinds.push(column);
    for s in steps {
        let last = kinds[kinds.len() - 1];
        kinds.push(step_kind(s, last));
    }
    kinds
}

/// Going to Salesforce, parsing can fail in a fallible step (`format_date`) and in the final
/// conversion.
fn fallible_to_salesforce(kinds: &[Kind], steps: &[StepPlan], field: Kind) -> bool {
    steps.iter().any(|s| s.spec().fallible) || conversion_fallible(kinds[kinds.len() - 1], field)
}

/// Going to monday, only the first conversion (from the field's kind into the last step's
/// output kind) can fail; every later kind is what the step before produces.
fn fallible_to_monday(kinds: &[Kind], field: Kind) -> bool {
    let target = kinds[kinds.len() - 1];
    !matches!((field, target), (Kind::DateTime, Kind::Date)) && conversion_fallible(field, target)
}
