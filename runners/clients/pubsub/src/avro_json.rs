//! An Avro change event decoded into the JSON that Event Relay puts in `detail.payload` (the
//! body `POST /events/salesforce` carries): the `ChangeEventHeader` with field names in
//! `changedFields`, `nulledFields` and `diffFields`, and only the fields the event is about.
//!
//! Pub/Sub sends every field of the schema, unchanged ones empty (realtime-and-limits.md §1b);
//! CometD and Event Relay send, for an UPDATE, the changed fields (those set to null as
//! `null`), for a CREATE or UNDELETE the non-empty fields, for a DELETE none, and for a gap
//! event every field null (§1b, §1c). The JSON form keeps the fields by those rules
//! ([`BodyRule`]); a compound field (`Name`, `BillingAddress`) follows them by component
//! (`Name.LastName`). Dates stay as Avro carries them (epoch milliseconds, as Event Relay's
//! CREATE example shows).

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
/// The most apache-avro may allocate for one value while decoding: an event is at most 1 MB
/// (realtime-and-limits.md §1d, bigger ones become gap events), so a length prefix claiming
/// more is hostile and refused before anything is allocated. The setting is process-wide and
/// taken by the first call (apache-avro's default is 512 MiB).
const MAX_ALLOCATION_BYTES: usize = 8 * 1024 * 1024;

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
        apache_avro::util::max_allocation_bytes(MAX_ALLOCATION_BYTES);
        let mut reader = payload;
        let value = apache_avro::from_avro_datum(&self.avro, &mut reader, None).map_err(|e| {
            DecodeError::Payload {
                schema_id: self.id.clone(),
                reason: e.to_string(),
            }
        })?;
        if !reader.is_empty() {
            return Err(DecodeError::Payload {
                schema_id: self.id.clone(),
                reason: format!("{} bytes after the event", reader.len()),
            });
        }
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
    let named = |key: &str| -> Vec<String> {
        match header.get(key) {
            Some(Json::Array(items)) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut touched = named("changedFields");
    touched.extend(named("nulledFields"));
    let rule = match header.get("changeType").and_then(Json::as_str) {
        Some(t) if t.starts_with("GAP_") => BodyRule::AllNull,
        Some("UPDATE") => BodyRule::Touched(&touched),
        _ => BodyRule::NonEmpty,
    };
    let mut out = Map::new();
    for (name, value) in entries {
        if name == HEADER {
            continue;
        }
        if let Some(v) = body_field(name, to_json(value, 0), &rule) {
            out.insert(name.clone(), v);
        }
    }
    out.insert(HEADER.to_owned(), Json::Object(header));
    Json::Object(out)
}

/// Which body fields the JSON form keeps.
enum BodyRule<'a> {
    /// Gap events: every field, null (§1c: "all body fields null").
    AllNull,
    /// UPDATE: fields and components with a value or named in `changedFields`/`nulledFields`.
    Touched(&'a [String]),
    /// CREATE, UNDELETE, DELETE: non-empty fields; a compound with any value keeps all its
    /// components (the documented CREATE example shows `"Latitude": null` in an address).
    NonEmpty,
}

fn body_field(name: &str, value: Json, rule: &BodyRule<'_>) -> Option<Json> {
    match (rule, value) {
        (BodyRule::AllNull, _) => Some(Json::Null),
        (BodyRule::Touched(touched), Json::Object(components)) => {
            let kept: Map<String, Json> = components
                .into_iter()
                .filter(|(c, v)| {
                    !v.is_null() || touched.iter().any(|t| *t == format!("{name}.{c}"))
                })
                .collect();
            if !kept.is_empty() {
                Some(Json::Object(kept))
            } else if touched.iter().any(|t| t == name) {
                Some(Json::Null)
            } else {
                None
            }
        }
        (BodyRule::Touched(touched), Json::Null) => {
            touched.iter().any(|t| t == name).then_some(Json::Null)
        }
        (BodyRule::NonEmpty, Json::Object(components)) => components
            .values()
            .any(|v| !v.is_null())
            .then_some(Json::Object(components)),
        (BodyRule::NonEmpty, Json::Null) => None,
        (_, v) => Some(v),
    }
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

#[cfg(test)]
mod tests {
    use apache_avro::types::Value as Avro;
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    /// A small change event schema in Salesforce's shape (header, a compound, scalars).
    fn schema() -> Arc<EventSchema> {
        let strings = json!({"type": "array", "items": "string"});
        let text = json!({
            "type": "record", "name": "LeadChangeEvent", "namespace": "com.sforce.eventbus",
            "fields": [
                {"name": "ChangeEventHeader", "type": {
                    "type": "record", "name": "ChangeEventHeader",
                    "fields": [
                        {"name": "entityName", "type": "string"},
                        {"name": "changeType", "type": {"type": "enum", "name": "ChangeType",
                            "symbols": ["CREATE", "UPDATE", "DELETE", "GAP_UPDATE"]}},
                        {"name": "nulledFields", "type": strings},
                        {"name": "diffFields", "type": strings},
                        {"name": "changedFields", "type": strings},
                    ]}},
                {"name": "Name", "type": ["null", {"type": "record", "name": "PersonName",
                    "fields": [
                        {"name": "FirstName", "type": ["null", "string"]},
                        {"name": "LastName", "type": ["null", "string"]},
                    ]}]},
                {"name": "Company", "type": ["null", "string"]},
                {"name": "LastModifiedDate", "type": ["null", "long"]},
                {"name": "Score", "type": ["null", "double"]},
            ],
        });
        EventSchema::parse("s1", &text.to_string()).expect("schema")
    }

    fn some(v: Avro) -> Avro {
        Avro::Union(1, Box::new(v))
    }

    fn none() -> Avro {
        Avro::Union(0, Box::new(Avro::Null))
    }

    fn strings(v: &[&str]) -> Avro {
        Avro::Array(v.iter().map(|s| Avro::String((*s).into())).collect())
    }

    fn encode(
        s: &EventSchema,
        change: (u32, &str),
        changed: &[&str],
        nulled: &[&str],
        body: Vec<(&str, Avro)>,
    ) -> Vec<u8> {
        let mut record = vec![(
            "ChangeEventHeader".to_owned(),
            Avro::Record(vec![
                ("entityName".into(), Avro::String("Lead".into())),
                ("changeType".into(), Avro::Enum(change.0, change.1.into())),
                ("nulledFields".into(), strings(nulled)),
                ("diffFields".into(), strings(&[])),
                ("changedFields".into(), strings(changed)),
            ]),
        )];
        record.extend(body.into_iter().map(|(k, v)| (k.to_owned(), v)));
        apache_avro::to_avro_datum(&s.avro, Avro::Record(record)).expect("encode")
    }

    #[test]
    fn an_update_keeps_changed_and_nulled_fields_only() {
        let s = schema();
        assert_eq!(s.fields.get(1).map(|f| f.components.len()), Some(2));
        // Bits: Name (1), Company (2), LastModifiedDate (3); Name's LastName (component 1).
        let bytes = encode(
            &s,
            (1, "UPDATE"),
            &["0x0E", "1-0x02"],
            &["0x04"],
            vec![
                (
                    "Name",
                    some(Avro::Record(vec![
                        ("FirstName".into(), none()),
                        ("LastName".into(), some(Avro::String("King".into()))),
                    ])),
                ),
                ("Company", none()),
                ("LastModifiedDate", some(Avro::Long(1_712_700_000_000))),
                ("Score", none()),
            ],
        );
        let got = s.decode(&bytes).expect("decode");
        assert_eq!(
            got,
            json!({
                "ChangeEventHeader": {
                    "entityName": "Lead", "changeType": "UPDATE",
                    "changedFields": ["Name", "Name.LastName", "Company", "LastModifiedDate"],
                    "nulledFields": ["Company"], "diffFields": [],
                },
                "Name": {"LastName": "King"},
                "Company": null,
                "LastModifiedDate": 1_712_700_000_000_i64,
            })
        );
    }

    #[test]
    fn a_create_keeps_a_compound_whole_and_drops_empty_fields() {
        let s = schema();
        let bytes = encode(
            &s,
            (0, "CREATE"),
            &[],
            &[],
            vec![
                (
                    "Name",
                    some(Avro::Record(vec![
                        ("FirstName".into(), none()),
                        ("LastName".into(), some(Avro::String("Lovelace".into()))),
                    ])),
                ),
                ("Company", none()),
                ("LastModifiedDate", some(Avro::Long(1))),
                ("Score", some(Avro::Double(f64::NAN))),
            ],
        );
        let got = s.decode(&bytes).expect("decode");
        assert_eq!(
            got["Name"],
            json!({"FirstName": null, "LastName": "Lovelace"})
        );
        assert!(got.get("Company").is_none());
        // NaN has no JSON form: null, so a CREATE leaves it out.
        assert!(got.get("Score").is_none());
    }

    #[test]
    fn a_gap_event_has_every_field_null() {
        let s = schema();
        let bytes = encode(
            &s,
            (3, "GAP_UPDATE"),
            &[],
            &[],
            vec![
                ("Name", none()),
                ("Company", none()),
                ("LastModifiedDate", none()),
                ("Score", none()),
            ],
        );
        let got = s.decode(&bytes).expect("decode");
        for f in ["Name", "Company", "LastModifiedDate", "Score"] {
            assert_eq!(got.get(f), Some(&Json::Null), "{f}");
        }
    }

    /// A cut inside the header is an error. (apache-avro reads a nullable union at the very end
    /// of the input as null, so a cut exactly between body fields decodes with those fields
    /// empty; that is the library's reading, and never a panic.)
    #[test]
    fn truncated_payloads_are_errors_and_trailing_bytes_too() {
        let s = schema();
        let bytes = encode(
            &s,
            (0, "CREATE"),
            &[],
            &[],
            vec![
                ("Name", none()),
                ("Company", some(Avro::String("Acme".into()))),
                ("LastModifiedDate", none()),
                ("Score", none()),
            ],
        );
        // The header: "Lead" (5 bytes), the enum (1), three empty arrays (3).
        for cut in 0..9 {
            let cut_bytes = bytes.get(..cut).unwrap_or_default();
            assert!(s.decode(cut_bytes).is_err(), "cut at {cut}");
        }
        for cut in 9..bytes.len() {
            let _ = s.decode(bytes.get(..cut).unwrap_or_default());
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(s.decode(&longer).is_err());
        assert!(s.decode(&bytes).is_ok());
    }

    proptest! {
        #[test]
        fn hostile_payloads_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = schema().decode(&bytes);
        }

        #[test]
        fn huge_length_prefixes_are_refused_without_allocating(len in 9_000_000i64..i64::MAX / 2) {
            // The header's entityName claims `len` bytes (a zigzag varint).
            let mut bytes = Vec::new();
            let mut z = (len << 1) as u64;
            while z >= 0x80 {
                bytes.push((z as u8) | 0x80);
                z >>= 7;
            }
            bytes.push(z as u8);
            let err = schema().decode(&bytes).expect_err("refused").to_string();
            prop_assert!(err.contains(&MAX_ALLOCATION_BYTES.to_string()), "{}", err);
        }

        #[test]
        fn hostile_schemas_never_panic(text in ".{0,200}") {
            let _ = EventSchema::parse("x", &text);
        }

        #[test]
        fn a_round_trip_keeps_values(company in proptest::option::of(".{0,30}"), last in ".{1,20}", when in any::<i64>(), score in proptest::option::of(-1e9f64..1e9)) {
            let s = schema();
            let opt = |v: Option<Avro>| v.map_or_else(none, some);
            let bytes = encode(&s, (0, "CREATE"), &[], &[], vec![
                ("Name", some(Avro::Record(vec![
                    ("FirstName".into(), none()),
                    ("LastName".into(), some(Avro::String(last.clone()))),
                ]))),
                ("Company", opt(company.clone().map(Avro::String))),
                ("LastModifiedDate", some(Avro::Long(when))),
                ("Score", opt(score.map(Avro::Double))),
            ]);
            let got = s.decode(&bytes).expect("decode");
            prop_assert_eq!(&got["Name"]["LastName"], &json!(last));
            let want = company.map(Json::String);
            prop_assert_eq!(got.get("Company"), want.as_ref());
            prop_assert_eq!(&got["LastModifiedDate"], &json!(when));
            prop_assert_eq!(got.get("Score").and_then(Json::as_f64), score);
        }
    }
}
