//! The transform registry: every transform of the language, defined once.
//!
//! A transform is one [`Step`] variant plus one [`Transform`] entry (in [`registry`]): its name,
//! its parameter, the kinds it takes and gives, whether it loses information or can fail, its
//! documentation and its examples. Every stage reads the entry instead of restating it:
//!
//! | reader | what it takes from the entry |
//! |---|---|
//! | `check` | the name (and the did-you-mean list), the parameter and its usage, the kinds, `lossy` (E0403) |
//! | `crmmap_engine::compile` | the kinds between the steps, `fallible` |
//! | `crmmap_engine::transform` | nothing but the variant: its one `apply` arm per variant is the implementation, both directions |
//! | `explain` and `Display` | the name and the arguments ([`Step`]'s `Display`) |
//! | the reference in `docs/language.md` | [`reference_markdown`]: parameters, kinds, summary and examples |
//!
//! The same [`Step`] and [`Expr`] types serve the checked model and the engine's plans: a
//! [`Stage`] says what a translate table, a date pattern and a number literal are at that
//! stage ([`Written`] in the model: names and source text; resolved tables and parsed patterns
//! in the plans). The engine runs every example of every entry as a test.

mod reference;
mod registry;

use std::fmt;

use crate::model::{Expr, Kind};

pub use reference::reference_markdown;
pub use registry::ALL;

/// What a stage of the pipeline holds where a step refers to something.
pub trait Stage: Clone + fmt::Debug + PartialEq {
    /// A translate table: its name in the model, the table itself in a plan.
    type Table: Clone + fmt::Debug + PartialEq;
    /// A date pattern: the text in the model, its parts in a plan.
    type Pattern: Clone + fmt::Debug + PartialEq;
    /// A number literal.
    type Number: Clone + fmt::Debug + PartialEq + fmt::Display;

    /// The table's name as written.
    fn table_name(table: &Self::Table) -> &str;

    /// The pattern as written.
    fn pattern_source(pattern: &Self::Pattern) -> &str;
}

/// The checked model's stage: tables by name, patterns and numbers as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Written;

impl Stage for Written {
    type Table = String;
    type Pattern = String;
    type Number = f64;

    fn table_name(table: &String) -> &str {
        table
    }

    fn pattern_source(pattern: &String) -> &str {
        pattern
    }
}

/// One transform step of a field pipeline or an expression.
///
/// Steps are lenses between the monday side (left) and the Salesforce side (right):
/// - `Translate` maps monday labels to Salesforce values going right, and back going left;
///   values missing from the table pass through unchanged; works on text and on each label;
/// - `Join(sep)` turns labels into text joined by `sep` going right and splits text going left;
///   `Split(sep)` is its mirror image;
/// - `FormatDate` renders going left and parses going right;
/// - the others normalise a value and behave the same in both directions.
///
/// Inside an expression (`Expr::Pipe`) a step applies according to the kind of its input:
/// `join` joins labels, `split` splits text, `format_date` renders a date or parses text, and
/// `translate` maps in the direction the expression's value flows (towards monday for
/// `Object::name_to_monday`, towards Salesforce everywhere else).
///
/// Each variant has one [`Transform`] entry ([`Step::spec`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Step<S: Stage = Written> {
    /// `translate(table)`.
    Translate(S::Table),
    /// `join(sep)`: labels → text.
    Join(String),
    /// `split(sep)`: text → labels.
    Split(String),
    /// `trim`: strip surrounding whitespace.
    Trim,
    /// `upper`.
    Upper,
    /// `lower`.
    Lower,
    /// `capitalize`: first letter upper-cased, the rest unchanged.
    Capitalize,
    /// `default(expr)`: the expression's value when the input is empty.
    Default(Box<Expr<S>>),
    /// `format_date(pattern)`: a lens between text (monday side) and a date or datetime
    /// (Salesforce side), with a pattern of `YYYY`, `MM`, `DD`, `hh`, `mm`, `ss`: going to monday
    /// the date is rendered with the pattern; going to Salesforce the text is parsed with it
    /// (a parse failure is a runtime error).
    FormatDate(S::Pattern),
    /// `round(places)`: a number rounded to a number of decimal places.
    Round(u32),
    /// `first_names`: all but the last word of a name (the whole name when it is one word).
    FirstNames,
    /// `last_name`: the last word of a name with two words or more, else empty.
    LastName,
}

/// What a transform takes between its parentheses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    /// Nothing: the transform is written without parentheses.
    None,
    /// The name of a translate table, without quotes.
    Table,
    /// A string in double quotes (a separator).
    Separator,
    /// A date pattern in double quotes.
    Pattern,
    /// A number of decimal places from 0 to [`MAX_PLACES`].
    Places,
    /// An expression.
    Expr,
}

/// The most decimal places `round` takes.
pub const MAX_PLACES: u32 = 12;

/// The kinds a transform takes going to Salesforce, and what it makes of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signature {
    /// Any of these kinds, kept as it is.
    Keeps(&'static [Kind]),
    /// Any of these kinds, made into this one.
    Makes(&'static [Kind], Kind),
    /// Any kind, kept as it is.
    Any,
}

/// An example value of one side, written the way the engine displays it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sample {
    /// No value.
    Null,
    /// Text.
    Text(&'static str),
    /// Labels.
    Labels(&'static [&'static str]),
    /// A number, as exact decimal text.
    Number(&'static str),
    /// A date, `YYYY-MM-DD`.
    Date(&'static str),
    /// A datetime, as the engine displays it (`2024-06-05T14:30:00.000+0000`).
    DateTime(&'static str),
}

/// One documented example: the step as written, a monday-side value and the Salesforce-side
/// value it gives going to Salesforce; when `both_ways` is set, the step also gives the monday
/// value back. The engine runs every example.
#[derive(Clone, Copy, Debug)]
pub struct Example {
    /// The step as written in a mapping.
    pub written: &'static str,
    /// The step (its `Display` is `written`); a `translate` example uses [`EXAMPLE_TABLE`].
    pub step: fn() -> Step,
    /// The monday-side value.
    pub monday: Sample,
    /// The Salesforce-side value.
    pub salesforce: Sample,
    /// Whether the example also holds from Salesforce to monday.
    pub both_ways: bool,
}

/// The translate table the examples use, `(Salesforce value, monday label)` pairs.
pub const EXAMPLE_TABLE: (&str, &[(&str, &str)]) = (
    "needs",
    &[
        ("Curriculum", "Curriculum Development"),
        ("Other Internet source", "Other Social Media"),
    ],
);

/// A transform's definition: everything but its implementation, which is the engine's `apply`
/// arm for its [`Step`] variant.
#[derive(Clone, Copy, Debug)]
pub struct Transform {
    /// Its name in the language.
    pub name: &'static str,
    /// What it takes between parentheses.
    pub param: Param,
    /// The parameter, as the reference names it (empty when there is none).
    pub param_doc: &'static str,
    /// How a call is written, shown in the help of a wrong call.
    pub usage: &'static str,
    /// The kinds it takes and gives going to Salesforce.
    pub signature: Signature,
    /// What it accepts, for the help of a kind mismatch (E0305).
    pub accepts: &'static str,
    /// What it takes and gives going to Salesforce, for the reference.
    pub kinds_doc: &'static str,
    /// Whether it loses information, so that it cannot run on a field mapped both ways (E0403).
    pub lossy: bool,
    /// Whether it can fail at run time on some input (parsing).
    pub fallible: bool,
    /// What it does, both ways.
    pub summary: &'static str,
    /// Examples, run as tests by the engine.
    pub examples: &'static [Example],
    /// The step a call makes with its checked argument; `None` when the argument is not the
    /// one [`Transform::param`] asks for (a checker bug).
    pub build: fn(Arg) -> Option<Step>,
}

impl Transform {
    /// The transform called `name`.
    pub fn named(name: &str) -> Option<&'static Transform> {
        ALL.iter().copied().find(|t| t.name == name)
    }

    /// The step a call of this transform makes with its checked argument.
    pub fn step(&self, arg: Arg) -> Option<Step> {
        (self.build)(arg)
    }

    /// The kind after this transform when `input` goes in, or what it accepts.
    pub fn output(&self, input: Kind) -> Result<Kind, &'static str> {
        match self.signature {
            Signature::Any => Ok(input),
            Signature::Keeps(kinds) if kinds.contains(&input) => Ok(input),
            Signature::Makes(kinds, out) if kinds.contains(&input) => Ok(out),
            Signature::Keeps(_) | Signature::Makes(..) => Err(self.accepts),
        }
    }
}

/// The names of every transform, in the reference's order.
pub fn names() -> impl Iterator<Item = &'static str> {
    ALL.iter().map(|t| t.name)
}

/// A checked argument of a call, by the transform's [`Param`].
#[derive(Clone, Debug, PartialEq)]
pub enum Arg<S: Stage = Written> {
    /// No argument.
    None,
    /// A translate table.
    Table(S::Table),
    /// A string (a separator or a pattern).
    Text(String),
    /// A number of places.
    Places(u32),
    /// An expression.
    Expr(Expr<S>),
}

impl<S: Stage> Step<S> {
    /// The step's registry entry.
    pub fn spec(&self) -> &'static Transform {
        use registry::*;
        match self {
            Step::Translate(_) => &TRANSLATE,
            Step::Join(_) => &JOIN,
            Step::Split(_) => &SPLIT,
            Step::Trim => &TRIM,
            Step::Upper => &UPPER,
            Step::Lower => &LOWER,
            Step::Capitalize => &CAPITALIZE,
            Step::Default(_) => &DEFAULT,
            Step::FormatDate(_) => &FORMAT_DATE,
            Step::Round(_) => &ROUND,
            Step::FirstNames => &FIRST_NAMES,
            Step::LastName => &LAST_NAME,
        }
    }

    /// The step's name in the language.
    pub fn name(&self) -> &'static str {
        self.spec().name
    }

    /// The same step at another stage: tables, patterns and expressions converted by the
    /// given functions.
    pub fn map<T: Stage>(
        &self,
        table: &mut dyn FnMut(&S::Table) -> T::Table,
        pattern: &mut dyn FnMut(&S::Pattern) -> T::Pattern,
        expr: &mut dyn FnMut(&Expr<S>) -> Expr<T>,
    ) -> Step<T> {
        match self {
            Step::Translate(t) => Step::Translate(table(t)),
            Step::Join(s) => Step::Join(s.clone()),
            Step::Split(s) => Step::Split(s.clone()),
            Step::Trim => Step::Trim,
            Step::Upper => Step::Upper,
            Step::Lower => Step::Lower,
            Step::Capitalize => Step::Capitalize,
            Step::Default(e) => Step::Default(Box::new(expr(e))),
            Step::FormatDate(p) => Step::FormatDate(pattern(p)),
            Step::Round(n) => Step::Round(*n),
            Step::FirstNames => Step::FirstNames,
            Step::LastName => Step::LastName,
        }
    }
}

impl<S: Stage> fmt::Display for Step<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name();
        match self {
            Step::Translate(t) => write!(f, "{name}({})", S::table_name(t)),
            Step::Join(s) | Step::Split(s) => write!(f, "{name}({})", crate::fmt::string(s)),
            Step::Default(e) => write!(f, "{name}({e})"),
            Step::FormatDate(p) => {
                write!(f, "{name}({})", crate::fmt::string(S::pattern_source(p)))
            }
            Step::Round(n) => write!(f, "{name}({n})"),
            Step::Trim
            | Step::Upper
            | Step::Lower
            | Step::Capitalize
            | Step::FirstNames
            | Step::LastName => f.write_str(name),
        }
    }
}

impl<S: Stage> fmt::Display for Expr<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Str(s) => f.write_str(&crate::fmt::string(s)),
            Expr::Number(n) => write!(f, "{n}"),
            Expr::Today => f.write_str("today"),
            Expr::Path(p) => f.write_str(&p.join(".")),
            Expr::Concat(parts) => {
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" + ")?;
                    }
                    write!(f, "{p}")?;
                }
                Ok(())
            }
            Expr::AddDays(e, n) if *n < 0 => write!(f, "{e} - {} days", n.unsigned_abs()),
            Expr::AddDays(e, n) => write!(f, "{e} + {n} days"),
            Expr::Pipe(e, steps) => {
                match **e {
                    Expr::Concat(_) | Expr::AddDays(..) => write!(f, "({e})")?,
                    _ => write!(f, "{e}")?,
                }
                for s in steps {
                    write!(f, " | {s}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_one_variant_and_its_examples_are_written_as_shown() {
        let mut seen = Vec::new();
        for t in ALL {
            assert!(!seen.contains(&t.name), "{} is listed twice", t.name);
            seen.push(t.name);
            assert!(!t.examples.is_empty(), "{} has no example", t.name);
            for e in t.examples {
                let step = (e.step)();
                assert_eq!(step.to_string(), e.written);
                assert_eq!(step.spec().name, t.name, "{}", e.written);
                let arg = match step.clone() {
                    Step::Translate(t) => Arg::Table(t),
                    Step::Join(s) | Step::Split(s) | Step::FormatDate(s) => Arg::Text(s),
                    Step::Round(n) => Arg::Places(n),
                    Step::Default(e) => Arg::Expr(*e),
                    _ => Arg::None,
                };
                assert_eq!(t.step(arg), Some(step), "{}", e.written);
            }
        }
    }

    #[test]
    fn names_find_their_entries() {
        for name in names() {
            assert_eq!(Transform::named(name).map(|t| t.name), Some(name));
        }
        assert!(Transform::named("titlecase").is_none());
    }
}
