//! The checked model: what `check` produces from the AST once every name is resolved and every
//! type agrees. It is the input of `crmmap_engine::compile`.
//!
//! Invariants the engine may rely on (the checker guarantees them, or reports an error and
//! produces no model):
//! - every `Step::Translate` names a table in `Model::translates`;
//! - every `Link::target` and every `RuleCreate::object` names an object in `Model::objects`;
//! - the steps of a field turn its column's kind into its Salesforce field's kind (see
//!   [`ColumnType::kind`], [`SfType::kind`] and [`Step`]);
//! - no two fields write the same Salesforce field, and no two fields write the same column.

use std::fmt;
use std::sync::Arc;

pub use crate::transform::{Stage, Step, Written};

/// Where an item of the model was written: file path and 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    /// Path of the mapping file as it was given to the checker.
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (in characters).
    pub column: u32,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// All mappings, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Objects in the order their files and declarations were given.
    pub objects: Vec<Object>,
    /// Translate tables shared by every object.
    pub translates: Vec<TranslateTable>,
}

impl Model {
    /// The object called `name`.
    pub fn object(&self, name: &str) -> Option<&Object> {
        self.objects.iter().find(|o| o.name == name)
    }

    /// The translate table called `name`.
    pub fn translate(&self, name: &str) -> Option<&TranslateTable> {
        self.translates.iter().find(|t| t.name == name)
    }
}

/// One synced object: a Salesforce sObject and the monday board that mirrors it.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    /// The mapping's name for the object (`Lead`); links and rules refer to objects by it.
    pub name: String,
    /// The sObject API name (`Lead`, `Grant__c`).
    pub sobject: String,
    /// The monday board id.
    pub board: u64,
    /// The monday column that stores the Salesforce record Id.
    pub key_column: String,
    /// SOQL conditions; a record is selected when any of them holds (they are OR-ed).
    /// They are trusted configuration written by the mapping's author, passed to SOQL as written.
    pub selections: Vec<String>,
    /// `RecordTypeId` given to records created from monday.
    pub record_type: Option<String>,
    /// How the item name is computed from a record (Salesforce → monday).
    pub name_to_monday: Option<Expr>,
    /// Fields set from the item name (monday → Salesforce), on create and on rename.
    /// Expressions read the item name as `name`.
    pub name_to_salesforce: Vec<Assignment>,
    /// Values given to fields when a monday item creates a record. They are evaluated after the
    /// mapped columns and the name rule and override them. Expressions may read `name`.
    pub on_create: Vec<Assignment>,
    /// What a deleted or archived item does to its record.
    pub on_delete: DeletePolicy,
    /// What deleting its Salesforce record does to an item.
    pub on_salesforce_delete: ItemDeletePolicy,
    /// The object's conflict policy (fields may override it).
    pub conflict: ConflictPolicy,
    /// Column ↔ field mappings.
    pub fields: Vec<Field>,
    /// Board-relation column ↔ reference field mappings.
    pub links: Vec<Link>,
    /// Lifecycle rules.
    pub rules: Vec<Rule>,
    /// Where the object is declared.
    pub origin: Origin,
}

/// The direction data flows along a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// `<->`: both ways.
    Both,
    /// `->`: monday to Salesforce only.
    ToSalesforce,
    /// `<-`: Salesforce to monday only.
    ToMonday,
}

impl Direction {
    /// Whether data flows from monday to Salesforce.
    pub fn to_salesforce(self) -> bool {
        matches!(self, Direction::Both | Direction::ToSalesforce)
    }

    /// Whether data flows from Salesforce to monday.
    pub fn to_monday(self) -> bool {
        matches!(self, Direction::Both | Direction::ToMonday)
    }

    /// The arrow as written in the language.
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::Both => "<->",
            Direction::ToSalesforce => "->",
            Direction::ToMonday => "<-",
        }
    }
}

/// The kind of value that flows through a field mapping, independent of either system's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A string.
    Text,
    /// A number.
    Number,
    /// `true` / `false`.
    Bool,
    /// A calendar date.
    Date,
    /// An instant (UTC).
    DateTime,
    /// A set of labels (dropdown labels, multi-select picklist values).
    Labels,
}

impl Kind {
    /// The kind's name in diagnostics and `explain`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Number => "number",
            Kind::Bool => "boolean",
            Kind::Date => "date",
            Kind::DateTime => "datetime",
            Kind::Labels => "labels",
        }
    }
}

macro_rules! keyword_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $kw:literal => $kind:ident,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant,)* }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The keyword used in mapping files.
            pub fn keyword(self) -> &'static str {
                match self { $($name::$variant => $kw,)* }
            }

            /// Parses a keyword used in mapping files.
            pub fn from_keyword(s: &str) -> Option<Self> {
                match s { $($kw => Some($name::$variant),)* _ => None }
            }

            /// The kind of value this type holds.
            pub fn kind(self) -> Kind {
                match self { $($name::$variant => Kind::$kind,)* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.keyword())
            }
        }
    };
}

keyword_enum! {
    /// A monday column type (API names, `ColumnType` in the GraphQL schema).
    ColumnType {
        /// `text`.
        Text = "text" => Text,
        /// `long_text`.
        LongText = "long_text" => Text,
        /// `numbers`.
        Numbers = "numbers" => Number,
        /// `status` (one label).
        Status = "status" => Text,
        /// `dropdown` (several labels).
        Dropdown = "dropdown" => Labels,
        /// `date` (a date, optionally with a time).
        Date = "date" => Date,
        /// `email`.
        Email = "email" => Text,
        /// `phone`.
        Phone = "phone" => Text,
        /// `link` (a URL).
        Link = "link" => Text,
        /// `checkbox`.
        Checkbox = "checkbox" => Bool,
        /// `people` (person and team ids).
        People = "people" => Labels,
        /// `board_relation` (linked items; only in `link` declarations).
        BoardRelation = "board_relation" => Labels,
    }
}

keyword_enum! {
    /// A Salesforce field type (the describe `type`).
    SfType {
        /// `id`.
        Id = "id" => Text,
        /// `reference` (an Id of another record).
        Reference = "reference" => Text,
        /// `string`.
        String = "string" => Text,
        /// `textarea`.
        Textarea = "textarea" => Text,
        /// `picklist` (one value).
        Picklist = "picklist" => Text,
        /// `multipicklist` (values joined with `;`).
        Multipicklist = "multipicklist" => Labels,
        /// `boolean`.
        Boolean = "boolean" => Bool,
        /// `date`.
        Date = "date" => Date,
        /// `datetime`.
        Datetime = "datetime" => DateTime,
        /// `double`.
        Double = "double" => Number,
        /// `currency`.
        Currency = "currency" => Number,
        /// `percent`.
        Percent = "percent" => Number,
        /// `int`.
        Int = "int" => Number,
        /// `email`.
        Email = "email" => Text,
        /// `phone`.
        Phone = "phone" => Text,
        /// `url`.
        Url = "url" => Text,
    }
}

/// A column ↔ field mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// monday column id.
    pub column: String,
    /// monday column type.
    pub column_type: ColumnType,
    /// Which way data flows.
    pub direction: Direction,
    /// Salesforce field API name.
    pub field: String,
    /// Salesforce field type (`string` when the mapping does not say).
    pub field_type: SfType,
    /// Transform steps, written from the monday side to the Salesforce side. Going to
    /// Salesforce they run first to last with their forward meaning; going to monday they run
    /// last to first with their backward meaning (see [`Step`]).
    pub steps: Vec<Step>,
    /// Conflict policy for this field, overriding the object's.
    pub conflict: Option<ConflictPolicy>,
    /// Whether writes to monday may create missing status/dropdown labels.
    pub create_labels: bool,
    /// Where the field is declared.
    pub origin: Origin,
}

/// An expression: name rules, create defaults, rule assignments and `default(...)` arguments.
///
/// The engine's plans hold the same expressions at their own [`Stage`].
#[derive(Clone, Debug, PartialEq)]
pub enum Expr<S: Stage = Written> {
    /// A string literal.
    Str(String),
    /// A number literal.
    Number(S::Number),
    /// `today`: the current UTC date, taken from the evaluation input.
    Today,
    /// A value read by path: a record field (`FirstName`), the item name (`name`), or a field
    /// of a record created earlier by the same rule (`account.Id`).
    Path(Vec<String>),
    /// `a + b + …` on text: concatenation; empty parts count as empty strings.
    Concat(Vec<Expr<S>>),
    /// `date + N days` (or `- N days`).
    AddDays(Box<Expr<S>>, i64),
    /// `expr | step | step …`.
    Pipe(Box<Expr<S>>, Vec<Step<S>>),
}

impl<S: Stage> Expr<S> {
    /// Calls `f` with every path the expression reads, default arguments included.
    pub fn for_each_path(&self, f: &mut dyn FnMut(&[String])) {
        match self {
            Expr::Str(_) | Expr::Number(_) | Expr::Today => {}
            Expr::Path(p) => f(p),
            Expr::Concat(parts) => parts.iter().for_each(|p| p.for_each_path(f)),
            Expr::AddDays(e, _) => e.for_each_path(f),
            Expr::Pipe(e, steps) => {
                e.for_each_path(f);
                for s in steps {
                    if let Step::Default(d) = s {
                        d.for_each_path(f);
                    }
                }
            }
        }
    }
}

/// `Field = expr`.
#[derive(Clone, Debug, PartialEq)]
pub struct Assignment<S: Stage = Written> {
    /// Salesforce field API name.
    pub field: String,
    /// Its value.
    pub value: Expr<S>,
    /// Where the assignment is written.
    pub origin: Origin,
}

/// A board-relation column ↔ reference field mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// The board-relation column id.
    pub column: String,
    /// Which way links flow: `<-` sets the column from the reference field's stored Id, `->`
    /// turns added/removed linked items into updates of the reference field.
    pub direction: Direction,
    /// The linked object (its board is the one the column connects to).
    pub target: String,
    /// The reference field on this object holding the linked record's Id.
    pub via: String,
    /// Where the link is declared.
    pub origin: Origin,
}

/// What happens when both sides changed a field since the last sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ConflictPolicy {
    /// Keep the Salesforce value (the system of record).
    #[default]
    PreferSalesforce,
    /// Keep the monday value.
    PreferMonday,
    /// Keep the value changed last.
    PreferNewest,
}

impl ConflictPolicy {
    /// The policy as written after `conflict prefer`.
    pub fn keyword(self) -> &'static str {
        match self {
            ConflictPolicy::PreferSalesforce => "salesforce",
            ConflictPolicy::PreferMonday => "monday",
            ConflictPolicy::PreferNewest => "newest",
        }
    }
}

/// What deleting a Salesforce record does to its monday item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ItemDeletePolicy {
    /// Log it and leave the item alone (the default).
    #[default]
    Log,
    /// Archive the item.
    Archive,
    /// Delete the item.
    Delete,
}

impl ItemDeletePolicy {
    /// The policy as written after `on salesforce delete`.
    pub fn keyword(self) -> &'static str {
        match self {
            ItemDeletePolicy::Log => "log",
            ItemDeletePolicy::Archive => "archive",
            ItemDeletePolicy::Delete => "delete",
        }
    }
}

/// What a deleted or archived monday item does to its Salesforce record.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum DeletePolicy<S: Stage = Written> {
    /// Log it and leave the record alone (the default).
    #[default]
    Log,
    /// Delete the record.
    Delete,
    /// Update the record with these values (for example a status that marks it).
    Set(Vec<Assignment<S>>),
}

/// A lifecycle rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// The rule's name.
    pub name: String,
    /// The field whose change triggers the rule.
    pub when_field: String,
    /// The value that field must become (a Salesforce value).
    pub becomes: String,
    /// Records created once, in order, when the rule fires.
    pub creates: Vec<RuleCreate>,
    /// Fields of the triggering record set after the creates (they may read aliases).
    pub sets: Vec<Assignment>,
    /// From then on, changes of a field of this record are copied to a created record.
    pub propagates: Vec<Propagate>,
    /// Where the rule is declared.
    pub origin: Origin,
}

/// `create Object as alias { … }` inside a rule.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleCreate {
    /// The object created (a mapped object).
    pub object: String,
    /// The name later expressions use for the created record.
    pub alias: String,
    /// Its fields. Expressions read the triggering record's fields and earlier aliases.
    pub assignments: Vec<Assignment>,
    /// Where it is declared.
    pub origin: Origin,
}

/// `propagate Field -> alias.Field`.
#[derive(Clone, Debug, PartialEq)]
pub struct Propagate<S: Stage = Written> {
    /// Field of the triggering record.
    pub from: String,
    /// Alias of the created record.
    pub alias: String,
    /// Field of the created record.
    pub to: String,
    /// Optional steps applied to the value on the way (forward).
    pub steps: Vec<Step<S>>,
}

/// A translate table: Salesforce value = monday label.
#[derive(Clone, Debug, PartialEq)]
pub struct TranslateTable {
    /// The table's name.
    pub name: String,
    /// `(salesforce value, monday label)` pairs in declaration order.
    pub pairs: Vec<(String, String)>,
    /// Where it is declared.
    pub origin: Origin,
}
