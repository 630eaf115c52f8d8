//! What the Pub/Sub server reads: the org's change log, seen through a small trait so the
//! server does not depend on how the log is kept.

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

/// The Avro type of one body field or compound component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// Text, ids, picklists, dates (`YYYY-MM-DD`).
    String,
    Boolean,
    Int,
    /// Currency, double, percent.
    Double,
    /// A datetime, as epoch milliseconds (Salesforce: "Date fields are in Epoch time" for
    /// Pub/Sub clients, "Differences Between Change Events Received with Streaming API vs.
    /// Pub/Sub API").
    DatetimeMillis,
}

/// One body field of an entity's change events, in schema order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyField {
    Scalar {
        name: String,
        kind: FieldKind,
    },
    /// A compound field (`Name`, `BillingAddress`) and its components.
    Compound {
        name: String,
        components: Vec<(String, FieldKind)>,
    },
}

impl BodyField {
    /// The field's name in the event.
    pub fn name(&self) -> &str {
        match self {
            BodyField::Scalar { name, .. } | BodyField::Compound { name, .. } => name,
        }
    }
}

/// One logged change event.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceEvent {
    /// Strictly increasing, in commit order.
    pub replay_id: u64,
    /// The entity, e.g. `Lead`.
    pub entity: String,
    /// `ProducerEvent.id`.
    pub event_id: String,
    /// The payload in its JSON form (Event Relay's `detail.payload`: the header with field
    /// names, and the body fields the event carries).
    pub payload: Value,
}

/// The events after a replay id were purged (§1e).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutsideRetention;

/// The delivery allocation is used up (§1d).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocationExceeded;

/// The change log as the Pub/Sub server reads it.
pub trait EventSource: Send + Sync + 'static {
    /// The newest replay id (0 before the first event).
    fn latest_replay_id(&self) -> u64;
    /// The replay id just before the oldest retained event (where `EARLIEST` starts).
    fn earliest_cursor(&self) -> u64;
    /// Up to `max` events after `after`, oldest first; an error when events after `after`
    /// were purged.
    fn read_after(&self, after: u64, max: usize) -> Result<Vec<SourceEvent>, OutsideRetention>;
    /// The body fields of `entity`'s change events; `None` for an unknown entity.
    fn body_fields(&self, entity: &str) -> Option<Vec<BodyField>>;
    /// Counts `n` delivered events against the org's allocation, or refuses them all.
    fn count_delivery(&self, n: u64) -> Result<(), AllocationExceeded>;
    /// Completes once an event after `after` exists (or soon after; the caller re-checks).
    fn wait_after(&self, after: u64) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}
