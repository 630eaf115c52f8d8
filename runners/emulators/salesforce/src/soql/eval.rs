//! Runs a parsed query against the store.

use std::cmp::Ordering;
use std::collections::HashSet;

use serde_json::{Map, Value};
use time::{Date, OffsetDateTime};

use super::{CmpOp, Expr, LikeElem, Literal, Path, Query, SoqlError};
use crate::ids;
use crate::schema::{FieldDef, FieldType, ObjectDef, Schema};
use crate::store::{self, Ordered, Row, Store};

const CUSTOM_FIELD_HINT: &str = "If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.";
const CUSTOM_OBJECT_HINT: &str = "If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.";
const CUSTOM_REL_HINT: &str = "If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.";

/// A field path resolved against the schema: the reference fields to follow, then the field.
#[derive(Clone, Debug)]
struct Resolved {
    /// (reference field on the current object, relationship name, target object)
    hops: Vec<(String, String, String)>,
    field: FieldDef,
}

fn resolve(schema: &Schema, object: &ObjectDef, path: &Path) -> Result<Resolved, SoqlError> {
    let mut current = object;
    let mut hops = Vec::new();
    let (last, rels) = path
        .parts
        .split_last()
        .ok_or_else(|| SoqlError::malformed("empty field path", Some(path.pos)))?;
    for rel in rels {
        let target = current.relationship(rel).and_then(|f| {
            f.reference_to
                .first()
                .and_then(|t| schema.object(t))
                .map(|t| (f, t))
        });
        let Some((field, target)) = target else {
            return Err(SoqlError {
                code: "INVALID_FIELD",
                reason: format!(
                    "Didn't understand relationship '{rel}' in field path. {CUSTOM_REL_HINT}"
                ),
                pos: Some(path.pos),
            });
        };
        hops.push((
            field.name.clone(),
            field.relationship_name.clone().unwrap_or_default(),
            target.name.clone(),
        ));
        current = target;
    }
    let field = current.field(last).cloned().ok_or_else(|| SoqlError {
        code: "INVALID_FIELD",
        reason: format!(
            "No such column '{last}' on entity '{}'. {CUSTOM_FIELD_HINT}",
            current.name
        ),
        pos: Some(path.pos),
    })?;
    Ok(Resolved { hops, field })
}

/// A comparable value.
#[derive(Clone, Debug, PartialEq)]
enum V {
    Null,
    Bool(bool),
    Num(f64),
    /// Lower-cased text (ids are normalised to 18 chars first).
    Str(String),
    Set(Vec<String>),
    Date(Date),
    DateTime(OffsetDateTime),
}

impl V {
    fn cmp(&self, other: &V) -> Option<Ordering> {
        match (self, other) {
            (V::Bool(a), V::Bool(b)) => Some(a.cmp(b)),
            (V::Num(a), V::Num(b)) => a.partial_cmp(b),
            (V::Str(a), V::Str(b)) => Some(a.cmp(b)),
            (V::Set(a), V::Set(b)) => Some(a.cmp(b)),
            (V::Date(a), V::Date(b)) => Some(a.cmp(b)),
            (V::DateTime(a), V::DateTime(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

fn multi_set(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s
        .split(';')
        .map(|p| p.trim().to_lowercase())
        .filter(|p| !p.is_empty())
        .collect();
    v.sort();
    v.dedup();
    v
}

fn stored_value(v: &Value, ftype: FieldType) -> V {
    match v {
        Value::Null => V::Null,
        Value::Bool(b) => V::Bool(*b),
        Value::Number(n) => V::Num(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => match ftype {
            FieldType::Date => store::parse_date(s).map_or(V::Str(s.to_lowercase()), V::Date),
            FieldType::Datetime => {
                store::parse_datetime(s).map_or(V::Str(s.to_lowercase()), V::DateTime)
            }
            FieldType::Multipicklist => V::Set(multi_set(s)),
            FieldType::Id | FieldType::Reference => V::Str(
                ids::normalize(s)
                    .unwrap_or_else(|| s.clone())
                    .to_lowercase(),
            ),
            t if t.is_number() => s.parse().map_or(V::Null, V::Num),
            _ => V::Str(s.to_lowercase()),
        },
        other => V::Str(other.to_string()),
    }
}

fn type_error(field: &FieldDef, what: &str, quoted: bool, pos: usize) -> SoqlError {
    let quotes = if quoted {
        "should be enclosed in quotes"
    } else {
        "should not be enclosed in quotes"
    };
    SoqlError {
        code: "INVALID_FIELD",
        reason: format!(
            "value of filter criterion for field '{}' must be of type {what} and {quotes}",
            field.name
        ),
        pos: Some(pos),
    }
}

/// Converts a literal to a comparable value of the field's type, with Salesforce's type checks.
fn literal_value(lit: &Literal, field: &FieldDef, pos: usize) -> Result<V, SoqlError> {
    let t = field.ftype;
    if let Literal::String {
        like_only_escape: true,
        value,
        ..
    } = lit
    {
        return Err(SoqlError::malformed(
            format!(
                "Invalid string literal '{value}'. Illegal character sequence in string literal."
            ),
            Some(pos),
        ));
    }
    match (lit, t) {
        (Literal::Null, _) => Ok(V::Null),
        (Literal::String { value, .. }, FieldType::Id | FieldType::Reference) => {
            match ids::normalize(value) {
                Some(id) => Ok(V::Str(id.to_lowercase())),
                None => Err(SoqlError {
                    code: "INVALID_QUERY_FILTER_OPERATOR",
                    reason: format!("invalid ID field: {value}"),
                    pos: Some(pos),
                }),
            }
        }
        (Literal::String { value, .. }, FieldType::Multipicklist) => Ok(V::Set(multi_set(value))),
        (Literal::String { value, .. }, t) if t.is_text() => Ok(V::Str(value.to_lowercase())),
        (_, t) if t.is_text() || t.is_id() => Err(type_error(field, "string", true, pos)),
        (Literal::Number(n), t) if t.is_number() => Ok(V::Num(*n)),
        (_, t) if t.is_number() => Err(type_error(
            field,
            if t == FieldType::Int { "int" } else { "double" },
            false,
            pos,
        )),
        (Literal::Bool(b), FieldType::Boolean) => Ok(V::Bool(*b)),
        (_, FieldType::Boolean) => Err(type_error(field, "boolean", false, pos)),
        (Literal::Date(d), FieldType::Date) => Ok(V::Date(*d)),
        (_, FieldType::Date) => Err(type_error(field, "date", false, pos)),
        (Literal::DateTime(d), FieldType::Datetime) => Ok(V::DateTime(*d)),
        (_, FieldType::Datetime) => Err(type_error(field, "dateTime", false, pos)),
        _ => Err(type_error(field, t.as_str(), false, pos)),
    }
}

/// A compiled filter: paths resolved and literals converted.
enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Cmp(Resolved, CmpOp, V),
    In(Resolved, bool, Vec<V>),
    InSet(Resolved, bool, HashSet<String>),
    Like(Resolved, Vec<LikeElem>),
    Includes(Resolved, bool, Vec<Vec<String>>),
}

fn compile(store: &Store, object: &ObjectDef, e: &Expr) -> Result<Filter, SoqlError> {
    let schema = &store.schema;
    Ok(match e {
        Expr::And(items) => Filter::And(
            items
                .iter()
                .map(|i| compile(store, object, i))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Or(items) => Filter::Or(
            items
                .iter()
                .map(|i| compile(store, object, i))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Not(inner) => Filter::Not(Box::new(compile(store, object, inner)?)),
        Expr::Cmp {
            path,
            op,
            value,
            value_pos,
        } => {
            let r = resolve(schema, object, path)?;
            let v = literal_value(value, &r.field, *value_pos)?;
            if matches!(v, V::Bool(_)) && !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                return Err(SoqlError {
                    code: "INVALID_FIELD",
                    reason: format!("invalid operator on boolean field: {}", r.field.name),
                    pos: Some(*value_pos),
                });
            }
            Filter::Cmp(r, *op, v)
        }
        Expr::In {
            path,
            negated,
            values,
            value_pos,
        } => {
            let r = resolve(schema, object, path)?;
            let vs = values
                .iter()
                .map(|v| literal_value(v, &r.field, *value_pos))
                .collect::<Result<_, _>>()?;
            Filter::In(r, *negated, vs)
        }
        Expr::InQuery {
            path,
            negated,
            query,
        } => {
            let r = resolve(schema, object, path)?;
            if !r.field.ftype.is_id() {
                return Err(SoqlError {
                    code: "INVALID_FIELD",
                    reason: format!(
                        "Invalid semi join: the left operand '{}' must be an Id or reference field",
                        r.field.name
                    ),
                    pos: Some(path.pos),
                });
            }
            let sub_obj = schema
                .object(&query.object)
                .ok_or_else(|| invalid_type(&query.object, query.object_pos))?;
            if query.fields.len() != 1 {
                return Err(SoqlError::malformed(
                    "semi join sub-selects can only select one field",
                    Some(query.object_pos),
                ));
            }
            let sel = resolve(schema, sub_obj, &query.fields[0])?;
            if !sel.field.ftype.is_id() {
                return Err(SoqlError {
                    code: "INVALID_FIELD",
                    reason: format!(
                        "The selected field '{}' in the subquery and the left operand field in the where expression in the outer query '{}' should point to the same object type",
                        sel.field.name, r.field.name
                    ),
                    pos: Some(query.fields[0].pos),
                });
            }
            let rows = select_rows(store, sub_obj, query, false)?;
            let mut set = HashSet::new();
            for row in rows {
                if let V::Str(s) = stored_value(&lookup(store, row, &sel), sel.field.ftype) {
                    set.insert(s);
                }
            }
            Filter::InSet(r, *negated, set)
        }
        Expr::Like {
            path,
            pattern,
            value_pos,
        } => {
            let r = resolve(schema, object, path)?;
            if !(r.field.ftype.is_text() || r.field.ftype.is_id()) {
                return Err(SoqlError {
                    code: "INVALID_FIELD",
                    reason: format!("invalid operator on field: {}", r.field.name),
                    pos: Some(*value_pos),
                });
            }
            let Literal::String { pattern, .. } = pattern else {
                return Err(SoqlError::malformed(
                    "LIKE operator requires a string value",
                    Some(*value_pos),
                ));
            };
            Filter::Like(r, pattern.clone())
        }
        Expr::Includes {
            path,
            excludes,
            values,
        } => {
            let r = resolve(schema, object, path)?;
            if r.field.ftype != FieldType::Multipicklist {
                return Err(SoqlError {
                    code: "INVALID_FIELD",
                    reason: format!(
                        "includes or excludes operator only valid on multipicklist field: {}",
                        r.field.name
                    ),
                    pos: Some(path.pos),
                });
            }
            Filter::Includes(r, *excludes, values.iter().map(|v| multi_set(v)).collect())
        }
    })
}

fn invalid_type(name: &str, pos: usize) -> SoqlError {
    SoqlError {
        code: "INVALID_TYPE",
        reason: format!("sObject type '{name}' is not supported. {CUSTOM_OBJECT_HINT}"),
        pos: Some(pos),
    }
}

/// The raw stored value at a resolved path (`Null` when a hop is null or missing).
fn lookup(store: &Store, row: &Row, r: &Resolved) -> Value {
    let mut current = row;
    for (field, _, _) in &r.hops {
        let Some(next) = current.get(field).as_str().and_then(|id| store.get(id)) else {
            return Value::Null;
        };
        current = next;
    }
    current.get(&r.field.name).clone()
}

fn like_match(pattern: &[LikeElem], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((LikeElem::Any, rest)) => (0..=text.len()).any(|k| like_match(rest, &text[k..])),
        Some((LikeElem::One, rest)) => !text.is_empty() && like_match(rest, &text[1..]),
        Some((LikeElem::Char(c), rest)) => {
            text.first()
                .is_some_and(|t| t.to_lowercase().eq(c.to_lowercase()))
                && like_match(rest, &text[1..])
        }
    }
}

fn cmp_matches(actual: &V, op: CmpOp, expected: &V) -> bool {
    match op {
        CmpOp::Eq => match (actual, expected) {
            (V::Null, V::Null) => true,
            (V::Null, _) | (_, V::Null) => false,
            (a, b) => a.cmp(b) == Some(Ordering::Equal),
        },
        CmpOp::Ne => !cmp_matches(actual, CmpOp::Eq, expected),
        _ => {
            let Some(ord) = actual.cmp(expected) else {
                return false;
            };
            match op {
                CmpOp::Lt => ord == Ordering::Less,
                CmpOp::Le => ord != Ordering::Greater,
                CmpOp::Gt => ord == Ordering::Greater,
                CmpOp::Ge => ord != Ordering::Less,
                _ => false,
            }
        }
    }
}

fn matches(store: &Store, row: &Row, f: &Filter) -> bool {
    match f {
        Filter::And(items) => items.iter().all(|i| matches(store, row, i)),
        Filter::Or(items) => items.iter().any(|i| matches(store, row, i)),
        Filter::Not(inner) => !matches(store, row, inner),
        Filter::Cmp(r, op, v) => {
            cmp_matches(&stored_value(&lookup(store, row, r), r.field.ftype), *op, v)
        }
        Filter::In(r, negated, vs) => {
            let actual = stored_value(&lookup(store, row, r), r.field.ftype);
            vs.iter().any(|v| cmp_matches(&actual, CmpOp::Eq, v)) != *negated
        }
        Filter::InSet(r, negated, set) => match stored_value(&lookup(store, row, r), r.field.ftype)
        {
            V::Str(s) => set.contains(&s) != *negated,
            _ => *negated,
        },
        Filter::Like(r, pattern) => match lookup(store, row, r) {
            Value::String(s) => like_match(pattern, &s.chars().collect::<Vec<_>>()),
            _ => false,
        },
        Filter::Includes(r, excludes, sets) => {
            let V::Set(actual) = stored_value(&lookup(store, row, r), r.field.ftype) else {
                return *excludes;
            };
            let any = sets
                .iter()
                .any(|s| s.iter().all(|item| actual.contains(item)));
            any != *excludes
        }
    }
}

fn select_rows<'a>(
    store: &'a Store,
    object: &ObjectDef,
    q: &Query,
    all_rows: bool,
) -> Result<Vec<&'a Row>, SoqlError> {
    let filter = q
        .filter
        .as_ref()
        .map(|e| compile(store, object, e))
        .transpose()?;
    let order = q
        .order_by
        .iter()
        .map(|o| resolve(&store.schema, object, &o.path).map(|r| (r, o)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rows: Vec<&Row> = store
        .rows(&object.name)
        .filter(|r| all_rows || !r.deleted)
        .filter(|r| filter.as_ref().is_none_or(|f| matches(store, r, f)))
        .collect();
    if !order.is_empty() {
        rows.sort_by(|a, b| {
            for (r, item) in &order {
                let va = stored_value(&lookup(store, a, r), r.field.ftype);
                let vb = stored_value(&lookup(store, b, r), r.field.ftype);
                let ord = match (&va, &vb) {
                    (V::Null, V::Null) => Ordering::Equal,
                    (V::Null, _) => {
                        if item.nulls_last {
                            Ordering::Greater
                        } else {
                            Ordering::Less
                        }
                    }
                    (_, V::Null) => {
                        if item.nulls_last {
                            Ordering::Less
                        } else {
                            Ordering::Greater
                        }
                    }
                    _ => {
                        let o = va.cmp(&vb).unwrap_or(Ordering::Equal);
                        if item.descending { o.reverse() } else { o }
                    }
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            Ordering::Equal
        });
    }
    let offset = q.offset.unwrap_or(0);
    let rows = rows.into_iter().skip(offset);
    Ok(match q.limit {
        Some(n) => rows.take(n).collect(),
        None => rows.collect(),
    })
}

/// Runs `q` (deleted rows included when `all_rows`, as `/queryAll` does) and renders the
/// matching records as the REST API returns them.
pub fn execute(
    store: &Store,
    q: &Query,
    all_rows: bool,
    version: &str,
) -> Result<Vec<Ordered>, SoqlError> {
    let object = store
        .schema
        .object(&q.object)
        .ok_or_else(|| invalid_type(&q.object, q.object_pos))?;
    let selected = q
        .fields
        .iter()
        .map(|p| resolve(&store.schema, object, p))
        .collect::<Result<Vec<_>, _>>()?;
    let rows = select_rows(store, object, q, all_rows)?;
    Ok(rows
        .into_iter()
        .map(|row| render(store, row, &selected, version))
        .collect())
}

fn render(store: &Store, row: &Row, selected: &[Resolved], version: &str) -> Ordered {
    let mut out = Ordered(vec![(
        "attributes".into(),
        store::attributes(&row.object, &row.id, version),
    )]);
    for r in selected {
        if r.hops.is_empty() {
            if !out.0.iter().any(|(k, _)| k == &r.field.name) {
                out.0
                    .push((r.field.name.clone(), row.get(&r.field.name).clone()));
            }
            continue;
        }
        // Parent path: nest under the relationship names.
        let (first_field, first_rel, _) = &r.hops[0];
        let slot = match out.0.iter().position(|(k, _)| k == first_rel) {
            Some(i) => i,
            None => {
                out.0.push((first_rel.clone(), Value::Null));
                out.0.len() - 1
            }
        };
        let Some(parent) = row.get(first_field).as_str().and_then(|id| store.get(id)) else {
            continue;
        };
        let mut node = std::mem::take(&mut out.0[slot].1);
        insert_path(store, &mut node, parent, &r.hops[1..], &r.field, version);
        out.0[slot].1 = node;
    }
    out
}

fn insert_path(
    store: &Store,
    node: &mut Value,
    row: &Row,
    hops: &[(String, String, String)],
    field: &FieldDef,
    version: &str,
) {
    if node.is_null() {
        let mut m = Map::new();
        m.insert(
            "attributes".into(),
            store::attributes(&row.object, &row.id, version),
        );
        *node = Value::Object(m);
    }
    let Value::Object(map) = node else { return };
    match hops.split_first() {
        None => {
            map.insert(field.name.clone(), row.get(&field.name).clone());
        }
        Some(((ref_field, rel, _), rest)) => {
            let entry = map.entry(rel.clone()).or_insert(Value::Null);
            if let Some(next) = row.get(ref_field).as_str().and_then(|id| store.get(id)) {
                insert_path(store, entry, next, rest, field, version);
            }
        }
    }
}
