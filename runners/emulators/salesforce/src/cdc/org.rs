//! The org's Change Data Capture surface on [`SalesforceEmulator`]: its change log, its two
//! users, gap injection and the EventBridge relay.

use super::{ChangeType, EventRelay, RelayOptions, gap_event};
use crate::{SalesforceEmulator, ids};

impl SalesforceEmulator {
    /// The org's change log: change events by replay id, the entities selected for Change
    /// Data Capture, retention and the delivery allocation.
    pub fn change_log(&self) -> super::ChangeLog {
        self.lock().change_log.clone()
    }

    /// Starts relaying change events to an EventBridge API destination (realtime-and-limits.md
    /// §2b), replacing (and stopping) any relay started before. Needs a tokio runtime.
    pub fn start_event_relay(&self, opts: RelayOptions) -> EventRelay {
        let relay = EventRelay::start(self.change_log(), opts);
        if let Some(old) = self.lock().relay.replace(relay.clone()) {
            old.stop();
        }
        relay
    }

    /// The running relay, if any.
    pub fn event_relay(&self) -> Option<EventRelay> {
        self.lock().relay.clone()
    }

    /// Stops the relay, if any.
    pub fn stop_event_relay(&self) {
        if let Some(old) = self.lock().relay.take() {
            old.stop();
        }
    }

    /// The integration user: REST calls run as it (`commitUser` of their change events).
    pub fn integration_user_id(&self) -> String {
        self.lock().store.user_id.clone()
    }

    /// The person user: control-surface edits run as it.
    pub fn person_user_id(&self) -> String {
        super::person_user_id()
    }

    /// Injects a gap event (`GAP_CREATE` … `GAP_UNDELETE` for `record_ids`) or a
    /// `GAP_OVERFLOW` (no record ids) of `entity` into the change log (realtime-and-limits.md
    /// §1c). Returns its replay id; `None` when the entity is unknown or not selected, the
    /// type is not a gap type, or record ids are missing (gap) or given (overflow).
    pub fn inject_gap(
        &self,
        entity: &str,
        change_type: ChangeType,
        record_ids: &[&str],
    ) -> Option<u64> {
        let log = self.change_log();
        let ids: Option<Vec<String>> = record_ids.iter().map(|id| ids::normalize(id)).collect();
        let event = gap_event(&log, entity, change_type, ids?, &self.integration_user_id())?;
        log.append([event]).first().copied()
    }
}
