//! Evaluation: pure, deterministic functions from a plan and a change to the writes it needs.
//!
//! Nothing here reads a clock: `now` comes from the caller, and `today` in expressions is its
//! UTC date. Writes only contain what differs from what the other side already holds, so an
//! unchanged record or column yields no writes (echo suppression for free).

use std::collections::BTreeMap;

use serde_json::Value as Json;
use time::{Date, OffsetDateTime};

use crate::error::{Code, EvalError};
use crate::plan::{AssignPlan, DeletePlan, Plan, RulePlan};
use crate::transform::{self, Env, Flow, apply, today_of};
use crate::value::{Value, monday, salesforce};

/// A Salesforce record as the REST API returns it (field name → JSON value).
pub type Record = serde_json::Map<String, Json>;

/// What the monday side holds for an item: the values last synced, or read now.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prior {
    /// The item name.
    pub name: Option<String>,
    /// Column values (in each column's kind); a column that is absent is unknown and treated
    /// as empty.
    pub columns: BTreeMap<String, Value>,
    /// Per board-relation column, the Salesforce Id of the record it links to (`None` when
    /// linked to nothing).
    pub links: BTreeMap<String, Option<String>>,
}

/// A monday item: its name and column values (in each column's kind).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Item {
    /// The item name.
    pub name: String,
    /// Column values.
    pub columns: BTreeMap<String, Value>,
}

/// What to write to a monday item.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ItemWrites {
    /// The new item name, when it changes.
    pub name: Option<String>,
    /// `column_values` for `create_item` / `change_multiple_column_values`.
    pub column_values: BTreeMap<String, Json>,
    /// Board-relation columns to point at the items of these records.
    pub links: Vec<LinkWrite>,
    /// Whether some written status/dropdown column may create missing labels.
    pub create_labels: bool,
}

impl ItemWrites {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.column_values.is_empty() && self.links.is_empty()
    }
}

/// A board-relation column to set: the runner finds the item of `record_id` on the target board
/// and writes `{"item_ids":[…]}`; `None` clears the column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkWrite {
    /// The board-relation column.
    pub column: String,
    /// The linked object's name.
    pub target: String,
    /// The linked record's Id, or `None` to clear.
    pub record_id: Option<String>,
}

/// Field values to write to a Salesforce record.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SfWrites {
    /// Field → JSON value, in field name order.
    pub fields: BTreeMap<String, Json>,
}

impl SfWrites {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The record as it will be once these writes are applied.
    pub fn apply_to(&self, record: &Record) -> Record {
        let mut out = record.clone();
        for (k, v) in &self.fields {
            out.insert(k.clone(), v.clone());
        }
        out
    }

    /// The writes as a JSON object (a request body for an sObject update).
    pub fn to_json(&self) -> Json {
        Json::Object(
            self.fields
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }
}

/// Reads a record field for an expression: typed when the plan maps the field, else by the
/// JSON's own kind. Dotted paths read relationship fields (`Account.Name`).
fn record_value(plan: &Plan, record: &Record, path: &[String]) -> Result<Value, EvalError> {
    let Some((first, rest)) = path.split_first() else {
        return Ok(Value::Null);
    };
    let mut json = record.get(first);
    for p in rest {
        json = json.and_then(|j| j.get(p));
    }
    let Some(json) = json else {
        return Ok(Value::Null);
    };
    match plan.field_for_sf_field(&path.join(".")) {
        Some(f) => salesforce::read(f.field_type, json).map_err(|e| f.locate(e)),
        None => Ok(salesforce::read_untyped(json)),
    }
}

/// A Salesforce record as expressions see it: fields read typed when the plan maps them,
/// dotted paths through relationships, `today` as given.
pub struct RecordEnv<'a> {
    plan: &'a Plan,
    record: &'a Record,
    today: Date,
}

impl<'a> RecordEnv<'a> {
    /// The environment of `record` under `plan`.
    pub fn new(plan: &'a Plan, record: &'a Record, today: Date) -> RecordEnv<'a> {
        RecordEnv {
            plan,
            record,
            today,
        }
    }
}

impl Env for RecordEnv<'_> {
    fn get(&self, path: &[String]) -> Result<Value, EvalError> {
        if path.is_empty() {
            return Ok(Value::Null);
        }
        record_value(self.plan, self.record, path)
    }

    fn today(&self) -> Date {
        self.today
    }
}

/// The environment of monday → Salesforce expressions: the item name as `name`, and fields
/// computed so far.
struct ItemEnv<'a> {
    name: &'a str,
    fields: &'a BTreeMap<String, Value>,
    today: Date,
}

impl Env for ItemEnv<'_> {
    fn get(&self, path: &[String]) -> Result<Value, EvalError> {
        match path {
            [one] if one == "name" => Ok(if self.name.is_empty() {
                Value::Null
            } else {
                Value::text(self.name)
            }),
            [one] => Ok(self.fields.get(one).cloned().unwrap_or(Value::Null)),
            _ => Ok(Value::Null),
        }
    }

    fn today(&self) -> Date {
        self.today
    }
}

/// Writes an assignment's value: typed when the plan maps the field, else by the value's kind.
fn assigned_json(plan: &Plan, a: &AssignPlan, v: &Value) -> Result<Json, EvalError> {
    let located = |e: EvalError| e.with_field(&a.field).with_origin(&a.origin);
    match plan.field_for_sf_field(&a.field) {
        Some(f) => salesforce::write(f.field_type, v).map_err(located),
        None => Ok(salesforce::write_untyped(v)),
    }
}

/// A Salesforce record → the writes its monday item needs.
///
/// Only values that differ from `prior` are written; with no prior, only non-empty values are.
/// Fields missing from the record (not selected) are left alone. The key column gets the record
/// Id; the name comes from the name rule (`None` when it is empty: a runner creating the item
/// must pick a name itself); `<-` links become [`LinkWrite`]s, and an empty reference clears
/// the column unless the column also sends links to Salesforce through another field.
pub fn record_to_item(
    plan: &Plan,
    record: &Record,
    prior: Option<&Prior>,
    now: OffsetDateTime,
) -> Result<ItemWrites, EvalError> {
    let env = RecordEnv {
        plan,
        record,
        today: today_of(now),
    };
    let empty = Prior::default();
    let prior = prior.unwrap_or(&empty);
    let mut out = ItemWrites::default();

    if let Some(id) = record.get("Id").and_then(Json::as_str) {
        let id = Value::text(id);
        if !prior
            .columns
            .get(&plan.key_column)
            .is_some_and(|p| p.same_as(&id, crmmap_dsl::model::Kind::Text))
        {
            out.column_values
                .insert(plan.key_column.clone(), Json::String(id.display()));
        }
    }
    if let Some(expr) = &plan.name_to_monday {
        let name = transform::evaluate(expr, &env, Flow::ToMonday)
            .map_err(|e| e.with_origin(&plan.origin))?
            .convert(crmmap_dsl::model::Kind::Text)
            .map_err(|e| e.with_origin(&plan.origin))?
            .display();
        let name = monday::item_name(&name);
        if !name.is_empty() && prior.name.as_deref() != Some(name.as_str()) {
            out.name = Some(name);
        }
    }
    for f in plan.fields_to_monday() {
        let Some(json) = record.get(&f.field) else {
            continue;
        };
        let sf = salesforce::read(f.field_type, json).map_err(|e| f.locate(e))?;
        let value = f.value_to_monday(sf, &env)?;
        let before = prior.columns.get(&f.column).unwrap_or(&Value::Null);
        if value.same_as(before, f.column_kind()) {
            continue;
        }
        out.column_values.insert(
            f.column.clone(),
            monday::write(f.column_type, &value).map_err(|e| f.locate(e))?,
        );
        out.create_labels |= f.create_labels;
    }
    for l in plan.links.iter().filter(|l| l.direction.to_monday()) {
        let Some(json) = record.get(&l.via) else {
            continue;
        };
        let id = json.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
        // A column that also sends links to Salesforce through another field holds links made
        // on monday: an empty reference here does not clear them.
        let shared = plan
            .links
            .iter()
            .any(|o| o.column == l.column && o.direction.to_salesforce() && o.via != l.via);
        if id.is_none() && shared {
            continue;
        }
        let before = prior.links.get(&l.column).cloned().unwrap_or(None);
        if id != before {
            out.links.push(LinkWrite {
                column: l.column.clone(),
                target: l.target.clone(),
                record_id: id,
            });
        }
    }
    Ok(out)
}

/// A new monday item → the fields of the Salesforce record to create: mapped non-empty
/// columns, then the name rule, the record type, then `on_create` values (which override).
pub fn item_to_create(
    plan: &Plan,
    item: &Item,
    now: OffsetDateTime,
) -> Result<SfWrites, EvalError> {
    let today = today_of(now);
    let mut values: BTreeMap<String, Value> = BTreeMap::new();
    let mut out = SfWrites::default();
    for f in plan.fields_to_salesforce() {
        let Some(v) = item.columns.get(&f.column) else {
            continue;
        };
        if v.is_empty() {
            continue;
        }
        let env = ItemEnv {
            name: &item.name,
            fields: &values,
            today,
        };
        let sf = f.value_to_salesforce(v.clone(), &env)?;
        if sf.is_empty() {
            continue;
        }
        out.fields.insert(
            f.field.clone(),
            salesforce::write(f.field_type, &sf).map_err(|e| f.locate(e))?,
        );
        values.insert(f.field.clone(), sf);
    }
    assign_all(
        plan,
        &plan.name_to_salesforce,
        &item.name,
        &mut values,
        &mut out,
        today,
    )?;
    if let Some(rt) = &plan.record_type {
        out.fields
            .insert("RecordTypeId".to_owned(), Json::String(rt.clone()));
        values.insert("RecordTypeId".to_owned(), Value::text(rt));
    }
    assign_all(
        plan,
        &plan.on_create,
        &item.name,
        &mut values,
        &mut out,
        today,
    )?;
    Ok(out)
}

fn assign_all(
    plan: &Plan,
    assignments: &[AssignPlan],
    name: &str,
    values: &mut BTreeMap<String, Value>,
    out: &mut SfWrites,
    today: Date,
) -> Result<(), EvalError> {
    for a in assignments {
        let env = ItemEnv {
            name,
            fields: values,
            today,
        };
        let v = transform::evaluate(&a.value, &env, Flow::ToSalesforce)
            .map_err(|e| e.with_field(&a.field).with_origin(&a.origin))?;
        out.fields
            .insert(a.field.clone(), assigned_json(plan, a, &v)?);
        values.insert(a.field.clone(), v);
    }
    Ok(())
}

/// A monday column change → the one field it updates; `None` when the column is not mapped
/// towards Salesforce, when the value did not change, or when Salesforce already holds it
/// (`current`, the field's current or last-synced JSON).
pub fn column_change(
    plan: &Plan,
    column: &str,
    new: &Value,
    old: &Value,
    current: Option<&Json>,
    now: OffsetDateTime,
) -> Result<Option<SfWrites>, EvalError> {
    let Some(f) = plan.fields_to_salesforce().find(|f| f.column == column) else {
        return Ok(None);
    };
    if new.same_as(old, f.column_kind()) {
        return Ok(None);
    }
    let env = ItemEnv {
        name: "",
        fields: &BTreeMap::new(),
        today: today_of(now),
    };
    let sf = f.value_to_salesforce(new.clone(), &env)?;
    let json = salesforce::write(f.field_type, &sf).map_err(|e| f.locate(e))?;
    if let Some(current) = current {
        // Compare what Salesforce would store (an int field rounds) with what it holds.
        let held = salesforce::read(f.field_type, current).map_err(|e| f.locate(e))?;
        let stored = salesforce::read(f.field_type, &json).map_err(|e| f.locate(e))?;
        if held.same_as(&stored, f.field_kind()) {
            return Ok(None);
        }
    }
    let mut out = SfWrites::default();
    out.fields.insert(f.field.clone(), json);
    Ok(Some(out))
}

/// An item rename → the fields the name rule sets (empty when the object has none).
pub fn rename(plan: &Plan, new_name: &str, now: OffsetDateTime) -> Result<SfWrites, EvalError> {
    let mut out = SfWrites::default();
    let mut values = BTreeMap::new();
    assign_all(
        plan,
        &plan.name_to_salesforce,
        new_name,
        &mut values,
        &mut out,
        today_of(now),
    )?;
    Ok(out)
}

/// A board-relation change → the reference field update: the last added record's Id, or
/// `null` when links were only removed. `None` when the column is not a `->` link or nothing
/// changed. `added` and `removed` are the Salesforce Ids of the linked items' records.
pub fn link_change(
    plan: &Plan,
    column: &str,
    added: &[String],
    removed: &[String],
) -> Option<SfWrites> {
    let link = plan
        .links
        .iter()
        .find(|l| l.column == column && l.direction.to_salesforce())?;
    let value = match (added.last(), removed.is_empty()) {
        (Some(id), _) => Json::String(id.clone()),
        (None, false) => Json::Null,
        (None, true) => return None,
    };
    let mut out = SfWrites::default();
    out.fields.insert(link.via.clone(), value);
    Some(out)
}

/// What a deleted or archived item does to its record.
#[derive(Clone, Debug, PartialEq)]
pub enum DeleteAction {
    /// Log it and leave the record alone.
    Log,
    /// Delete the record.
    Delete,
    /// Update the record.
    Update(SfWrites),
}

/// The action for a deleted or archived item (`name` is its last name, readable as `name`).
pub fn on_delete(plan: &Plan, name: &str, now: OffsetDateTime) -> Result<DeleteAction, EvalError> {
    Ok(match &plan.on_delete {
        DeletePlan::Log => DeleteAction::Log,
        DeletePlan::Delete => DeleteAction::Delete,
        DeletePlan::Set(assignments) => {
            let mut out = SfWrites::default();
            assign_all(
                plan,
                assignments,
                name,
                &mut BTreeMap::new(),
                &mut out,
                today_of(now),
            )?;
            DeleteAction::Update(out)
        }
    })
}

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
    pub sobject: String,
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
    let env = RecordEnv {
        plan,
        record: new,
        today: today_of(now),
    };
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
            let sobject = r
                .creates
                .iter()
                .find(|c| c.alias == p.alias)
                .map_or_else(String::new, |c| c.sobject.clone());
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

/// Reads an item's API `column_values` (objects with `id`, `type`, `text`, `value`, …) into an
/// [`Item`], keeping the columns the plan reads; each is read with the plan's column type.
/// `labels` gives status/dropdown settings by column id, for values that only carry ids.
pub fn item_from_api(
    plan: &Plan,
    name: &str,
    column_values: &[Json],
    labels: &BTreeMap<String, monday::LabelSettings>,
) -> Result<Item, EvalError> {
    let mut item = Item {
        name: name.to_owned(),
        columns: BTreeMap::new(),
    };
    for cv in column_values {
        let Some(id) = cv.get("id").and_then(Json::as_str) else {
            continue;
        };
        let column_type = if id == plan.key_column {
            crmmap_dsl::model::ColumnType::Text
        } else if let Some(f) = plan.field_for_column(id) {
            f.column_type
        } else if plan.link_for_column(id).is_some() {
            crmmap_dsl::model::ColumnType::BoardRelation
        } else {
            continue;
        };
        let read = monday::ColumnRead::from_api(cv).map_err(|e| e.with_column(id))?;
        let value =
            monday::read(column_type, &read, labels.get(id)).map_err(|e| e.with_column(id))?;
        item.columns.insert(id.to_owned(), value);
    }
    Ok(item)
}

impl Prior {
    /// What monday holds for an item read now.
    pub fn from_item(item: &Item) -> Prior {
        Prior {
            name: Some(item.name.clone()),
            columns: item.columns.clone(),
            links: BTreeMap::new(),
        }
    }
}

/// A webhook `update_column_value` → the field update, reading `value` and `previousValue`
/// with the plan's column type (the webhook's legacy `columnType` is not needed).
pub fn webhook_column_change(
    plan: &Plan,
    column: &str,
    value: &Json,
    previous: &Json,
    current: Option<&Json>,
    labels: Option<&monday::LabelSettings>,
    now: OffsetDateTime,
) -> Result<Option<SfWrites>, EvalError> {
    let Some(f) = plan.fields_to_salesforce().find(|f| f.column == column) else {
        return Ok(None);
    };
    let new = monday::read_webhook(f.column_type, value, labels).map_err(|e| f.locate(e))?;
    let old = monday::read_webhook(f.column_type, previous, labels).map_err(|e| f.locate(e))?;
    column_change(plan, column, &new, &old, current, now)
}

/// A change, from either side.
#[derive(Clone, Copy, Debug)]
pub enum Change<'a> {
    /// A Salesforce record was created or changed; `prior` is what its item holds.
    Record {
        /// The record.
        record: &'a Record,
        /// What monday holds (none for a new item).
        prior: Option<&'a Prior>,
    },
    /// A monday item was created.
    ItemCreated(&'a Item),
    /// A monday column changed.
    ColumnChanged {
        /// The column id.
        column: &'a str,
        /// The new value.
        value: &'a Value,
        /// The value before.
        previous: &'a Value,
        /// The field's current Salesforce JSON, when known.
        current: Option<&'a Json>,
    },
    /// A monday item was renamed.
    Renamed(&'a str),
    /// Items were linked or unlinked in a board-relation column (Salesforce Ids of their records).
    LinksChanged {
        /// The board-relation column.
        column: &'a str,
        /// Records linked.
        added: &'a [String],
        /// Records unlinked.
        removed: &'a [String],
    },
    /// A monday item was deleted or archived (its last name).
    ItemDeleted(&'a str),
}

/// What a change needs written.
#[derive(Clone, Debug, PartialEq)]
pub enum Writes {
    /// Nothing.
    Nothing,
    /// Update or create the monday item.
    Item(ItemWrites),
    /// Create a Salesforce record.
    CreateRecord(SfWrites),
    /// Update the Salesforce record.
    UpdateRecord(SfWrites),
    /// Delete the Salesforce record.
    DeleteRecord,
}

/// The one entry point: a change → the writes it needs. Pure and deterministic.
pub fn evaluate(plan: &Plan, change: Change<'_>, now: OffsetDateTime) -> Result<Writes, EvalError> {
    let update = |w: SfWrites| {
        if w.is_empty() {
            Writes::Nothing
        } else {
            Writes::UpdateRecord(w)
        }
    };
    Ok(match change {
        Change::Record { record, prior } => {
            let w = record_to_item(plan, record, prior, now)?;
            if w.is_empty() {
                Writes::Nothing
            } else {
                Writes::Item(w)
            }
        }
        Change::ItemCreated(item) => Writes::CreateRecord(item_to_create(plan, item, now)?),
        Change::ColumnChanged {
            column,
            value,
            previous,
            current,
        } => column_change(plan, column, value, previous, current, now)?
            .map_or(Writes::Nothing, update),
        Change::Renamed(name) => update(rename(plan, name, now)?),
        Change::LinksChanged {
            column,
            added,
            removed,
        } => link_change(plan, column, added, removed).map_or(Writes::Nothing, update),
        Change::ItemDeleted(name) => match on_delete(plan, name, now)? {
            DeleteAction::Log => Writes::Nothing,
            DeleteAction::Delete => Writes::DeleteRecord,
            DeleteAction::Update(w) => update(w),
        },
    })
}
