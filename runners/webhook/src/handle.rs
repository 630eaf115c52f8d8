//! Handling one delivered event: triage, the item's lock and the event's claim, the apply
//! (bounded in time, inside a panic boundary), and its outcome, values, log row and any retry
//! in one commit.

use crmmap_engine::plan::Plan;
use crmmap_store::{
    Action, Completion, EventOutcome, EventScope, FailureClass, ItemEvent, LogEntry, RetryRequest,
    RunnerKind, StoreError,
};
use futures::FutureExt;
use serde_json::json;

use crate::{ApplyError, Done, Event, EventKind, Outcome, Webhook, drain};

/// The retry-queue kind of webhook events.
pub const RETRY_KIND: &str = "webhook_event";

impl Webhook {
    /// The plan an event is applied with, or why it is skipped: decided from the event
    /// alone (unmapped board, unhandled event type, a change made by crmmap's own user).
    pub(crate) fn triage(&self, ev: &Event) -> Result<&Plan, Done> {
        let Some(plan) = self.plans().plan_for_board(ev.board_id) else {
            return Err(Done::new(
                Action::Skipped,
                None,
                None,
                format!("board {} is not mapped", ev.board_id),
            ));
        };
        if let EventKind::Other(t) = &ev.kind {
            return Err(Done::new(
                Action::Skipped,
                Some(plan),
                None,
                format!("event type `{t}` is not handled"),
            ));
        }
        if ev.user_id.is_some() && ev.user_id == self.inner.ctx.monday_user_id {
            return Err(Done::new(
                Action::Skipped,
                Some(plan),
                None,
                "echo: the change was made by crmmap's own monday user",
            ));
        }
        Ok(plan)
    }

    /// The sync-log row of an event: the item, the trigger and the request, and the object
    /// and record from `done` (else the board's object).
    pub(crate) fn log_entry(
        &self,
        ev: &Event,
        runner: RunnerKind,
        action: Action,
        done: Option<&Done>,
        reason: &str,
    ) -> LogEntry {
        let mut entry = LogEntry::new(self.inner.ctx.now(), runner, action)
            .item(ev.board_id, ev.item_id)
            .trigger(ev.key.clone())
            .reason(reason)
            .request(ev.log_request());
        if let Some(d) = done {
            if let Some(o) = &d.object {
                entry = entry.object(o.clone());
            }
            if let Some(r) = &d.record_id {
                entry = entry.record(r.clone());
            }
        } else if let Some(p) = self.inner.ctx.plans.plan_for_board(ev.board_id) {
            entry = entry.object(p.sobject.clone());
        }
        entry
    }

    /// Appends a sync-log row for an event that left nothing else to commit (a failure logged
    /// on its own, a duplicate).
    pub(crate) async fn log(&self, ev: &Event, runner: RunnerKind, action: Action, reason: &str) {
        let entry = self.log_entry(ev, runner, action, None, reason);
        if let Err(e) = self.inner.ctx.store.append_log(&entry).await {
            tracing::error!(error = %e, "cannot write the sync log");
        }
    }

    /// Commits an applied event: its outcome, the last-synced values it implies (taken from
    /// `done`) and its log row, in one commit of its scope.
    pub(crate) async fn finish_applied(
        &self,
        scope: EventScope,
        ev: &Event,
        runner: RunnerKind,
        done: &mut Done,
        now: time::OffsetDateTime,
    ) -> Result<(), StoreError> {
        let values = std::mem::take(&mut done.remember);
        let entry = self.log_entry(ev, runner, done.action, Some(done), &done.reason);
        scope
            .finish(Completion::applied(&done.reason, &values, &entry, now))
            .await
    }

    /// Handles one delivered event: takes its item's lock and claims it (deduplication),
    /// applies it (bounded in time), and records the outcome, its last-synced values, its
    /// log row and, when it failed, its retry together. Errors only when the store cannot
    /// record anything (then monday should redeliver).
    pub async fn handle_event(&self, ev: &Event) -> Result<Outcome, crmmap_store::StoreError> {
        let plan = match self.triage(ev) {
            Ok(plan) => plan,
            Err(skip) => return self.handle_skipped(ev, skip).await,
        };
        let store = &self.inner.ctx.store;
        let timeout = self.inner.options.apply_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let (board, item) = (ev.board_id, ev.item_id);
        let begun = tokio::time::timeout_at(
            deadline,
            store.begin_item_event(&ev.key, board, item, self.inner.ctx.now()),
        )
        .await;
        let scope = match begun {
            Err(_) => {
                // The item stayed busy: the queue takes the event, still deduplicated (a
                // redelivery may get to it first).
                let error = format!("item busy: not started within {timeout:?}");
                return self.queue_unclaimed(ev, &error).await;
            }
            Ok(begun) => match begun? {
                ItemEvent::Started(scope) => scope,
                ItemEvent::AlreadyApplied => return Ok(self.duplicate(ev).await),
                ItemEvent::InProgress => {
                    // Another process holds it; if that one dies, the retry queue takes
                    // over once its lease has run out.
                    let due = self.inner.ctx.now() + crmmap_store::EVENT_LEASE;
                    self.enqueue(ev, true, "another instance is applying this event", due)
                        .await?;
                    return Ok(Outcome::Queued("in progress elsewhere".into()));
                }
            },
        };
        // A panic while applying becomes the event's failure: the claim is finished, never
        // lost with the task.
        let guarded = std::panic::AssertUnwindSafe(self.apply_locked(plan, ev)).catch_unwind();
        let applied = match tokio::time::timeout_at(deadline, guarded).await {
            Ok(Ok(applied)) => applied,
            Ok(Err(panic)) => {
                let message = drain::panic_message(panic.as_ref());
                tracing::error!(panic = %message, "applying an event panicked");
                Err(ApplyError::Panicked(message))
            }
            Err(_) => Err(ApplyError::Other(format!("not applied within {timeout:?}"))),
        };
        let now = self.inner.ctx.now();
        match applied {
            Ok(mut done) => {
                self.finish_applied(scope, ev, RunnerKind::Webhook, &mut done, now)
                    .await?;
                Ok(Outcome::Done(done))
            }
            Err(e) => {
                let error = e.to_string();
                let failure = drain::classify_apply(&e).class;
                // A refusal of the item itself goes to the dead letters at once (a person must
                // act); anything else to the queue.
                let (note, detail) = match failure {
                    FailureClass::Permanent => ("dead letter", "dead letter"),
                    _ => ("queued for retry", "queued for retry"),
                };
                let entry = self.log_entry(
                    ev,
                    RunnerKind::Webhook,
                    Action::Failed,
                    None,
                    &format!("{note}: {error}"),
                );
                // The queue owns it now: a redelivery from monday must not apply it twice.
                let payload = json!({ "event": ev.raw, "check_dedup": false });
                scope
                    .finish(Completion {
                        outcome: EventOutcome::Applied,
                        detail: Some(detail),
                        values: &[],
                        log: &entry,
                        retry: Some(RetryRequest {
                            kind: RETRY_KIND,
                            payload: &payload,
                            error: &error,
                            failure,
                            due: self.first_retry_due(),
                        }),
                        now,
                    })
                    .await?;
                Ok(match failure {
                    FailureClass::Permanent => Outcome::DeadLetter(error),
                    _ => Outcome::Queued(error),
                })
            }
        }
    }

    /// An event skipped for what it is (unmapped board, unhandled type, crmmap's own
    /// change): recorded with its log row in one commit, without taking its item's lock.
    pub(crate) async fn handle_skipped(
        &self,
        ev: &Event,
        skip: Done,
    ) -> Result<Outcome, crmmap_store::StoreError> {
        let entry = self.log_entry(
            ev,
            RunnerKind::Webhook,
            skip.action,
            Some(&skip),
            &skip.reason,
        );
        let store = &self.inner.ctx.store;
        if store
            .record_skipped_event(&ev.key, &entry, self.inner.ctx.now())
            .await?
        {
            Ok(Outcome::Done(skip))
        } else {
            Ok(self.duplicate(ev).await)
        }
    }

    /// A redelivery of an applied event: logged, nothing else.
    pub(crate) async fn duplicate(&self, ev: &Event) -> Outcome {
        self.log(
            ev,
            RunnerKind::Webhook,
            Action::Skipped,
            "duplicate delivery",
        )
        .await;
        Outcome::Duplicate
    }

    /// Queues an event that was not claimed, for the retry queue to claim it later.
    pub(crate) async fn queue_unclaimed(
        &self,
        ev: &Event,
        error: &str,
    ) -> Result<Outcome, crmmap_store::StoreError> {
        self.enqueue(ev, true, error, self.first_retry_due())
            .await?;
        self.log(
            ev,
            RunnerKind::Webhook,
            Action::Failed,
            &format!("queued for retry: {error}"),
        )
        .await;
        Ok(Outcome::Queued(error.to_owned()))
    }

    pub(crate) fn first_retry_due(&self) -> time::OffsetDateTime {
        let delay = self.inner.options.retry.delay(1, &mut rand::thread_rng());
        self.inner.ctx.now() + time::Duration::try_from(delay).unwrap_or(time::Duration::MINUTE)
    }

    pub(crate) async fn enqueue(
        &self,
        ev: &Event,
        check_dedup: bool,
        error: &str,
        due: time::OffsetDateTime,
    ) -> Result<i64, crmmap_store::StoreError> {
        let payload = json!({ "event": ev.raw, "check_dedup": check_dedup });
        self.inner
            .ctx
            .store
            .enqueue_retry(
                RETRY_KIND,
                &ev.key,
                &payload,
                error,
                due,
                self.inner.ctx.now(),
            )
            .await
    }
}
