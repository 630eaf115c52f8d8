//! The body and field lists of a change event, computed from a record before and after a
//! write (realtime-and-limits.md §1b): CREATE and UNDELETE carry every non-empty field, UPDATE
//! only the changed fields plus `LastModifiedDate` (`LastModifiedById` only when it changed,
//! a field set to null as `null`), DELETE none; gap events carry every field as null (§1c).

use serde_json::{Map, Value};

use super::entity::{EntitySchema, EventField};
use super::event::ChangeType;
use crate::schema::FieldType;
use crate::store::parse_datetime;

/// How datetime fields appear in event bodies. A real CREATE capture has epoch milliseconds
/// and real UPDATE captures have ISO strings (§1b "Dates": accept both; Event Relay's form is
/// UNCONFIRMED), so both can be produced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DateForm {
    /// `2025-04-24T13:18:26.000Z`, as in the update captures.
    #[default]
    Iso,
    /// `1712693965000`, as in the create capture.
    EpochMillis,
}

/// The body and the header's field lists of one event.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Body {
    pub fields: Map<String, Value>,
    pub changed_fields: Vec<String>,
    pub nulled_fields: Vec<String>,
}

fn field_value(
    fields: &Map<String, Value>,
    name: &str,
    ftype: FieldType,
    dates: DateForm,
) -> Value {
    let v = fields.get(name).cloned().unwrap_or(Value::Null);
    match (&v, ftype) {
        (Value::String(s), FieldType::Datetime) => match parse_datetime(s) {
            Some(t) => match dates {
                DateForm::EpochMillis => {
                    Value::from(i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0))
                }
                DateForm::Iso => Value::String(crate::cdc::iso_millis(t)),
            },
            None => v,
        },
        _ => v,
    }
}

/// CREATE and UNDELETE: every non-empty field; a compound with any non-empty component is
/// present with all its components (null when empty), as in the documented CREATE example.
pub fn full(schema: &EntitySchema, after: &Map<String, Value>, dates: DateForm) -> Body {
    let mut fields = Map::new();
    for f in &schema.fields {
        match f {
            EventField::Scalar { name, ftype } => {
                let v = field_value(after, name, *ftype, dates);
                if !v.is_null() {
                    fields.insert(name.clone(), v);
                }
            }
            EventField::Compound { name, components } => {
                let parts: Map<String, Value> = components
                    .iter()
                    .map(|(c, field, t)| (c.clone(), field_value(after, field, *t, dates)))
                    .collect();
                if parts.values().any(|v| !v.is_null()) {
                    fields.insert(name.clone(), Value::Object(parts));
                }
            }
        }
    }
    Body {
        fields,
        ..Body::default()
    }
}

/// UPDATE: the fields whose value changed, `LastModifiedDate` always; a compound with only
/// its changed components; changed and nulled fields named `Compound.Component`.
pub fn diff(
    schema: &EntitySchema,
    before: &Map<String, Value>,
    after: &Map<String, Value>,
    dates: DateForm,
) -> Body {
    let mut body = Body::default();
    // An absent field and a null one are the same (the store keeps no nulls).
    let changed = |field: &str| {
        before.get(field).unwrap_or(&Value::Null) != after.get(field).unwrap_or(&Value::Null)
    };
    for f in &schema.fields {
        match f {
            EventField::Scalar { name, ftype } => {
                if !changed(name) && name != "LastModifiedDate" {
                    continue;
                }
                let v = field_value(after, name, *ftype, dates);
                if v.is_null() {
                    body.nulled_fields.push(name.clone());
                }
                body.changed_fields.push(name.clone());
                body.fields.insert(name.clone(), v);
            }
            EventField::Compound { name, components } => {
                let mut parts = Map::new();
                for (c, field, t) in components {
                    if !changed(field) {
                        continue;
                    }
                    let v = field_value(after, field, *t, dates);
                    let path = format!("{name}.{c}");
                    if v.is_null() {
                        body.nulled_fields.push(path.clone());
                    }
                    body.changed_fields.push(path);
                    parts.insert(c.clone(), v);
                }
                if !parts.is_empty() {
                    body.fields.insert(name.clone(), Value::Object(parts));
                }
            }
        }
    }
    body
}

/// A gap or overflow event's body: every field null (§1c).
pub fn nulls(schema: &EntitySchema) -> Body {
    Body {
        fields: schema
            .fields
            .iter()
            .map(|f| (f.name().to_string(), Value::Null))
            .collect(),
        ..Body::default()
    }
}

/// The body of a change of `kind`.
pub fn of(
    kind: ChangeType,
    schema: &EntitySchema,
    before: Option<&Map<String, Value>>,
    after: &Map<String, Value>,
    dates: DateForm,
) -> Body {
    match (kind, before) {
        (ChangeType::Update, Some(before)) => diff(schema, before, after, dates),
        (ChangeType::Create | ChangeType::Undelete, _) | (ChangeType::Update, None) => {
            full(schema, after, dates)
        }
        (ChangeType::Delete, _) => Body::default(),
        _ => nulls(schema),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::Schema;

    fn lead() -> EntitySchema {
        EntitySchema::of(Schema::sample().object("Lead").unwrap())
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn an_update_carries_only_what_changed() {
        let before = map(json!({
            "Id": "00Q5g000001AAAAAAA", "FirstName": "Ada", "LastName": "Byron",
            "Company": "Engines", "City": "London", "Title": "Countess",
            "LastModifiedDate": "2026-01-01T00:00:00.000+0000", "SystemModstamp": "x",
        }));
        let mut after = before.clone();
        after.insert("LastName".into(), json!("Lovelace"));
        after.remove("City");
        after.insert("Company".into(), json!("Analytical Engines"));
        after.insert(
            "LastModifiedDate".into(),
            json!("2026-01-02T03:04:05.678+0000"),
        );
        after.insert("SystemModstamp".into(), json!("y"));
        let b = diff(&lead(), &before, &after, DateForm::Iso);
        assert_eq!(
            Value::Object(b.fields),
            json!({
                "Name": {"LastName": "Lovelace"},
                "Address": {"City": null},
                "Company": "Analytical Engines",
                "LastModifiedDate": "2026-01-02T03:04:05.678Z",
            })
        );
        let mut changed = b.changed_fields.clone();
        changed.sort();
        assert_eq!(
            changed,
            [
                "Address.City",
                "Company",
                "LastModifiedDate",
                "Name.LastName"
            ]
        );
        assert_eq!(b.nulled_fields, ["Address.City"]);
    }

    #[test]
    fn a_create_carries_every_non_empty_field() {
        let after = map(json!({
            "Id": "00Q5g000001AAAAAAA", "LastName": "Byron", "Company": "Engines",
            "IsDeleted": false, "Email": null,
            "CreatedDate": "2024-04-09T20:19:25.000+0000",
        }));
        let b = full(&lead(), &after, DateForm::EpochMillis);
        assert_eq!(
            Value::Object(b.fields),
            json!({
                "Name": {"FirstName": null, "LastName": "Byron"},
                "Company": "Engines",
                "CreatedDate": 1_712_693_965_000_i64,
            })
        );
        assert!(b.changed_fields.is_empty() && b.nulled_fields.is_empty());
    }

    proptest::proptest! {
        /// For any values of a Lead's plain and compound fields before and after, the
        /// changed fields are exactly those whose value differs (compound components by
        /// their `Compound.Component` path) plus `LastModifiedDate`, the nulled ones those
        /// that became null, and the body carries each changed field's new value.
        #[test]
        fn an_update_lists_exactly_the_differences(
            values in proptest::collection::vec(
                (0..6usize, proptest::option::of("[a-c]{0,2}"), proptest::option::of("[a-c]{0,2}")),
                0..12,
            )
        ) {
            let fields = [
                ("FirstName", "Name.FirstName"),
                ("LastName", "Name.LastName"),
                ("City", "Address.City"),
                ("Street", "Address.Street"),
                ("Company", "Company"),
                ("Title", "Title"),
            ];
            let mut before = Map::new();
            let mut after = Map::new();
            after.insert("LastModifiedDate".into(), Value::from("2026-01-02T03:04:05.000+0000"));
            for (i, b, a) in values {
                let (field, _) = fields[i];
                before.insert(field.to_string(), b.map_or(Value::Null, Value::from));
                after.insert(field.to_string(), a.map_or(Value::Null, Value::from));
            }
            let body = diff(&lead(), &before, &after, DateForm::Iso);
            let mut expected: Vec<String> = vec!["LastModifiedDate".into()];
            let mut nulled: Vec<String> = Vec::new();
            for (field, path) in fields {
                let (b, a) = (before.get(field), after.get(field));
                if b.unwrap_or(&Value::Null) != a.unwrap_or(&Value::Null) {
                    expected.push(path.into());
                    if a.is_none_or(Value::is_null) {
                        nulled.push(path.into());
                    }
                    let got = match path.split_once('.') {
                        Some((compound, component)) => &body.fields[compound][component],
                        None => &body.fields[path],
                    };
                    proptest::prop_assert_eq!(got, a.unwrap_or(&Value::Null));
                }
            }
            let mut changed = body.changed_fields.clone();
            changed.sort();
            expected.sort();
            nulled.sort();
            let mut got_nulled = body.nulled_fields.clone();
            got_nulled.sort();
            proptest::prop_assert_eq!(changed, expected);
            proptest::prop_assert_eq!(got_nulled, nulled);
        }
    }

    #[test]
    fn a_gap_body_is_all_nulls() {
        let b = nulls(&lead());
        assert!(b.fields.values().all(Value::is_null));
        assert!(b.fields.contains_key("Name") && b.fields.contains_key("Company"));
    }
}
