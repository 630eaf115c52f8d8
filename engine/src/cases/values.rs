//! Values written in test files, read as each side holds them, and values shown back in
//! reports.
//!
//! A Salesforce value is written as the REST API gives it (text, a number, `true`, a table
//! for a relationship); a monday value in the column's kind (text, a number, a date as
//! `"YYYY-MM-DD"`, labels as an array, or as one text with `;` between them).

use crmmap_dsl::model::{Kind, SfType};
use serde_json::Value as Json;

use crate::error::{Code, EvalError};
use crate::value::{Number, Value, salesforce};

/// A TOML value as the JSON the Salesforce REST API would give.
pub fn toml_to_json(v: &toml::Value) -> Result<Json, EvalError> {
    Ok(match v {
        toml::Value::String(s) => Json::String(s.clone()),
        toml::Value::Integer(i) => Json::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .ok_or_else(|| {
                EvalError::new(Code::NotANumber, format!("`{f}` is not a finite number"))
            })?,
        toml::Value::Boolean(b) => Json::Bool(*b),
        toml::Value::Datetime(d) => Json::String(d.to_string()),
        toml::Value::Array(a) => Json::Array(a.iter().map(toml_to_json).collect::<Result<_, _>>()?),
        toml::Value::Table(t) => Json::Object(
            t.iter()
                .map(|(k, v)| Ok((k.clone(), toml_to_json(v)?)))
                .collect::<Result<_, EvalError>>()?,
        ),
    })
}

/// A TOML value as a monday value of `kind`.
pub fn toml_to_value(v: &toml::Value, kind: Kind) -> Result<Value, EvalError> {
    let raw = match v {
        toml::Value::String(s) => Value::text(s.clone()),
        toml::Value::Integer(i) => Value::Number(Number::from_i64(*i)),
        toml::Value::Float(f) => Value::Number(Number::from_f64(*f)?),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::text(d.to_string()),
        toml::Value::Array(a) => Value::Labels(
            a.iter()
                .map(|l| match l {
                    toml::Value::String(s) => Ok(s.clone()),
                    other => Err(EvalError::new(
                        Code::KindMismatch,
                        format!("labels are text, not `{other}`"),
                    )),
                })
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(_) => {
            return Err(EvalError::new(
                Code::KindMismatch,
                "a monday value is text, a number, a boolean or a list of labels, not a table",
            ));
        }
    };
    raw.convert(kind)
}

/// How a monday value is shown: as it would be written in a test file.
pub fn show_value(v: &Value) -> String {
    match v {
        Value::Null => "(empty)".to_owned(),
        Value::Text(s) => quote(s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Date(_) | Value::DateTime(_) => quote(&v.display()),
        Value::Labels(l) => format!(
            "[{}]",
            l.iter().map(|s| quote(s)).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// How a Salesforce value is shown: its JSON.
pub fn show_json(v: &Json) -> String {
    match v {
        Json::Null => "null".to_owned(),
        other => other.to_string(),
    }
}

fn quote(s: &str) -> String {
    Json::String(s.to_owned()).to_string()
}

/// Whether a Salesforce value equals the expected one, read with the field's type when the
/// mappings declare it (a multi-select compares as a set, `1 == 1.0`), else by the values'
/// own kinds.
pub fn same_json(field_type: Option<SfType>, expected: &Json, actual: &Json) -> bool {
    let read = |j: &Json| match field_type {
        Some(t) => salesforce::read(t, j).unwrap_or_else(|_| salesforce::read_untyped(j)),
        None => salesforce::read_untyped(j),
    };
    let (e, a) = (read(expected), read(actual));
    let kind = field_type
        .map(SfType::kind)
        .or_else(|| a.kind())
        .or_else(|| e.kind())
        .unwrap_or(Kind::Text);
    e.same_as(&a, kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_read_from_an_array_or_from_text() {
        let from_array = toml_to_value(
            &toml::Value::Array(vec!["a".into(), "b".into()]),
            Kind::Labels,
        )
        .unwrap();
        let from_text = toml_to_value(&toml::Value::String("a;b".into()), Kind::Labels).unwrap();
        assert_eq!(from_array, from_text);
        assert_eq!(show_value(&from_array), r#"["a", "b"]"#);
    }

    #[test]
    fn salesforce_values_compare_by_the_field_type() {
        let a = Json::String("x;y".into());
        let b = Json::String("y;x".into());
        assert!(same_json(Some(SfType::Multipicklist), &a, &b));
        assert!(!same_json(Some(SfType::String), &a, &b));
        assert!(same_json(None, &Json::from(1), &serde_json::json!(1.0)));
        assert!(!same_json(None, &Json::from("Acme"), &Json::from("acme")));
    }

    #[test]
    fn a_table_is_not_a_monday_value() {
        assert!(toml_to_value(&toml::Value::Table(toml::Table::new()), Kind::Text).is_err());
        assert!(toml_to_json(&toml::Value::Float(f64::NAN)).is_err());
    }
}
