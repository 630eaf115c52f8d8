//! A SOQL builder that never pastes values into the statement unescaped.
//!
//! ```
//! use crmmap_salesforce::soql::{Condition, Soql};
//! let q = Soql::select(["Id", "Name"])
//!     .from("Lead")
//!     .where_(Condition::eq("LastName", "O'Brien").and(Condition::is_not_null("Email")))
//!     .build()
//!     .unwrap();
//! assert_eq!(q, "SELECT Id, Name FROM Lead WHERE (LastName = 'O\\'Brien' AND Email != null)");
//! ```
//!
//! Field and object names are checked to be identifiers (letters, digits, `_`, and `.` for
//! relationship paths). Values are typed [`Literal`]s, quoted and escaped by [`quote_soql`];
//! dates and datetimes are written unquoted as SOQL requires. The one escape hatch is
//! [`Condition::trusted`], for conditions that come from trusted configuration (a mapping's
//! `select where "…"`), never from record or user data.

use std::fmt::Write as _;

use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};

/// Why a statement could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SoqlError {
    #[error(
        "invalid SOQL identifier {0:?}: use letters, digits and '_' (and '.' between relationship names)"
    )]
    InvalidIdentifier(String),
    #[error("SOQL statement has no FROM object")]
    MissingFrom,
    #[error("SOQL statement selects no field")]
    NoFields,
    #[error("number {0} has no SOQL form")]
    InvalidNumber(String),
    #[error("IN list for {0} is empty")]
    EmptyInList(String),
    #[error("trusted SOQL condition is empty")]
    EmptyTrustedCondition,
}

/// Checks a field path or object name: `Name`, `Account.Owner.Name`, `npe01__Type__c`.
pub fn validate_identifier(s: &str) -> Result<&str, SoqlError> {
    let ok = !s.is_empty()
        && s.split('.').all(|part| {
            let mut chars = part.chars();
            chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    if ok {
        Ok(s)
    } else {
        Err(SoqlError::InvalidIdentifier(s.to_string()))
    }
}

fn push_escaped(out: &mut String, s: &str, like: bool) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '%' if like => out.push_str("\\%"),
            '_' if like => out.push_str("\\_"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// Quotes a string as a SOQL literal: single quotes, with `\ ' " \n \r \t \b \f` and other
/// control characters escaped.
pub fn quote_soql(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    push_escaped(&mut out, s, false);
    out.push('\'');
    out
}

/// Escapes text for use inside a LIKE pattern so that it matches literally: as
/// [`quote_soql`] (without the quotes), plus `%` → `\%` and `_` → `\_`.
pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_escaped(&mut out, s, true);
    out
}

/// A typed value.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    /// `YYYY-MM-DD`, unquoted.
    Date(Date),
    /// `YYYY-MM-DDThh:mm:ss[.sss]Z` in UTC, unquoted.
    DateTime(OffsetDateTime),
}

impl Literal {
    /// The literal's SOQL text.
    pub fn render(&self) -> Result<String, SoqlError> {
        Ok(match self {
            Literal::Null => "null".into(),
            Literal::Bool(b) => b.to_string(),
            Literal::Int(i) => i.to_string(),
            Literal::Float(f) if f.is_finite() => f.to_string(),
            Literal::Float(f) => return Err(SoqlError::InvalidNumber(f.to_string())),
            Literal::String(s) => quote_soql(s),
            Literal::Date(d) => d
                .format(format_description!("[year]-[month]-[day]"))
                .unwrap_or_default(),
            Literal::DateTime(t) => format_datetime(*t),
        })
    }
}

/// A datetime as an unquoted SOQL literal (UTC, milliseconds only when non-zero).
pub fn format_datetime(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    if t.millisecond() == 0 {
        t.format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default()
    } else {
        t.format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .unwrap_or_default()
    }
}

macro_rules! literal_from {
    ($($t:ty => $variant:ident($conv:expr)),* $(,)?) => {
        $(impl From<$t> for Literal {
            fn from(v: $t) -> Self {
                Literal::$variant($conv(v))
            }
        })*
    };
}

literal_from! {
    bool => Bool(|v| v),
    i32 => Int(i64::from),
    i64 => Int(|v| v),
    u32 => Int(i64::from),
    f64 => Float(|v| v),
    String => String(|v| v),
    &str => String(str::to_string),
    &String => String(String::clone),
    Date => Date(|v| v),
    OffsetDateTime => DateTime(|v| v),
}

impl<T: Into<Literal>> From<Option<T>> for Literal {
    fn from(v: Option<T>) -> Self {
        v.map_or(Literal::Null, Into::into)
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// A WHERE condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    Compare {
        field: String,
        op: Op,
        value: Literal,
    },
    In {
        field: String,
        values: Vec<Literal>,
        negated: bool,
    },
    InQuery {
        field: String,
        query: Box<Soql>,
        negated: bool,
    },
    /// `field LIKE 'pattern'`; the pattern is escaped except for `%` and `_`.
    Like {
        field: String,
        pattern: String,
    },
    /// `field LIKE 'pattern'` where the pattern is already escaped for LIKE.
    LikeEscaped {
        field: String,
        pattern: String,
    },
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    /// Trusted configuration text, pasted as-is (in parentheses).
    Trusted(String),
}

impl Condition {
    pub fn compare(field: impl Into<String>, op: Op, value: impl Into<Literal>) -> Self {
        Condition::Compare {
            field: field.into(),
            op,
            value: value.into(),
        }
    }
    pub fn eq(field: impl Into<String>, value: impl Into<Literal>) -> Self {
        Self::compare(field, Op::Eq, value)
    }
    pub fn ne(field: impl Into<String>, value: impl Into<Literal>) -> Self {
        Self::compare(field, Op::Ne, value)
    }
    pub fn lt(field: impl Into<String>, value: impl Into<Literal>) -> Self {
        Self::compare(field, Op::Lt, value)
    }
    pub fn le(field: impl Into<String>, value: impl Into<Literal>) -> Self {
        Self::compare(field, Op::Le, value)
    }
    pub fn gt(field: impl Into<String>, value: impl Into<Literal>) -> Self {
        Self::compare(field, Op::Gt, value)
    }
    pub fn ge(field: impl Into<String>, value: impl Into<Literal>) -> Self {
        Self::compare(field, Op::Ge, value)
    }
    pub fn is_null(field: impl Into<String>) -> Self {
        Self::compare(field, Op::Eq, Literal::Null)
    }
    pub fn is_not_null(field: impl Into<String>) -> Self {
        Self::compare(field, Op::Ne, Literal::Null)
    }
    /// `field IN (v1, v2, …)`.
    pub fn in_list(
        field: impl Into<String>,
        values: impl IntoIterator<Item = impl Into<Literal>>,
    ) -> Self {
        Self::membership(field.into(), values, false)
    }
    /// `field NOT IN (v1, v2, …)`.
    pub fn not_in_list(
        field: impl Into<String>,
        values: impl IntoIterator<Item = impl Into<Literal>>,
    ) -> Self {
        Self::membership(field.into(), values, true)
    }

    fn membership(
        field: String,
        values: impl IntoIterator<Item = impl Into<Literal>>,
        negated: bool,
    ) -> Self {
        Condition::In {
            field,
            values: values.into_iter().map(Into::into).collect(),
            negated,
        }
    }
    /// Semi-join: `field IN (SELECT …)`.
    pub fn in_query(field: impl Into<String>, query: Soql) -> Self {
        Condition::InQuery {
            field: field.into(),
            query: Box::new(query),
            negated: false,
        }
    }
    /// Anti-join: `field NOT IN (SELECT …)`.
    pub fn not_in_query(field: impl Into<String>, query: Soql) -> Self {
        Condition::InQuery {
            field: field.into(),
            query: Box::new(query),
            negated: true,
        }
    }
    /// `field LIKE pattern`, where `%` and `_` in `pattern` are wildcards and everything else
    /// matches literally.
    pub fn like(field: impl Into<String>, pattern: impl Into<String>) -> Self {
        Condition::Like {
            field: field.into(),
            pattern: pattern.into(),
        }
    }
    /// `field LIKE '%text%'` with `text` matched literally.
    pub fn contains(field: impl Into<String>, text: &str) -> Self {
        Condition::LikeEscaped {
            field: field.into(),
            pattern: format!("%{}%", escape_like(text)),
        }
    }
    /// `field LIKE 'text%'` with `text` matched literally.
    pub fn starts_with(field: impl Into<String>, text: &str) -> Self {
        Condition::LikeEscaped {
            field: field.into(),
            pattern: format!("{}%", escape_like(text)),
        }
    }

    /// A condition written by hand in **trusted configuration**, such as a mapping file's
    /// `select where "…"`. The text is inserted verbatim, wrapped in parentheses so that it
    /// combines safely with other conditions. Never build it from record values or other
    /// untrusted input: use the typed constructors for those.
    pub fn trusted(soql: impl Into<String>) -> Self {
        Condition::Trusted(soql.into())
    }

    /// `self AND other` (flattening nested ANDs).
    pub fn and(self, other: Condition) -> Self {
        match self {
            Condition::And(mut items) => {
                items.push(other);
                Condition::And(items)
            }
            first => Condition::And(vec![first, other]),
        }
    }

    /// `self OR other` (flattening nested ORs).
    pub fn or(self, other: Condition) -> Self {
        match self {
            Condition::Or(mut items) => {
                items.push(other);
                Condition::Or(items)
            }
            first => Condition::Or(vec![first, other]),
        }
    }

    /// `NOT self`.
    #[expect(
        clippy::should_implement_trait,
        reason = "builder method named after the SOQL keyword"
    )]
    pub fn not(self) -> Self {
        Condition::Not(Box::new(self))
    }

    /// All of `conds` (`None` when empty).
    pub fn all(conds: impl IntoIterator<Item = Condition>) -> Option<Self> {
        let v: Vec<_> = conds.into_iter().collect();
        match v.len() {
            0 => None,
            1 => v.into_iter().next(),
            _ => Some(Condition::And(v)),
        }
    }

    /// Any of `conds` (`None` when empty).
    pub fn any(conds: impl IntoIterator<Item = Condition>) -> Option<Self> {
        let v: Vec<_> = conds.into_iter().collect();
        match v.len() {
            0 => None,
            1 => v.into_iter().next(),
            _ => Some(Condition::Or(v)),
        }
    }

    /// Renders the condition. Compound conditions are always parenthesised, because SOQL
    /// refuses AND and OR side by side without parentheses.
    pub fn render(&self) -> Result<String, SoqlError> {
        let mut out = String::new();
        self.render_into(&mut out)?;
        Ok(out)
    }

    fn render_into(&self, out: &mut String) -> Result<(), SoqlError> {
        match self {
            Condition::Compare { field, op, value } => {
                let _ = write!(
                    out,
                    "{} {} {}",
                    validate_identifier(field)?,
                    op.as_str(),
                    value.render()?
                );
            }
            Condition::In {
                field,
                values,
                negated,
            } => {
                validate_identifier(field)?;
                if values.is_empty() {
                    return Err(SoqlError::EmptyInList(field.clone()));
                }
                let list = values
                    .iter()
                    .map(Literal::render)
                    .collect::<Result<Vec<_>, _>>()?
                    .join(", ");
                let _ = write!(
                    out,
                    "{field} {}IN ({list})",
                    if *negated { "NOT " } else { "" }
                );
            }
            Condition::InQuery {
                field,
                query,
                negated,
            } => {
                validate_identifier(field)?;
                let _ = write!(
                    out,
                    "{field} {}IN ({})",
                    if *negated { "NOT " } else { "" },
                    query.build()?
                );
            }
            Condition::Like { field, pattern } => {
                validate_identifier(field)?;
                let mut quoted = String::from("'");
                push_escaped(&mut quoted, pattern, false);
                quoted.push('\'');
                let _ = write!(out, "{field} LIKE {quoted}");
            }
            Condition::LikeEscaped { field, pattern } => {
                validate_identifier(field)?;
                let _ = write!(out, "{field} LIKE '{pattern}'");
            }
            Condition::And(items) | Condition::Or(items) => {
                let sep = if matches!(self, Condition::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                out.push('(');
                for (i, c) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(sep);
                    }
                    c.render_into(out)?;
                }
                out.push(')');
            }
            Condition::Not(inner) => {
                out.push_str("(NOT ");
                inner.render_into(out)?;
                out.push(')');
            }
            Condition::Trusted(text) => {
                if text.trim().is_empty() {
                    return Err(SoqlError::EmptyTrustedCondition);
                }
                let _ = write!(out, "({})", text.trim());
            }
        }
        Ok(())
    }
}

/// Sort direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

/// A SELECT statement.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Soql {
    fields: Vec<String>,
    from: Option<String>,
    filter: Option<Condition>,
    order_by: Vec<(String, Direction)>,
    limit: Option<u32>,
    offset: Option<u32>,
}

impl Soql {
    /// `SELECT fields`.
    pub fn select<I, S>(fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Soql {
            fields: fields.into_iter().map(Into::into).collect(),
            ..Soql::default()
        }
    }

    /// `FROM object`.
    pub fn from(mut self, object: impl Into<String>) -> Self {
        self.from = Some(object.into());
        self
    }

    /// `WHERE cond` (replacing any earlier condition).
    pub fn where_(mut self, cond: Condition) -> Self {
        self.filter = Some(cond);
        self
    }

    /// ANDs `cond` with the current condition.
    pub fn and_where(mut self, cond: Condition) -> Self {
        self.filter = Some(match self.filter.take() {
            Some(c) => c.and(cond),
            None => cond,
        });
        self
    }

    /// Appends an ORDER BY item.
    pub fn order_by(mut self, field: impl Into<String>, dir: Direction) -> Self {
        self.order_by.push((field.into(), dir));
        self
    }

    pub fn limit(mut self, n: u32) -> Self {
        self.limit = Some(n);
        self
    }

    pub fn offset(mut self, n: u32) -> Self {
        self.offset = Some(n);
        self
    }

    /// The SOQL text.
    pub fn build(&self) -> Result<String, SoqlError> {
        if self.fields.is_empty() {
            return Err(SoqlError::NoFields);
        }
        for f in &self.fields {
            validate_identifier(f)?;
        }
        let from = self.from.as_deref().ok_or(SoqlError::MissingFrom)?;
        validate_identifier(from)?;
        if from.contains('.') {
            return Err(SoqlError::InvalidIdentifier(from.to_string()));
        }
        let mut out = format!("SELECT {} FROM {from}", self.fields.join(", "));
        if let Some(c) = &self.filter {
            out.push_str(" WHERE ");
            c.render_into(&mut out)?;
        }
        if !self.order_by.is_empty() {
            let items = self
                .order_by
                .iter()
                .map(|(f, d)| {
                    validate_identifier(f).map(|f| {
                        format!("{f} {}", if *d == Direction::Desc { "DESC" } else { "ASC" })
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let _ = write!(out, " ORDER BY {}", items.join(", "));
        }
        if let Some(n) = self.limit {
            let _ = write!(out, " LIMIT {n}");
        }
        if let Some(n) = self.offset {
            let _ = write!(out, " OFFSET {n}");
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn quoting() {
        assert_eq!(quote_soql(r#"O'Brien \ "x""#), r#"'O\'Brien \\ \"x\"'"#);
        assert_eq!(
            quote_soql("a\nb\tc\r\u{8}\u{c}\u{1}"),
            r"'a\nb\tc\r\b\f\u0001'"
        );
        assert_eq!(escape_like("50%_off"), r"50\%\_off");
    }

    #[test]
    fn literals() {
        assert_eq!(
            Literal::from(date!(2024 - 07 - 01)).render().unwrap(),
            "2024-07-01"
        );
        assert_eq!(
            Literal::from(datetime!(2024-07-01 02:00:00 +02:00))
                .render()
                .unwrap(),
            "2024-07-01T00:00:00Z"
        );
        assert_eq!(
            Literal::from(datetime!(2024-07-01 00:00:00.250 UTC))
                .render()
                .unwrap(),
            "2024-07-01T00:00:00.250Z"
        );
        assert_eq!(Literal::from(2.5).render().unwrap(), "2.5");
        assert!(Literal::from(f64::NAN).render().is_err());
        assert_eq!(Literal::from(None::<&str>).render().unwrap(), "null");
    }

    #[test]
    fn identifiers_are_checked() {
        assert!(Soql::select(["Id; DELETE"]).from("Lead").build().is_err());
        assert!(Soql::select(["Id"]).from("Lead WHERE").build().is_err());
        assert!(Condition::eq("Name = 'x' OR Id", "y").render().is_err());
        assert!(
            Soql::select(["Account.Name", "npe01__Type__c"])
                .from("Contact")
                .build()
                .is_ok()
        );
    }

    #[test]
    fn seed_selection_with_trusted_and_builder() {
        let q = Soql::select(["Id", "Name"])
            .from("Account")
            .where_(
                Condition::trusted("Id in (SELECT AccountId FROM Opportunity WHERE RecordTypeId = '0123p000000EILEAA4')")
                    .or(Condition::in_query(
                        "Id",
                        Soql::select(["ConvertedAccountId"]).from("Lead").where_(
                            Condition::eq("Role__c", "Partner").and(Condition::ge("CreatedDate", datetime!(2024-07-01 0:00 UTC))),
                        ),
                    )),
            )
            .and_where(Condition::gt("SystemModstamp", datetime!(2025-01-01 0:00 UTC)))
            .order_by("SystemModstamp", Direction::Asc)
            .limit(10)
            .build()
            .unwrap();
        assert_eq!(
            q,
            "SELECT Id, Name FROM Account WHERE (((Id in (SELECT AccountId FROM Opportunity WHERE RecordTypeId = '0123p000000EILEAA4')) OR Id IN (SELECT ConvertedAccountId FROM Lead WHERE (Role__c = 'Partner' AND CreatedDate >= 2024-07-01T00:00:00Z))) AND SystemModstamp > 2025-01-01T00:00:00Z) ORDER BY SystemModstamp ASC LIMIT 10"
        );
    }

    #[test]
    fn in_lists_and_like() {
        let c =
            Condition::in_list("Status", ["Open", "It's"]).and(Condition::contains("Name", "50%"));
        assert_eq!(
            c.render().unwrap(),
            r"(Status IN ('Open', 'It\'s') AND Name LIKE '%50\%%')"
        );
        assert!(
            Condition::in_list("Id", Vec::<String>::new())
                .render()
                .is_err()
        );
        assert_eq!(
            Condition::like("Name", "O'B%").render().unwrap(),
            r"Name LIKE 'O\'B%'"
        );
    }
}
