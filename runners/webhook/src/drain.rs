//! The retry drain: queued webhook events and migrator records, tried again.
//!
//! ```text
//! open breaker, probe not due? ─► paused: nothing is claimed
//! claim a small batch (lease) ─► per item: deadline left? ─► start (counts the attempt,
//!     renews the item's lease; a lost claim skips the item) ─► try it inside a panic
//!     boundary, bounded in time
//!     ├─ applied ─► complete (a webhook event: in the commit of its outcome, values and
//!     │            log row); an open breaker closes ("recovered" alert)
//!     ├─ outage ─► attempt given back, the API's breaker opens ("down" alert, once), the
//!     │            rest of the batch is released untried, the drain stops
//!     ├─ permanent ─► dead letter at once
//!     └─ transient ─► backoff, dead letter after `max_attempts`
//! then one alert for every dead letter not reported yet (counts by reason, a few examples)
//! ```
//!
//! Items the drain does not reach (the deadline, an outage) are released uncharged. Which
//! failure is which class is decided in [`crmmap_sync::failure`].

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use crmmap_ids::{ObjectName, RecordId};
use crmmap_store::{
    Action, BreakerChange, ClaimedRetry, EventOutcome, FailOutcome, Failure, FailureClass,
    ItemEvent, OpenBreaker, RetryItem, RunnerKind, StoreError,
};
use crmmap_sync::failure::{self, Api, Classified};
use futures::FutureExt;
use serde_json::Value as Json;
use tokio::time::Instant;

use crate::alerts::Alert;
use crate::apply::ApplyError;
use crate::event::{self, Event};
use crate::{RETRY_KIND, Webhook};

/// Items claimed at a time: few, so that the batch's lease covers trying all of them and a
/// worker that stops early holds back little.
const CLAIM_BATCH: u32 = 4;

/// Dead letters named one by one in an alert; the rest are counted.
const ALERT_EXAMPLES: usize = 3;

/// What a drain did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Items claimed.
    pub claimed: usize,
    /// Items tried (an attempt started).
    pub tried: usize,
    /// Applied (or found already applied).
    pub applied: usize,
    /// Failed again and rescheduled.
    pub rescheduled: usize,
    /// Gave up: dead-lettered.
    pub dead: usize,
    /// Claimed but given back untried (the deadline, an outage), or paused by an outage
    /// after being tried: no attempt charged.
    pub released: usize,
    /// The API whose outage paused the queue, if one did.
    pub paused: Option<String>,
}

/// How one item succeeded.
enum Tried {
    /// Done; the claimed item is still to be removed from the queue.
    ToComplete,
    /// Done, and the claimed item removed in the same commit.
    Completed,
    /// Done, but the claim was lost before the commit: nothing of it was written.
    ClaimLost,
}

/// Why one item failed.
struct ItemFailure {
    classified: Classified,
    error: String,
    /// The event, when the item is a webhook event that parsed.
    event: Option<Event>,
}

impl ItemFailure {
    fn local(class: FailureClass, error: impl Into<String>) -> ItemFailure {
        ItemFailure {
            classified: Classified::local(class),
            error: error.into(),
            event: None,
        }
    }
}

/// The class of a webhook event's failure.
pub fn classify_apply(e: &ApplyError) -> Classified {
    match e {
        ApplyError::Monday(e) => Classified::of(Api::Monday, failure::monday(e)),
        ApplyError::Salesforce(e) => Classified::of(Api::Salesforce, failure::salesforce(e)),
        ApplyError::Store(_) => Classified::of(Api::Store, FailureClass::Outage),
        // A value that does not convert, or a bug: trying again changes nothing.
        ApplyError::Eval(_) | ApplyError::Panicked(_) => Classified::local(FailureClass::Permanent),
        ApplyError::Other(_) => Classified::local(FailureClass::Transient),
    }
}

/// The text of a caught panic.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

impl Webhook {
    /// Applies up to `limit` due items of the retry queue (see the module documentation).
    pub async fn drain_retries(&self, limit: u32) -> Result<DrainReport, StoreError> {
        self.drain_until(limit, None).await
    }

    /// [`Webhook::drain_retries`], starting no item that could not finish (its apply timeout)
    /// before `deadline`.
    pub async fn drain_until(
        &self,
        limit: u32,
        deadline: Option<Instant>,
    ) -> Result<DrainReport, StoreError> {
        let store = &self.inner.ctx.store;
        let timeout = self.inner.options.apply_timeout;
        let mut report = DrainReport::default();
        let open = store.open_breakers().await?;
        if let Some(b) = open.iter().find(|b| b.next_probe_at > self.inner.ctx.now()) {
            report.paused = Some(b.api.clone());
            self.beat();
            return Ok(report);
        }
        // Breakers whose probe is due: the next items are the probe.
        let mut probing: Vec<OpenBreaker> = open;
        let batch_lease = timeout * (CLAIM_BATCH + 1);
        let item_lease = timeout * 2;
        let mut tried = std::collections::HashSet::new();
        let has_time =
            |deadline: Option<Instant>| deadline.is_none_or(|d| Instant::now() + timeout <= d);
        'drain: while report.claimed < limit as usize && report.paused.is_none() {
            if !has_time(deadline) {
                break;
            }
            let want = CLAIM_BATCH.min(limit.saturating_sub(report.claimed as u32));
            let batch = store
                .claim_due_retries(self.inner.ctx.now(), want, batch_lease)
                .await?;
            if batch.is_empty() {
                break;
            }
            // An item tried once in this drain and due again (a zero backoff) waits for the
            // next drain: a drain tries each item at most once.
            let (again, batch): (Vec<_>, Vec<_>) =
                batch.into_iter().partition(|c| tried.contains(&c.item.id));
            for c in &again {
                store.release_retry(c).await?;
            }
            if batch.is_empty() {
                break;
            }
            report.claimed += batch.len();
            let mut batch = batch.into_iter();
            while let Some(mut claim) = batch.next() {
                if report.paused.is_some() || !has_time(deadline) {
                    for c in std::iter::once(claim).chain(batch.by_ref()) {
                        store.release_retry(&c).await?;
                        report.released += 1;
                    }
                    break 'drain;
                }
                if !store
                    .start_retry(&mut claim, self.inner.ctx.now(), item_lease)
                    .await?
                {
                    tracing::info!(id = claim.item.id, "retry claim lost; skipped");
                    continue;
                }
                report.tried += 1;
                tried.insert(claim.item.id);
                let result = self.try_item(&claim, deadline).await;
                self.beat();
                match result {
                    Ok(tried) => {
                        self.recovered(&mut probing, None).await?;
                        let completed = match tried {
                            Tried::Completed => Ok(()),
                            Tried::ClaimLost => Err(StoreError::ClaimLost { id: claim.item.id }),
                            Tried::ToComplete => store.complete_retry(&claim).await,
                        };
                        match completed {
                            Ok(()) => report.applied += 1,
                            Err(StoreError::ClaimLost { id }) => {
                                tracing::warn!(id, "retry claim lost before completion");
                            }
                            Err(e) => return Err(e),
                        }
                    }
                    Err(f) => {
                        if f.classified.class != FailureClass::Outage {
                            self.recovered(&mut probing, f.classified.api).await?;
                        }
                        self.failed(&claim, &f, &probing, &mut report).await?;
                    }
                }
            }
        }
        self.alert_dead_letters().await?;
        self.beat();
        Ok(report)
    }

    /// Tries one claimed item inside a panic boundary, bounded by the apply timeout and the
    /// deadline.
    async fn try_item(
        &self,
        claim: &ClaimedRetry,
        deadline: Option<Instant>,
    ) -> Result<Tried, ItemFailure> {
        let mut limit = self.inner.options.apply_timeout;
        if let Some(d) = deadline {
            limit = limit.min(d.saturating_duration_since(Instant::now()));
        }
        let attempt = AssertUnwindSafe(self.try_item_unguarded(claim)).catch_unwind();
        match tokio::time::timeout(limit, attempt).await {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => {
                let message = panic_message(panic.as_ref());
                tracing::error!(id = claim.item.id, panic = %message, "a retry panicked");
                Err(ItemFailure::local(
                    FailureClass::Permanent,
                    format!("internal error: {message}"),
                ))
            }
            Err(_) => Err(ItemFailure::local(
                FailureClass::Transient,
                format!("not applied within {limit:?}"),
            )),
        }
    }

    async fn try_item_unguarded(&self, claim: &ClaimedRetry) -> Result<Tried, ItemFailure> {
        match claim.item.kind.as_str() {
            RETRY_KIND => self.retry_event(claim).await,
            crmmap_sync::migrate::RETRY_KIND => self
                .retry_record(&claim.item)
                .await
                .map(|()| Tried::ToComplete),
            crate::salesforce::RETRY_KIND => self
                .retry_salesforce(&claim.item)
                .await
                .map(|()| Tried::ToComplete)
                .map_err(|f| ItemFailure {
                    classified: f.classified,
                    error: f.error,
                    event: None,
                }),
            other => Err(ItemFailure::local(
                FailureClass::Permanent,
                format!("unknown retry kind `{other}`"),
            )),
        }
    }

    /// A queued webhook event: applied again under its item's lock, deduplicated when it was
    /// queued before it was claimed. Applied, its outcome, last-synced values, log row and
    /// the queue's completion are one commit ([`crmmap_store::Store::begin_item_retry`]);
    /// failed, only its outcome is recorded (the queue owns it) and the drain records the
    /// failure.
    async fn retry_event(&self, claim: &ClaimedRetry) -> Result<Tried, ItemFailure> {
        let store = &self.inner.ctx.store;
        let item = &claim.item;
        let ev = item
            .payload
            .get("event")
            .ok_or_else(|| "queued payload has no event".to_owned())
            .and_then(|e| event::parse_event(e).map_err(|e| e.to_string()))
            .map_err(|e| ItemFailure::local(FailureClass::Permanent, e))?;
        let store_failure = |e: StoreError, ev: &Event| ItemFailure {
            classified: Classified::of(Api::Store, FailureClass::Outage),
            error: format!("store: {e}"),
            event: Some(ev.clone()),
        };
        let check = item
            .payload
            .get("check_dedup")
            .and_then(Json::as_bool)
            .unwrap_or(false);
        let (board, item_id) = (ev.board_id, ev.item_id);
        let begun = store
            .begin_item_retry(claim, board, item_id, check, self.inner.ctx.now())
            .await;
        let scope = match begun {
            Ok(ItemEvent::Started(scope)) => scope,
            Ok(ItemEvent::AlreadyApplied) => return Ok(Tried::ToComplete),
            Ok(ItemEvent::InProgress) => {
                return Err(ItemFailure {
                    classified: Classified::local(FailureClass::Transient),
                    error: "still in progress elsewhere".into(),
                    event: Some(ev),
                });
            }
            Err(e) => return Err(store_failure(e, &ev)),
        };
        let applied = match self.triage(&ev) {
            Err(skip) => Ok(skip),
            Ok(plan) => AssertUnwindSafe(self.apply_locked(plan, &ev))
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| Err(ApplyError::Panicked(panic_message(panic.as_ref())))),
        };
        let now = self.inner.ctx.now();
        match applied {
            Ok(mut done) => {
                let finished = self
                    .finish_applied(scope, &ev, RunnerKind::Retry, &mut done, now)
                    .await;
                match finished {
                    Ok(()) => Ok(Tried::Completed),
                    Err(StoreError::ClaimLost { .. }) => Ok(Tried::ClaimLost),
                    Err(e) => Err(store_failure(e, &ev)),
                }
            }
            Err(e) => {
                // The queue owns the event from now on: a redelivery must not apply it again.
                scope
                    .leave(EventOutcome::Applied, Some("queued for retry"), now)
                    .await
                    .map_err(|e| store_failure(e, &ev))?;
                Err(ItemFailure {
                    classified: classify_apply(&e),
                    error: e.to_string(),
                    event: Some(ev),
                })
            }
        }
    }

    /// A record the migrator could not write: migrated again now, alone.
    async fn retry_record(&self, item: &RetryItem) -> Result<(), ItemFailure> {
        let payload = &item.payload;
        let (Some(object), Some(record)) = (
            payload.get("object").and_then(Json::as_str),
            payload.get("record_id").and_then(Json::as_str),
        ) else {
            return Err(ItemFailure::local(
                FailureClass::Permanent,
                "queued record has no object or record_id",
            ));
        };
        let Ok(record) = RecordId::parse(record) else {
            return Err(ItemFailure::local(
                FailureClass::Permanent,
                "queued record_id is no salesforce record id",
            ));
        };
        let synced = crmmap_sync::migrate::sync_records(
            &self.inner.ctx,
            &ObjectName::new(object),
            std::slice::from_ref(&record),
            &mut crmmap_sync::migrate::NoProgress,
        )
        .await
        .map_err(|e| ItemFailure {
            classified: e.classify(),
            error: e.to_string(),
            event: None,
        })?;
        match synced.failures.into_iter().next() {
            None => Ok(()),
            Some(f) => Err(ItemFailure {
                // A record's own failure is no outage of an API as a whole.
                classified: Classified::local(match f.class {
                    FailureClass::Outage => FailureClass::Transient,
                    class => class,
                }),
                error: format!("{object} {record}: {}", f.reason),
                event: None,
            }),
        }
    }

    /// Records a failed attempt: rescheduled, dead-lettered, or paused behind its API's
    /// breaker.
    async fn failed(
        &self,
        claim: &ClaimedRetry,
        f: &ItemFailure,
        probing: &[OpenBreaker],
        report: &mut DrainReport,
    ) -> Result<(), StoreError> {
        let store = &self.inner.ctx.store;
        let now = self.inner.ctx.now();
        let outcome = store
            .fail_retry(
                claim,
                Failure {
                    class: f.classified.class,
                    error: &f.error,
                },
                now,
                &self.inner.options.retry,
                &mut <rand::rngs::StdRng as rand::SeedableRng>::from_entropy(),
            )
            .await;
        let outcome = match outcome {
            Ok(o) => o,
            Err(StoreError::ClaimLost { id }) => {
                tracing::warn!(id, "retry claim lost before its failure was recorded");
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let note = match outcome {
            FailOutcome::Rescheduled(_) => {
                report.rescheduled += 1;
                format!("retry failed: {}", f.error)
            }
            FailOutcome::DeadLettered => {
                report.dead += 1;
                format!("dead letter: {}", f.error)
            }
            FailOutcome::Paused => {
                report.released += 1;
                let api = f.classified.api.unwrap_or(Api::Store);
                report.paused = Some(api.as_str().to_owned());
                self.outage(api, &f.error, probing).await?;
                format!("paused: {} unavailable: {}", api.as_str(), f.error)
            }
        };
        if let Some(ev) = &f.event {
            self.log(ev, RunnerKind::Retry, Action::Failed, &note).await;
        }
        Ok(())
    }

    /// Opens `api`'s breaker (or records a failed probe) and alerts when it just opened.
    async fn outage(
        &self,
        api: Api,
        error: &str,
        probing: &[OpenBreaker],
    ) -> Result<(), StoreError> {
        let store = &self.inner.ctx.store;
        let now = self.inner.ctx.now();
        let probes = probing
            .iter()
            .find(|b| b.api == api.as_str())
            .map_or(0, |b| b.probes + 1);
        let wait = self
            .inner
            .options
            .retry
            .delay(probes + 1, &mut rand::thread_rng());
        let next = now + time::Duration::try_from(wait).unwrap_or(time::Duration::HOUR);
        let change = store.open_breaker(api.as_str(), error, now, next).await?;
        tracing::warn!(api = api.as_str(), ?change, next_probe = %next, "retry queue paused");
        if change == BreakerChange::Opened {
            let counts = store.retry_counts(now).await?;
            self.inner
                .alerter
                .send(&Alert {
                    title: format!("{} is unavailable: the retry queue is paused", api.as_str()),
                    error: Some(error.to_owned()),
                    details: vec![
                        format!("waiting: {} queued changes", counts.due + counts.waiting),
                        format!("next probe: {next}"),
                        "nothing is charged against the changes' attempts while it lasts".into(),
                    ],
                    ..Alert::default()
                })
                .await;
        }
        Ok(())
    }

    /// An API answered: its breaker (every probing breaker, when `api` is `None` and the item
    /// succeeded) closes, with a "recovered" alert from whichever process closed it.
    async fn recovered(
        &self,
        probing: &mut Vec<OpenBreaker>,
        api: Option<Api>,
    ) -> Result<(), StoreError> {
        if probing.is_empty() {
            return Ok(());
        }
        let closing: Vec<OpenBreaker> = match api {
            Some(api) => {
                let (hit, rest): (Vec<_>, Vec<_>) =
                    probing.drain(..).partition(|b| b.api == api.as_str());
                *probing = rest;
                hit
            }
            None => std::mem::take(probing),
        };
        let now = self.inner.ctx.now();
        for b in closing {
            if let Some(closed) = self.inner.ctx.store.close_breaker(&b.api).await? {
                let down = now - closed.opened_at;
                tracing::info!(api = %closed.api, %down, "retry queue resumed");
                self.inner
                    .alerter
                    .send(&Alert {
                        title: format!(
                            "{} is available again: the retry queue resumed",
                            closed.api
                        ),
                        details: vec![
                            format!(
                                "unavailable for {} min ({} failed probes)",
                                down.whole_minutes(),
                                closed.probes
                            ),
                            format!("last error: {}", closed.reason),
                        ],
                        ..Alert::default()
                    })
                    .await;
            }
        }
        Ok(())
    }

    /// One alert for every dead letter not reported yet: counts by reason and a few examples.
    async fn alert_dead_letters(&self) -> Result<(), StoreError> {
        let dead = self
            .inner
            .ctx
            .store
            .take_unalerted_dead(self.inner.ctx.now())
            .await?;
        if let Some(alert) = self.dead_letter_alert(&dead).await {
            self.inner.alerter.send(&alert).await;
        }
        Ok(())
    }

    async fn dead_letter_alert(&self, dead: &[RetryItem]) -> Option<Alert> {
        let first = dead.first()?;
        let mut by_reason: BTreeMap<String, usize> = BTreeMap::new();
        for d in dead {
            *by_reason.entry(reason_of(&d.last_error)).or_default() += 1;
        }
        let mut by_reason: Vec<_> = by_reason.into_iter().collect();
        by_reason.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut details = vec!["by reason:".to_owned()];
        details.extend(by_reason.iter().map(|(r, n)| format!("  {n} × {r}")));
        details.push("examples:".into());
        for d in dead.iter().take(ALERT_EXAMPLES) {
            details.push(format!("  {}", self.describe(d).await));
        }
        if dead.len() > ALERT_EXAMPLES {
            details.push(format!("  … and {} more", dead.len() - ALERT_EXAMPLES));
        }
        details.push("see `crmmap retry --dead`; requeue with `crmmap retry --requeue-all`".into());
        let title = if dead.len() == 1 {
            "1 queued change gave up (dead letter)".to_owned()
        } else {
            format!("{} queued changes gave up (dead letters)", dead.len())
        };
        let mut alert = Alert {
            title,
            details,
            ..Alert::default()
        };
        if dead.len() == 1 {
            alert.error = Some(first.last_error.clone());
        }
        Some(alert)
    }

    /// One dead letter in a line: its object, item or record, and error.
    async fn describe(&self, d: &RetryItem) -> String {
        let text = |k: &str| d.payload.get(k).and_then(Json::as_str).map(str::to_owned);
        let what = if d.kind == RETRY_KIND {
            match d.payload.get("event").map(event::parse_event) {
                Some(Ok(ev)) => {
                    let object = self
                        .inner
                        .ctx
                        .plans
                        .plan_for_board(ev.board_id)
                        .map_or_else(|| "?".to_owned(), |p| p.sobject.to_string());
                    let (board, item) = (ev.board_id, ev.item_id);
                    let record = self
                        .inner
                        .ctx
                        .store
                        .link_by_item(board, item)
                        .await
                        .ok()
                        .flatten()
                        .map(|l| format!(", record {}", l.record_id))
                        .unwrap_or_default();
                    format!("{object}: item {item} on board {board}{record}")
                }
                _ => "webhook event".to_owned(),
            }
        } else {
            format!(
                "{} record {}",
                text("object").unwrap_or_else(|| "?".into()),
                text("record_id").unwrap_or_else(|| "?".into())
            )
        };
        format!("{what}: {}", d.last_error)
    }

    /// Marks the drain as alive (for `/health`).
    fn beat(&self) {
        if let Ok(mut h) = self.inner.drain_beat.lock() {
            *h = Some(Instant::now());
        }
    }

    /// The last time a drain made progress in this process.
    pub fn last_drain(&self) -> Option<Instant> {
        self.inner.drain_beat.lock().ok().and_then(|h| *h)
    }
}

/// The reason a dead letter is counted under: its first error code (an upper-case
/// `SNAKE_CASE` word or a `…Exception` name), else the error's first words.
fn reason_of(error: &str) -> String {
    let words = || {
        error
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
    };
    let code = words().find(|w| {
        (w.len() >= 5
            && w.contains('_')
            && w.chars()
                .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit()))
            || (w.ends_with("Exception") && w.len() > "Exception".len())
    });
    match code {
        Some(c) => c.to_owned(),
        None => {
            let short: String = error.chars().take(60).collect();
            if short.len() < error.len() {
                format!("{short}…")
            } else {
                short
            }
        }
    }
}

/// How long a drain may go without progress before `/health` reports it stalled: two
/// intervals plus two apply timeouts (one item may take that long, bounded).
pub(crate) fn stall_after(every: Duration, apply_timeout: Duration) -> Duration {
    every * 2 + apply_timeout * 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_error_codes_when_there_are_some() {
        assert_eq!(
            reason_of("salesforce: Salesforce API error (HTTP 400): REQUIRED_FIELD_MISSING: x"),
            "REQUIRED_FIELD_MISSING"
        );
        assert_eq!(
            reason_of("monday: invalid column value: ColumnValueException"),
            "ColumnValueException"
        );
        assert_eq!(
            reason_of("mapping: `é` is not a date"),
            "mapping: `é` is not a date"
        );
        let long = "ü".repeat(100);
        let r = reason_of(&long);
        assert_eq!(r.chars().count(), 61, "{r}");
    }

    #[test]
    fn a_panic_message_is_kept() {
        let caught = std::panic::catch_unwind(|| panic!("boom {}", 7)).unwrap_err();
        assert_eq!(panic_message(caught.as_ref()), "boom 7");
        let caught = std::panic::catch_unwind(|| panic!("static")).unwrap_err();
        assert_eq!(panic_message(caught.as_ref()), "static");
    }
}
