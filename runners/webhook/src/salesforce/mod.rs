//! Salesforce change events applied to monday, in real time: the same plans, store, item
//! lock and retry queue as monday's webhook events, the other way round.
//!
//! ```text
//! POST /events/salesforce (Bearer CRMMAP_EVENTS_TOKEN) ─┐
//! the Lambda's EventBridge events ──────────────────────┴─► parse (event.rs) ─► triage:
//!     unmapped entity, crmmap's own commitUser (an echo), GAP_OVERFLOW (reconcile.rs)
//!   ─► per record id: item lock + claim of the event's identity (dedup, one step)
//!     ─► apply (apply.rs): order against the record's last applied change, then
//!        DELETE → `on salesforce delete`; CREATE, UNDELETE, GAP_*, an older change, a
//!        changed selection field → the record read by id (the migrator's `sync_records`);
//!        UPDATE → the engine's `plan_change`: nothing, or one monday request with the
//!        changed columns, values from the event
//!     ─► outcome + last-synced values + log row (+ the retry, when it failed), one commit
//! ```
//!
//! A failure is classified as every other (`crmmap_sync::failure`): it is queued
//! ([`RETRY_KIND`]) with its record, and the retry reads the record again (its newest values),
//! so a queued change is never applied from stale values and never lost.

pub mod event;

mod apply;
mod reconcile;
mod route;
pub mod subscriber;

use crmmap_ids::RecordId;
use crmmap_store::{
    Action, Completion, EventOutcome, FailureClass, ItemEvent, LogEntry, RetryRequest, RunnerKind,
    StoreError, record_lock_item,
};
use crmmap_sync::failure::Classified;
use futures::FutureExt;
use serde_json::{Value as Json, json};

use crate::{Done, Outcome, Webhook, drain};
use event::{ChangeEvent, ChangeType, Envelope};

pub(crate) use route::receive;
pub use route::{EVENTS_PATH, EVENTS_TOKEN_ENV};

/// The retry-queue kind of Salesforce change events. Payload:
/// `{"object": "Lead", "record_id": "00Q…", "change": "UPDATE", "commit_ms": 1712693965000}`
/// (`record_id` absent for `GAP_OVERFLOW`).
pub const RETRY_KIND: &str = "salesforce_event";

/// A failure of one record's change, classified.
#[derive(Debug)]
pub(crate) struct Failed {
    pub(crate) classified: Classified,
    pub(crate) error: String,
}

impl From<StoreError> for Failed {
    fn from(e: StoreError) -> Failed {
        Failed {
            classified: Classified::of(crmmap_sync::failure::Api::Store, FailureClass::Outage),
            error: format!("store: {e}"),
        }
    }
}

impl From<crate::ApplyError> for Failed {
    fn from(e: crate::ApplyError) -> Failed {
        Failed {
            classified: drain::classify_apply(&e),
            error: e.to_string(),
        }
    }
}

impl From<crmmap_sync::migrate::MigrateError> for Failed {
    fn from(e: crmmap_sync::migrate::MigrateError) -> Failed {
        Failed {
            classified: e.classify(),
            error: e.to_string(),
        }
    }
}

/// What happened to each record of one event.
#[derive(Clone, Debug, PartialEq)]
pub struct EventReport {
    /// The entity (`Lead`).
    pub entity: String,
    /// The change type as Salesforce names it.
    pub change: String,
    /// Per record (or the object, for an overflow): its outcome.
    pub records: Vec<(String, Outcome)>,
}

impl EventReport {
    /// The report as the HTTP answer's JSON.
    pub fn to_json(&self) -> Json {
        let records: Vec<Json> = self
            .records
            .iter()
            .map(|(id, o)| {
                let (outcome, detail) = match o {
                    Outcome::Done(d) => (d.action.as_str().to_owned(), d.reason.clone()),
                    Outcome::Duplicate => ("duplicate".to_owned(), String::new()),
                    Outcome::Queued(e) => ("queued".to_owned(), e.clone()),
                    Outcome::DeadLetter(e) => ("dead_letter".to_owned(), e.clone()),
                };
                json!({ "record": id, "outcome": outcome, "detail": detail })
            })
            .collect();
        json!({ "entity": self.entity, "change": self.change, "records": records })
    }
}

/// The key an event is deduplicated on for one record: the replay id where the source sent
/// one, else the transaction key and sequence number (§2b); with the record, since one event
/// may name several records. `None` when the event has neither.
pub fn event_key(envelope: &Envelope, record_id: &str) -> Option<String> {
    let ev = &envelope.event;
    if let Some(replay) = &envelope.replay_id {
        return Some(format!("sf:{}:replay:{replay}:{record_id}", ev.entity));
    }
    let (tx, seq) = (ev.transaction_key.as_ref()?, ev.sequence_number?);
    Some(format!("sf:{}:{tx}:{seq}:{record_id}", ev.entity))
}

/// Whether two Salesforce user ids are the same user (15- and 18-character forms alike).
fn same_user(a: &str, b: &str) -> bool {
    match (a.get(..15), b.get(..15)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

impl Webhook {
    /// Applies one change event (see the module documentation). Errors only when the store
    /// cannot record anything (the sender should deliver it again).
    pub async fn handle_salesforce_event(
        &self,
        envelope: &Envelope,
    ) -> Result<EventReport, StoreError> {
        let ev = &envelope.event;
        let mut report = EventReport {
            entity: ev.entity.clone(),
            change: ev.change_type.as_str(),
            records: Vec::new(),
        };
        let plans: Vec<_> = self.plans().plans_for_sobject(&ev.entity).collect();
        let skipped = if plans.is_empty() {
            Some(format!("`{}` is not mapped", ev.entity))
        } else if let ChangeType::Other(t) = &ev.change_type {
            Some(format!("change type `{t}` is not handled"))
        } else {
            None
        };
        if let Some(reason) = skipped {
            self.sf_log(
                LogEntry::new(self.inner.ctx.now(), RunnerKind::Webhook, Action::Skipped)
                    .object(ev.entity.clone())
                    .reason(reason.clone()),
            )
            .await;
            report.records.push((
                String::new(),
                Outcome::Done(Done::new(Action::Skipped, None, None, reason)),
            ));
            return Ok(report);
        }
        if ev.change_type == ChangeType::Overflow {
            for plan in plans {
                let outcome = self.overflow(plan, envelope).await?;
                report.records.push((plan.object.to_string(), outcome));
            }
            return Ok(report);
        }
        // Record ids are parsed here, where they enter. One that is no record id (the wildcard
        // `001*` of a field-type conversion) names no record: the object is reconciled, as
        // after an overflow.
        let mut ids = Vec::with_capacity(ev.record_ids.len());
        let mut unnamed = false;
        for id in &ev.record_ids {
            match RecordId::parse(id) {
                Ok(id) => ids.push(id),
                Err(_) => unnamed = true,
            }
        }
        if unnamed {
            for plan in &plans {
                let outcome = self.overflow(plan, envelope).await?;
                report.records.push((plan.object.to_string(), outcome));
            }
        }
        let echo = match (&ev.commit_user, self.inner.ctx.salesforce.user_id().await) {
            (Some(by), Ok(Some(own))) => same_user(by, &own),
            (Some(_), Err(e)) => {
                // Unknown whether it is an echo: queued, read again later.
                for id in &ids {
                    for plan in &plans {
                        let outcome = self
                            .sf_queue(plan, envelope, id, &format!("salesforce identity: {e}"))
                            .await?;
                        report.records.push((id.to_string(), outcome));
                    }
                }
                return Ok(report);
            }
            _ => false,
        };
        for id in &ids {
            for plan in &plans {
                let outcome = if echo {
                    let key = event_key(envelope, id.as_str());
                    self.sf_echo(plan, &envelope.event, id, key).await?
                } else {
                    self.sf_record(plan, envelope, id).await?
                };
                report.records.push((id.to_string(), outcome));
            }
        }
        Ok(report)
    }

    async fn sf_log(&self, entry: LogEntry) {
        if let Err(e) = self.inner.ctx.store.append_log(&entry).await {
            tracing::error!(error = %e, "cannot write the sync log");
        }
    }

    pub(crate) fn sf_entry(
        &self,
        plan: &crmmap_engine::plan::Plan,
        ev: &ChangeEvent,
        record_id: &str,
        action: Action,
        key: &str,
    ) -> LogEntry {
        LogEntry::new(self.inner.ctx.now(), RunnerKind::Webhook, action)
            .object(plan.sobject.clone())
            .record(record_id.to_owned())
            .trigger(key.to_owned())
            .request(format!("salesforce {}", ev.change_type.as_str()))
    }

    /// crmmap's own change coming back: recorded (deduplicated by the event's `key`, when it
    /// has one) with its log row, nothing written, no lock taken.
    async fn sf_echo(
        &self,
        plan: &crmmap_engine::plan::Plan,
        ev: &ChangeEvent,
        id: &RecordId,
        key: Option<String>,
    ) -> Result<Outcome, StoreError> {
        let reason = "echo: the change was made by crmmap's own salesforce user";
        let entry = self
            .sf_entry(
                plan,
                ev,
                id.as_str(),
                Action::Skipped,
                key.as_deref().unwrap_or(""),
            )
            .reason(reason);
        let fresh = match &key {
            Some(key) => {
                let now = self.inner.ctx.now();
                let store = &self.inner.ctx.store;
                store.record_skipped_event(key, &entry, now).await?
            }
            // Nothing to deduplicate on; an echo writes nothing anyway.
            None => {
                self.sf_log(entry).await;
                true
            }
        };
        Ok(if fresh {
            Outcome::Done(Done::new(Action::Skipped, Some(plan), Some(id), reason))
        } else {
            Outcome::Duplicate
        })
    }

    /// One record of a change event: its item's lock and the event's claim, the apply
    /// (bounded in time, inside a panic boundary), and its outcome in one commit.
    async fn sf_record(
        &self,
        plan: &crmmap_engine::plan::Plan,
        envelope: &Envelope,
        id: &RecordId,
    ) -> Result<Outcome, StoreError> {
        let ev = &envelope.event;
        let Some(key) = event_key(envelope, id.as_str()) else {
            // Nothing to deduplicate on: read the record (safe to repeat) rather than drop it.
            return self
                .sf_queue(plan, envelope, id, "the event has no identity: read again")
                .await;
        };
        let store = &self.inner.ctx.store;
        let board = plan.board;
        let sobject = plan.sobject.clone();
        let link = store.link_by_record(&sobject, id).await?;
        // A record without an item is locked under its own id until it has one.
        let lock_item = link
            .as_ref()
            .map_or_else(|| record_lock_item(&sobject, id), |l| l.item_id);
        let timeout = self.inner.options.apply_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let begun = tokio::time::timeout_at(
            deadline,
            store.begin_item_event(&key, board, lock_item, self.inner.ctx.now()),
        )
        .await;
        let scope = match begun {
            Err(_) => {
                let error = format!("item busy: not started within {timeout:?}");
                return self.sf_queue(plan, envelope, id, &error).await;
            }
            Ok(begun) => match begun? {
                ItemEvent::Started(scope) => scope,
                ItemEvent::AlreadyApplied => {
                    let entry = self
                        .sf_entry(plan, ev, id.as_str(), Action::Skipped, &key)
                        .reason("duplicate delivery");
                    self.sf_log(entry).await;
                    return Ok(Outcome::Duplicate);
                }
                ItemEvent::InProgress => {
                    return self
                        .sf_queue(
                            plan,
                            envelope,
                            id,
                            "another instance is applying this event",
                        )
                        .await;
                }
            },
        };
        let guarded =
            std::panic::AssertUnwindSafe(self.sf_apply(plan, ev, id, link)).catch_unwind();
        let applied = match tokio::time::timeout_at(deadline, guarded).await {
            Ok(Ok(applied)) => applied,
            Ok(Err(panic)) => Err(Failed {
                classified: Classified::local(FailureClass::Permanent),
                error: format!("internal error: {}", drain::panic_message(panic.as_ref())),
            }),
            Err(_) => Err(Failed {
                classified: Classified::local(FailureClass::Transient),
                error: format!("not applied within {timeout:?}"),
            }),
        };
        let now = self.inner.ctx.now();
        match applied {
            Ok(mut done) => {
                let values = std::mem::take(&mut done.remember);
                let entry = self
                    .sf_entry(plan, ev, id.as_str(), done.action, &key)
                    .reason(done.reason.clone());
                scope
                    .finish(Completion::applied(&done.reason, &values, &entry, now))
                    .await?;
                Ok(Outcome::Done(done))
            }
            Err(f) => {
                let class = f.classified.class;
                let note = match class {
                    FailureClass::Permanent => "dead letter",
                    _ => "queued for retry",
                };
                let entry = self
                    .sf_entry(plan, ev, id.as_str(), Action::Failed, &key)
                    .reason(format!("{note}: {}", f.error));
                let payload = retry_payload(plan, ev, Some(id));
                scope
                    .finish(Completion {
                        outcome: EventOutcome::Applied,
                        detail: Some(note),
                        values: &[],
                        log: &entry,
                        retry: Some(RetryRequest {
                            kind: RETRY_KIND,
                            payload: &payload,
                            error: &f.error,
                            failure: class,
                            due: self.first_retry_due(),
                        }),
                        now,
                    })
                    .await?;
                Ok(match class {
                    FailureClass::Permanent => Outcome::DeadLetter(f.error),
                    _ => Outcome::Queued(f.error),
                })
            }
        }
    }

    /// Queues the retry of a Salesforce change (read again when it runs), due after the
    /// first delay.
    pub(super) async fn sf_enqueue(
        &self,
        key: &str,
        payload: &Json,
        error: &str,
    ) -> Result<(), StoreError> {
        let (store, now) = (&self.inner.ctx.store, self.inner.ctx.now());
        let due = self.first_retry_due();
        store
            .enqueue_retry(RETRY_KIND, key, payload, error, due, now)
            .await
            .map(drop)
    }

    /// Queues a record's change without claiming the event (the retry reads the record
    /// again, so a later claim of the same event writes nothing stale).
    async fn sf_queue(
        &self,
        plan: &crmmap_engine::plan::Plan,
        envelope: &Envelope,
        id: &RecordId,
        error: &str,
    ) -> Result<Outcome, StoreError> {
        let ev = &envelope.event;
        let key = event_key(envelope, id.as_str())
            .unwrap_or_else(|| format!("sf:{}:read:{id}", plan.object));
        let payload = retry_payload(plan, ev, Some(id));
        self.sf_enqueue(&key, &payload, error).await?;
        let entry = self
            .sf_entry(plan, ev, id.as_str(), Action::Failed, &key)
            .reason(format!("queued for retry: {error}"));
        self.sf_log(entry).await;
        Ok(Outcome::Queued(error.to_owned()))
    }
}

/// What the retry of a record's change needs.
fn retry_payload(
    plan: &crmmap_engine::plan::Plan,
    ev: &ChangeEvent,
    id: Option<&RecordId>,
) -> Json {
    json!({
        "object": plan.object,
        "record_id": id,
        "change": ev.change_type.as_str(),
        "commit_ms": ev.commit_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_compare_in_both_forms() {
        assert!(same_user("005000000000001", "005000000000001AAA"));
        assert!(same_user("005000000000001AAA", "005000000000001AAA"));
        assert!(!same_user("005000000000002AAA", "005000000000001AAA"));
        assert!(!same_user("", "005000000000001AAA"));
    }
}
