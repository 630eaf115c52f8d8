//! Field validation for writes, with Salesforce's error codes and messages.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::ids;
use crate::schema::{FieldDef, FieldType, ObjectDef, Schema};
use crate::store::{self, Row};

/// One error: `errorCode` (REST) / `statusCode` (per-record results), message and fields.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ErrorItem {
    pub code: String,
    pub message: String,
    pub fields: Vec<String>,
}

impl ErrorItem {
    pub fn new(code: &str, message: impl Into<String>, fields: Vec<String>) -> Self {
        ErrorItem {
            code: code.into(),
            message: message.into(),
            fields,
        }
    }

    /// The REST error-array form: `{"message","errorCode"[,"fields"]}`.
    pub fn rest_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("message".into(), Value::String(self.message.clone()));
        m.insert("errorCode".into(), Value::String(self.code.clone()));
        if !self.fields.is_empty() {
            m.insert("fields".into(), Value::from(self.fields.clone()));
        }
        Value::Object(m)
    }

    /// The per-record form: `{"statusCode","message","fields"}`.
    pub fn record_json(&self) -> Value {
        serde_json::json!({"statusCode": self.code, "message": self.message, "fields": self.fields})
    }
}

/// Whether a write creates or updates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteKind {
    Create,
    Update,
}

fn json_error(what: &str, v: &Value) -> ErrorItem {
    let token = match v {
        Value::String(_) => "VALUE_STRING",
        Value::Number(_) => "VALUE_NUMBER_INT",
        Value::Bool(true) => "VALUE_TRUE",
        Value::Bool(false) => "VALUE_FALSE",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
        Value::Null => "VALUE_NULL",
    };
    let shown = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    ErrorItem::new(
        "JSON_PARSER_ERROR",
        format!(
            "Cannot deserialize instance of {what} from {token} value {shown} or request may be missing a required field"
        ),
        vec![],
    )
}

fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
        && !domain.contains('@')
}

/// Checks and normalises one field value. `Ok(None)` means "clear the field".
fn check_value(schema: &Schema, f: &FieldDef, v: &Value) -> Result<Value, ErrorItem> {
    if v.is_null() {
        return Ok(if f.ftype == FieldType::Boolean {
            Value::Bool(false)
        } else {
            Value::Null
        });
    }
    let t = f.ftype;
    if t.is_text() {
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => return Err(json_error("String", other)),
        };
        if s.chars().count() > f.length as usize {
            return Err(ErrorItem::new(
                "STRING_TOO_LONG",
                format!(
                    "{}: data value too large: {s} (max length={})",
                    f.label, f.length
                ),
                vec![f.name.clone()],
            ));
        }
        if f.restricted_picklist {
            let items: Vec<&str> = if t == FieldType::Multipicklist {
                s.split(';').collect()
            } else {
                vec![s.as_str()]
            };
            if let Some(bad) = items
                .iter()
                .find(|i| !f.picklist_values.iter().any(|p| p == *i))
            {
                return Err(ErrorItem::new(
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    format!(
                        "{}: bad value for restricted picklist field: {bad}",
                        f.label
                    ),
                    vec![f.name.clone()],
                ));
            }
        }
        if t == FieldType::Email && !s.is_empty() && !looks_like_email(&s) {
            return Err(ErrorItem::new(
                "INVALID_EMAIL_ADDRESS",
                format!("{}: invalid email address: {s}", f.label),
                vec![f.name.clone()],
            ));
        }
        return Ok(if s.is_empty() {
            Value::Null
        } else {
            Value::String(s)
        });
    }
    match t {
        FieldType::Boolean => match v {
            Value::Bool(_) => Ok(v.clone()),
            Value::String(s)
                if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") =>
            {
                Ok(Value::Bool(s.eq_ignore_ascii_case("true")))
            }
            other => Err(json_error("boolean", other)),
        },
        t if t.is_number() => {
            let n = match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            match n.and_then(serde_json::Number::from_f64) {
                Some(n) => Ok(Value::Number(n)),
                None => Err(json_error(
                    if t == FieldType::Int { "int" } else { "double" },
                    v,
                )),
            }
        }
        FieldType::Date => match v {
            Value::String(s) => {
                let d = store::parse_date(s).or_else(|| store::parse_datetime(s).map(|t| t.date()));
                d.map(|d| Value::String(d.to_string()))
                    .ok_or_else(|| json_error("date", v))
            }
            other => Err(json_error("date", other)),
        },
        FieldType::Datetime => match v {
            Value::String(s) => store::parse_datetime(s)
                .map(|t| Value::String(store::format_datetime(t)))
                .ok_or_else(|| json_error("datetime", v)),
            other => Err(json_error("datetime", other)),
        },
        FieldType::Id | FieldType::Reference => {
            let bad = || {
                ErrorItem::new(
                    "MALFORMED_ID",
                    format!(
                        "{}: id value of incorrect type: {}",
                        f.label,
                        v.as_str().map_or(v.to_string(), str::to_string)
                    ),
                    vec![f.name.clone()],
                )
            };
            let Value::String(s) = v else {
                return Err(bad());
            };
            let id = ids::normalize(s).ok_or_else(bad)?;
            let known: Vec<&ObjectDef> = f
                .reference_to
                .iter()
                .filter_map(|o| schema.object(o))
                .collect();
            if !known.is_empty() && !known.iter().any(|o| id.starts_with(&o.key_prefix)) {
                return Err(bad());
            }
            Ok(Value::String(id))
        }
        _ => Ok(v.clone()),
    }
}

/// Validates a write body against the object's describe. Returns the canonical changes
/// (field name → normalised value, `Null` to clear) or the errors to report.
pub fn validate(
    schema: &Schema,
    def: &ObjectDef,
    body: &Map<String, Value>,
    kind: WriteKind,
    existing: Option<&Row>,
) -> Result<Map<String, Value>, Vec<ErrorItem>> {
    let mut changes = Map::new();
    let mut not_writable = Vec::new();
    for (k, v) in body {
        if k == "attributes" {
            continue;
        }
        let Some(f) = def.field(k) else {
            return Err(vec![ErrorItem::new(
                "INVALID_FIELD",
                format!("No such column '{k}' on sobject of type {}", def.name),
                vec![],
            )]);
        };
        if f.name == "Id" {
            if kind == WriteKind::Create {
                return Err(vec![ErrorItem::new(
                    "INVALID_FIELD",
                    "cannot specify Id in an insert call",
                    vec![],
                )]);
            }
            continue;
        }
        let writable = match kind {
            WriteKind::Create => f.createable,
            WriteKind::Update => f.updateable,
        };
        if !writable {
            not_writable.push(f.name.clone());
            continue;
        }
        changes.insert(f.name.clone(), v.clone());
    }
    if !not_writable.is_empty() {
        return Err(vec![ErrorItem::new(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            format!(
                "Unable to create/update fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
                not_writable.join(", ")
            ),
            not_writable,
        )]);
    }
    let mut normalised = Map::new();
    for (name, v) in changes {
        let Some(f) = def.field(&name) else { continue };
        let v = check_value(schema, f, &v).map_err(|e| vec![e])?;
        normalised.insert(name, v);
    }
    let missing: Vec<String> = def
        .fields
        .iter()
        .filter(|f| match kind {
            WriteKind::Create => {
                f.required_on_create() && normalised.get(&f.name).is_none_or(Value::is_null)
            }
            WriteKind::Update => {
                !f.nillable
                    && f.updateable
                    && f.ftype != FieldType::Boolean
                    && normalised.get(&f.name).is_some_and(Value::is_null)
            }
        })
        .map(|f| f.name.clone())
        .collect();
    if !missing.is_empty() {
        return Err(vec![ErrorItem::new(
            "REQUIRED_FIELD_MISSING",
            format!("Required fields are missing: [{}]", missing.join(", ")),
            missing,
        )]);
    }
    let _ = existing;
    Ok(normalised)
}
