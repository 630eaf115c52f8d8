//! The syntax tree: what a mapping file says, with spans, before any name is resolved.
//!
//! Every node that a diagnostic may point at is [`Spanned`]. Equality ignores spans, so
//! `parse(fmt(x)) == parse(x)` is a plain `==`.

use crate::source::{Span, Spanned};

/// Identifiers and names as written.
pub type Name = Spanned<String>;

/// One parsed file.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    /// Objects and translate tables in source order.
    pub items: Vec<Item>,
    /// Every `//` comment, in source order (the formatter places them back).
    pub comments: Vec<Comment>,
}

/// A `//` comment.
#[derive(Clone, Debug)]
pub struct Comment {
    /// The comment's text, `//` included, trailing whitespace removed.
    pub text: String,
    /// Where it is (ignored by equality).
    pub span: Span,
}

impl PartialEq for Comment {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

/// A top-level item.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `object Name { … }`.
    Object(ObjectBlock),
    /// `translate name { … }`.
    Translate(TranslateBlock),
}

impl Item {
    /// The item's whole span.
    pub fn span(&self) -> Span {
        match self {
            Item::Object(o) => o.span,
            Item::Translate(t) => t.span,
        }
    }
}

/// `object Name { … }`.
#[derive(Clone, Debug)]
pub struct ObjectBlock {
    /// The object's name.
    pub name: Name,
    /// Its statements in source order.
    pub stmts: Vec<Spanned<Stmt>>,
    /// The whole block.
    pub span: Span,
}

impl PartialEq for ObjectBlock {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.stmts == other.stmts
    }
}

/// A statement inside an object.
#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// `salesforce Lead`.
    Salesforce(Name),
    /// `board 9378000505`.
    Board(Spanned<u64>),
    /// `key text_mkryhch5`.
    Key(Name),
    /// `select where "…"`.
    Select(Spanned<String>),
    /// `record type "…"`.
    RecordType(Spanned<String>),
    /// `conflict prefer side`.
    Conflict(Name),
    /// `conflict Field prefer side`.
    ConflictField {
        /// The Salesforce field.
        field: Name,
        /// The side.
        side: Name,
    },
    /// `name <-> Field`.
    NameBoth(Name),
    /// `name <- expression`.
    NameToMonday(Spanned<Expr>),
    /// `name -> Field [= expression]`.
    NameToSalesforce {
        /// The field set.
        field: Name,
        /// Its value (the item name itself when absent).
        value: Option<Spanned<Expr>>,
    },
    /// `on create in salesforce { … }`.
    OnCreate(Vec<Spanned<Assignment>>),
    /// `on delete …`.
    OnDelete(DeleteAction),
    /// `on salesforce delete …`.
    OnSalesforceDelete(ItemDeleteAction),
    /// `field …`.
    Field(FieldDecl),
    /// `link …`.
    Link(LinkDecl),
    /// `rule …`.
    Rule(RuleBlock),
}

/// What `on salesforce delete` does to the item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemDeleteAction {
    /// `log`.
    Log,
    /// `archive`.
    Archive,
    /// `delete`.
    Delete,
}

/// What `on delete` does.
#[derive(Clone, Debug, PartialEq)]
pub enum DeleteAction {
    /// `log`.
    Log,
    /// `delete`.
    Delete,
    /// `set { … }`.
    Set(Vec<Spanned<Assignment>>),
}

/// `field column : type arrow Field [: sftype] [| steps] [create labels]`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl {
    /// monday column id.
    pub column: Name,
    /// monday column type as written.
    pub column_type: Name,
    /// Direction.
    pub arrow: Spanned<Arrow>,
    /// Salesforce field.
    pub field: Name,
    /// Salesforce type as written.
    pub field_type: Option<Name>,
    /// Transform steps.
    pub steps: Vec<Spanned<Call>>,
    /// `create labels`.
    pub create_labels: bool,
}

/// `link column arrow Object via Field`.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkDecl {
    /// The board-relation column.
    pub column: Name,
    /// Direction.
    pub arrow: Spanned<Arrow>,
    /// The linked object.
    pub target: Name,
    /// The reference field.
    pub via: Name,
}

/// `<->`, `->`, `<-`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arrow {
    /// `<->`.
    Both,
    /// `->`.
    ToSalesforce,
    /// `<-`.
    ToMonday,
}

impl Arrow {
    /// As written.
    pub fn as_str(self) -> &'static str {
        match self {
            Arrow::Both => "<->",
            Arrow::ToSalesforce => "->",
            Arrow::ToMonday => "<-",
        }
    }
}

/// `rule name { … }`.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleBlock {
    /// The rule's name.
    pub name: Name,
    /// `when Field becomes "value"`: the field.
    pub when_field: Name,
    /// The value.
    pub becomes: Spanned<String>,
    /// The rule's statements in order.
    pub stmts: Vec<Spanned<RuleStmt>>,
}

/// A statement inside a rule.
#[derive(Clone, Debug, PartialEq)]
pub enum RuleStmt {
    /// `create Object as alias { … }`.
    Create(CreateBlock),
    /// `set Field = expression`.
    Set(Spanned<Assignment>),
    /// `propagate Field -> alias.Field [| steps]`.
    Propagate {
        /// Field of the triggering record.
        from: Name,
        /// `alias.Field`.
        to: Spanned<Vec<String>>,
        /// Steps.
        steps: Vec<Spanned<Call>>,
    },
}

/// `create Object as alias { … }` inside a rule.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateBlock {
    /// The object.
    pub object: Name,
    /// The alias.
    pub alias: Name,
    /// Field values.
    pub assignments: Vec<Spanned<Assignment>>,
}

/// `Field = expression`.
#[derive(Clone, Debug, PartialEq)]
pub struct Assignment {
    /// The field.
    pub field: Name,
    /// The value.
    pub value: Spanned<Expr>,
}

/// `translate name { … }`.
#[derive(Clone, Debug)]
pub struct TranslateBlock {
    /// The table's name.
    pub name: Name,
    /// `(Salesforce value, monday label)` pairs.
    pub pairs: Vec<Spanned<(Spanned<String>, Spanned<String>)>>,
    /// The whole block.
    pub span: Span,
}

impl PartialEq for TranslateBlock {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.pairs == other.pairs
    }
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `"text"`.
    Str(String),
    /// `12.5`.
    Number(String),
    /// `30 days` (in days).
    Days(i64),
    /// `today`.
    Today,
    /// `Field`, `name`, `alias.Field`.
    Path(Vec<String>),
    /// `( expression )`.
    Paren(Box<Spanned<Expr>>),
    /// `a + b - c`.
    Sum(Box<Spanned<Expr>>, Vec<(AddOp, Spanned<Expr>)>),
    /// `expression | step | …`.
    Pipe(Box<Spanned<Expr>>, Vec<Spanned<Call>>),
}

/// `+` or `-`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddOp {
    /// `+`.
    Add,
    /// `-`.
    Sub,
}

/// `name(args…)`: a transform.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The transform's name.
    pub name: Name,
    /// Its arguments (`None` when written without parentheses).
    pub args: Option<Vec<Spanned<Expr>>>,
}
