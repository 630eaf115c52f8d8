//! A change event as Salesforce Change Data Capture sends it: the `ChangeEventHeader`
//! (realtime-and-limits.md §1a) and the body fields (§1b), in the JSON form CometD and Event
//! Relay clients receive.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `ChangeEventHeader.changeType` (§1a): the four changes, the four gap events and the overflow
/// event. (`SNAPSHOT` is "reserved for future use" and never sent.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeType {
    Create,
    Update,
    Delete,
    Undelete,
    GapCreate,
    GapUpdate,
    GapDelete,
    GapUndelete,
    GapOverflow,
}

impl ChangeType {
    /// The header's spelling, e.g. `GAP_UPDATE`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Create => "CREATE",
            ChangeType::Update => "UPDATE",
            ChangeType::Delete => "DELETE",
            ChangeType::Undelete => "UNDELETE",
            ChangeType::GapCreate => "GAP_CREATE",
            ChangeType::GapUpdate => "GAP_UPDATE",
            ChangeType::GapDelete => "GAP_DELETE",
            ChangeType::GapUndelete => "GAP_UNDELETE",
            ChangeType::GapOverflow => "GAP_OVERFLOW",
        }
    }

    /// Parses the header's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        [
            ChangeType::Create,
            ChangeType::Update,
            ChangeType::Delete,
            ChangeType::Undelete,
            ChangeType::GapCreate,
            ChangeType::GapUpdate,
            ChangeType::GapDelete,
            ChangeType::GapUndelete,
            ChangeType::GapOverflow,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }

    /// A gap or overflow event (§1c): header and record ids only, every body field null.
    pub fn is_gap(self) -> bool {
        !matches!(
            self,
            ChangeType::Create | ChangeType::Update | ChangeType::Delete | ChangeType::Undelete
        )
    }
}

/// `ChangeEventHeader` (§1a), serialized with Salesforce's field names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeEventHeader {
    /// API name of the object, e.g. `Lead`.
    pub entity_name: String,
    /// 18-character ids of the changed records; empty for `GAP_OVERFLOW`.
    pub record_ids: Vec<String>,
    pub change_type: ChangeType,
    /// `com/salesforce/api/rest/<version>;client=<client>` for a REST call; empty for a change
    /// made by a person (the emulator's control surface).
    pub change_origin: String,
    /// Shared by every event of one transaction (one emulator request or control call).
    pub transaction_key: String,
    /// Order inside the transaction, from 1.
    pub sequence_number: u32,
    /// Epoch milliseconds.
    pub commit_timestamp: i64,
    /// The emulator's commit counter ("for diagnostic purposes", §1a).
    pub commit_number: u64,
    /// The user the change ran as.
    pub commit_user: String,
    /// UPDATE only: the changed fields, `LastModifiedDate` included, compound components as
    /// `Name.LastName`.
    pub changed_fields: Vec<String>,
    /// Fields explicitly set to null.
    pub nulled_fields: Vec<String>,
    /// Long text fields sent as a diff; the emulator always sends full values, so empty.
    pub diff_fields: Vec<String>,
}

/// One change event: the header and the body fields (compound fields nested, §1b).
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeEvent {
    /// A UUID of the event (Pub/Sub's `ProducerEvent.id`).
    pub event_uuid: String,
    pub header: ChangeEventHeader,
    /// Body fields by name; a compound field's value is an object of its components.
    pub fields: Map<String, Value>,
}

impl ChangeEvent {
    /// The event's JSON payload, as CometD's `data.payload` and Event Relay's
    /// `detail.payload` carry it (§1b, §2b): `ChangeEventHeader` beside the body fields.
    pub fn payload(&self) -> Value {
        let mut m = self.fields.clone();
        m.insert(
            "ChangeEventHeader".into(),
            serde_json::to_value(&self.header).unwrap_or(Value::Null),
        );
        Value::Object(m)
    }

    /// The event's API name, e.g. `LeadChangeEvent`, `Grant__ChangeEvent` (§1b channels, §2b
    /// `detail-type`).
    pub fn event_name(&self) -> String {
        change_event_name(&self.header.entity_name)
    }
}

/// The change event name of an entity: `Lead` → `LeadChangeEvent`, `Grant__c` →
/// `Grant__ChangeEvent` (realtime-and-limits.md §1b channels, §2b `detail-type`).
pub fn change_event_name(entity: &str) -> String {
    match entity.strip_suffix("__c") {
        Some(base) => format!("{base}__ChangeEvent"),
        None => format!("{entity}ChangeEvent"),
    }
}

/// One event in the change log, with its replay id.
#[derive(Clone, Debug, PartialEq)]
pub struct LoggedEvent {
    /// Strictly increasing from 1, in commit order.
    pub replay_id: u64,
    pub event: ChangeEvent,
    /// When the log received the event: the moment its transaction committed (the org's
    /// lock was released), on the process's monotonic clock (benchmarks and `crmmap demo`
    /// measure from it; `commitTimestamp` is the log's wall clock, in whole milliseconds).
    pub committed_at: std::time::Instant,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_follow_the_channel_names() {
        assert_eq!(change_event_name("Lead"), "LeadChangeEvent");
        assert_eq!(change_event_name("Grant__c"), "Grant__ChangeEvent");
    }

    #[test]
    fn change_types_round_trip() {
        for t in [
            ChangeType::Create,
            ChangeType::GapOverflow,
            ChangeType::GapUndelete,
        ] {
            assert_eq!(ChangeType::parse(t.as_str()), Some(t));
            assert_eq!(
                serde_json::to_value(t).unwrap(),
                Value::String(t.as_str().into())
            );
        }
        assert_eq!(ChangeType::parse("SNAPSHOT"), None);
    }
}
