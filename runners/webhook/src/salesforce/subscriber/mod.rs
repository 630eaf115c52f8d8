//! `crmmap serve`'s Pub/Sub subscriber (`[salesforce] change_events = "pubsub"`): one
//! subscription per mapped sObject's channel, each event through the same handler as
//! `POST /events/salesforce` and the Lambda.
//!
//! ```text
//! per channel (/data/LeadChangeEvent, /data/Grant__ChangeEvent), supervised:
//!   session (the Salesforce client's token, instance URL, org id) → crmmap-pubsub Client
//!   start: the stored checkpoint (CUSTOM) | none: LATEST | older than 70 h: LATEST + reconcile
//!   loop Subscription::next():
//!     Batch → each event: Avro → Event Relay JSON → handle_salesforce_event (applied or
//!             durably queued) → then the checkpoint (its replay id and time), one per batch
//!     Gap (replay id refused) → reconcile the object from the checkpoint's time
//!     Err: token refused → the session renewed once; gave up → restart with backoff;
//!          permanent (unknown topic, no permission) → stopped, logged, /health 503
//! ```
//!
//! **One channel per object, not `/data/ChangeEvents`.** The org's delivery allocation counts
//! every event delivered to a subscriber (realtime-and-limits.md §1d), and `/data/ChangeEvents`
//! carries every selected entity's events, including those other integrations selected and
//! crmmap does not map: each would count and be thrown away. Per-object channels deliver only
//! mapped objects' events (an event reaches exactly one of crmmap's subscriptions, so none
//! counts twice), and each keeps its own checkpoint: a refused replay id or a permanent
//! failure reconciles or stops one object, not all.
//!
//! **Reconcile after the stream is open.** A stream that starts `LATEST` misses what is
//! committed before it opens, so the reconcile (an incremental migration of the object from
//! the checkpoint's time, reconcile.rs) runs after the first delivery of the new stream (a
//! keepalive at the latest), and the old checkpoint stays stored until it has run: a crash
//! in between reconciles again on the next start.

mod batch;
mod health;
mod options;

use std::time::Duration;

use crmmap_pubsub::{Client, Delivery, PubSubError, Start};
use futures::FutureExt;
use time::OffsetDateTime;

use crate::{Webhook, drain};
pub(crate) use health::{Health, State};
pub use options::{RETENTION, STALL_AFTER, SubscriberOptions, channel_of};

/// One channel: its topic and the sObject whose events it carries.
#[derive(Clone, Debug)]
pub(crate) struct Channel {
    pub(crate) topic: String,
    pub(crate) sobject: String,
}

/// Why a subscription ended.
#[derive(Debug)]
enum Stop {
    /// Trying again will not help (logged, shown by `/health`).
    Permanent(String),
    /// Start again after a backoff, from the stored checkpoint.
    Restart(String),
    /// [`Subscribers::stop`] asked.
    Shutdown,
}

/// The running subscriptions; dropping this (or [`Subscribers::stop`]) ends them.
#[derive(Debug)]
pub struct Subscribers {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    topics: Vec<String>,
    stop: tokio::sync::watch::Sender<bool>,
    /// How long [`Subscribers::stop`] lets a batch being applied finish.
    grace: Duration,
}

impl Subscribers {
    /// The channels subscribed to.
    pub fn topics(&self) -> &[String] {
        &self.topics
    }

    /// Ends every subscription: a batch being applied is finished and checkpointed first
    /// (within the apply timeout; past it the task is aborted, and its events are delivered
    /// again after the next start, deduplicated by their replay ids).
    pub async fn stop(mut self) {
        self.stop.send_replace(true);
        for mut t in self.tasks.drain(..) {
            if tokio::time::timeout(self.grace, &mut t).await.is_err() {
                t.abort();
                let _ = t.await;
            }
        }
    }
}

impl Drop for Subscribers {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn to_system_time(t: OffsetDateTime) -> std::time::SystemTime {
    let nanos = t.unix_timestamp_nanos();
    let since = Duration::from_nanos(u64::try_from(nanos).unwrap_or(0));
    std::time::UNIX_EPOCH + since
}

fn to_commit_ms(t: std::time::SystemTime) -> Option<i64> {
    let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    i64::try_from(d.as_millis()).ok()
}

impl Webhook {
    /// Starts one supervised subscription per mapped sObject (see the module doc).
    pub fn start_subscribers(&self, options: SubscriberOptions) -> Subscribers {
        let mut sobjects: Vec<String> = self
            .plans()
            .plans
            .iter()
            .map(|p| p.sobject.to_string())
            .collect();
        sobjects.sort();
        sobjects.dedup();
        self.inner.subscribers.set_stall_after(options.stall_after);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        let mut topics = Vec::new();
        for sobject in sobjects {
            let channel = Channel {
                topic: channel_of(&sobject),
                sobject,
            };
            self.inner.subscribers.set(&channel.topic, State::Running);
            topics.push(channel.topic.clone());
            let w = self.clone();
            let options = options.clone();
            let stopped = stopped.clone();
            tasks.push(tokio::spawn(async move {
                w.supervise(channel, options, stopped).await
            }));
        }
        tracing::info!(?topics, "pub/sub subscriptions started");
        Subscribers {
            tasks,
            topics,
            stop,
            grace: self.inner.options.apply_timeout + Duration::from_secs(5),
        }
    }

    /// Runs a channel's subscription, starting it again (with backoff) after a failure that
    /// may pass or a panic, until a permanent failure stops it.
    async fn supervise(
        &self,
        channel: Channel,
        options: SubscriberOptions,
        mut stopped: tokio::sync::watch::Receiver<bool>,
    ) {
        let health = &self.inner.subscribers;
        let mut restarts = 0;
        loop {
            let run = std::panic::AssertUnwindSafe(self.subscribe_channel(
                &channel,
                &options,
                stopped.clone(),
            ))
            .catch_unwind()
            .await;
            let (stop, progressed) = match run {
                Ok(r) => r,
                Err(panic) => (
                    Stop::Restart(format!(
                        "internal error: {}",
                        drain::panic_message(panic.as_ref())
                    )),
                    false,
                ),
            };
            match stop {
                Stop::Shutdown => return,
                Stop::Permanent(error) => {
                    tracing::error!(topic = %channel.topic, %error,
                        "pub/sub subscription stopped: a permanent failure (fix it and restart crmmap serve)");
                    health.set(&channel.topic, State::Stopped(error));
                    return;
                }
                Stop::Restart(error) => {
                    restarts = if progressed { 1 } else { restarts + 1 };
                    let wait = options.restart.delay_now(restarts);
                    tracing::warn!(topic = %channel.topic, %error, ?wait,
                        "pub/sub subscription ended; starting it again");
                    health.set(&channel.topic, State::Restarting(error));
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        _ = stopped.wait_for(|s| *s) => return,
                    }
                    health.set(&channel.topic, State::Running);
                }
            }
        }
    }

    /// One run of a channel's subscription: until it ends, and whether it made progress.
    async fn subscribe_channel(
        &self,
        ch: &Channel,
        options: &SubscriberOptions,
        mut stopped: tokio::sync::watch::Receiver<bool>,
    ) -> (Stop, bool) {
        let sf = &self.inner.ctx.salesforce;
        let session = match sf.session().await {
            Ok(s) => s,
            Err(e) => return (session_stop(&e), false),
        };
        let Some(tenant) = options.tenant_id.clone().or(session.org_id.clone()) else {
            return (
                Stop::Permanent(
                    "the Salesforce token response named no org id (the Pub/Sub API's tenantid)"
                        .into(),
                ),
                false,
            );
        };
        let client = match Client::new(options.client_config(&session, tenant)) {
            Ok(c) => c,
            Err(e) => return (Stop::Permanent(e.to_string()), false),
        };
        let (start, mut reconcile_from) = match self.resume_point(ch, options).await {
            Ok(s) => s,
            Err(e) => return (Stop::Restart(format!("store: {e}")), false),
        };
        let mut subscription = client.subscribe(&ch.topic, start);
        let mut renewed = false;
        let mut progressed = false;
        loop {
            // A stop drops a delivery not yet applied: it is not checkpointed either, so the
            // next start receives it again.
            let next = tokio::select! {
                biased;
                _ = stopped.wait_for(|s| *s) => return (Stop::Shutdown, progressed),
                next = subscription.next() => next,
            };
            let delivery = match next {
                Ok(d) => d,
                Err(e) if is_unauthenticated(&e) && !renewed => {
                    // An expired token: renewed once, then resubscribed where it stood.
                    renewed = true;
                    let renewed_session = match sf.renew_session().await {
                        Ok(s) => s,
                        Err(e) => return (session_stop(&e), progressed),
                    };
                    if let Err(e) = client.set_access_token(&renewed_session.access_token) {
                        return (Stop::Permanent(e.to_string()), progressed);
                    }
                    let position = subscription.position().clone();
                    subscription = client.subscribe(&ch.topic, position);
                    continue;
                }
                Err(e @ PubSubError::GaveUp { .. }) => {
                    return (Stop::Restart(e.to_string()), progressed);
                }
                Err(e) => {
                    return match e.class() {
                        crmmap_pubsub::Class::Permanent => {
                            (Stop::Permanent(e.to_string()), progressed)
                        }
                        _ => (Stop::Restart(e.to_string()), progressed),
                    };
                }
            };
            self.inner.subscribers.progress(&ch.topic);
            match delivery {
                Delivery::Gap(gap) => {
                    tracing::warn!(topic = %ch.topic, "replay id refused: reconciling the object after resubscribing LATEST");
                    // Reconciled once the new stream delivers (see the module doc).
                    reconcile_from = Some(gap.since.and_then(to_commit_ms));
                }
                Delivery::Batch(batch) => {
                    if let Some(since) = reconcile_from.take()
                        && let Err(e) = self.reconcile_channel(ch, since).await
                    {
                        return (Stop::Restart(format!("store: {e}")), progressed);
                    }
                    if let Err(e) = self.apply_batch(ch, &batch, options).await {
                        return (Stop::Restart(e), progressed);
                    }
                    renewed = false;
                    progressed = true;
                }
            }
        }
    }

    /// Where a channel starts: after its checkpoint, or `LATEST` (with the time to reconcile
    /// from when the checkpoint is too old to be replayed).
    async fn resume_point(
        &self,
        ch: &Channel,
        options: &SubscriberOptions,
    ) -> Result<(Start, Option<Option<i64>>), crmmap_store::StoreError> {
        let stored = self.inner.ctx.store.replay_checkpoint_at(&ch.topic).await?;
        let Some(cp) = stored else {
            tracing::info!(topic = %ch.topic, "no checkpoint: subscribing LATEST");
            return Ok((Start::Latest, None));
        };
        let age = self.inner.ctx.now() - cp.saved_at;
        let saved = to_system_time(cp.saved_at);
        if age > time::Duration::try_from(options.retention).unwrap_or(time::Duration::MAX) {
            tracing::warn!(topic = %ch.topic, saved_at = %cp.saved_at,
                "the checkpoint is older than the retention: subscribing LATEST and reconciling");
            return Ok((Start::Latest, Some(to_commit_ms(saved))));
        }
        Ok((
            Start::After {
                replay_id: cp.replay_id,
                checkpointed_at: Some(saved),
            },
            None,
        ))
    }
}

fn is_unauthenticated(e: &PubSubError) -> bool {
    matches!(
        e,
        PubSubError::Status {
            code: crmmap_pubsub::error::Code::Unauthenticated,
            ..
        }
    )
}

/// A session that cannot be had: refused credentials stop the subscription, anything else
/// is tried again.
fn session_stop(e: &crmmap_salesforce::Error) -> Stop {
    match e {
        crmmap_salesforce::Error::Auth { .. } | crmmap_salesforce::Error::Config(_) => {
            Stop::Permanent(format!("salesforce session: {e}"))
        }
        _ => Stop::Restart(format!("salesforce session: {e}")),
    }
}
