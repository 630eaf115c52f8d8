//! Salesforce change events as they arrive: an EventBridge event whose `detail.payload` is a
//! change event (reference `realtime-and-limits.md` §2b), read leniently into a typed
//! [`ChangeEvent`] (header §1a, body §1b). Never panics on any input (property-tested).
//!
//! Choices where the reference is uncertain (§2b "UNCONFIRMED"):
//!
//! | fact | choice |
//! |---|---|
//! | `detail` may carry keys beside `payload` (`schemaId`, an event id, a replay id) | every other `detail` key is kept in [`Envelope::detail_extra`]; a replay id is read from `detail.replayId` or `detail.event.replayId` (the CometD shape, §1b) |
//! | the flatter AppFlow shape puts `ChangeEventHeader` directly under `detail` | accepted: it is unambiguous (a `ChangeEventHeader` key), carries the same header and body, and refusing it would drop changes a misrouted rule delivers |
//! | dates as epoch ms or ISO text | both, for `commitTimestamp` and for body fields (converted by the engine for the plan's date fields) |
//! | `changedFields` as names or bitmaps | names; a missing list or an entry that is not a field name (`0x…`) makes the changed fields unknown ([`ChangeEvent::changes_unknown`]), and the record is read |
//!
//! `diffFields` values are never trusted: such a field counts as changed but not carried, so
//! it is read from Salesforce.

use std::collections::BTreeSet;

use crmmap_engine::change_event::{Position, component_field, sobject_field};
use crmmap_engine::eval::Record;
use serde_json::{Map, Value as Json};

/// One EventBridge event carrying a change event.
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope {
    /// `detail-type` (`LeadChangeEvent`, `Grant__ChangeEvent`).
    pub detail_type: Option<String>,
    /// `source` (the partner event source).
    pub source: Option<String>,
    /// `id`: EventBridge's own id, not the Salesforce event's.
    pub id: Option<String>,
    /// The replay id, when the relay sent one.
    pub replay_id: Option<String>,
    /// `detail`'s keys other than the payload (kept, unused).
    pub detail_extra: Map<String, Json>,
    /// The change event.
    pub event: ChangeEvent,
}

/// What changed (§1a `changeType`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeType {
    /// `CREATE`.
    Create,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
    /// `UNDELETE`.
    Undelete,
    /// `GAP_CREATE`, `GAP_UPDATE`, `GAP_DELETE`, `GAP_UNDELETE`: header and record ids only.
    Gap(Box<ChangeType>),
    /// `GAP_OVERFLOW`: too many changes in one transaction; no record ids.
    Overflow,
    /// Anything else (`SNAPSHOT`, future values).
    Other(String),
}

impl ChangeType {
    fn parse(s: &str) -> ChangeType {
        match s {
            "CREATE" => ChangeType::Create,
            "UPDATE" => ChangeType::Update,
            "DELETE" => ChangeType::Delete,
            "UNDELETE" => ChangeType::Undelete,
            "GAP_OVERFLOW" => ChangeType::Overflow,
            other => match other.strip_prefix("GAP_") {
                Some(rest @ ("CREATE" | "UPDATE" | "DELETE" | "UNDELETE")) => {
                    ChangeType::Gap(Box::new(ChangeType::parse(rest)))
                }
                _ => ChangeType::Other(other.to_owned()),
            },
        }
    }

    /// The name Salesforce uses.
    pub fn as_str(&self) -> String {
        match self {
            ChangeType::Create => "CREATE".into(),
            ChangeType::Update => "UPDATE".into(),
            ChangeType::Delete => "DELETE".into(),
            ChangeType::Undelete => "UNDELETE".into(),
            ChangeType::Gap(t) => format!("GAP_{}", t.as_str()),
            ChangeType::Overflow => "GAP_OVERFLOW".into(),
            ChangeType::Other(s) => s.clone(),
        }
    }
}

/// A change event: its header and its body's values (compound fields flattened to the
/// sObject's fields).
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeEvent {
    /// `entityName` (`Lead`, `Grant__c`).
    pub entity: String,
    /// `recordIds` (usually one; none for an overflow).
    pub record_ids: Vec<String>,
    /// `changeType`.
    pub change_type: ChangeType,
    /// `changeOrigin`.
    pub change_origin: String,
    /// `transactionKey`.
    pub transaction_key: Option<String>,
    /// `sequenceNumber`.
    pub sequence_number: Option<i64>,
    /// `commitTimestamp`, epoch ms (a number, a numeric string or ISO text).
    pub commit_ms: Option<i64>,
    /// `commitUser`.
    pub commit_user: Option<String>,
    /// The sObject fields the change touched: `changedFields` and `nulledFields` mapped from
    /// compound components (`Name.LastName` → `LastName`), plus the compound field itself
    /// (`Name`), whose value the event never carries.
    pub changed: BTreeSet<String>,
    /// `diffFields`, as sObject fields: changed, but their values are diffs, not values.
    pub diff: BTreeSet<String>,
    /// The values the event carries by sObject field (nulled fields as `null`; diff fields
    /// left out).
    pub values: Record,
    /// `changedFields` is missing or holds something other than field names (a bitmap, as
    /// the Pub/Sub API's Avro form has): which fields changed is unknown, so the record is
    /// read.
    pub changes_unknown: bool,
}

impl ChangeEvent {
    /// Where the change sits in commit order, when the header says.
    pub fn position(&self) -> Option<Position> {
        Some(Position {
            commit_ms: self.commit_ms?,
            transaction: self.transaction_key.clone()?,
            sequence: self.sequence_number?,
        })
    }
}

/// Why a body is not a change event (a 4xx answer; never the body itself).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotAnEvent {
    /// Not JSON.
    #[error("the body is not json: {0}")]
    NotJson(String),
    /// JSON, but not an EventBridge event with a change event in `detail.payload`.
    #[error(
        "the body is not an eventbridge event carrying a change event (expected `detail.payload.ChangeEventHeader`)"
    )]
    NoChangeEvent,
    /// A required header field is missing or of the wrong type.
    #[error("`ChangeEventHeader.{0}` is missing or not {1}")]
    Field(&'static str, &'static str),
}

/// Reads a body (bytes) as one EventBridge event carrying a change event.
pub fn parse(bytes: &[u8]) -> Result<Envelope, NotAnEvent> {
    let json: Json =
        serde_json::from_slice(bytes).map_err(|e| NotAnEvent::NotJson(e.to_string()))?;
    parse_envelope(&json)
}

/// Reads an EventBridge event (already JSON) carrying a change event.
pub fn parse_envelope(json: &Json) -> Result<Envelope, NotAnEvent> {
    let detail = json
        .get("detail")
        .and_then(Json::as_object)
        .ok_or(NotAnEvent::NoChangeEvent)?;
    let text = |k: &str| json.get(k).and_then(Json::as_str).map(str::to_owned);
    // §2b: Event Relay puts the change event under `detail.payload`; AppFlow's flat shape
    // has the header directly under `detail`.
    let (payload, extra) = match detail.get("payload").and_then(Json::as_object) {
        Some(p) => {
            let extra: Map<String, Json> = detail
                .iter()
                .filter(|(k, _)| k.as_str() != "payload")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (p, extra)
        }
        None if detail.contains_key("ChangeEventHeader") => (detail, Map::new()),
        None => return Err(NotAnEvent::NoChangeEvent),
    };
    let replay_id = extra
        .get("replayId")
        .or_else(|| extra.get("event").and_then(|e| e.get("replayId")))
        .and_then(scalar_text);
    Ok(Envelope {
        detail_type: text("detail-type"),
        source: text("source"),
        id: text("id"),
        replay_id,
        detail_extra: extra,
        event: parse_change_event(payload)?,
    })
}

/// A number or a non-empty string as text.
fn scalar_text(v: &Json) -> Option<String> {
    match v {
        Json::Number(n) => Some(n.to_string()),
        Json::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

/// An integer from a number or a numeric string.
fn integer(v: Option<&Json>) -> Option<i64> {
    match v? {
        Json::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Epoch milliseconds from a number, a numeric string or ISO text (RFC 3339).
fn epoch_ms(v: Option<&Json>) -> Option<i64> {
    if let Some(ms) = integer(v) {
        return Some(ms);
    }
    let s = v?.as_str()?;
    let at = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

fn strings(v: Option<&Json>) -> Vec<String> {
    v.and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Json::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Reads a change event (the object with `ChangeEventHeader` and the body fields).
pub fn parse_change_event(payload: &Map<String, Json>) -> Result<ChangeEvent, NotAnEvent> {
    let header = payload
        .get("ChangeEventHeader")
        .and_then(Json::as_object)
        .ok_or(NotAnEvent::NoChangeEvent)?;
    let entity = header
        .get("entityName")
        .and_then(Json::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(NotAnEvent::Field("entityName", "a string"))?
        .to_owned();
    let change_type = header
        .get("changeType")
        .and_then(Json::as_str)
        .map(|s| ChangeType::parse(s.trim()))
        .ok_or(NotAnEvent::Field("changeType", "a string"))?;
    let record_ids = strings(header.get("recordIds"));
    let nulled = strings(header.get("nulledFields"));
    let diff: BTreeSet<String> = strings(header.get("diffFields"))
        .iter()
        .map(|f| sobject_field(f))
        .collect();
    let named = |f: &String| {
        f.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            && !f.starts_with("0x")
    };
    let listed = strings(header.get("changedFields"));
    let changes_unknown = !header.get("changedFields").is_some_and(Json::is_array)
        || !listed.iter().all(named)
        || !nulled.iter().all(named);
    let mut changed = BTreeSet::new();
    for f in listed.iter().chain(&nulled).filter(|f| named(f)) {
        changed.insert(sobject_field(f));
        if let Some((base, _)) = f.split_once('.') {
            // The compound field (`Name`, the full name) changes with its components, and
            // the event never carries its value.
            changed.insert(base.to_owned());
        }
    }
    let mut values = Record::new();
    for (k, v) in payload {
        if k == "ChangeEventHeader" {
            continue;
        }
        match v {
            Json::Object(parts) if is_compound(k, parts) => {
                for (part, value) in parts {
                    values.insert(component_field(k, part), value.clone());
                }
            }
            // A diff (CometD wraps it as `{"diff": …}`) or any other object is no value.
            Json::Object(_) => {}
            _ => {
                values.insert(k.clone(), v.clone());
            }
        }
    }
    for f in &nulled {
        values.insert(sobject_field(f), Json::Null);
    }
    for f in &diff {
        values.remove(f);
    }
    Ok(ChangeEvent {
        entity,
        record_ids,
        change_type,
        change_origin: header
            .get("changeOrigin")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned(),
        transaction_key: header.get("transactionKey").and_then(scalar_text),
        sequence_number: integer(header.get("sequenceNumber")),
        commit_ms: epoch_ms(header.get("commitTimestamp")),
        commit_user: header.get("commitUser").and_then(scalar_text),
        changed,
        diff,
        values,
        changes_unknown,
    })
}

/// Whether a body object is a compound field (`Name`, an address, a geolocation) rather than
/// a diff wrapper.
fn is_compound(key: &str, parts: &Map<String, Json>) -> bool {
    !parts.contains_key("diff")
        && (key == "Name" || key.ends_with("Address") || key.ends_with("__c"))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    /// The example of §2b.
    fn example() -> Json {
        json!({
          "version": "0",
          "id": "5c42b99e-c214-4a9c-8fbd-1a41e5faa44a",
          "detail-type": "AccountChangeEvent",
          "source": "aws.partner/salesforce.com/00D5f000005KcCnEAK/0YL5f000000CabWGAS",
          "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "eu-west-1",
          "resources": [],
          "detail": {
            "payload": {
              "ChangeEventHeader": { "entityName": "Account", "recordIds": ["0015f00002J9YYEAA3"],
                "changeType": "CREATE",
                "changeOrigin": "com/salesforce/api/soap/60.0;client=SfdcInternalAPI/",
                "transactionKey": "0001ade9-0000", "sequenceNumber": 1,
                "commitTimestamp": 1712693965000_i64,
                "commitUser": "0055f000005mc66AAA", "nulledFields": [], "diffFields": [],
                "changedFields": [] },
              "Name": "Acme", "OwnerId": "0055f000005mc66AAA", "CreatedDate": 1712693965000_i64
            },
            "schemaId": "abc"
          }
        })
    }

    #[test]
    fn reads_the_reference_example() {
        let e = parse_envelope(&example()).unwrap();
        assert_eq!(e.detail_type.as_deref(), Some("AccountChangeEvent"));
        assert_eq!(e.detail_extra["schemaId"], "abc");
        assert_eq!(e.replay_id, None);
        let ev = e.event;
        assert_eq!(ev.entity, "Account");
        assert_eq!(ev.change_type, ChangeType::Create);
        assert_eq!(ev.record_ids, ["0015f00002J9YYEAA3"]);
        assert_eq!(ev.commit_ms, Some(1_712_693_965_000));
        assert_eq!(ev.values["Name"], "Acme");
        assert_eq!(
            ev.position(),
            Some(Position {
                commit_ms: 1_712_693_965_000,
                transaction: "0001ade9-0000".into(),
                sequence: 1
            })
        );
    }

    #[test]
    fn compound_fields_become_the_sobject_fields() {
        // The real update capture of §1b, and an address.
        let payload = json!({
            "LastModifiedDate": "2025-04-24T13:18:26.000Z",
            "Name": {"LastName": "Youngest"},
            "BillingAddress": {"Street": "415 Mission Street", "City": null},
            "Description": {"diff": "--- \n+++ abc\n@@"},
            "ChangeEventHeader": {"entityName": "Contact", "recordIds": ["003000000000001AAA"],
                "changeType": "UPDATE", "commitTimestamp": "2025-04-24T13:18:26.000Z",
                "changedFields": ["LastModifiedDate", "Name.LastName", "BillingAddress.Street",
                                  "Description"],
                "nulledFields": ["BillingAddress.City"], "diffFields": ["Description"]}
        });
        let ev = parse_change_event(payload.as_object().unwrap()).unwrap();
        let changed: Vec<&str> = ev.changed.iter().map(String::as_str).collect();
        assert_eq!(
            changed,
            [
                "BillingAddress",
                "BillingCity",
                "BillingStreet",
                "Description",
                "LastModifiedDate",
                "LastName",
                "Name"
            ]
        );
        assert_eq!(ev.values["LastName"], "Youngest");
        assert_eq!(ev.values["BillingStreet"], "415 Mission Street");
        assert_eq!(ev.values["BillingCity"], Json::Null);
        assert!(!ev.values.contains_key("Description"), "a diff is no value");
        assert!(
            !ev.values.contains_key("Name"),
            "the full name is never carried"
        );
        assert_eq!(ev.commit_ms, Some(1_745_500_706_000));
    }

    #[test]
    fn changed_fields_that_are_not_names_are_unknown() {
        let header = |changed: Json| {
            let p = json!({"ChangeEventHeader": {"entityName": "Lead", "changeType": "UPDATE",
                "changedFields": changed}, "City": "Paris"});
            parse_change_event(p.as_object().unwrap()).unwrap()
        };
        assert!(!header(json!(["City"])).changes_unknown);
        assert!(header(json!(["0x0a"])).changes_unknown);
        assert!(header(Json::Null).changes_unknown);
        assert!(header(json!(["0x0a"])).changed.is_empty());
    }

    #[test]
    fn gap_and_overflow_types() {
        assert_eq!(
            ChangeType::parse("GAP_UPDATE"),
            ChangeType::Gap(Box::new(ChangeType::Update))
        );
        assert_eq!(ChangeType::parse("GAP_OVERFLOW"), ChangeType::Overflow);
        assert_eq!(
            ChangeType::parse("SNAPSHOT"),
            ChangeType::Other("SNAPSHOT".into())
        );
        assert_eq!(ChangeType::parse("GAP_DELETE").as_str(), "GAP_DELETE");
    }

    #[test]
    fn the_appflow_shape_and_a_replay_id_are_read() {
        let mut v = example();
        let payload = v["detail"]["payload"].clone();
        v["detail"] = payload;
        assert_eq!(parse_envelope(&v).unwrap().event.entity, "Account");
        let mut v = example();
        v["detail"]["event"] = json!({"replayId": 2142496});
        assert_eq!(
            parse_envelope(&v).unwrap().replay_id.as_deref(),
            Some("2142496")
        );
    }

    #[test]
    fn what_is_not_an_event_is_said() {
        assert!(matches!(parse(b"{"), Err(NotAnEvent::NotJson(_))));
        assert_eq!(parse(b"{}"), Err(NotAnEvent::NoChangeEvent));
        assert_eq!(
            parse(br#"{"detail":{"payload":{"ChangeEventHeader":{"changeType":"UPDATE"}}}}"#),
            Err(NotAnEvent::Field("entityName", "a string"))
        );
    }

    fn arb_json() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|f| json!(f)),
            "\\PC{0,12}".prop_map(Json::String),
            prop_oneof![
                Just("ChangeEventHeader"),
                Just("changedFields"),
                Just("Name.LastName"),
                Just("GAP_UPDATE"),
                Just("2025-04-24T13:18:26.000Z"),
            ]
            .prop_map(|s| Json::String(s.to_owned())),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            let keys = prop_oneof![
                Just("detail".to_owned()),
                Just("payload".to_owned()),
                Just("ChangeEventHeader".to_owned()),
                Just("entityName".to_owned()),
                Just("changeType".to_owned()),
                Just("recordIds".to_owned()),
                Just("changedFields".to_owned()),
                Just("nulledFields".to_owned()),
                Just("diffFields".to_owned()),
                Just("commitTimestamp".to_owned()),
                Just("sequenceNumber".to_owned()),
                Just("Name".to_owned()),
                Just("BillingAddress".to_owned()),
                "\\PC{0,8}",
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Json::Array),
                prop::collection::btree_map(keys, inner, 0..6)
                    .prop_map(|m| Json::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_json_parses_or_is_refused_without_panicking(v in arb_json()) {
            if let Ok(e) = parse_envelope(&v) {
                prop_assert!(!e.event.entity.is_empty());
                prop_assert!(e.event.diff.iter().all(|d| !e.event.values.contains_key(d)));
            }
        }

        #[test]
        fn any_bytes_parse_or_are_refused_without_panicking(b in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse(&b);
        }

        #[test]
        fn a_header_of_any_values_parses_without_panicking(
            header in prop::collection::btree_map(
                prop_oneof![Just("entityName"), Just("changeType"), Just("recordIds"),
                            Just("changedFields"), Just("nulledFields"), Just("diffFields"),
                            Just("commitTimestamp"), Just("sequenceNumber"), Just("transactionKey"),
                            Just("commitUser")].prop_map(str::to_owned),
                arb_json(), 0..10),
        ) {
            let payload = json!({"ChangeEventHeader": header});
            let _ = parse_change_event(payload.as_object().unwrap());
        }
    }
}
