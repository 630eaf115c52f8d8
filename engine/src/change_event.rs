//! Salesforce change events (Change Data Capture) → what a runner does with them. Pure: the
//! runner parses the event and does the I/O; here it is decided which fields an event changed,
//! whether it carries every value its item needs or the record must be read, and where it sits
//! in Salesforce's commit order.
//!
//! The facts come from the reference `realtime-and-limits.md` §1: compound fields appear as
//! `Name.LastName` or `BillingAddress.Street` (§1a `changedFields`, §1b), an update carries
//! only the changed fields (§1b), `diffFields` hold a diff instead of a value (§1a), and events
//! of one record are ordered by `commitTimestamp`, `transactionKey` and `sequenceNumber`
//! (§1a, §1c).

use std::collections::BTreeSet;

use crmmap_dsl::model::SfType;
use serde_json::Value as Json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::eval::Record;
use crate::plan::Plan;

/// Where a change sits in Salesforce's commit order (§1a).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// `commitTimestamp`, epoch milliseconds.
    pub commit_ms: i64,
    /// `transactionKey` (unique per transaction, not ordered).
    pub transaction: String,
    /// `sequenceNumber`: the order inside the transaction.
    pub sequence: i64,
}

/// How an event's position compares with the last one applied to its record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Committed after it.
    Newer,
    /// The same change (a redelivery).
    Same,
    /// Committed before it: its values must not overwrite newer ones.
    Older,
    /// Another transaction committed in the same millisecond: the order is unknown.
    Unordered,
}

/// Compares an event's position with the last applied one.
///
/// ```
/// use crmmap_engine::change_event::{Order, Position, order};
/// let at = |ms, tx: &str, seq| Position { commit_ms: ms, transaction: tx.into(), sequence: seq };
/// assert_eq!(order(&at(2, "a", 1), &at(1, "b", 9)), Order::Newer);
/// assert_eq!(order(&at(1, "a", 1), &at(1, "a", 2)), Order::Older);
/// assert_eq!(order(&at(1, "a", 2), &at(1, "b", 1)), Order::Unordered);
/// ```
pub fn order(event: &Position, applied: &Position) -> Order {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match event.commit_ms.cmp(&applied.commit_ms) {
        Greater => Order::Newer,
        Less => Order::Older,
        Equal if event.transaction != applied.transaction => Order::Unordered,
        Equal => match event.sequence.cmp(&applied.sequence) {
            Greater => Order::Newer,
            Equal => Order::Same,
            Less => Order::Older,
        },
    }
}

/// The sObject field a change event's field name stands for (§1b, "component names can
/// differ from the sObject field names"): `Name.LastName` → `LastName`,
/// `BillingAddress.Street` → `BillingStreet`, `Address.PostalCode` → `PostalCode`, a custom
/// geolocation `Location__c.Latitude__s` → `Location__Latitude__s`; a plain name is itself.
///
/// ```
/// use crmmap_engine::change_event::sobject_field;
/// assert_eq!(sobject_field("Name.LastName"), "LastName");
/// assert_eq!(sobject_field("BillingAddress.StateCode"), "BillingStateCode");
/// assert_eq!(sobject_field("Address.Street"), "Street");
/// assert_eq!(sobject_field("Status"), "Status");
/// ```
pub fn sobject_field(name: &str) -> String {
    match name.split_once('.') {
        None => name.to_owned(),
        Some((base, part)) => component_field(base, part),
    }
}

/// The sObject field of one component of a compound field (see [`sobject_field`]).
pub fn component_field(base: &str, part: &str) -> String {
    if base == "Name" {
        part.to_owned()
    } else if let Some(prefix) = base.strip_suffix("Address") {
        format!("{prefix}{part}")
    } else if let Some(prefix) = base.strip_suffix("__c") {
        format!("{prefix}__{part}")
    } else {
        format!("{base}{part}")
    }
}

/// What an update (or any change whose values the event carries) needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Apply {
    /// It touches no field the plan sends to monday: nothing to write.
    Nothing,
    /// The event carries every value needed: evaluate this part of the record (the Id and
    /// the values needed, dates as ISO text), with the name rule only when `with_name`.
    Write {
        /// The part of the record to evaluate.
        record: Record,
        /// Whether the name rule reads a changed field (then every field it reads is in
        /// `record`).
        with_name: bool,
    },
    /// The record must be read from Salesforce first.
    Read(ReadWhy),
}

/// Why a change needs the record read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadWhy {
    /// A changed field appears in the mapping's selection: membership is decided by a query.
    Selection(String),
    /// A changed field is the reference of a board relation (its target item is looked up).
    Link(String),
    /// A value needed is not in the event (a diff, a relationship, a derived field).
    NotCarried(String),
}

impl std::fmt::Display for ReadWhy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadWhy::Selection(x) => write!(f, "`{x}` appears in the selection"),
            ReadWhy::Link(x) => write!(f, "`{x}` is a board relation's reference"),
            ReadWhy::NotCarried(x) => write!(f, "the event does not carry `{x}`"),
        }
    }
}

/// The fields the name rule reads (dotted paths joined).
fn name_fields(plan: &Plan) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Some(e) = &plan.name_to_monday {
        e.for_each_path(&mut |p| {
            out.insert(p.join("."));
        });
    }
    out
}

/// Whether a selection condition (trusted SOQL text) names `field`: an identifier token equal
/// to it, ignoring case, outside string literals. Over-matching only costs a read.
pub fn selection_mentions(condition: &str, field: &str) -> bool {
    let mut token = String::new();
    let mut quoted = false;
    let mut found = false;
    let mut end = |token: &mut String| {
        if token.eq_ignore_ascii_case(field) {
            found = true;
        }
        token.clear();
    };
    for c in condition.chars() {
        if quoted {
            if c == '\'' {
                quoted = false;
            }
            continue;
        }
        if c == '\'' {
            quoted = true;
            end(&mut token);
        } else if c.is_ascii_alphanumeric() || c == '_' {
            token.push(c);
        } else {
            end(&mut token);
        }
    }
    end(&mut token);
    found
}

/// What a change of `changed` (sObject field names) needs under `plan`, given the values the
/// event `carried` (fields absent from it, or listed in `diffFields` by the caller's choice
/// of leaving them out, are not carried).
///
/// - no changed field flows to monday (a field, a field the name rule reads, a link's
///   reference) → [`Apply::Nothing`];
/// - a changed field appears in the selection → read (membership);
/// - a changed link reference → read (the target's item is looked up like the migrator does);
/// - a needed value is not carried → read;
/// - else the part of the record to evaluate.
pub fn plan_change(
    plan: &Plan,
    record_id: &str,
    changed: &BTreeSet<String>,
    carried: &Record,
) -> Apply {
    let names = name_fields(plan);
    let fields: BTreeSet<&str> = plan.fields_to_monday().map(|f| f.field.as_str()).collect();
    let vias: BTreeSet<&str> = plan
        .links
        .iter()
        .filter(|l| l.direction.to_monday())
        .map(|l| l.via.as_str())
        .collect();
    let relevant: Vec<&String> = changed
        .iter()
        .filter(|c| {
            fields.contains(c.as_str()) || names.contains(c.as_str()) || vias.contains(c.as_str())
        })
        .collect();
    if relevant.is_empty() {
        return Apply::Nothing;
    }
    for c in changed {
        if plan
            .select
            .conditions
            .iter()
            .any(|cond| selection_mentions(cond, c))
        {
            return Apply::Read(ReadWhy::Selection(c.clone()));
        }
    }
    if let Some(v) = relevant.iter().find(|c| vias.contains(c.as_str())) {
        return Apply::Read(ReadWhy::Link((*v).clone()));
    }
    let with_name = relevant.iter().any(|c| names.contains(c.as_str()));
    let mut needed: BTreeSet<&str> = relevant
        .iter()
        .filter(|c| fields.contains(c.as_str()))
        .map(|c| c.as_str())
        .collect();
    if with_name {
        needed.extend(names.iter().map(String::as_str));
    }
    let mut record = Record::new();
    record.insert("Id".to_owned(), Json::String(record_id.to_owned()));
    for f in needed {
        let Some(value) = carried.get(f) else {
            return Apply::Read(ReadWhy::NotCarried(f.to_owned()));
        };
        record.insert(f.to_owned(), iso_date(plan, f, value));
    }
    Apply::Write { record, with_name }
}

/// A date or date-time field sent as epoch milliseconds (§1b: "accept both") as the ISO
/// text the REST API returns; anything else unchanged.
fn iso_date(plan: &Plan, field: &str, value: &Json) -> Json {
    let (Some(ms), Some(f)) = (value.as_i64(), plan.field_for_sf_field(field)) else {
        return value.clone();
    };
    let Ok(at) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) else {
        return value.clone();
    };
    match f.field_type {
        SfType::Date => Json::String(at.date().to_string()),
        SfType::Datetime => at
            .format(&Rfc3339)
            .map(Json::String)
            .unwrap_or_else(|_| value.clone()),
        _ => value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::eval::{Prior, record_part_to_update};

    fn plan(object: &str) -> Plan {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../mappings");
        let mut map = crmmap_dsl::SourceMap::new();
        for f in ["account", "contact", "lead", "opportunity", "translations"] {
            let path = root.join(format!("{f}.crmmap"));
            map.add(
                format!("{f}.crmmap"),
                std::fs::read_to_string(path).unwrap(),
            );
        }
        let model = crmmap_dsl::check_sources(&map).model.unwrap();
        crate::compile(&model).plan(object).cloned().unwrap()
    }

    fn set(fields: &[&str]) -> BTreeSet<String> {
        fields.iter().map(|s| (*s).to_owned()).collect()
    }

    fn record(v: serde_json::Value) -> Record {
        v.as_object().cloned().unwrap_or_default()
    }

    const LEAD: &str = "00Q000000000001AAA";

    #[test]
    fn an_unmapped_field_needs_nothing() {
        let p = plan("Lead");
        let got = plan_change(&p, LEAD, &set(&["NumberOfEmployees"]), &Record::new());
        assert_eq!(got, Apply::Nothing);
    }

    #[test]
    fn carried_values_are_written_without_a_read() {
        let p = plan("Lead");
        let carried = record(json!({"City": "Paris", "LastModifiedDate": 1_712_693_965_000_i64}));
        let got = plan_change(&p, LEAD, &set(&["City", "LastModifiedDate"]), &carried);
        let Apply::Write { record, with_name } = got else {
            panic!("{got:?}")
        };
        assert!(!with_name);
        assert_eq!(record["City"], "Paris");
        assert_eq!(record["LastModifiedDate"], "2024-04-09T20:19:25Z");
        assert_eq!(record["Id"], LEAD);
        // Only the changed columns (and the key column, already held) are written.
        let mut prior = Prior::default();
        prior
            .columns
            .insert(p.key_column.clone(), crate::Value::text(LEAD));
        let now = time::macros::datetime!(2026-01-01 00:00 UTC);
        let update = record_part_to_update(&p, &record, Some(&prior), now, with_name).unwrap();
        let cols: Vec<&str> = update
            .writes
            .column_values
            .keys()
            .map(|c| c.as_str())
            .collect();
        assert_eq!(cols, ["text_mkrym6fa", "text_mkryr3pj"]);
        assert_eq!(update.writes.name, None);
    }

    #[test]
    fn a_name_change_brings_every_field_of_the_name_rule() {
        let p = plan("Lead");
        let got = plan_change(
            &p,
            LEAD,
            &set(&["Company"]),
            &record(json!({"Company": "Acme"})),
        );
        assert!(
            matches!(
                got,
                Apply::Write {
                    with_name: true,
                    ..
                }
            ),
            "{got:?}"
        );
    }

    #[test]
    fn a_value_not_carried_is_read() {
        let p = plan("Lead");
        // `Name` (the full name) is derived: a `Name.LastName` change never carries it.
        let got = plan_change(
            &p,
            LEAD,
            &set(&["LastName", "Name"]),
            &record(json!({"LastName": "Reyes"})),
        );
        assert_eq!(got, Apply::Read(ReadWhy::NotCarried("Name".into())));
    }

    #[test]
    fn a_field_of_the_selection_is_read() {
        let p = plan("Lead");
        let got = plan_change(
            &p,
            LEAD,
            &set(&["Role__c"]),
            &record(json!({"Role__c": "Donor"})),
        );
        assert_eq!(got, Apply::Read(ReadWhy::Selection("Role__c".into())));
    }

    #[test]
    fn a_link_reference_is_read() {
        let p = plan("Contact");
        let got = plan_change(
            &p,
            "003000000000001AAA",
            &set(&["AccountId"]),
            &record(json!({"AccountId": "001000000000001AAA"})),
        );
        assert_eq!(got, Apply::Read(ReadWhy::Link("AccountId".into())));
    }

    #[test]
    fn selection_tokens_skip_literals() {
        assert!(selection_mentions("Role__c = 'Partner'", "role__c"));
        assert!(!selection_mentions("Role__c = 'Status'", "Status"));
        assert!(!selection_mentions("RoleX = 1", "Role"));
    }

    fn position() -> impl Strategy<Value = Position> {
        (0i64..4, "[ab]", 0i64..4).prop_map(|(commit_ms, transaction, sequence)| Position {
            commit_ms,
            transaction,
            sequence,
        })
    }

    proptest! {
        #[test]
        fn order_is_antisymmetric(a in position(), b in position()) {
            let (ab, ba) = (order(&a, &b), order(&b, &a));
            let flipped = match ab {
                Order::Newer => Order::Older,
                Order::Older => Order::Newer,
                o => o,
            };
            prop_assert_eq!(ba, flipped);
            prop_assert_eq!(ab == Order::Same, a == b);
        }

        #[test]
        fn any_field_name_maps_without_panicking(name in "\\PC{0,40}") {
            let f = sobject_field(&name);
            prop_assert!(name.contains('.') || f == name);
        }

        #[test]
        fn any_condition_scans_without_panicking(cond in "\\PC{0,80}", field in "[A-Za-z_]{1,12}") {
            let _ = selection_mentions(&cond, &field);
        }
    }
}
