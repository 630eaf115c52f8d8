//! The Avro schema of an entity's change events, built from its body fields, and the
//! encoding of one event's JSON payload with it.
//!
//! The schema follows Salesforce's shape (realtime-and-limits.md §1a, §1b, §3): a record
//! `<Entity>ChangeEvent` whose first field is the `ChangeEventHeader` record, then every body
//! field as a nullable union (compound fields as nullable records). The header's
//! `changedFields`, `nulledFields` and `diffFields` are bitmaps over the schema's fields
//! ("Event Deserialization Considerations"), encoded by `crmmap_pubsub::bitmap::encode`. Pub/Sub
//! sends every field, unchanged ones empty (§1b): a field the JSON payload does not carry is
//! encoded null.

use apache_avro::Schema;
use apache_avro::types::Value as Avro;
use crmmap_pubsub::bitmap::{self, FieldShape};
use serde_json::{Map, Value, json};

use super::source::{BodyField, FieldKind};

/// The change types of the header's enum (§1a).
pub const CHANGE_TYPES: [&str; 10] = [
    "CREATE",
    "UPDATE",
    "DELETE",
    "UNDELETE",
    "GAP_CREATE",
    "GAP_UPDATE",
    "GAP_DELETE",
    "GAP_UNDELETE",
    "GAP_OVERFLOW",
    "SNAPSHOT",
];

/// An entity's event schema: its JSON (what GetSchema returns), the parsed schema, its id,
/// and its top-level fields for the bitmaps.
#[derive(Debug)]
pub struct EntitySchema {
    pub entity: String,
    pub id: String,
    pub json: String,
    pub avro: Schema,
    pub fields: Vec<BodyField>,
    pub shapes: Vec<FieldShape>,
}

fn kind_type(kind: FieldKind) -> Value {
    match kind {
        FieldKind::String => json!(["null", "string"]),
        FieldKind::Boolean => json!(["null", "boolean"]),
        FieldKind::Int => json!(["null", "int"]),
        FieldKind::Double => json!(["null", "double"]),
        FieldKind::DatetimeMillis => json!(["null", "long"]),
    }
}

fn header_schema() -> Value {
    let strings = json!({"type": "array", "items": "string"});
    json!({
        "type": "record",
        "name": "ChangeEventHeader",
        "namespace": "com.sforce.eventbus",
        "fields": [
            {"name": "entityName", "type": "string"},
            {"name": "recordIds", "type": strings},
            {"name": "changeType", "type": {
                "type": "enum", "name": "ChangeType", "namespace": "com.sforce.eventbus",
                "symbols": CHANGE_TYPES,
            }},
            {"name": "changeOrigin", "type": "string"},
            {"name": "transactionKey", "type": "string"},
            {"name": "sequenceNumber", "type": "int"},
            {"name": "commitTimestamp", "type": "long"},
            {"name": "commitNumber", "type": "long"},
            {"name": "commitUser", "type": "string"},
            {"name": "nulledFields", "type": strings},
            {"name": "diffFields", "type": strings},
            {"name": "changedFields", "type": strings},
        ],
    })
}

/// A stable id for a schema text (FNV-1a, 64 bits, as hex): the same fields give the same id.
fn schema_id(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

impl EntitySchema {
    /// The schema of `entity`'s change events.
    pub fn build(entity: &str, fields: Vec<BodyField>) -> Result<Self, apache_avro::Error> {
        let mut avro_fields = vec![json!({"name": "ChangeEventHeader", "type": header_schema()})];
        let mut shapes = vec![FieldShape {
            name: "ChangeEventHeader".into(),
            components: Vec::new(),
        }];
        for f in &fields {
            match f {
                BodyField::Scalar { name, kind } => {
                    avro_fields
                        .push(json!({"name": name, "type": kind_type(*kind), "default": null}));
                    shapes.push(FieldShape {
                        name: name.clone(),
                        components: Vec::new(),
                    });
                }
                BodyField::Compound { name, components } => {
                    let record = json!({
                        "type": "record",
                        "name": format!("{entity}_{name}"),
                        "namespace": "com.sforce.eventbus",
                        "fields": components.iter().map(|(c, kind)| {
                            json!({"name": c, "type": kind_type(*kind), "default": null})
                        }).collect::<Vec<_>>(),
                    });
                    avro_fields
                        .push(json!({"name": name, "type": ["null", record], "default": null}));
                    shapes.push(FieldShape {
                        name: name.clone(),
                        components: components.iter().map(|(c, _)| c.clone()).collect(),
                    });
                }
            }
        }
        let schema = json!({
            "type": "record",
            "name": format!("{}ChangeEvent", entity.strip_suffix("__c").map_or(entity.to_owned(), |b| format!("{b}__"))),
            "namespace": "com.sforce.eventbus",
            "fields": avro_fields,
        });
        let text = schema.to_string();
        let avro = Schema::parse_str(&text)?;
        Ok(EntitySchema {
            entity: entity.to_owned(),
            id: schema_id(&text),
            json: text,
            avro,
            fields,
            shapes,
        })
    }

    /// Encodes one JSON payload (Event Relay form) as Avro binary.
    pub fn encode(&self, payload: &Value) -> Result<Vec<u8>, String> {
        let empty = Map::new();
        let body = payload.as_object().unwrap_or(&empty);
        let header = body
            .get("ChangeEventHeader")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut record = vec![("ChangeEventHeader".to_owned(), self.header(header)?)];
        for f in &self.fields {
            let value = match (f, body.get(f.name())) {
                (_, None | Some(Value::Null)) => Avro::Union(0, Box::new(Avro::Null)),
                (BodyField::Scalar { kind, .. }, Some(v)) => scalar(*kind, v),
                (BodyField::Compound { components, .. }, Some(v)) => {
                    let parts = v.as_object().unwrap_or(&empty);
                    let inner = components
                        .iter()
                        .map(|(c, kind)| {
                            let v = parts.get(c).unwrap_or(&Value::Null);
                            (c.clone(), scalar(*kind, v))
                        })
                        .collect();
                    Avro::Union(1, Box::new(Avro::Record(inner)))
                }
            };
            record.push((f.name().to_owned(), value));
        }
        apache_avro::to_avro_datum(&self.avro, Avro::Record(record)).map_err(|e| e.to_string())
    }

    fn header(&self, h: &Map<String, Value>) -> Result<Avro, String> {
        let text =
            |k: &str| Avro::String(h.get(k).and_then(Value::as_str).unwrap_or("").to_owned());
        let list = |k: &str| -> Vec<String> {
            h.get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let strings = |v: Vec<String>| Avro::Array(v.into_iter().map(Avro::String).collect());
        let change_type = h.get("changeType").and_then(Value::as_str).unwrap_or("");
        let index = CHANGE_TYPES
            .iter()
            .position(|t| *t == change_type)
            .ok_or_else(|| format!("unknown changeType {change_type:?}"))?;
        let number = |k: &str| h.get(k).and_then(Value::as_i64).unwrap_or(0);
        Ok(Avro::Record(vec![
            ("entityName".into(), text("entityName")),
            ("recordIds".into(), strings(list("recordIds"))),
            (
                "changeType".into(),
                Avro::Enum(u32::try_from(index).unwrap_or(0), change_type.to_owned()),
            ),
            ("changeOrigin".into(), text("changeOrigin")),
            ("transactionKey".into(), text("transactionKey")),
            (
                "sequenceNumber".into(),
                Avro::Int(i32::try_from(number("sequenceNumber")).unwrap_or(i32::MAX)),
            ),
            (
                "commitTimestamp".into(),
                Avro::Long(number("commitTimestamp")),
            ),
            ("commitNumber".into(), Avro::Long(number("commitNumber"))),
            ("commitUser".into(), text("commitUser")),
            (
                "nulledFields".into(),
                strings(bitmap::encode(&list("nulledFields"), &self.shapes)),
            ),
            (
                "diffFields".into(),
                strings(bitmap::encode(&list("diffFields"), &self.shapes)),
            ),
            (
                "changedFields".into(),
                strings(bitmap::encode(&list("changedFields"), &self.shapes)),
            ),
        ]))
    }
}

/// One value as its nullable union; a value of the wrong JSON type is encoded null.
fn scalar(kind: FieldKind, v: &Value) -> Avro {
    let some = |a: Avro| Avro::Union(1, Box::new(a));
    let none = Avro::Union(0, Box::new(Avro::Null));
    match (kind, v) {
        (_, Value::Null) => none,
        (FieldKind::String, Value::String(s)) => some(Avro::String(s.clone())),
        (FieldKind::String, other) => some(Avro::String(other.to_string())),
        (FieldKind::Boolean, Value::Bool(b)) => some(Avro::Boolean(*b)),
        (FieldKind::Int, Value::Number(n)) => n
            .as_i64()
            .and_then(|i| i32::try_from(i).ok())
            .map_or(none, |i| some(Avro::Int(i))),
        (FieldKind::Double, Value::Number(n)) => n.as_f64().map_or(none, |f| some(Avro::Double(f))),
        (FieldKind::DatetimeMillis, Value::Number(n)) => {
            n.as_i64().map_or(none, |i| some(Avro::Long(i)))
        }
        (FieldKind::DatetimeMillis, Value::String(s)) => {
            iso_millis(s).map_or(none, |i| some(Avro::Long(i)))
        }
        _ => none,
    }
}

/// An ISO datetime (`2025-04-24T13:18:26.000Z` or `…+0000`) as epoch milliseconds.
fn iso_millis(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let t = time::OffsetDateTime::parse(s, &Rfc3339).ok().or_else(|| {
        let fmt = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond][offset_hour sign:mandatory][offset_minute]"
        );
        time::OffsetDateTime::parse(s, &fmt).ok()
    })?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use crmmap_pubsub::EventSchema as Decoder;
    use proptest::prelude::*;

    use super::*;

    fn lead() -> EntitySchema {
        let s = |name: &str, kind| BodyField::Scalar {
            name: name.into(),
            kind,
        };
        EntitySchema::build(
            "Lead",
            vec![
                s("LastModifiedDate", FieldKind::DatetimeMillis),
                BodyField::Compound {
                    name: "Name".into(),
                    components: vec![
                        ("FirstName".into(), FieldKind::String),
                        ("LastName".into(), FieldKind::String),
                    ],
                },
                s("Company", FieldKind::String),
                s("NumberOfEmployees", FieldKind::Int),
                s("IsConverted", FieldKind::Boolean),
            ],
        )
        .expect("schema")
    }

    #[test]
    fn the_same_fields_give_the_same_schema_id() {
        assert_eq!(lead().id, lead().id);
        let other = EntitySchema::build("Account", Vec::new()).expect("schema");
        assert_ne!(lead().id, other.id);
    }

    #[test]
    fn iso_datetimes_are_sent_as_epoch_millis() {
        let schema = lead();
        let decoder = Decoder::parse(&schema.id, &schema.json).expect("parse");
        let payload = json!({
            "ChangeEventHeader": {"entityName": "Lead", "changeType": "UPDATE",
                "changedFields": ["LastModifiedDate"], "nulledFields": [], "diffFields": []},
            "LastModifiedDate": "2025-04-24T13:18:26.000Z",
        });
        let got = decoder
            .decode(&schema.encode(&payload).expect("encode"))
            .expect("decode");
        assert_eq!(got["LastModifiedDate"], json!(1_745_500_706_000_i64));
        let plus = json!({
            "ChangeEventHeader": payload["ChangeEventHeader"],
            "LastModifiedDate": "2025-04-24T13:18:26.000+0000",
        });
        let got = decoder
            .decode(&schema.encode(&plus).expect("encode"))
            .expect("decode");
        assert_eq!(got["LastModifiedDate"], json!(1_745_500_706_000_i64));
    }

    #[test]
    fn an_unknown_change_type_is_refused() {
        let payload = json!({"ChangeEventHeader": {"changeType": "MERGE"}});
        assert!(lead().encode(&payload).is_err());
    }

    proptest! {
        /// Whatever an UPDATE carries, the client decodes the same JSON back.
        #[test]
        fn updates_round_trip_through_the_client(
            company in proptest::option::of(".{0,20}"),
            last in proptest::option::of("[A-Za-z]{1,12}"),
            employees in proptest::option::of(any::<i32>()),
            converted in any::<bool>(),
            when in 0i64..4_000_000_000_000,
        ) {
            let schema = lead();
            let decoder = Decoder::parse(&schema.id, &schema.json).expect("parse");
            let mut changed = vec![json!("LastModifiedDate")];
            let mut nulled = Vec::new();
            let mut body = Map::new();
            body.insert("LastModifiedDate".into(), json!(when));
            body.insert("Name".into(), json!({"LastName": last}));
            changed.push(json!("Name.LastName"));
            if last.is_none() {
                nulled.push(json!("Name.LastName"));
            }
            body.insert("Company".into(), json!(company));
            changed.push(json!("Company"));
            if company.is_none() {
                nulled.push(json!("Company"));
            }
            if let Some(n) = employees {
                body.insert("NumberOfEmployees".into(), json!(n));
                changed.push(json!("NumberOfEmployees"));
            }
            body.insert("IsConverted".into(), json!(converted));
            changed.push(json!("IsConverted"));
            body.insert("ChangeEventHeader".into(), json!({
                "entityName": "Lead", "recordIds": ["00Q5f00000AAAAAAAA"], "changeType": "UPDATE",
                "changeOrigin": "", "transactionKey": "k", "sequenceNumber": 1,
                "commitTimestamp": when, "commitNumber": 1, "commitUser": "0055f000005mc66AAA",
                "changedFields": changed, "nulledFields": nulled, "diffFields": [],
            }));
            let payload = Value::Object(body);
            let bytes = schema.encode(&payload).expect("encode");
            prop_assert_eq!(decoder.decode(&bytes).expect("decode"), payload);
        }
    }
}
