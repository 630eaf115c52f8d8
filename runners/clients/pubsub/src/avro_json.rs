//! An Avro change event decoded into the JSON that Event Relay puts in `detail.payload` (the
//! body `POST /events/salesforce` carries): the `ChangeEventHeader` with field names in
//! `changedFields`, `nulledFields` and `diffFields`, and only the fields the event is about.
//!
//! Pub/Sub sends every field of the schema, unchanged ones empty (realtime-and-limits.md §1b);
//! CometD and Event Relay send the non-empty fields and those set to null. So a body field is
//! kept when it has a value or is named in `nulledFields`, and a compound field (`Name`,
//! `BillingAddress`) keeps the components that qualify the same way (`Name.LastName`). Dates
//! stay as Avro carries them (epoch milliseconds, as Event Relay's CREATE example shows).

use std::sync::Arc;

use apache_avro::Schema;
use apache_avro::schema::{RecordSchema, ResolvedSchema};
use apache_avro::types::Value as Avro;
use serde_json::{Map, Number, Value as Json};

use crate::bitmap::{self, FieldShape};

/// The header field of a change event.
pub const HEADER: &str = "ChangeEventHeader";
const BITMAP_FIELDS: [&str; 3] = ["changedFields", "nulledFields", "diffFields"];
/// Deeper Avro values than this become `null` (a schema may be recursive).
const MAX_DEPTH: usize = 32;

/// An event schema, parsed once and kept in the schema cache.
#[derive(Debug)]
pub struct EventSchema {
    /// The schema id Salesforce gave it.
    pub id: String,
    /// The parsed Avro schema.
    pub avro: Schema,
    /// Its top-level fields, for the header bitmaps.
    pub fields: Vec<FieldShape>,
}

/// Why an event could not be decoded (the schema or the payload is not what it claims).
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("schema {schema_id} is not a valid Avro record schema: {reason}")]
    Schema { schema_id: String, reason: String },
    #[error("payload does not match schema {schema_id}: {reason}")]
    Payload { schema_id: String, reason: String },
}

impl EventSchema {
    /// Parses `schema_json` (from GetSchema).
    pub fn parse(id: &str, schema_json: &str) -> Result<Arc<Self>, DecodeError> {
        let err = |reason: String| DecodeError::Schema {
            schema_id: id.to_owned(),
            reason,
        };
        let avro = Schema::parse_str(schema_json).map_err(|e| err(e.to_string()))?;
        let resolved = ResolvedSchema::try_from(&avro).map_err(|e| err(e.to_string()))?;
        let Schema::Record(RecordSchema { fields, .. }) = &avro else {
            return Err(err("the top-level schema is not a record".into()));
        };
        let shapes = fields
            .iter()
            .map(|f| FieldShape {
                name: f.name.clone(),
                components: record_of(&f.schema, &resolved)
                    .map(|r| r.fields.iter().map(|c| c.name.clone()).collect())
                    .unwrap_or_default(),
            })
            .collect();
        Ok(Arc::new(EventSchema {
            id: id.to_owned(),
            avro,
            fields: shapes,
        }))
    }

    /// Decodes one Avro payload into the Event Relay JSON form.
    pub fn decode(&self, payload: &[u8]) -> Result<Json, DecodeError> {
        let mut reader = payload;
        let value = apache_avro::from_avro_datum(&self.avro, &mut reader, None).map_err(|e| {
            DecodeError::Payload {
                schema_id: self.id.clone(),
                reason: e.to_string(),
            }
        })?;
        Ok(event_json(&value, &self.fields))
    }
}

/// The record a field holds, through a nullable union and a named reference.
fn record_of<'a>(schema: &'a Schema, names: &'a ResolvedSchema<'a>) -> Option<&'a RecordSchema> {
    let mut current = schema;
    for _ in 0..4 {
        match current {
            Schema::Record(r) => return Some(r),
            Schema::Union(u) => {
                current = u
                    .variants()
                    .iter()
                    .find(|s| !matches!(s, Schema::Null | Schema::String))?;
            }
            Schema::Ref { name } => current = names.get_names().get(name).copied()?,
            _ => return None,
        }
    }
    None
}

/// A decoded Avro record as the Event Relay JSON form (see the module doc). A value that is not
/// a change event (no header) is converted whole.
pub fn event_json(value: &Avro, fields: &[FieldShape]) -> Json {
    let Avro::Record(entries) = value else {
        return to_json(value, 0);
    };
    let Some(header) = entries.iter().find(|(k, _)| k == HEADER).map(|(_, v)| v) else {
        return to_json(value, 0);
    };
    let mut header = match to_json(header, 0) {
        Json::Object(map) => map,
        _ => Map::new(),
    };
    for key in BITMAP_FIELDS {
        let elements: Vec<String> = match header.get(key) {
            Some(Json::Array(items)) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let decoded = bitmap::decode(&elements, fields);
        if decoded.skipped > 0 {
            tracing::warn!(
                field = key,
                skipped = decoded.skipped,
                "change event bitmap names fields the schema does not have"
            );
        }
        header.insert(
            key.to_owned(),
            Json::Array(decoded.names.into_iter().map(Json::String).collect()),
        );
    }
    let nulled: Vec<String> = match header.get("nulledFields") {
        Some(Json::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    let mut out = Map::new();
    for (name, value) in entries {
        if name == HEADER {
            continue;
        }
        match to_json(value, 0) {
            Json::Object(components) => {
                let kept: Map<String, Json> = components
                    .into_iter()
                    .filter(|(c, v)| {
                        !v.is_null() || nulled.iter().any(|n| *n == format!("{name}.{c}"))
                    })
                    .collect();
                if !kept.is_empty() {
                    out.insert(name.clone(), Json::Object(kept));
                } else if nulled.iter().any(|n| n == name) {
                    out.insert(name.clone(), Json::Null);
                }
            }
            Json::Null => {
                if nulled.iter().any(|n| n == name) {
                    out.insert(name.clone(), Json::Null);
                }
            }
            v => {
                out.insert(name.clone(), v);
            }
        }
    }
    out.insert(HEADER.to_owned(), Json::Object(header));
    Json::Object(out)
}

/// Any Avro value as JSON: unions unwrapped, enums as their symbol, bytes as lowercase hex,
/// logical types as their underlying number, non-finite floats as `null`.
pub fn to_json(value: &Avro, depth: usize) -> Json {
    if depth > MAX_DEPTH {
        return Json::Null;
    }
    let next = depth + 1;
    match value {
        Avro::Null => Json::Null,
        Avro::Boolean(b) => Json::Bool(*b),
        Avro::Int(i) | Avro::Date(i) | Avro::TimeMillis(i) => Json::from(*i),
        Avro::Long(i)
        | Avro::TimeMicros(i)
        | Avro::TimestampMillis(i)
        | Avro::TimestampMicros(i)
        | Avro::TimestampNanos(i)
        | Avro::LocalTimestampMillis(i)
        | Avro::LocalTimestampMicros(i)
        | Avro::LocalTimestampNanos(i) => Json::from(*i),
        Avro::Float(f) => Number::from_f64(f64::from(*f)).map_or(Json::Null, Json::Number),
        Avro::Double(f) => Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Avro::Bytes(b) | Avro::Fixed(_, b) => Json::String(hex(b)),
        Avro::String(s) | Avro::Enum(_, s) => Json::String(s.clone()),
        Avro::Union(_, inner) => to_json(inner, next),
        Avro::Array(items) => Json::Array(items.iter().map(|v| to_json(v, next)).collect()),
        Avro::Map(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), to_json(v, next)))
                .collect(),
        ),
        Avro::Record(fields) => Json::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v, next)))
                .collect(),
        ),
        Avro::Uuid(u) => Json::String(u.to_string()),
        Avro::Decimal(_) | Avro::BigDecimal(_) | Avro::Duration(_) => {
            Json::String(format!("{value:?}"))
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
