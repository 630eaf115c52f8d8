//! Salesforce field JSON ↔ [`Value`] (see `salesforce-api.md` §8).
//!
//! Dates are `2010-01-01`, datetimes `2011-07-07T00:37:00.000+0000`, multi-select picklists
//! `a;b`, numbers JSON numbers, booleans `true`/`false` (never null).

use crmmap_dsl::model::{Kind, SfType};
use serde_json::{Value as Json, json};

use super::{Number, Value, format_date, parse_date, parse_datetime};
use crate::error::{Code, EvalError};

/// The separator of multi-select picklist values.
pub const MULTIPICKLIST_SEPARATOR: char = ';';

/// Formats an instant for a write: `2011-07-07T00:37:00.000Z`.
///
/// Salesforce returns datetimes as `…+0000` but documents writes as `…+HH:mm` or `…Z`
/// (`salesforce-api.md` §8); the `Z` form is in both lists, so it is the one written.
pub fn format_datetime_for_write(t: time::OffsetDateTime) -> String {
    let t = super::in_utc(t);
    format!(
        "{}T{:02}:{:02}:{:02}.{:03}Z",
        format_date(t.date()),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

fn shape(t: SfType, v: &Json) -> EvalError {
    EvalError::new(
        Code::SalesforceValueShape,
        format!("unexpected {t} field value `{v}`"),
    )
}

/// Reads a field value of type `t`.
///
/// ```
/// use crmmap_dsl::model::SfType;
/// use crmmap_engine::value::{Value, salesforce::read};
/// let v = read(SfType::Multipicklist, &serde_json::json!("four;six")).unwrap();
/// assert_eq!(v, Value::labels(["four", "six"]));
/// ```
pub fn read(t: SfType, v: &Json) -> Result<Value, EvalError> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    Ok(match t.kind() {
        Kind::Text => match v {
            Json::String(s) if s.is_empty() => Value::Null,
            Json::String(s) => Value::text(s),
            // Tolerate numbers and booleans in text fields (formula fields, emulators).
            Json::Number(n) => Value::text(n.to_string()),
            Json::Bool(b) => Value::text(b.to_string()),
            _ => return Err(shape(t, v)),
        },
        Kind::Labels => match v {
            Json::String(s) => Value::Labels(
                s.split(MULTIPICKLIST_SEPARATOR)
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            _ => return Err(shape(t, v)),
        },
        Kind::Number => match v {
            Json::Number(n) => Value::Number(Number::from_json(n)?),
            Json::String(s) if s.trim().is_empty() => Value::Null,
            Json::String(s) => Value::Number(Number::parse(s)?),
            _ => return Err(shape(t, v)),
        },
        Kind::Bool => match v {
            Json::Bool(b) => Value::Bool(*b),
            Json::String(s) => Value::Bool(super::parse_bool(s)?),
            _ => return Err(shape(t, v)),
        },
        Kind::Date => match v {
            Json::String(s) if s.is_empty() => Value::Null,
            Json::String(s) => Value::Date(parse_date(s)?),
            _ => return Err(shape(t, v)),
        },
        Kind::DateTime => match v {
            Json::String(s) if s.is_empty() => Value::Null,
            Json::String(s) => Value::DateTime(parse_datetime(s)?),
            _ => return Err(shape(t, v)),
        },
    })
}

/// The JSON to write to a field of type `t` (`null` for an empty value; `false` for an empty
/// boolean, which Salesforce never stores as null).
///
/// ```
/// use crmmap_dsl::model::SfType;
/// use crmmap_engine::value::{Value, salesforce::write};
/// assert_eq!(write(SfType::Multipicklist, &Value::labels(["a", "b"])).unwrap(), serde_json::json!("a;b"));
/// assert_eq!(write(SfType::Currency, &Value::text("19.90")).unwrap(), serde_json::json!(19.9));
/// ```
pub fn write(t: SfType, v: &Value) -> Result<Json, EvalError> {
    if v.is_empty() {
        return Ok(if t == SfType::Boolean {
            json!(false)
        } else {
            Json::Null
        });
    }
    let v = v.convert(t.kind()).map_err(|mut e| {
        e.message = format!("{} for a {t} field", e.message);
        e
    })?;
    Ok(match v {
        Value::Null => Json::Null,
        Value::Text(s) => json!(s),
        Value::Number(n) => {
            if t == SfType::Int {
                n.round(0).to_json()
            } else {
                n.to_json()
            }
        }
        Value::Bool(b) => json!(b),
        Value::Date(d) => json!(format_date(d)),
        Value::DateTime(d) => json!(format_datetime_for_write(d)),
        Value::Labels(l) => {
            let parts: Vec<&str> = l
                .iter()
                .map(String::as_str)
                .filter(|s| !s.is_empty())
                .collect();
            json!(parts.join(&MULTIPICKLIST_SEPARATOR.to_string()))
        }
    })
}

/// The JSON for a value written to a field whose type the mapping does not declare (rule and
/// create assignments to unmapped fields): by the value's own kind.
pub fn write_untyped(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Text(s) if s.is_empty() => Json::Null,
        Value::Text(s) => json!(s),
        Value::Number(n) => n.to_json(),
        Value::Bool(b) => json!(b),
        Value::Date(d) => json!(format_date(*d)),
        Value::DateTime(t) => json!(format_datetime_for_write(*t)),
        Value::Labels(l) => {
            if l.is_empty() {
                Json::Null
            } else {
                json!(l.join(&MULTIPICKLIST_SEPARATOR.to_string()))
            }
        }
    }
}

/// Reads a field whose type is not known (a record field read by an expression): strings stay
/// text, numbers become numbers, booleans booleans.
pub fn read_untyped(v: &Json) -> Value {
    match v {
        Json::Null => Value::Null,
        Json::String(s) if s.is_empty() => Value::Null,
        Json::String(s) => Value::text(s),
        Json::Number(n) => {
            Number::from_json(n).map_or_else(|_| Value::text(n.to_string()), Value::Number)
        }
        Json::Bool(b) => Value::Bool(*b),
        other => Value::text(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn reads_each_type() {
        let cases = vec![
            (
                SfType::Id,
                json!("001D000000IqhSLIAZ"),
                Value::text("001D000000IqhSLIAZ"),
            ),
            (SfType::String, json!(""), Value::Null),
            (SfType::Picklist, json!("Open"), Value::text("Open")),
            (
                SfType::Multipicklist,
                json!("four;six"),
                Value::labels(["four", "six"]),
            ),
            (SfType::Boolean, json!(true), Value::Bool(true)),
            (
                SfType::Date,
                json!("2010-01-01"),
                Value::Date(date!(2010 - 01 - 01)),
            ),
            (
                SfType::Datetime,
                json!("2011-07-07T00:37:00.000+0000"),
                Value::DateTime(datetime!(2011-07-07 0:37 UTC)),
            ),
            (
                SfType::Currency,
                json!(19.99),
                Value::Number(Number::parse("19.99").unwrap()),
            ),
            (SfType::Int, json!(3), Value::Number(Number::from_i64(3))),
            (
                SfType::Percent,
                json!(12.5),
                Value::Number(Number::parse("12.5").unwrap()),
            ),
            (SfType::Double, Json::Null, Value::Null),
        ];
        for (t, j, want) in cases {
            assert_eq!(read(t, &j).unwrap(), want, "{t} {j}");
        }
    }

    #[test]
    fn rejects_wrong_shapes() {
        assert_eq!(
            read(SfType::Double, &json!([1])).unwrap_err().code,
            Code::SalesforceValueShape
        );
        assert_eq!(
            read(SfType::Date, &json!("01/01/2010")).unwrap_err().code,
            Code::NotADate
        );
        assert_eq!(
            read(SfType::Double, &json!("abc")).unwrap_err().code,
            Code::NotANumber
        );
    }

    #[test]
    fn writes_each_type() {
        let cases = vec![
            (SfType::String, Value::text("x"), json!("x")),
            (SfType::String, Value::Null, Json::Null),
            (SfType::Boolean, Value::Null, json!(false)),
            (SfType::Boolean, Value::text("true"), json!(true)),
            (
                SfType::Multipicklist,
                Value::labels(["a", "b"]),
                json!("a;b"),
            ),
            (
                SfType::Date,
                Value::DateTime(datetime!(2024-06-15 0:00 UTC)),
                json!("2024-06-15"),
            ),
            (
                SfType::Datetime,
                Value::Date(date!(2024 - 06 - 15)),
                json!("2024-06-15T00:00:00.000Z"),
            ),
            (SfType::Int, Value::text("7"), json!(7)),
            (SfType::Double, Value::text("7.25"), json!(7.25)),
            (
                SfType::String,
                Value::Number(Number::parse("1.50").unwrap()),
                json!("1.5"),
            ),
        ];
        for (t, v, want) in cases {
            assert_eq!(write(t, &v).unwrap(), want, "{t} {v:?}");
        }
        let e = write(SfType::Double, &Value::text("abc")).unwrap_err();
        assert_eq!(
            e.message,
            "cannot read `abc` as a number for a double field"
        );
    }

    #[test]
    fn untyped_values_follow_their_kind() {
        assert_eq!(
            write_untyped(&Value::Date(date!(2024 - 01 - 02))),
            json!("2024-01-02")
        );
        assert_eq!(write_untyped(&Value::labels(["a", "b"])), json!("a;b"));
        assert_eq!(read_untyped(&json!(5)), Value::Number(Number::from_i64(5)));
        assert_eq!(read_untyped(&json!("")), Value::Null);
    }
}
