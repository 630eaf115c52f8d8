//! Plans: what [`crate::compile()`] makes of a checked model, one [`Plan`] per object.
//!
//! A plan holds everything evaluation needs with names resolved (translate tables are embedded,
//! expression literals are exact numbers), plus static facts the runners use: the SOQL field
//! list and conditions, which fields and columns are read and written, and the order in which
//! objects must be synced so that parents exist before their children.

use std::collections::HashMap;
use std::sync::Arc;

use crmmap_dsl::model::{
    Assignment, ColumnType, ConflictPolicy, DeletePolicy, Direction, Expr, ItemDeletePolicy, Kind,
    Origin, Propagate, SfType, Stage, Step,
};
use crmmap_ids::{BoardId, ColumnId, ObjectName, SObjectName};

use crate::value::Number;

/// Every object's plan, and the order to sync them in.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanSet {
    /// One plan per object, in declaration order.
    pub plans: Vec<Plan>,
    /// Object names with parents (link targets) before children.
    pub order: Vec<ObjectName>,
}

impl PlanSet {
    /// The plan of the object called `name` (an [`ObjectName`] or its text; never an sObject).
    ///
    /// ```
    /// use crmmap_engine::PlanSet;
    /// use crmmap_ids::ObjectName;
    ///
    /// let plans = PlanSet { plans: vec![], order: vec![] };
    /// assert!(plans.plan("Grant").is_none());
    /// assert!(plans.plan(&ObjectName::new("Grant")).is_none());
    /// ```
    ///
    /// ```compile_fail
    /// use crmmap_engine::PlanSet;
    /// use crmmap_ids::SObjectName;
    ///
    /// let plans = PlanSet { plans: vec![], order: vec![] };
    /// plans.plan(&SObjectName::new("Grant__c")); // an sObject is not an object name
    /// ```
    pub fn plan<N: ?Sized>(&self, name: &N) -> Option<&Plan>
    where
        ObjectName: PartialEq<N>,
    {
        self.plans.iter().find(|p| p.object == *name)
    }

    /// The plan of the object mirrored on a monday board.
    pub fn plan_for_board(&self, board: BoardId) -> Option<&Plan> {
        self.plans.iter().find(|p| p.board == board)
    }

    /// The plans of an sObject (usually one).
    pub fn plans_for_sobject<'a, S: ?Sized>(
        &'a self,
        sobject: &'a S,
    ) -> impl Iterator<Item = &'a Plan> + 'a
    where
        SObjectName: PartialEq<S>,
    {
        self.plans.iter().filter(move |p| p.sobject == *sobject)
    }

    /// The plans in dependency order (parents first).
    pub fn in_order(&self) -> impl Iterator<Item = &Plan> {
        self.order.iter().filter_map(|name| self.plan(name))
    }
}

/// How one object is synced.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The mapping's name for the object.
    pub object: ObjectName,
    /// The sObject API name.
    pub sobject: SObjectName,
    /// The monday board id.
    pub board: BoardId,
    /// The column holding the Salesforce record Id.
    pub key_column: ColumnId,
    /// What to read from Salesforce.
    pub select: Select,
    /// Column ↔ field mappings in declaration order.
    pub fields: Vec<FieldPlan>,
    /// The item name computed from a record (Salesforce → monday).
    pub name_to_monday: Option<ExprPlan>,
    /// Fields set from the item name (monday → Salesforce).
    pub name_to_salesforce: Vec<AssignPlan>,
    /// `RecordTypeId` for records created from monday.
    pub record_type: Option<String>,
    /// Values for records created from monday, applied last.
    pub on_create: Vec<AssignPlan>,
    /// What a deleted or archived item does.
    pub on_delete: DeletePlan,
    /// What deleting a record in Salesforce does to its item.
    pub on_salesforce_delete: ItemDeletePolicy,
    /// The object's conflict policy.
    pub conflict: ConflictPolicy,
    /// Board-relation column ↔ reference field mappings.
    pub links: Vec<LinkPlan>,
    /// Lifecycle rules.
    pub rules: Vec<RulePlan>,
    /// Static facts.
    pub facts: Facts,
    /// Where the object is declared.
    pub origin: Origin,
}

impl Plan {
    /// The fields that flow from monday to Salesforce, in declaration order.
    pub fn fields_to_salesforce(&self) -> impl Iterator<Item = &FieldPlan> {
        self.fields.iter().filter(|f| f.direction.to_salesforce())
    }

    /// The fields that flow from Salesforce to monday, in declaration order.
    pub fn fields_to_monday(&self) -> impl Iterator<Item = &FieldPlan> {
        self.fields.iter().filter(|f| f.direction.to_monday())
    }

    /// The field mapped to a column.
    pub fn field_for_column<C: ?Sized>(&self, column: &C) -> Option<&FieldPlan>
    where
        ColumnId: PartialEq<C>,
    {
        self.fields.iter().find(|f| f.column == *column)
    }

    /// The field mapped to a Salesforce field.
    pub fn field_for_sf_field(&self, field: &str) -> Option<&FieldPlan> {
        self.fields.iter().find(|f| f.field == field)
    }

    /// The link declared on a board-relation column.
    pub fn link_for_column<C: ?Sized>(&self, column: &C) -> Option<&LinkPlan>
    where
        ColumnId: PartialEq<C>,
    {
        self.links.iter().find(|l| l.column == *column)
    }
}

/// What to read from Salesforce: a field list and conditions, never a SOQL string with values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Select {
    /// Fields to read: `Id`, `SystemModstamp`, `LastModifiedDate`, every field flowing to
    /// monday, fields the name rule reads, link reference fields, rule trigger and propagated
    /// fields; no duplicates.
    pub fields: Vec<String>,
    /// Conditions, OR-ed (each is trusted configuration written by the mapping's author).
    pub conditions: Vec<String>,
}

impl Select {
    /// The WHERE clause the conditions make, `None` when every record is selected.
    ///
    /// ```
    /// use crmmap_engine::plan::Select;
    /// let s = Select { fields: vec!["Id".into()], conditions: vec!["A = 1".into(), "B = 2".into()] };
    /// assert_eq!(s.where_clause().unwrap(), "(A = 1) OR (B = 2)");
    /// ```
    pub fn where_clause(&self) -> Option<String> {
        if self.conditions.is_empty() {
            return None;
        }
        Some(
            self.conditions
                .iter()
                .map(|c| format!("({c})"))
                .collect::<Vec<_>>()
                .join(" OR "),
        )
    }
}

/// A column ↔ field mapping, ready to evaluate.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldPlan {
    /// monday column id.
    pub column: ColumnId,
    /// monday column type.
    pub column_type: ColumnType,
    /// Which way data flows.
    pub direction: Direction,
    /// Salesforce field API name.
    pub field: String,
    /// Salesforce field type.
    pub field_type: SfType,
    /// Steps written from the monday side to the Salesforce side: to Salesforce they run first
    /// to last forward; to monday last to first backward.
    pub steps: Vec<StepPlan>,
    /// The field's conflict policy (its own, else the object's).
    pub conflict: ConflictPolicy,
    /// Whether writes to monday may create missing labels.
    pub create_labels: bool,
    /// The kinds between the steps: `kinds[0]` is the column's kind and `kinds[i + 1]` the kind
    /// step `i` produces going to Salesforce. Going to monday each step first gets its value in
    /// the kind it produced going to Salesforce, so that both directions see the same shapes.
    pub kinds: Vec<Kind>,
    /// Whether evaluating towards Salesforce can fail on some input (parsing).
    pub fallible_to_salesforce: bool,
    /// Whether evaluating towards monday can fail on some input (parsing).
    pub fallible_to_monday: bool,
    /// Where the field is declared.
    pub origin: Origin,
}

impl FieldPlan {
    /// The kind values have on the monday side.
    pub fn column_kind(&self) -> Kind {
        self.column_type.kind()
    }

    /// The kind values have on the Salesforce side.
    pub fn field_kind(&self) -> Kind {
        self.field_type.kind()
    }
}

/// The plans' [`Stage`]: translate tables resolved, date patterns split into parts, number
/// literals exact. Steps and expressions are the model's types at this stage, so each
/// transform is defined once (`crmmap_dsl::transform`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Planned;

impl Stage for Planned {
    type Table = Arc<Table>;
    type Pattern = DatePattern;
    type Number = Number;

    fn table_name(table: &Arc<Table>) -> &str {
        &table.name
    }

    fn pattern_source(pattern: &DatePattern) -> &str {
        &pattern.source
    }
}

/// A transform step with its names resolved.
pub type StepPlan = Step<Planned>;

/// An expression with its names resolved.
pub type ExprPlan = Expr<Planned>;

/// `Field = expr`, ready to evaluate.
pub type AssignPlan = Assignment<Planned>;

/// What a deleted or archived item does to its record.
pub type DeletePlan = DeletePolicy<Planned>;

/// `propagate Field -> alias.Field`, ready to evaluate (its steps run forward).
pub type PropagatePlan = Propagate<Planned>;

/// A translate table, both ways.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// The table's name.
    pub name: String,
    /// monday label → Salesforce value.
    pub to_salesforce: HashMap<String, String>,
    /// Salesforce value → monday label.
    pub to_monday: HashMap<String, String>,
}

/// A date pattern of `YYYY`, `MM`, `DD`, `hh`, `mm`, `ss` and literal characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatePattern {
    /// The pattern as written.
    pub source: String,
    /// Its parts.
    pub parts: Vec<PatternPart>,
}

/// A piece of a [`DatePattern`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatternPart {
    /// `YYYY`.
    Year,
    /// `MM`.
    Month,
    /// `DD`.
    Day,
    /// `hh`.
    Hour,
    /// `mm`.
    Minute,
    /// `ss`.
    Second,
    /// Characters written as they are.
    Literal(String),
}

impl DatePattern {
    /// Splits a pattern into its parts.
    pub fn new(source: &str) -> DatePattern {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = source;
        while !rest.is_empty() {
            let token = [
                ("YYYY", PatternPart::Year),
                ("MM", PatternPart::Month),
                ("DD", PatternPart::Day),
                ("hh", PatternPart::Hour),
                ("mm", PatternPart::Minute),
                ("ss", PatternPart::Second),
            ]
            .into_iter()
            .find(|(t, _)| rest.starts_with(t));
            match token {
                Some((t, part)) => {
                    if !literal.is_empty() {
                        parts.push(PatternPart::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(part);
                    rest = &rest[t.len()..];
                }
                None => {
                    let c = rest.chars().next().unwrap_or_default();
                    literal.push(c);
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
        if !literal.is_empty() {
            parts.push(PatternPart::Literal(literal));
        }
        DatePattern {
            source: source.to_owned(),
            parts,
        }
    }

    /// Whether the pattern shows a time of day.
    pub fn has_time(&self) -> bool {
        self.parts.iter().any(|p| {
            matches!(
                p,
                PatternPart::Hour | PatternPart::Minute | PatternPart::Second
            )
        })
    }
}

/// A board-relation column ↔ reference field mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkPlan {
    /// The board-relation column id.
    pub column: ColumnId,
    /// Which way links flow.
    pub direction: Direction,
    /// The linked object's name.
    pub target: ObjectName,
    /// The linked object's sObject.
    pub target_sobject: SObjectName,
    /// The linked object's board.
    pub target_board: BoardId,
    /// The reference field holding the linked record's Id.
    pub via: String,
    /// Where the link is declared.
    pub origin: Origin,
}

/// A lifecycle rule.
#[derive(Clone, Debug, PartialEq)]
pub struct RulePlan {
    /// The rule's name.
    pub name: String,
    /// The field whose change triggers the rule.
    pub when_field: String,
    /// The Salesforce value that field must become.
    pub becomes: String,
    /// Records created, in order.
    pub creates: Vec<CreatePlan>,
    /// Fields of the triggering record set after the creates.
    pub sets: Vec<AssignPlan>,
    /// Field changes copied to created records.
    pub propagates: Vec<PropagatePlan>,
    /// Where the rule is declared.
    pub origin: Origin,
}

/// `create Object as alias { … }` inside a rule.
#[derive(Clone, Debug, PartialEq)]
pub struct CreatePlan {
    /// The created object's name.
    pub object: ObjectName,
    /// Its sObject.
    pub sobject: SObjectName,
    /// The alias later expressions use.
    pub alias: String,
    /// Its fields.
    pub assignments: Vec<AssignPlan>,
    /// Where it is declared.
    pub origin: Origin,
}

/// Static facts about a plan.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Facts {
    /// Salesforce fields read (the select list).
    pub salesforce_read: Vec<String>,
    /// Salesforce fields of this object the plan may write.
    pub salesforce_written: Vec<String>,
    /// monday columns read (so the webhook runner fetches only these).
    pub monday_read: Vec<ColumnId>,
    /// monday columns written.
    pub monday_written: Vec<ColumnId>,
    /// Whether the item name is read (to set fields) and written (from a name rule).
    pub reads_name: bool,
    /// Whether the item name is written.
    pub writes_name: bool,
    /// Other objects that rules create.
    pub creates: Vec<ObjectName>,
    /// Whether some evaluation can fail on bad input.
    pub fallible: bool,
}
