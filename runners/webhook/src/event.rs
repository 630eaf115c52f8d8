//! monday webhook payloads: the challenge, and `{"event": {...}}` bodies read into a typed
//! [`Event`] (reference `monday-api.md` §5.2, §5.5).

use crmmap_ids::{BoardId, ColumnId, ItemId};
use serde_json::Value as Json;
use time::OffsetDateTime;

/// What a request body is.
#[derive(Clone, Debug, PartialEq)]
pub enum Incoming {
    /// The handshake of `create_webhook`: answer with the same challenge.
    Challenge(String),
    /// A board event.
    Event(Event),
}

/// A board event, with the fields crmmap needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The deduplication key ([`crmmap_store::event_dedup_key`] of `triggerUuid`).
    pub key: String,
    /// `originalTriggerUuid`, when present and not empty: kept in the sync log, never used
    /// to deduplicate (see [`crmmap_store::event_dedup_key`]).
    pub original_trigger_uuid: Option<String>,
    /// `boardId`.
    pub board_id: BoardId,
    /// The item (`pulseId`, or `itemId` for deletes and archives).
    pub item_id: ItemId,
    /// `userId`: who made the change (crmmap's own user for its echoes).
    pub user_id: Option<u64>,
    /// `triggerTime`, when present and readable.
    pub trigger_time: Option<OffsetDateTime>,
    /// `isRetry`.
    pub is_retry: bool,
    /// What happened.
    pub kind: EventKind,
    /// The `event` object as received (queued for retries as it is).
    pub raw: Json,
}

/// The event types crmmap acts on, and the rest.
#[derive(Clone, Debug, PartialEq)]
pub enum EventKind {
    /// `create_pulse`.
    Created {
        /// `pulseName`.
        name: String,
    },
    /// `update_column_value`.
    ColumnChanged {
        /// `columnId`.
        column: ColumnId,
        /// `value` (webhook shape).
        value: Json,
        /// `previousValue` (webhook shape; `null` when empty).
        previous: Json,
    },
    /// `update_name`.
    Renamed {
        /// The new name.
        name: String,
        /// The old name.
        previous: String,
    },
    /// `delete_pulse`.
    Deleted {
        /// `itemName`.
        name: String,
    },
    /// `archive_pulse`.
    Archived {
        /// `itemName`.
        name: String,
    },
    /// Any other event type (answered 200 and logged as skipped).
    Other(String),
}

impl Event {
    /// The request summary of the event's sync-log rows: its type, and the
    /// `originalTriggerUuid` monday sent with it, if any.
    pub fn log_request(&self) -> String {
        let kind = self.kind.type_name();
        match &self.original_trigger_uuid {
            Some(original) => format!("{kind} (originalTriggerUuid {original})"),
            None => kind.to_owned(),
        }
    }
}

impl EventKind {
    /// The payload's `type`.
    pub fn type_name(&self) -> &str {
        match self {
            EventKind::Created { .. } => "create_pulse",
            EventKind::ColumnChanged { .. } => "update_column_value",
            EventKind::Renamed { .. } => "update_name",
            EventKind::Deleted { .. } => "delete_pulse",
            EventKind::Archived { .. } => "archive_pulse",
            EventKind::Other(t) => t,
        }
    }
}

/// Why a body is not a usable webhook (answered 400 with this message).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadRequest {
    /// Not JSON at all.
    #[error("the body is not json: {0}")]
    NotJson(String),
    /// JSON without `challenge` or an `event` object.
    #[error(
        "the body is neither a challenge nor an event (expected `challenge` or an `event` object)"
    )]
    NotAnEvent,
    /// A required field is missing or has the wrong type.
    #[error("`event.{0}` is missing or not {1}")]
    Field(&'static str, &'static str),
}

/// monday sends ids as numbers (and a few as strings): both are read, typed here.
fn id<T: From<u64> + std::str::FromStr>(v: Option<&Json>) -> Option<T> {
    match v? {
        Json::Number(n) => n.as_u64().map(T::from),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text<'a>(event: &'a Json, field: &'static str) -> Result<&'a str, BadRequest> {
    event
        .get(field)
        .and_then(Json::as_str)
        .ok_or(BadRequest::Field(field, "a string"))
}

/// Reads a request body.
pub fn parse(body: &[u8]) -> Result<Incoming, BadRequest> {
    let json: Json = serde_json::from_slice(body).map_err(|e| {
        // serde's message names line and column; it never echoes the body.
        BadRequest::NotJson(e.to_string())
    })?;
    if let Some(c) = json.get("challenge") {
        return match c.as_str() {
            Some(c) => Ok(Incoming::Challenge(c.to_owned())),
            None => Err(BadRequest::NotAnEvent),
        };
    }
    let event = json
        .get("event")
        .filter(|e| e.is_object())
        .ok_or(BadRequest::NotAnEvent)?;
    parse_event(event).map(Incoming::Event)
}

/// Reads the object under `event`.
pub fn parse_event(event: &Json) -> Result<Event, BadRequest> {
    let type_name = text(event, "type")?;
    let trigger_uuid = text(event, "triggerUuid")?;
    if trigger_uuid.trim().is_empty() {
        return Err(BadRequest::Field("triggerUuid", "a non-empty string"));
    }
    let original = event
        .get("originalTriggerUuid")
        .and_then(Json::as_str)
        .map(str::trim)
        .filter(|o| !o.is_empty());
    let board_id = id(event.get("boardId")).ok_or(BadRequest::Field("boardId", "an id"))?;
    let pulse = |field: &'static str| id(event.get(field)).ok_or(BadRequest::Field(field, "an id"));
    let (item_id, kind) = match type_name {
        "create_pulse" => (
            pulse("pulseId")?,
            EventKind::Created {
                name: event
                    .get("pulseName")
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            },
        ),
        "update_column_value" => (
            pulse("pulseId")?,
            EventKind::ColumnChanged {
                column: ColumnId::new(text(event, "columnId")?),
                value: event.get("value").cloned().unwrap_or(Json::Null),
                previous: event.get("previousValue").cloned().unwrap_or(Json::Null),
            },
        ),
        "update_name" => {
            let name = |field: &'static str| {
                event
                    .get(field)
                    .and_then(|v| v.get("name"))
                    .and_then(Json::as_str)
                    .map(str::to_owned)
            };
            (
                pulse("pulseId")?,
                EventKind::Renamed {
                    name: name("value").ok_or(BadRequest::Field("value.name", "a string"))?,
                    previous: name("previousValue").unwrap_or_default(),
                },
            )
        }
        "delete_pulse" | "archive_pulse" => {
            // A real delete carries `itemId` and no `pulseId` (reference §5.5); accept both.
            let item = id(event.get("itemId"))
                .or_else(|| id(event.get("pulseId")))
                .ok_or(BadRequest::Field("itemId", "an id"))?;
            let name = event
                .get("itemName")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned();
            let kind = if type_name == "delete_pulse" {
                EventKind::Deleted { name }
            } else {
                EventKind::Archived { name }
            };
            (item, kind)
        }
        other => (
            id(event.get("pulseId"))
                .or_else(|| id(event.get("itemId")))
                .unwrap_or(ItemId::new(0)),
            EventKind::Other(other.to_owned()),
        ),
    };
    Ok(Event {
        key: crmmap_store::event_dedup_key(trigger_uuid).to_owned(),
        // A uuid is 32 characters; a longer value is cut for the log.
        original_trigger_uuid: original.map(|o| o.chars().take(64).collect()),
        board_id,
        item_id,
        user_id: id(event.get("userId")),
        trigger_time: event
            .get("triggerTime")
            .and_then(Json::as_str)
            .and_then(|t| {
                OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
            }),
        is_retry: event
            .get("isRetry")
            .and_then(Json::as_bool)
            .unwrap_or(false),
        kind,
        raw: event.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREATE: &str = include_str!("../tests/fixtures/webhook-create_pulse.json");
    const STATUS: &str = include_str!("../tests/fixtures/webhook-update_column_value-status.json");

    #[test]
    fn reference_payloads_parse() {
        let Incoming::Event(e) = parse(CREATE.as_bytes()).unwrap() else {
            panic!("not an event")
        };
        assert_eq!(e.board_id, BoardId::new(7786783342));
        assert_eq!(e.item_id, ItemId::new(8409778368));
        assert_eq!(e.user_id, Some(67214742));
        assert_eq!(e.key, "c95b27e82a81cc6a81db4f5e97d80858");
        assert_eq!(
            e.kind,
            EventKind::Created {
                name: "New item 1".into()
            }
        );
        assert!(e.trigger_time.is_some());
        let Incoming::Event(e) = parse(STATUS.as_bytes()).unwrap() else {
            panic!("not an event")
        };
        let EventKind::ColumnChanged {
            column, previous, ..
        } = e.kind
        else {
            panic!("not a column change")
        };
        assert_eq!(column, "status_mkmwnxnk");
        assert!(previous.is_null());
    }

    #[test]
    fn a_real_delete_has_item_id_and_no_pulse_id() {
        let body = br#"{"event": {"app": "monday", "type": "delete_pulse", "triggerTime": "2025-02-05T16:42:35.957Z", "subscriptionId": 466701507,
  "isRetry": false, "userId": 67214742, "originalTriggerUuid": null, "boardId": 7786783342, "itemId": 8409778368,
  "itemName": "New item 1", "triggerUuid": "b95777fd072aab62280dfb409b81232b"}}"#;
        let Incoming::Event(e) = parse(body).unwrap() else {
            panic!()
        };
        assert_eq!(e.item_id, ItemId::new(8409778368));
        assert_eq!(
            e.kind,
            EventKind::Deleted {
                name: "New item 1".into()
            }
        );
    }

    #[test]
    fn the_trigger_uuid_is_the_key_and_the_original_is_kept_for_the_log() {
        let body = br#"{"event":{"type":"update_name","triggerUuid":"b","originalTriggerUuid":"a","boardId":"1","pulseId":2,"value":{"name":"x"},"previousValue":{"name":"y"}}}"#;
        let Incoming::Event(e) = parse(body).unwrap() else {
            panic!()
        };
        assert_eq!(e.key, "b");
        assert_eq!(e.original_trigger_uuid.as_deref(), Some("a"));
        assert_eq!(e.log_request(), "update_name (originalTriggerUuid a)");
        assert_eq!(e.board_id, BoardId::new(1));
        // `null` (every capture) and blanks are no original.
        for original in ["null", "\"\"", "\"  \""] {
            let body = format!(
                r#"{{"event":{{"type":"update_name","triggerUuid":"b","originalTriggerUuid":{original},"boardId":1,"pulseId":2,"value":{{"name":"x"}}}}}}"#
            );
            let Incoming::Event(e) = parse(body.as_bytes()).unwrap() else {
                panic!()
            };
            assert_eq!(
                (e.key.as_str(), e.original_trigger_uuid.as_deref()),
                ("b", None)
            );
            assert_eq!(e.log_request(), "update_name");
        }
    }

    #[test]
    fn bad_bodies_say_what_is_wrong() {
        assert!(matches!(parse(b"not json"), Err(BadRequest::NotJson(_))));
        assert_eq!(parse(b"[1,2]"), Err(BadRequest::NotAnEvent));
        assert_eq!(parse(br#"{"event": 3}"#), Err(BadRequest::NotAnEvent));
        assert_eq!(
            parse(br#"{"event": {"type": "create_pulse", "triggerUuid": "a", "boardId": 1}}"#),
            Err(BadRequest::Field("pulseId", "an id"))
        );
        assert_eq!(
            parse(br#"{"event": {"type": "create_pulse", "boardId": 1, "pulseId": 2}}"#),
            Err(BadRequest::Field("triggerUuid", "a string"))
        );
        assert_eq!(
            BadRequest::Field("boardId", "an id").to_string(),
            "`event.boardId` is missing or not an id"
        );
    }

    #[test]
    fn unknown_types_are_kept_as_other() {
        let Incoming::Event(e) = parse(
            br#"{"event":{"type":"create_update","triggerUuid":"a","boardId":1,"pulseId":2}}"#,
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(e.kind, EventKind::Other("create_update".into()));
    }
}
