//! The in-memory org: records per object, soft deletes, system fields.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::ids;
use crate::schema::{ObjectDef, Schema};

/// A JSON object whose keys keep their insertion order when serialized.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ordered(pub Vec<(String, Value)>);

impl Serialize for Ordered {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// One stored record. `fields` holds every field that has a value, under its canonical
/// (describe) name, including `Id`, `IsDeleted` and the audit fields.
#[derive(Clone, Debug)]
pub struct Row {
    pub object: String,
    pub id: String,
    pub fields: Map<String, Value>,
    pub deleted: bool,
    /// `LastModifiedDate`, kept as a timestamp for `If-Unmodified-Since`.
    pub last_modified: OffsetDateTime,
}

impl Row {
    /// A field value by canonical name (`Null` when unset).
    pub fn get(&self, field: &str) -> &Value {
        self.fields.get(field).unwrap_or(&Value::Null)
    }
}

/// Formats a timestamp the way Salesforce returns datetimes: `2011-07-07T00:37:00.000+0000`.
pub fn format_datetime(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+0000"
    ))
    .unwrap_or_default()
}

/// Parses a datetime as Salesforce accepts it on write (and as it returns it):
/// `yyyy-MM-ddTHH:mm:ss[.SSS](Z|+HH:mm|+HHmm)`.
pub fn parse_datetime(s: &str) -> Option<OffsetDateTime> {
    match crate::soql::parse_date_literal(s)? {
        crate::soql::Tok::DateTime(t) => Some(t),
        _ => None,
    }
}

/// Parses a `yyyy-MM-dd` date.
pub fn parse_date(s: &str) -> Option<time::Date> {
    time::Date::parse(s, format_description!("[year]-[month]-[day]")).ok()
}

/// What a write did to one record: the store keeps these until the emulator turns them into
/// change events (`crate::cdc`), when the write's lock is released.
#[derive(Clone, Debug, PartialEq)]
pub struct Mutation {
    pub kind: MutationKind,
    pub object: String,
    pub id: String,
    /// The record's fields before the write (`None` for a create).
    pub before: Option<Map<String, Value>>,
    /// The record's fields after the write.
    pub after: Map<String, Value>,
}

/// The kind of a [`Mutation`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MutationKind {
    Create,
    Update,
    Delete,
    Undelete,
}

/// Records of every object, keyed by object then by 18-char id (ids grow with creation
/// order, so iteration order is creation order).
#[derive(Clone, Debug)]
pub struct Store {
    pub schema: Schema,
    pub tables: BTreeMap<String, BTreeMap<String, Row>>,
    next_seq: u64,
    /// The user that owns and audits records created through the API.
    pub user_id: String,
    pub pod: String,
    /// Writes not yet turned into change events, oldest first.
    pub journal: Vec<Mutation>,
}

impl Store {
    pub fn new(schema: Schema) -> Self {
        let tables = schema
            .objects
            .iter()
            .map(|o| (o.name.clone(), BTreeMap::new()))
            .collect();
        Store {
            schema,
            tables,
            next_seq: 1,
            user_id: ids::to18("0055g00000EmUsR").unwrap_or_default(),
            pod: "5g".into(),
            journal: Vec::new(),
        }
    }

    /// A fresh 18-char id for `object`.
    pub fn new_id(&mut self, object: &ObjectDef) -> String {
        let id = ids::make_id(&object.key_prefix, &self.pod, self.next_seq);
        self.next_seq += 1;
        id
    }

    /// Finds a record by (15- or 18-char) id, whatever its object.
    pub fn get(&self, id: &str) -> Option<&Row> {
        let id = ids::normalize(id)?;
        let object = self.schema.object_for_id(&id)?;
        self.tables.get(&object.name)?.get(&id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Row> {
        let id = ids::normalize(id)?;
        let object = self.schema.object_for_id(&id)?.name.clone();
        self.tables.get_mut(&object)?.get_mut(&id)
    }

    /// Every row of `object` (deleted ones included), in id order.
    pub fn rows<'a>(&'a self, object: &str) -> Box<dyn Iterator<Item = &'a Row> + 'a> {
        match self.tables.get(object) {
            Some(t) => Box::new(t.values()),
            None => Box::new(std::iter::empty()),
        }
    }

    /// Inserts a record without validation (the test-control and seeding path). Canonicalises
    /// field names, fills `Id`, `IsDeleted`, `OwnerId`, the audit fields and compound names
    /// unless given. Returns the id.
    pub fn insert_raw(
        &mut self,
        object: &str,
        fields: Map<String, Value>,
        now: OffsetDateTime,
    ) -> Option<String> {
        let def = self.schema.object(object)?.clone();
        let mut canonical = Map::new();
        for (k, v) in fields {
            let name = def.field(&k).map_or(k, |f| f.name.clone());
            canonical.insert(name, v);
        }
        let id = match canonical
            .get("Id")
            .and_then(Value::as_str)
            .and_then(ids::normalize)
        {
            Some(id) => id,
            None => self.new_id(&def),
        };
        let stamp = Value::String(format_datetime(now));
        canonical.insert("Id".into(), Value::String(id.clone()));
        canonical.entry("IsDeleted").or_insert(Value::Bool(false));
        canonical
            .entry("OwnerId")
            .or_insert_with(|| Value::String(self.user_id.clone()));
        canonical
            .entry("CreatedById")
            .or_insert_with(|| Value::String(self.user_id.clone()));
        canonical
            .entry("LastModifiedById")
            .or_insert_with(|| Value::String(self.user_id.clone()));
        canonical.entry("CreatedDate").or_insert(stamp.clone());
        let created = canonical.get("CreatedDate").cloned().unwrap_or(stamp);
        canonical
            .entry("LastModifiedDate")
            .or_insert(created.clone());
        let modified = canonical
            .get("LastModifiedDate")
            .cloned()
            .unwrap_or(created);
        canonical
            .entry("SystemModstamp")
            .or_insert(modified.clone());
        for f in &def.fields {
            if f.ftype == crate::schema::FieldType::Boolean {
                canonical
                    .entry(f.name.clone())
                    .or_insert(Value::Bool(false));
            }
            if let Some(d) = &f.default_picklist_value {
                canonical
                    .entry(f.name.clone())
                    .or_insert(Value::String(d.clone()));
            }
        }
        let deleted = canonical
            .get("IsDeleted")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let last_modified = modified.as_str().and_then(parse_datetime).unwrap_or(now);
        let mut row = Row {
            object: def.name.clone(),
            id: id.clone(),
            fields: canonical,
            deleted,
            last_modified,
        };
        refresh_compound_name(&def, &mut row);
        self.journal.push(Mutation {
            kind: MutationKind::Create,
            object: def.name.clone(),
            id: id.clone(),
            before: None,
            after: row.fields.clone(),
        });
        self.tables
            .entry(def.name.clone())
            .or_default()
            .insert(id.clone(), row);
        Some(id)
    }

    /// Applies already-validated changes to a row and bumps its audit fields
    /// (`LastModifiedById` is the integration user unless `changes` names another).
    pub fn apply_update(&mut self, id: &str, changes: Map<String, Value>, now: OffsetDateTime) {
        let user = changes
            .get("LastModifiedById")
            .cloned()
            .unwrap_or_else(|| Value::String(self.user_id.clone()));
        let Some(row) = self.get_mut(id) else { return };
        let object = row.object.clone();
        let before = row.fields.clone();
        for (k, v) in changes {
            if v.is_null() {
                row.fields.remove(&k);
            } else {
                row.fields.insert(k, v);
            }
        }
        let stamp = Value::String(format_datetime(now));
        row.fields.insert("LastModifiedDate".into(), stamp.clone());
        row.fields.insert("SystemModstamp".into(), stamp);
        row.fields.insert("LastModifiedById".into(), user);
        row.last_modified = now;
        if let Some(def) = self.schema.object(&object).cloned()
            && let Some(row) = self.get_mut(id)
        {
            refresh_compound_name(&def, row);
        }
        self.record(MutationKind::Update, id, Some(before));
    }

    /// Soft-deletes a row (it stays visible to queryAll).
    pub fn soft_delete(&mut self, id: &str, now: OffsetDateTime) -> bool {
        let Some(row) = self.get_mut(id) else {
            return false;
        };
        let before = row.fields.clone();
        row.deleted = true;
        row.fields.insert("IsDeleted".into(), Value::Bool(true));
        row.fields
            .insert("SystemModstamp".into(), Value::String(format_datetime(now)));
        self.record(MutationKind::Delete, id, Some(before));
        true
    }

    /// Restores a soft-deleted row, as the recycle bin's undelete does, and bumps its audit
    /// fields (by `user`). False when `id` is not a deleted row.
    pub fn undelete(&mut self, id: &str, user: &str, now: OffsetDateTime) -> bool {
        let Some(row) = self.get_mut(id).filter(|r| r.deleted) else {
            return false;
        };
        let before = row.fields.clone();
        let stamp = Value::String(format_datetime(now));
        row.deleted = false;
        row.fields.insert("IsDeleted".into(), Value::Bool(false));
        row.fields.insert("LastModifiedDate".into(), stamp.clone());
        row.fields.insert("SystemModstamp".into(), stamp);
        row.fields
            .insert("LastModifiedById".into(), Value::String(user.to_string()));
        row.last_modified = now;
        self.record(MutationKind::Undelete, id, Some(before));
        true
    }

    /// Journals a write to an existing row, with the row's fields as they are now.
    fn record(&mut self, kind: MutationKind, id: &str, before: Option<Map<String, Value>>) {
        let Some(row) = self.get(id) else { return };
        let mutation = Mutation {
            kind,
            object: row.object.clone(),
            id: row.id.clone(),
            before,
            after: row.fields.clone(),
        };
        self.journal.push(mutation);
    }

    /// Renders a row as the sObject Rows GET returns it: `attributes`, then every field of the
    /// describe, in describe order (`null` when unset), or only `fields` when given.
    pub fn render(&self, row: &Row, version: &str, fields: Option<&[String]>) -> Ordered {
        let mut out = vec![(
            "attributes".to_string(),
            attributes(&row.object, &row.id, version),
        )];
        if let Some(def) = self.schema.object(&row.object) {
            match fields {
                Some(list) => {
                    for name in list {
                        if let Some(f) = def.field(name) {
                            out.push((f.name.clone(), row.get(&f.name).clone()));
                        }
                    }
                }
                None => {
                    for f in &def.fields {
                        out.push((f.name.clone(), row.get(&f.name).clone()));
                    }
                }
            }
        }
        Ordered(out)
    }
}

/// A record's `attributes` object.
pub fn attributes(object: &str, id: &str, version: &str) -> Value {
    serde_json::json!({"type": object, "url": format!("/services/data/v{version}/sobjects/{object}/{id}")})
}

/// Keeps the read-only compound `Name` of Lead and Contact equal to "FirstName LastName".
fn refresh_compound_name(def: &ObjectDef, row: &mut Row) {
    let Some(name) = def.field("Name") else {
        return;
    };
    if name.createable {
        return;
    }
    let first = row.get("FirstName").as_str().unwrap_or("").to_string();
    let last = row.get("LastName").as_str().unwrap_or("").to_string();
    let full = format!("{first} {last}").trim().to_string();
    if full.is_empty() {
        row.fields.remove("Name");
    } else {
        row.fields.insert("Name".into(), Value::String(full));
    }
}
