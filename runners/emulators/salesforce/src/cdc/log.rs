//! The change log: every change event the org emitted, in commit order, with strictly
//! increasing replay ids, kept for the retention period (72 hours, realtime-and-limits.md
//! §1e), and the delivery allocation subscribers count against (§1d). This is the Rust API
//! subscribers (the Pub/Sub server, the EventBridge relay) and tests read.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::allocation::{DeliveryAllocation, Exceeded};
use super::body::DateForm;
use super::entity::EntitySchema;
use super::event::{ChangeEvent, LoggedEvent};

/// How long and how many events the log keeps. Events older than `max_age` (by the log's
/// clock) or beyond the newest `max_events` are purged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// §1e: 72 hours.
    pub max_age: Duration,
    /// `None`: no limit by count. The default keeps the newest 100,000 events, so that a
    /// long benchmark's memory stays bounded (Salesforce retains by time only).
    pub max_events: Option<usize>,
}

impl Retention {
    /// The default count limit.
    pub const DEFAULT_MAX_EVENTS: usize = 100_000;
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            max_age: Duration::from_secs(72 * 60 * 60),
            max_events: Some(Retention::DEFAULT_MAX_EVENTS),
        }
    }
}

/// A replay id whose following events were purged (§1e: Pub/Sub answers
/// `sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the specified Replay ID value is invalid: replay id {requested} is outside the retention period (the oldest retained event is {oldest})"
)]
pub struct ReplayTooOld {
    pub requested: u64,
    /// The oldest replay id still retained (the next one to be assigned when none is).
    pub oldest: u64,
}

struct State {
    events: VecDeque<LoggedEvent>,
    next_replay_id: u64,
    /// The highest replay id purged (0: none).
    purged_through: u64,
    retention: Retention,
    clock_offset_ms: i64,
    allocation: DeliveryAllocation,
    /// `None`: every entity is selected.
    selected: Option<BTreeSet<String>>,
    schemas: BTreeMap<String, EntitySchema>,
    dates: DateForm,
    next_commit_number: u64,
}

struct Shared {
    state: Mutex<State>,
    latest: watch::Sender<u64>,
    allocation_changed: Notify,
}

/// The org's change log; cheap to clone (shared).
#[derive(Clone)]
pub struct ChangeLog {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ChangeLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeLog")
            .field("latest_replay_id", &self.latest_replay_id())
            .finish_non_exhaustive()
    }
}

fn wall_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

impl ChangeLog {
    /// An empty log for entities of `schemas` (all selected), with the default retention and
    /// a Developer Edition's delivery allocation.
    pub fn new(schemas: impl IntoIterator<Item = EntitySchema>) -> Self {
        let (latest, _) = watch::channel(0);
        ChangeLog {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    events: VecDeque::new(),
                    next_replay_id: 1,
                    purged_through: 0,
                    retention: Retention::default(),
                    clock_offset_ms: 0,
                    allocation: DeliveryAllocation::new(DeliveryAllocation::DEVELOPER_EDITION),
                    selected: None,
                    schemas: schemas.into_iter().map(|s| (s.entity.clone(), s)).collect(),
                    dates: DateForm::default(),
                    next_commit_number: 10_000_000_001,
                }),
                latest,
                allocation_changed: Notify::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    // ---- the clock ----

    /// The log's clock, epoch ms: the wall clock moved by [`ChangeLog::advance_clock`]. It
    /// stamps `commitTimestamp` and drives retention and the 24-hour allocation window.
    pub fn now_ms(&self) -> i64 {
        wall_ms() + self.lock().clock_offset_ms
    }

    /// Moves the log's clock forward, so tests see retention and the allocation window pass
    /// without waiting; purges what falls out of retention.
    pub fn advance_clock(&self, by: Duration) {
        let mut s = self.lock();
        s.clock_offset_ms = s
            .clock_offset_ms
            .saturating_add(i64::try_from(by.as_millis()).unwrap_or(i64::MAX));
        let now = wall_ms() + s.clock_offset_ms;
        purge(&mut s, now);
        drop(s);
        self.shared.allocation_changed.notify_waiters();
    }

    // ---- reading ----

    /// The replay id of the newest event (0 before the first).
    pub fn latest_replay_id(&self) -> u64 {
        self.lock().next_replay_id - 1
    }

    /// The replay id of the oldest retained event, if any.
    pub fn earliest_replay_id(&self) -> Option<u64> {
        self.lock().events.front().map(|e| e.replay_id)
    }

    /// Up to `max` events after replay id `after`, oldest first; an error when events after
    /// `after` were purged (so 0, "from the first event", fails once any was purged: read
    /// from `earliest_replay_id() - 1` for the oldest retained).
    pub fn read_after(&self, after: u64, max: usize) -> Result<Vec<LoggedEvent>, ReplayTooOld> {
        let mut s = self.lock();
        let now = wall_ms() + s.clock_offset_ms;
        purge(&mut s, now);
        if after < s.purged_through {
            let oldest = s.events.front().map_or(s.next_replay_id, |e| e.replay_id);
            return Err(ReplayTooOld {
                requested: after,
                oldest,
            });
        }
        Ok(s.events
            .iter()
            .filter(|e| e.replay_id > after)
            .take(max)
            .cloned()
            .collect())
    }

    /// When the retained event `replay_id` was committed (see [`LoggedEvent::committed_at`]).
    pub fn committed_at(&self, replay_id: u64) -> Option<std::time::Instant> {
        let s = self.lock();
        s.events
            .binary_search_by_key(&replay_id, |e| e.replay_id)
            .ok()
            .and_then(|i| s.events.get(i))
            .map(|e| e.committed_at)
    }

    /// Every retained event.
    pub fn events(&self) -> Vec<LoggedEvent> {
        self.lock().events.iter().cloned().collect()
    }

    /// A receiver of the latest replay id, which changes with every new event.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.shared.latest.subscribe()
    }

    /// Returns once an event after `after` exists.
    pub async fn wait_after(&self, after: u64) {
        let mut rx = self.subscribe();
        while *rx.borrow_and_update() <= after {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    // ---- entities ----

    /// The body fields and types of `entity`'s change events (for Avro schemas).
    pub fn entity_schema(&self, entity: &str) -> Option<EntitySchema> {
        let s = self.lock();
        s.schemas
            .values()
            .find(|e| e.entity.eq_ignore_ascii_case(entity))
            .cloned()
    }

    /// Every entity the org has, selected or not.
    pub fn entities(&self) -> Vec<String> {
        self.lock().schemas.keys().cloned().collect()
    }

    /// The entities selected for Change Data Capture (default: all).
    pub fn selected_entities(&self) -> Vec<String> {
        let s = self.lock();
        s.schemas
            .keys()
            .filter(|e| s.selected.as_ref().is_none_or(|sel| sel.contains(*e)))
            .cloned()
            .collect()
    }

    /// Selects the entities that emit change events (`None`: all); names are matched
    /// case-insensitively, unknown ones ignored.
    pub fn select_entities(&self, entities: Option<&[&str]>) {
        let mut s = self.lock();
        s.selected = entities.map(|list| {
            s.schemas
                .keys()
                .filter(|e| list.iter().any(|l| l.eq_ignore_ascii_case(e)))
                .cloned()
                .collect()
        });
    }

    /// Whether `entity` emits change events.
    pub fn is_selected(&self, entity: &str) -> bool {
        let s = self.lock();
        s.schemas.contains_key(entity) && s.selected.as_ref().is_none_or(|sel| sel.contains(entity))
    }

    /// How datetime fields appear in event bodies from now on.
    pub fn set_date_form(&self, form: DateForm) {
        self.lock().dates = form;
    }

    pub(crate) fn date_form(&self) -> DateForm {
        self.lock().dates
    }

    // ---- retention ----

    pub fn retention(&self) -> Retention {
        self.lock().retention
    }

    /// Changes the retention and purges what falls out of it.
    pub fn set_retention(&self, retention: Retention) {
        let mut s = self.lock();
        s.retention = retention;
        let now = wall_ms() + s.clock_offset_ms;
        purge(&mut s, now);
    }

    // ---- the delivery allocation ----

    /// Counts `n` delivered events against the org's 24-hour allocation (§1d), or refuses
    /// them all. Every subscriber counts what it delivers.
    pub fn count_delivery(&self, n: u64) -> Result<(), Exceeded> {
        let mut s = self.lock();
        let now = wall_ms() + s.clock_offset_ms;
        s.allocation.count(n, now)
    }

    /// (delivered in the last 24 hours, allocation).
    pub fn deliveries(&self) -> (u64, u64) {
        let mut s = self.lock();
        let now = wall_ms() + s.clock_offset_ms;
        (s.allocation.used(now), s.allocation.max())
    }

    /// Sets the 24-hour allocation; waiting deliveries try again.
    pub fn set_delivery_allocation(&self, max: u64) {
        self.lock().allocation.set_max(max);
        self.shared.allocation_changed.notify_waiters();
    }

    /// Forgets the deliveries counted so far; waiting deliveries try again.
    pub fn reset_deliveries(&self) {
        self.lock().allocation.reset();
        self.shared.allocation_changed.notify_waiters();
    }

    /// A future that completes at the next raise or reset of the allocation, or move of the
    /// clock, so a delivery refused as [`Exceeded`] may try again. It is registered when this
    /// is called: call it before counting, and a change in between is not missed.
    pub fn allocation_changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.shared.allocation_changed.notified()
    }

    // ---- writing ----

    /// Appends events, in order, giving each the next replay id; an event of an entity not
    /// selected is dropped. Returns the replay ids given.
    pub fn append(&self, events: impl IntoIterator<Item = ChangeEvent>) -> Vec<u64> {
        let committed_at = std::time::Instant::now();
        let mut s = self.lock();
        let mut ids = Vec::new();
        for event in events {
            let entity = &event.header.entity_name;
            let selected = s.schemas.contains_key(entity)
                && s.selected.as_ref().is_none_or(|sel| sel.contains(entity));
            if !selected {
                continue;
            }
            let replay_id = s.next_replay_id;
            s.next_replay_id += 1;
            s.events.push_back(LoggedEvent {
                replay_id,
                event,
                committed_at,
            });
            ids.push(replay_id);
        }
        let now = wall_ms() + s.clock_offset_ms;
        purge(&mut s, now);
        let latest = s.next_replay_id - 1;
        drop(s);
        if !ids.is_empty() {
            self.shared.latest.send_replace(latest);
        }
        ids
    }

    /// The next commit number (one per transaction).
    pub(crate) fn next_commit_number(&self) -> u64 {
        let mut s = self.lock();
        let n = s.next_commit_number;
        s.next_commit_number += 1;
        n
    }
}

fn purge(s: &mut State, now_ms: i64) {
    let max_age = i64::try_from(s.retention.max_age.as_millis()).unwrap_or(i64::MAX);
    let cutoff = now_ms.saturating_sub(max_age);
    while let Some(front) = s.events.front() {
        let too_many = s
            .retention
            .max_events
            .is_some_and(|max| s.events.len() > max);
        if !too_many && front.event.header.commit_timestamp >= cutoff {
            break;
        }
        s.purged_through = front.replay_id;
        s.events.pop_front();
    }
}
