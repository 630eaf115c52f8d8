//! The mapping test file: TOML read into [`TestFile`], every problem reported with its span.
//!
//! A test file comes from people, so nothing here panics: an unknown key, a missing input, a
//! key that does not belong to the case's direction or a value of the wrong shape is a
//! [`LoadError`] pointing at the offending text.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use time::Date;
use toml::Spanned;

use crate::value::parse_date;

/// The `today` used when neither the file nor the case gives one.
pub const DEFAULT_TODAY: &str = "2026-01-01";

/// A test file: cases, in the order written.
#[derive(Clone, Debug, PartialEq)]
pub struct TestFile {
    /// The cases.
    pub cases: Vec<Case>,
}

/// One case: a change to one object and the writes it must produce.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// The case's name (unique in its file).
    pub name: String,
    /// The mapping's object name (`Lead`).
    pub object: String,
    /// The change.
    pub input: Input,
    /// The expected writes.
    pub expect: Expect,
    /// Whether writes not listed in `expect` are allowed (`expect_only`).
    pub only_listed: bool,
    /// The date expressions see as `today`.
    pub today: Date,
    /// The whole case in the file.
    pub span: Range<usize>,
    /// The case's `name` value.
    pub name_span: Range<usize>,
    /// The `object` value.
    pub object_span: Range<usize>,
    /// The `expect` / `expect_only` table.
    pub expect_span: Range<usize>,
}

/// A value written in a test file, with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Given {
    /// The value (TOML's types).
    pub value: toml::Value,
    /// Where it is written.
    pub span: Range<usize>,
}

/// Values by name (fields or columns), in name order.
pub type Values = BTreeMap<String, Given>;

/// The change a case makes.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// `direction = "salesforce_to_monday"`: a Salesforce record (`record`) → its new item.
    SalesforceToMonday {
        /// The record's fields as the REST API gives them.
        record: Values,
    },
    /// `direction = "monday_to_salesforce"` with `column`, `value` (and `previous`): one
    /// column change → the field update.
    ColumnChange {
        /// The column id.
        column: String,
        /// Where `column` is written.
        column_span: Range<usize>,
        /// The new value.
        value: Given,
        /// The value before (empty when not given).
        previous: Option<Given>,
    },
    /// `direction = "monday_to_salesforce"` with `rename`: the item renamed.
    Rename {
        /// The new item name.
        name: String,
    },
    /// `direction = "item_created"`: a new item (`[case.item]` `name`, `columns`) → the
    /// record to create.
    ItemCreated {
        /// The item name.
        name: String,
        /// Its column values.
        columns: Values,
    },
    /// `direction = "rule"`: a record (`record`) changed by `change` → the rules that fire,
    /// what they create and set, and the propagated values.
    Rule {
        /// The record before the change.
        record: Values,
        /// The fields that change, with their new values.
        change: Values,
    },
}

/// The writes a case expects. Each map is keyed by column id, field name, `alias.Field`, as
/// its direction needs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Expect {
    /// The item name written to monday.
    pub name: Option<Given>,
    /// monday column values written.
    pub columns: Values,
    /// Board-relation columns: the linked record's Id (`""` clears).
    pub links: Values,
    /// Salesforce fields written (updated, created, or set by a rule).
    pub fields: Values,
    /// The rules that fire, by name.
    pub rules: Option<(Vec<String>, Range<usize>)>,
    /// Records a rule creates: alias → fields.
    pub creates: BTreeMap<String, Values>,
    /// Field changes copied to created records: `alias.Field` → value.
    pub propagates: Values,
}

/// A test file that cannot be read: what is wrong and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    /// One line, lowercase, no final period.
    pub message: String,
    /// The offending text, when known.
    pub span: Option<Range<usize>>,
}

impl LoadError {
    fn at(span: Range<usize>, message: impl Into<String>) -> Self {
        LoadError {
            message: message.into(),
            span: Some(span),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    today: Option<Spanned<String>>,
    #[serde(default, rename = "case")]
    cases: Vec<Spanned<RawCase>>,
}

#[derive(Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Direction {
    SalesforceToMonday,
    MondayToSalesforce,
    ItemCreated,
    Rule,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: Spanned<String>,
    object: Spanned<String>,
    direction: Spanned<Direction>,
    today: Option<Spanned<String>>,
    record: RawValues,
    change: RawValues,
    column: Option<Spanned<String>>,
    value: Option<Spanned<toml::Value>>,
    previous: Option<Spanned<toml::Value>>,
    rename: Option<Spanned<String>>,
    item: Option<Spanned<RawItem>>,
    expect: Option<Spanned<RawExpect>>,
    expect_only: Option<Spanned<RawExpect>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    name: Spanned<String>,
    #[serde(default)]
    columns: BTreeMap<String, Spanned<toml::Value>>,
}

/// A table of values. Not wrapped in `Spanned`: toml cannot give a span to a table written
/// with dotted keys (`columns.x = 1`), so a table's place is its first value's.
type RawValues = Option<BTreeMap<String, Spanned<toml::Value>>>;

/// Where a table of values is written: its first value (or nothing for an empty table).
fn table_span(t: &BTreeMap<String, Spanned<toml::Value>>) -> Option<Range<usize>> {
    t.values().map(Spanned::span).min_by_key(|s| s.start)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    name: Option<Spanned<toml::Value>>,
    columns: RawValues,
    links: RawValues,
    fields: RawValues,
    rules: Option<Spanned<Vec<String>>>,
    creates: Option<BTreeMap<String, BTreeMap<String, Spanned<toml::Value>>>>,
    propagates: RawValues,
}

/// Reads a test file.
///
/// ```
/// use crmmap_engine::cases::{Input, load};
/// let file = load(r#"
/// [[case]]
/// name = "a lead's company names its item"
/// object = "Lead"
/// direction = "salesforce_to_monday"
/// record = { Company = "Acme" }
/// expect_only = { name = "Acme" }
/// "#).unwrap();
/// assert!(matches!(file.cases[0].input, Input::SalesforceToMonday { .. }));
/// assert!(file.cases[0].only_listed);
/// ```
pub fn load(text: &str) -> Result<TestFile, LoadError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| LoadError {
        message: first_line(e.message()),
        span: e.span(),
    })?;
    let file_today = match &raw.today {
        Some(t) => Some(date(t)?),
        None => None,
    };
    let default_today = file_today.map_or_else(
        || parse_date(DEFAULT_TODAY).map_err(|e| LoadError::at(0..0, e.message)),
        Ok,
    )?;
    let mut cases: Vec<Case> = Vec::new();
    for c in raw.cases {
        let span = c.span();
        let case = case(c.into_inner(), span, default_today)?;
        if cases.iter().any(|o| o.name == case.name) {
            return Err(LoadError::at(
                case.name_span,
                format!("two cases are called `{}`", case.name),
            ));
        }
        cases.push(case);
    }
    if cases.is_empty() {
        return Err(LoadError {
            message: "the file has no `[[case]]`".into(),
            span: None,
        });
    }
    Ok(TestFile { cases })
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or_default().trim().to_owned()
}

fn date(t: &Spanned<String>) -> Result<Date, LoadError> {
    parse_date(t.get_ref()).map_err(|_| {
        LoadError::at(
            t.span(),
            format!("`{}` is not a date (YYYY-MM-DD)", t.get_ref()),
        )
    })
}

fn values(raw: RawValues) -> Values {
    raw.map_or_else(Values::new, given)
}

fn given(raw: BTreeMap<String, Spanned<toml::Value>>) -> Values {
    raw.into_iter()
        .map(|(k, v)| {
            let span = v.span();
            (
                k,
                Given {
                    value: v.into_inner(),
                    span,
                },
            )
        })
        .collect()
}

fn to_given(v: Spanned<toml::Value>) -> Given {
    let span = v.span();
    Given {
        value: v.into_inner(),
        span,
    }
}

/// The keys a direction reads; any other input key is an error at its span.
fn case(raw: RawCase, span: Range<usize>, today: Date) -> Result<Case, LoadError> {
    let direction = *raw.direction.get_ref();
    let today = match &raw.today {
        Some(t) => date(t)?,
        None => today,
    };
    let not_here = |key: &str, at: Option<Range<usize>>| match at {
        Some(at) => Err(LoadError::at(
            at,
            format!(
                "`{key}` does not belong to a `{}` case",
                direction_name(direction)
            ),
        )),
        None => Ok(()),
    };
    let missing = |key: &str| {
        LoadError::at(
            raw.direction.span(),
            format!("a `{}` case needs `{key}`", direction_name(direction)),
        )
    };
    let whole = raw.direction.span();
    let record_span = raw
        .record
        .as_ref()
        .map(|t| table_span(t).unwrap_or(whole.clone()));
    let change_span = raw
        .change
        .as_ref()
        .map(|t| table_span(t).unwrap_or(whole.clone()));
    let column_span = raw.column.as_ref().map(Spanned::span);
    let value_span = raw.value.as_ref().map(Spanned::span);
    let previous_span = raw.previous.as_ref().map(Spanned::span);
    let rename_span = raw.rename.as_ref().map(Spanned::span);
    let item_span = raw.item.as_ref().map(Spanned::span);
    let input = match direction {
        Direction::SalesforceToMonday => {
            not_here("change", change_span)?;
            not_here("column", column_span)?;
            not_here("value", value_span)?;
            not_here("previous", previous_span)?;
            not_here("rename", rename_span)?;
            not_here("item", item_span)?;
            let record = raw.record.ok_or_else(|| missing("record"))?;
            Input::SalesforceToMonday {
                record: given(record),
            }
        }
        Direction::MondayToSalesforce => {
            not_here("record", record_span)?;
            not_here("change", change_span)?;
            not_here("item", item_span)?;
            match (raw.column, raw.rename) {
                (Some(column), None) => {
                    let column_span = column.span();
                    Input::ColumnChange {
                        column: column.into_inner(),
                        column_span,
                        value: raw.value.map(to_given).ok_or_else(|| missing("value"))?,
                        previous: raw.previous.map(to_given),
                    }
                }
                (None, Some(rename)) => {
                    not_here("value", value_span)?;
                    not_here("previous", previous_span)?;
                    Input::Rename {
                        name: rename.into_inner(),
                    }
                }
                (Some(_), Some(rename)) => {
                    return Err(LoadError::at(
                        rename.span(),
                        "a case changes a column or renames the item, not both",
                    ));
                }
                (None, None) => return Err(missing("`column` and `value`, or `rename`")),
            }
        }
        Direction::ItemCreated => {
            not_here("record", record_span)?;
            not_here("change", change_span)?;
            not_here("column", column_span)?;
            not_here("value", value_span)?;
            not_here("previous", previous_span)?;
            not_here("rename", rename_span)?;
            let item = raw.item.ok_or_else(|| missing("item"))?.into_inner();
            Input::ItemCreated {
                name: item.name.into_inner(),
                columns: given(item.columns),
            }
        }
        Direction::Rule => {
            not_here("column", column_span)?;
            not_here("value", value_span)?;
            not_here("previous", previous_span)?;
            not_here("rename", rename_span)?;
            not_here("item", item_span)?;
            let change = raw.change.ok_or_else(|| missing("change"))?;
            Input::Rule {
                record: values(raw.record),
                change: given(change),
            }
        }
    };
    let (expect, only_listed) = match (raw.expect, raw.expect_only) {
        (Some(e), None) => (e, false),
        (None, Some(e)) => (e, true),
        (Some(_), Some(e)) => {
            return Err(LoadError::at(
                e.span(),
                "a case has `expect` (every write) or `expect_only` (the listed ones), not both",
            ));
        }
        (None, None) => {
            return Err(LoadError::at(
                raw.name.span(),
                "the case has no `expect` or `expect_only`",
            ));
        }
    };
    let expect_span = expect.span();
    let expect = expectation(expect.into_inner(), expect_span.clone(), direction)?;
    Ok(Case {
        name_span: raw.name.span(),
        name: raw.name.into_inner(),
        object_span: raw.object.span(),
        object: raw.object.into_inner(),
        input,
        expect,
        only_listed,
        today,
        span,
        expect_span,
    })
}

fn expectation(
    raw: RawExpect,
    whole: Range<usize>,
    direction: Direction,
) -> Result<Expect, LoadError> {
    let span = |t: &BTreeMap<String, Spanned<toml::Value>>| table_span(t).unwrap_or(whole.clone());
    let allowed: &[&str] = match direction {
        Direction::SalesforceToMonday => &["name", "columns", "links"],
        Direction::MondayToSalesforce | Direction::ItemCreated => &["fields"],
        Direction::Rule => &["rules", "creates", "fields", "propagates"],
    };
    let present = [
        ("name", raw.name.as_ref().map(Spanned::span)),
        ("columns", raw.columns.as_ref().map(span)),
        ("links", raw.links.as_ref().map(span)),
        ("fields", raw.fields.as_ref().map(span)),
        ("rules", raw.rules.as_ref().map(Spanned::span)),
        ("creates", raw.creates.as_ref().map(|_| whole.clone())),
        ("propagates", raw.propagates.as_ref().map(span)),
    ];
    for (key, span) in present {
        if let Some(span) = span
            && !allowed.contains(&key)
        {
            return Err(LoadError::at(
                span,
                format!(
                    "a `{}` case expects {}, not `{key}`",
                    direction_name(direction),
                    allowed
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    let name = match raw.name {
        Some(n) => match n.get_ref() {
            toml::Value::String(_) => Some(to_given(n)),
            _ => return Err(LoadError::at(n.span(), "the item name is text")),
        },
        None => None,
    };
    let propagates = values(raw.propagates);
    for (key, v) in &propagates {
        if key
            .split_once('.')
            .is_none_or(|(a, f)| a.is_empty() || f.is_empty())
        {
            return Err(LoadError::at(
                v.span.clone(),
                format!("`{key}` is not `alias.Field`"),
            ));
        }
    }
    Ok(Expect {
        name,
        columns: values(raw.columns),
        links: values(raw.links),
        fields: values(raw.fields),
        rules: raw.rules.map(|r| {
            let span = r.span();
            (r.into_inner(), span)
        }),
        creates: raw
            .creates
            .unwrap_or_default()
            .into_iter()
            .map(|(alias, fields)| (alias, given(fields)))
            .collect(),
        propagates,
    })
}

fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::SalesforceToMonday => "salesforce_to_monday",
        Direction::MondayToSalesforce => "monday_to_salesforce",
        Direction::ItemCreated => "item_created",
        Direction::Rule => "rule",
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`, for messages about a
/// test file. An offset past the end or inside a character counts from the last whole one.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut line = 1;
    let mut column = 1;
    for (i, c) in text.char_indices() {
        if i >= offset {
            break;
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}
