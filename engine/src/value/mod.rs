//! The canonical value model shared by both systems, and conversions between kinds.
//!
//! Every value read from monday ([`monday`]) or Salesforce ([`salesforce`]) becomes a [`Value`];
//! transforms work on `Value`s; writes turn them back into each system's JSON. Comparison
//! ([`Value::same_as`]) decides whether two values are "the same" for sync purposes.

pub mod monday;
mod number;
pub mod salesforce;

use std::fmt;

use crmmap_dsl::model::Kind;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::parsing::Parsed;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

pub use number::Number;

use crate::error::{Code, EvalError};

/// A value flowing through a mapping, independent of either system's format.
#[derive(Clone, PartialEq)]
pub enum Value {
    /// No value (an empty column, a `null` field).
    Null,
    /// A string.
    Text(String),
    /// An exact decimal number.
    Number(Number),
    /// `true` / `false`.
    Bool(bool),
    /// A calendar date.
    Date(Date),
    /// An instant, always held in UTC.
    DateTime(OffsetDateTime),
    /// A set of labels; order is kept for writing but ignored by comparison.
    Labels(Vec<String>),
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("Null"),
            Value::Text(s) => write!(f, "Text({s:?})"),
            Value::Number(n) => write!(f, "Number({n})"),
            Value::Bool(b) => write!(f, "Bool({b})"),
            Value::Date(d) => write!(f, "Date({})", format_date(*d)),
            Value::DateTime(t) => write!(f, "DateTime({})", format_datetime(*t)),
            Value::Labels(l) => write!(f, "Labels({l:?})"),
        }
    }
}

impl Value {
    /// A text value.
    pub fn text(s: impl Into<String>) -> Value {
        Value::Text(s.into())
    }

    /// A labels value.
    pub fn labels<I: IntoIterator<Item = S>, S: Into<String>>(labels: I) -> Value {
        Value::Labels(labels.into_iter().map(Into::into).collect())
    }

    /// Whether the value counts as empty: null, `""`, or no labels.
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Text(s) => s.is_empty(),
            Value::Labels(l) => l.iter().all(String::is_empty),
            _ => false,
        }
    }

    /// The kind of the value, `None` for null.
    pub fn kind(&self) -> Option<Kind> {
        Some(match self {
            Value::Null => return None,
            Value::Text(_) => Kind::Text,
            Value::Number(_) => Kind::Number,
            Value::Bool(_) => Kind::Bool,
            Value::Date(_) => Kind::Date,
            Value::DateTime(_) => Kind::DateTime,
            Value::Labels(_) => Kind::Labels,
        })
    }

    /// Converts the value to `kind`, where the language allows it implicitly.
    ///
    /// - text ↔ number, date, datetime and boolean: parse and format;
    /// - date ↔ datetime: a date is the instant at UTC midnight, a datetime's date is its UTC date;
    /// - labels ↔ text: the mapping language pairs them only through `join` / `split`, except a
    ///   text column with a multi-select picklist, which converts the way Salesforce encodes
    ///   them (values joined with `;`); a single label converts to any scalar kind, several
    ///   labels only to text ([`Code::LabelsNeedJoin`]);
    /// - empty values become [`Value::Null`].
    ///
    /// ```
    /// use crmmap_dsl::model::Kind;
    /// use crmmap_engine::value::Value;
    /// let v = Value::text(" 42.50 ").convert(Kind::Number).unwrap();
    /// assert_eq!(v.convert(Kind::Text).unwrap(), Value::text("42.5"));
    /// let d = Value::text("2024-06-15").convert(Kind::DateTime).unwrap();
    /// assert_eq!(d.convert(Kind::Text).unwrap(), Value::text("2024-06-15T00:00:00.000+0000"));
    /// ```
    pub fn convert(&self, kind: Kind) -> Result<Value, EvalError> {
        if self.is_empty() {
            return Ok(Value::Null);
        }
        let mismatch = || {
            EvalError::new(
                Code::KindMismatch,
                format!(
                    "cannot use {} `{}` as {}",
                    self.kind().map_or("null", Kind::name),
                    self.display(),
                    kind.name()
                ),
            )
        };
        Ok(match (self, kind) {
            (v, k) if v.kind() == Some(k) => v.clone(),
            (Value::Text(s), Kind::Number) => Value::Number(Number::parse(s)?),
            (Value::Text(s), Kind::Date) => Value::Date(parse_date_lenient(s)?),
            (Value::Text(s), Kind::DateTime) => Value::DateTime(parse_datetime(s)?),
            (Value::Text(s), Kind::Bool) => Value::Bool(parse_bool(s)?),
            (Value::Text(s), Kind::Labels) => Value::Labels(
                s.split(salesforce::MULTIPICKLIST_SEPARATOR)
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            (Value::Number(n), Kind::Text) => Value::Text(n.to_string()),
            (Value::Bool(b), Kind::Text) => Value::Text(b.to_string()),
            (Value::Date(d), Kind::Text) => Value::Text(format_date(*d)),
            (Value::DateTime(t), Kind::Text) => Value::Text(format_datetime(*t)),
            (Value::Date(d), Kind::DateTime) => Value::DateTime(d.midnight().assume_utc()),
            (Value::DateTime(t), Kind::Date) => Value::Date(in_utc(*t).date()),
            (Value::Labels(l), Kind::Text) => Value::Text(
                non_empty_labels(l).join(&salesforce::MULTIPICKLIST_SEPARATOR.to_string()),
            ),
            (Value::Labels(l), k) => match non_empty_labels(l).as_slice() {
                [one] => Value::Text((*one).to_owned()).convert(k)?,
                _ => {
                    return Err(EvalError::new(
                        Code::LabelsNeedJoin,
                        format!(
                            "several labels `{}` cannot become one {}",
                            self.display(),
                            k.name()
                        ),
                    ));
                }
            },
            _ => return Err(mismatch()),
        })
    }

    /// A lossless JSON form, for storing values (for example the last-synced value of a
    /// field): `null`, `{"text": …}`, `{"number": "1.5"}` (decimal text), `{"bool": …}`,
    /// `{"date": "2024-06-15"}`, `{"datetime": "2024-06-15T14:30:00.123456789Z"}`,
    /// `{"labels": […]}`.
    ///
    /// ```
    /// use crmmap_engine::value::Value;
    /// let v = Value::labels(["a", "b"]);
    /// assert_eq!(Value::from_json(&v.to_json()).unwrap(), v);
    /// ```
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Text(s) => json!({ "text": s }),
            Value::Number(n) => json!({ "number": n.to_string() }),
            Value::Bool(b) => json!({ "bool": b }),
            Value::Date(d) => json!({ "date": format_date(*d) }),
            Value::DateTime(t) => {
                let t = in_utc(*t);
                json!({ "datetime": format!(
                    "{}T{:02}:{:02}:{:02}.{:09}Z",
                    format_date(t.date()),
                    t.hour(),
                    t.minute(),
                    t.second(),
                    t.nanosecond()
                ) })
            }
            Value::Labels(l) => json!({ "labels": l }),
        }
    }

    /// Reads the form [`Value::to_json`] writes.
    pub fn from_json(j: &serde_json::Value) -> Result<Value, EvalError> {
        let bad = || EvalError::new(Code::KindMismatch, format!("`{j}` is not a stored value"));
        let Some(obj) = j.as_object() else {
            return if j.is_null() {
                Ok(Value::Null)
            } else {
                Err(bad())
            };
        };
        let (key, v) = obj
            .iter()
            .next()
            .filter(|_| obj.len() == 1)
            .ok_or_else(bad)?;
        let text = || v.as_str().ok_or_else(bad);
        Ok(match key.as_str() {
            "text" => Value::Text(text()?.to_owned()),
            "number" => Value::Number(Number::parse(text()?)?),
            "bool" => Value::Bool(v.as_bool().ok_or_else(bad)?),
            "date" => Value::Date(parse_date(text()?)?),
            "datetime" => Value::DateTime(parse_datetime(text()?)?),
            "labels" => Value::Labels(
                v.as_array()
                    .ok_or_else(bad)?
                    .iter()
                    .map(|l| l.as_str().map(str::to_owned).ok_or_else(bad))
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err(bad()),
        })
    }

    /// A short rendering for messages and text conversion (labels joined with `;`).
    pub fn display(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Text(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Date(d) => format_date(*d),
            Value::DateTime(t) => format_datetime(*t),
            Value::Labels(l) => l.join(";"),
        }
    }

    /// Whether two values are the same for sync purposes when they belong to a field of `kind`.
    ///
    /// The rules (each is tested):
    /// - empty-like values are equal: null, `""`, no labels;
    /// - labels compare as sets: order and duplicates do not matter;
    /// - numbers compare by value: `1 == 1.0 == "1"`;
    /// - for a date field, a datetime equals the date when it is UTC midnight of that date;
    /// - for a boolean field, null equals `false` (an unchecked monday checkbox is stored as
    ///   null while a Salesforce boolean is never null);
    /// - text is compared exactly: case and surrounding whitespace differences are changes
    ///   (a user who removes a trailing space meant to, and trimming is available as a step).
    ///
    /// Values that cannot convert to `kind` are compared as they are.
    ///
    /// ```
    /// use crmmap_dsl::model::Kind;
    /// use crmmap_engine::value::Value;
    /// assert!(Value::labels(["b", "a"]).same_as(&Value::labels(["a", "b"]), Kind::Labels));
    /// assert!(Value::Null.same_as(&Value::text(""), Kind::Text));
    /// assert!(!Value::text("a ").same_as(&Value::text("a"), Kind::Text));
    /// ```
    pub fn same_as(&self, other: &Value, kind: Kind) -> bool {
        if kind == Kind::Bool {
            let truth = |v: &Value| match v.convert(Kind::Bool) {
                Ok(Value::Bool(b)) => Some(b),
                Ok(_) => Some(false),
                Err(_) => None,
            };
            if let (Some(a), Some(b)) = (truth(self), truth(other)) {
                return a == b;
            }
        }
        if kind == Kind::Date {
            // A datetime that is not at midnight differs from any date.
            let at_midnight = |v: &Value| match v {
                Value::DateTime(t) => in_utc(*t).time() == Time::MIDNIGHT,
                _ => true,
            };
            if !(at_midnight(self) && at_midnight(other)) {
                // Compare as instants (a date is its UTC midnight).
                return match (self.convert(Kind::DateTime), other.convert(Kind::DateTime)) {
                    (Ok(a), Ok(b)) => structurally_same(&a, &b),
                    _ => structurally_same(self, other),
                };
            }
        }
        match (self.convert(kind), other.convert(kind)) {
            (Ok(a), Ok(b)) => structurally_same(&a, &b),
            _ => structurally_same(self, other),
        }
    }
}

fn non_empty_labels(l: &[String]) -> Vec<&str> {
    l.iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect()
}

fn structurally_same(a: &Value, b: &Value) -> bool {
    if a.is_empty() && b.is_empty() {
        return true;
    }
    match (a, b) {
        (Value::Labels(x), Value::Labels(y)) => {
            let mut x = non_empty_labels(x);
            let mut y = non_empty_labels(y);
            x.sort_unstable();
            x.dedup();
            y.sort_unstable();
            y.dedup();
            x == y
        }
        (Value::DateTime(x), Value::DateTime(y)) => x == y,
        (x, y) => x == y,
    }
}

/// Parses `true`/`false` (any case), `yes`/`no`, `1`/`0`, `checked`/`unchecked`.
pub fn parse_bool(s: &str) -> Result<bool, EvalError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "checked" | "v" => Ok(true),
        "false" | "no" | "0" | "unchecked" => Ok(false),
        _ => Err(EvalError::new(
            Code::NotABoolean,
            format!("cannot read `{s}` as a boolean"),
        )),
    }
}

/// Formats a date as `YYYY-MM-DD` (both systems' date format).
pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Formats an instant the way Salesforce returns datetimes: `2011-07-07T00:37:00.000+0000`.
///
/// This is also how a datetime reads as text (for example a datetime field shown in a monday text
/// column), so that the text a user sees is what Salesforce shows through its API.
pub fn format_datetime(t: OffsetDateTime) -> String {
    let t = in_utc(t);
    format!(
        "{}T{:02}:{:02}:{:02}.{:03}+0000",
        format_date(t.date()),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// `YYYY-MM-DD`.
const DATE: &[BorrowedFormatItem<'static>] =
    format_description!(version = 2, "[year]-[month]-[day]");

/// A date, `T` (or `t`, or a space), a clock with optional seconds and fraction (digits past
/// the nanosecond are read and dropped), and an optional zone: `Z`, `+HH:MM` or `+HHMM`.
const DATETIME: &[BorrowedFormatItem<'static>] = format_description!(
    version = 2,
    "[year]-[month]-[day][first [T] [t] [ ]][hour padding:none]:[minute padding:none]\
     [optional [:[second padding:none][optional [.[subsecond]]]]]\
     [optional [[first [Z] [z] [[offset_hour sign:mandatory]:[offset_minute]] \
     [[offset_hour sign:mandatory][offset_minute]]]]]"
);

/// Whether text starts the way a four-digit year does (the `time` parser also takes a sign).
fn starts_with_digit(t: &str) -> bool {
    t.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

/// Parses a `YYYY-MM-DD` date (surrounding whitespace allowed).
pub fn parse_date(s: &str) -> Result<Date, EvalError> {
    let t = s.trim();
    if !starts_with_digit(t) {
        return Err(not_a_date(s));
    }
    Date::parse(t, DATE).map_err(|_| not_a_date(s))
}

fn not_a_date(s: &str) -> EvalError {
    EvalError::new(Code::NotADate, format!("cannot read `{s}` as a date"))
}

/// Parses a date, also accepting a datetime at UTC midnight written in full.
fn parse_date_lenient(s: &str) -> Result<Date, EvalError> {
    match parse_date(s) {
        Ok(d) => Ok(d),
        Err(e) => match parse_datetime(s) {
            Ok(t) if t.time() == Time::MIDNIGHT => Ok(t.date()),
            _ => Err(e),
        },
    }
}

/// Parses an instant: `2011-07-07T00:37:00.000+0000` (Salesforce), RFC 3339 (`…Z`, `+02:00`),
/// `2024-06-15 14:30:00` (monday, UTC), with optional seconds and fraction, or a bare date
/// (UTC midnight). An instant that leaves the calendar once moved to UTC is an error.
pub fn parse_datetime(s: &str) -> Result<OffsetDateTime, EvalError> {
    let bad = || {
        EvalError::new(
            Code::NotADateTime,
            format!("cannot read `{s}` as a date and time"),
        )
    };
    let t = s.trim();
    if let Ok(date) = parse_date(t) {
        return Ok(date.midnight().assume_utc());
    }
    if !starts_with_digit(t) {
        return Err(bad());
    }
    let mut parsed = Parsed::new();
    let rest = parsed
        .parse_items(t.as_bytes(), DATETIME)
        .map_err(|_| bad())?;
    if !rest.is_empty() {
        return Err(bad());
    }
    let local = PrimitiveDateTime::try_from(parsed).map_err(|_| bad())?;
    // No zone, or `Z`: UTC.
    let offset = UtcOffset::try_from(parsed).unwrap_or(UtcOffset::UTC);
    local
        .assume_offset(offset)
        .checked_to_offset(UtcOffset::UTC)
        .filter(|t| in_calendar(t.date()))
        .ok_or_else(bad)
}

/// Whether a date has a four-digit year, the only years both systems write and read.
pub(crate) fn in_calendar(d: Date) -> bool {
    (0..=9999).contains(&d.year())
}

/// The instant in UTC; values are held in UTC, so this only matters for an instant made
/// elsewhere, which is kept as it is when UTC would leave the calendar.
pub(crate) fn in_utc(t: OffsetDateTime) -> OffsetDateTime {
    t.checked_to_offset(UtcOffset::UTC).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn datetimes_parse_in_every_format_both_systems_use() {
        let want = datetime!(2011-07-07 00:37:00 UTC);
        for s in [
            "2011-07-07T00:37:00.000+0000",
            "2011-07-07T00:37:00Z",
            "2011-07-07T00:37:00.000Z",
            "2011-07-07T02:37:00+02:00",
            "2011-07-06T19:37:00-0500",
            "2011-07-07 00:37:00",
            "2011-07-07T00:37",
        ] {
            assert_eq!(parse_datetime(s).unwrap(), want, "{s}");
        }
        assert_eq!(
            parse_datetime("2011-07-07").unwrap(),
            datetime!(2011-07-07 00:00 UTC)
        );
        for bad in [
            "",
            "2011-07-07X",
            "2011-13-07",
            "07/07/2011",
            "2011-07-07T25:00:00Z",
            "2011-07-07T00:37:00+5",
        ] {
            assert_eq!(
                parse_datetime(bad).unwrap_err().code,
                Code::NotADateTime,
                "{bad}"
            );
        }
    }

    #[test]
    fn datetimes_keep_every_accepted_spelling() {
        let at = |s: &str| parse_datetime(s).unwrap();
        assert_eq!(
            at("2011-07-07T00:37:00.5"),
            datetime!(2011-07-07 00:37:00.5 UTC)
        );
        assert_eq!(
            at("2011-07-07t00:37:00.123456789123z"),
            datetime!(2011-07-07 00:37:00.123456789 UTC)
        );
        assert_eq!(at("2011-07-07T7:05"), datetime!(2011-07-07 07:05 UTC));
        assert_eq!(
            at("2011-07-07T00:37:00-00:30"),
            datetime!(2011-07-07 01:07 UTC)
        );
        assert_eq!(at(" 2011-07-07 00:37 "), datetime!(2011-07-07 00:37 UTC));
        // What `to_json` writes reads back.
        let t = datetime!(2024-06-15 14:30:00.123456789 UTC);
        assert_eq!(
            Value::from_json(&Value::DateTime(t).to_json()).unwrap(),
            Value::DateTime(t)
        );
    }

    #[test]
    fn text_that_once_panicked_is_an_error() {
        // Multi-byte characters where byte offsets were cut (`&frac[..9]`, `&zone[..2]`,
        // `&t[..10]`), and instants that leave the calendar once moved to UTC.
        for bad in [
            "2024-01-01T10:00:00.12345678é",
            "2024-01-01T10:00:00.é",
            "2024-01-01T10:00:00+1é2",
            "2024-01-01T10:00:00-é:0",
            "2024-01-0é",
            "2024-01-01é10:00",
            "é024-01-01",
            "9999-12-31T23:00:00-05:00",
            "0000-01-01T00:00:00+05:00",
            "+2024-01-01T00:00",
            "-2024-01-01",
        ] {
            assert_eq!(
                parse_datetime(bad).unwrap_err().code,
                Code::NotADateTime,
                "{bad}"
            );
            assert!(parse_date(bad).is_err(), "{bad}");
            assert!(Value::text(bad).convert(Kind::Date).is_err(), "{bad}");
            assert!(Value::text(bad).convert(Kind::DateTime).is_err(), "{bad}");
        }
        assert_eq!(
            parse_datetime("9999-12-31T23:59:59.999999999Z").unwrap(),
            datetime!(9999-12-31 23:59:59.999999999 UTC)
        );
    }

    #[test]
    fn datetimes_format_like_salesforce() {
        assert_eq!(
            format_datetime(datetime!(2011-07-07 00:37:00.5 +02:00)),
            "2011-07-06T22:37:00.500+0000"
        );
        assert_eq!(format_date(date!(2010 - 01 - 01)), "2010-01-01");
    }

    #[test]
    fn dates_reject_garbage() {
        for bad in ["2024-02-30", "2024-2-03", "abcd-ef-gh", "20240203"] {
            assert_eq!(parse_date(bad).unwrap_err().code, Code::NotADate, "{bad}");
        }
    }

    #[test]
    fn conversions_between_kinds() {
        assert_eq!(
            Value::text("yes").convert(Kind::Bool).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            Value::text("nope").convert(Kind::Bool).unwrap_err().code,
            Code::NotABoolean
        );
        assert_eq!(
            Value::text("x1").convert(Kind::Number).unwrap_err().code,
            Code::NotANumber
        );
        assert_eq!(Value::text("").convert(Kind::Number).unwrap(), Value::Null);
        assert_eq!(
            Value::DateTime(datetime!(2024-06-15 23:30 UTC))
                .convert(Kind::Date)
                .unwrap(),
            Value::Date(date!(2024 - 06 - 15))
        );
        assert_eq!(
            Value::Date(date!(2024 - 06 - 15))
                .convert(Kind::DateTime)
                .unwrap(),
            Value::DateTime(datetime!(2024-06-15 0:00 UTC))
        );
        assert_eq!(
            Value::labels(["a"]).convert(Kind::Text).unwrap(),
            Value::text("a")
        );
        assert_eq!(
            Value::labels(["a", "b"]).convert(Kind::Text).unwrap(),
            Value::text("a;b")
        );
        assert_eq!(
            Value::text("a; b;").convert(Kind::Labels).unwrap(),
            Value::labels(["a", "b"])
        );
        assert_eq!(
            Value::labels(["1", "2"])
                .convert(Kind::Number)
                .unwrap_err()
                .code,
            Code::LabelsNeedJoin
        );
        assert_eq!(
            Value::labels(["2"]).convert(Kind::Number).unwrap(),
            Value::Number(Number::from_i64(2))
        );
        assert_eq!(
            Value::Bool(true).convert(Kind::Date).unwrap_err().code,
            Code::KindMismatch
        );
    }

    #[test]
    fn stored_json_rejects_other_shapes() {
        use serde_json::json;
        for bad in [
            json!(5),
            json!({"x": 1}),
            json!({"text": 1}),
            json!({"text": "a", "bool": true}),
            json!({"labels": [1]}),
        ] {
            assert_eq!(
                Value::from_json(&bad).unwrap_err().code,
                Code::KindMismatch,
                "{bad}"
            );
        }
        assert_eq!(
            Value::from_json(&json!({"number": "x"})).unwrap_err().code,
            Code::NotANumber
        );
        assert_eq!(Value::from_json(&json!(null)).unwrap(), Value::Null);
    }

    #[test]
    fn comparison_rules() {
        let k = Kind::Text;
        assert!(Value::Null.same_as(&Value::text(""), k));
        assert!(Value::Null.same_as(&Value::Labels(vec![]), Kind::Labels));
        assert!(!Value::text("a").same_as(&Value::text("a "), k));
        assert!(!Value::text("a").same_as(&Value::text("A"), k));
        assert!(Value::labels(["x", "y"]).same_as(&Value::labels(["y", "x", "x"]), Kind::Labels));
        assert!(!Value::labels(["x", "y"]).same_as(&Value::labels(["x"]), Kind::Labels));
        let one = Value::Number(Number::from_i64(1));
        assert!(one.same_as(&Value::Number(Number::parse("1.0").unwrap()), Kind::Number));
        assert!(one.same_as(&Value::text("1"), Kind::Number));
        assert!(!one.same_as(&Value::text("1.01"), Kind::Number));
        let day = Value::Date(date!(2024 - 06 - 15));
        assert!(day.same_as(&Value::DateTime(datetime!(2024-06-15 0:00 UTC)), Kind::Date));
        assert!(!day.same_as(&Value::DateTime(datetime!(2024-06-15 9:00 UTC)), Kind::Date));
        assert!(day.same_as(&Value::text("2024-06-15"), Kind::Date));
        let at_nine = Value::DateTime(datetime!(2024-06-15 9:00 UTC));
        assert!(at_nine.same_as(&Value::text("2024-06-15T11:00:00+02:00"), Kind::Date));
        assert!(!at_nine.same_as(&Value::text("2024-06-15"), Kind::Date));
        assert!(Value::Null.same_as(&Value::Bool(false), Kind::Bool));
        assert!(!Value::Null.same_as(&Value::Bool(true), Kind::Bool));
        assert!(!Value::Null.same_as(&Value::text("x"), Kind::Text));
    }
}
