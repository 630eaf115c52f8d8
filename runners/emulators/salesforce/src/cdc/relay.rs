//! An Event Relay to an EventBridge API destination (realtime-and-limits.md §2): a task that
//! POSTs each change event of the log, in commit order, as an EventBridge envelope
//! (`envelope.rs`) with `Authorization: Bearer <token>`, at least once: a failed POST is
//! retried with backoff (§2b: EventBridge retries up to 185 times, then drops the event
//! unless a dead-letter queue is set; here a dropped event is listed in the status). Each
//! POSTed event counts one delivery against the org's allocation (§2a: relayed events count,
//! §1d); when it is spent the relay waits, and the log keeps accumulating (§1d), so a raised
//! allocation resumes delivery without loss.
//!
//! Test switches: deliver every event twice, deliver each batch of pending events in reverse
//! order, pause and resume.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crmmap_backoff::Backoff;
use crmmap_secret::Secret;
use tokio::sync::Notify;

use super::envelope::{EnvelopeSource, envelope};
use super::event::LoggedEvent;
use super::log::ChangeLog;

/// Where and how the relay delivers.
#[derive(Clone, Debug)]
pub struct RelayOptions {
    /// The API destination's URL.
    pub url: String,
    /// Sent as `Authorization: Bearer <token>`.
    pub token: Secret,
    pub source: EnvelopeSource,
    /// Deliver the events after this replay id; `None`: only events committed from now on
    /// (a relay that starts relays new events, §2a).
    pub after: Option<u64>,
    /// Delays between attempts of one event.
    pub backoff: Backoff,
    /// Attempts per event before it is dropped (§2b: EventBridge's default is 185).
    pub max_attempts: u32,
    /// How long one POST may take (§2b's API destinations time out after 5 seconds).
    pub timeout: Duration,
}

impl RelayOptions {
    /// Delivery of new events to `url` with `token`, EventBridge's retry count and timeout,
    /// and retries from 50 ms doubling up to 5 s.
    pub fn new(url: impl Into<String>, token: Secret) -> Self {
        RelayOptions {
            url: url.into(),
            token,
            source: EnvelopeSource::default(),
            after: None,
            backoff: Backoff::new(
                Duration::from_millis(50),
                Duration::from_secs(5),
                Backoff::EQUAL_JITTER,
            ),
            max_attempts: 185,
            timeout: Duration::from_secs(5),
        }
    }
}

/// The relay's test switches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RelaySwitches {
    /// Hold deliveries (after the event being delivered).
    pub paused: bool,
    /// POST every event twice (each copy with its own envelope `id`, as two relayed copies
    /// would have; each counts against the allocation).
    pub duplicate: bool,
    /// Deliver each batch of pending events newest first.
    pub out_of_order: bool,
}

/// What the relay has done.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RelayStatus {
    pub switches: RelaySwitches,
    /// The replay id of the last event delivered or dropped (every event up to it is done).
    pub delivered_through: u64,
    /// POSTs answered 2xx.
    pub delivered: u64,
    /// POSTs that failed (non-2xx, transport error or timeout) and were retried or dropped.
    pub failed_attempts: u64,
    /// Replay ids of events dropped after `max_attempts`.
    pub dropped: Vec<u64>,
    /// The relay is waiting for the delivery allocation.
    pub waiting_for_allocation: bool,
    /// Replay ids lost because they left retention before the relay reached them.
    pub missed: Vec<u64>,
}

struct Shared {
    status: Mutex<RelayStatus>,
    switched: Notify,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// A running relay; cheap to clone (a handle).
#[derive(Clone)]
pub struct EventRelay {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for EventRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventRelay")
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl EventRelay {
    /// Starts relaying `log`'s events (needs a tokio runtime).
    pub fn start(log: ChangeLog, opts: RelayOptions) -> EventRelay {
        let after = opts.after.unwrap_or_else(|| log.latest_replay_id());
        let shared = Arc::new(Shared {
            status: Mutex::new(RelayStatus {
                delivered_through: after,
                ..RelayStatus::default()
            }),
            switched: Notify::new(),
            task: Mutex::new(None),
        });
        let task = tokio::spawn(run(log, opts, shared.clone()));
        *lock(&shared.task) = Some(task);
        EventRelay { shared }
    }

    pub fn status(&self) -> RelayStatus {
        lock(&self.shared.status).clone()
    }

    /// Changes the test switches.
    pub fn set_switches(&self, switches: RelaySwitches) {
        lock(&self.shared.status).switches = switches;
        self.shared.switched.notify_waiters();
    }

    pub fn pause(&self) {
        self.update(|s| s.paused = true);
    }

    pub fn resume(&self) {
        self.update(|s| s.paused = false);
    }

    fn update(&self, f: impl FnOnce(&mut RelaySwitches)) {
        f(&mut lock(&self.shared.status).switches);
        self.shared.switched.notify_waiters();
    }

    /// Stops the relay (an event being delivered is abandoned).
    pub fn stop(&self) {
        if let Some(task) = lock(&self.shared.task).take() {
            task.abort();
        }
    }

    /// Returns once every event up to `replay_id` is delivered or dropped, or `timeout`
    /// passes; true in the first case.
    pub async fn wait_delivered(&self, replay_id: u64, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.status().delivered_through >= replay_id {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn switches(shared: &Shared) -> RelaySwitches {
    lock(&shared.status).switches
}

/// Waits while the relay is paused.
async fn while_paused(shared: &Shared) {
    loop {
        let switched = shared.switched.notified();
        if !switches(shared).paused {
            return;
        }
        switched.await;
    }
}

async fn run(log: ChangeLog, opts: RelayOptions, shared: Arc<Shared>) {
    let http = reqwest::Client::new();
    loop {
        while_paused(&shared).await;
        let cursor = lock(&shared.status).delivered_through;
        let batch = match log.read_after(cursor, 100) {
            Ok(b) => b,
            Err(too_old) => {
                // Events left retention before the relay reached them.
                let mut s = lock(&shared.status);
                s.missed.extend(cursor + 1..too_old.oldest);
                s.delivered_through = too_old.oldest.saturating_sub(1);
                continue;
            }
        };
        if batch.is_empty() {
            let switched = shared.switched.notified();
            tokio::select! {
                () = log.wait_after(cursor) => {}
                () = switched => {}
            }
            continue;
        }
        if switches(&shared).out_of_order {
            // The whole batch, newest first; the cursor moves past it at the end.
            let last = batch.last().map_or(cursor, |e| e.replay_id);
            for event in batch.iter().rev() {
                deliver(&log, &opts, &shared, &http, event).await;
            }
            lock(&shared.status).delivered_through = last;
        } else {
            for event in &batch {
                if switches(&shared).paused {
                    break;
                }
                deliver(&log, &opts, &shared, &http, event).await;
                lock(&shared.status).delivered_through = event.replay_id;
            }
        }
    }
}

/// Delivers one event (twice under the `duplicate` switch).
async fn deliver(
    log: &ChangeLog,
    opts: &RelayOptions,
    shared: &Shared,
    http: &reqwest::Client,
    event: &LoggedEvent,
) {
    let copies = if switches(shared).duplicate { 2 } else { 1 };
    for _ in 0..copies {
        wait_for_allocation(log, shared).await;
        post(opts, shared, http, event).await;
    }
}

/// Counts one delivery, waiting while the allocation is spent.
async fn wait_for_allocation(log: &ChangeLog, shared: &Shared) {
    loop {
        let changed = log.allocation_changed();
        match log.count_delivery(1) {
            Ok(()) => {
                lock(&shared.status).waiting_for_allocation = false;
                return;
            }
            Err(_) => {
                lock(&shared.status).waiting_for_allocation = true;
                // The window also moves with time: look again now and then.
                tokio::select! {
                    () = changed => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
}

/// POSTs one copy of the event, retrying failures with backoff up to `max_attempts`.
async fn post(opts: &RelayOptions, shared: &Shared, http: &reqwest::Client, event: &LoggedEvent) {
    let body = envelope(&event.event, &opts.source);
    for attempt in 1..=opts.max_attempts.max(1) {
        let sent = http
            .post(&opts.url)
            .bearer_auth(opts.token.expose())
            .timeout(opts.timeout)
            .json(&body)
            .send()
            .await;
        let ok = match sent {
            Ok(resp) => resp.status().is_success(),
            Err(e) => {
                tracing::debug!(error = %e.without_url(), "event relay POST failed");
                false
            }
        };
        if ok {
            lock(&shared.status).delivered += 1;
            return;
        }
        lock(&shared.status).failed_attempts += 1;
        if attempt < opts.max_attempts {
            tokio::time::sleep(opts.backoff.delay_now(attempt)).await;
        }
    }
    lock(&shared.status).dropped.push(event.replay_id);
}
