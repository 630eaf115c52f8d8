//! A delivered batch applied, then checkpointed; a gap's reconcile.
//!
//! Every event of a batch goes through [`Webhook::handle_salesforce_event`], which returns
//! only once each of its records is applied or durably queued (or deduplicated: the event's
//! identity is its replay id). Only then is the batch's replay id stored, so a crash replays
//! at most the batch, and the replay writes nothing twice. An event that cannot be decoded is
//! never dropped silently: it is logged as failed and its object is reconciled from the last
//! checkpoint (a queued retry, drained like any other).

use crmmap_pubsub::{Batch, Event};
use crmmap_store::{Action, LogEntry, RunnerKind, StoreError};
use serde_json::{Map, Value as Json, json};

use super::{Channel, SubscriberOptions};
use crate::Webhook;
use crate::salesforce::event::{self, Envelope};

/// A replay id as text (the dedup key's form): lowercase hex of its bytes.
pub(crate) fn replay_text(replay_id: &[u8]) -> String {
    replay_id.iter().map(|b| format!("{b:02x}")).collect()
}

impl Webhook {
    /// Applies every event of `batch`, then stores its replay id. A store that keeps failing
    /// ends the run (`Err`): the subscription starts again from the stored checkpoint.
    pub(super) async fn apply_batch(
        &self,
        ch: &Channel,
        batch: &Batch,
        options: &SubscriberOptions,
    ) -> Result<(), String> {
        for ev in &batch.events {
            self.with_store_retries(options, || self.apply_pubsub_event(ch, ev))
                .await
                .map_err(|e| format!("store: {e}"))?;
        }
        if !batch.latest_replay_id.is_empty() {
            let store = &self.inner.ctx.store;
            self.with_store_retries(options, || {
                store.save_replay_checkpoint(
                    &ch.topic,
                    &batch.latest_replay_id,
                    self.inner.ctx.now(),
                )
            })
            .await
            .map_err(|e| format!("store: checkpoint: {e}"))?;
        }
        Ok(())
    }

    async fn with_store_retries<F, Fut, T>(
        &self,
        options: &SubscriberOptions,
        mut f: F,
    ) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, StoreError>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match f().await {
                Ok(v) => return Ok(v),
                Err(e) if attempt < options.store_attempts.max(1) => {
                    let wait = options.retries.reconnect.delay_now(attempt);
                    tracing::warn!(error = %e, ?wait, "store failed while applying change events; trying again");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One delivered event through the change-event handler.
    async fn apply_pubsub_event(&self, ch: &Channel, ev: &Event) -> Result<(), StoreError> {
        let replay = replay_text(&ev.replay_id);
        let parsed = match &ev.payload {
            Ok(Json::Object(payload)) => {
                event::parse_change_event(payload).map_err(|e| e.to_string())
            }
            Ok(_) => Err("the payload is not a JSON object".to_owned()),
            Err(e) => Err(e.0.clone()),
        };
        let change = match parsed {
            Ok(change) => change,
            Err(error) => return self.undecodable(ch, &replay, &error).await,
        };
        let envelope = Envelope {
            detail_type: None,
            source: Some(format!("pubsub:{}", ch.topic)),
            id: (!ev.event_id.is_empty()).then(|| ev.event_id.clone()),
            replay_id: Some(replay),
            detail_extra: Map::new(),
            event: change,
        };
        self.handle_salesforce_event(&envelope).await.map(|_| ())
    }

    /// An event that cannot be read: logged as failed, and its object reconciled from its
    /// channel's last checkpoint by the retry queue.
    async fn undecodable(&self, ch: &Channel, replay: &str, error: &str) -> Result<(), StoreError> {
        let store = &self.inner.ctx.store;
        let now = self.inner.ctx.now();
        let since = store
            .replay_checkpoint_at(&ch.topic)
            .await?
            .map(|cp| cp.saved_at);
        let commit_ms =
            since.and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok());
        tracing::error!(topic = %ch.topic, replay, %error, "a change event cannot be decoded: its object is reconciled");
        for plan in self.plans().plans_for_sobject(&ch.sobject) {
            let key = format!("sf:{}:undecodable:{replay}", plan.object);
            let payload =
                json!({ "object": plan.object, "change": "GAP_OVERFLOW", "commit_ms": commit_ms });
            let reason = format!(
                "undecodable change event {replay} on {}: {error}; reconcile queued",
                ch.topic
            );
            self.sf_enqueue(&key, &payload, &reason).await?;
            let entry = LogEntry::new(now, RunnerKind::Webhook, Action::Failed)
                .object(plan.sobject.clone())
                .trigger(key)
                .request("salesforce pubsub".to_owned())
                .reason(reason);
            self.sf_log(entry).await;
        }
        Ok(())
    }

    /// Reconciles the channel's objects from `since` (epoch ms; `None`: from their
    /// watermarks); a failure is queued for the retry drain.
    pub(super) async fn reconcile_channel(
        &self,
        ch: &Channel,
        since: Option<i64>,
    ) -> Result<(), StoreError> {
        for plan in self.plans().plans_for_sobject(&ch.sobject) {
            let entry = |action| {
                LogEntry::new(self.inner.ctx.now(), RunnerKind::Webhook, action)
                    .object(plan.sobject.clone())
                    .request(format!("salesforce pubsub gap {}", ch.topic))
            };
            match self.sf_reconcile(plan, since).await {
                Ok(done) => {
                    tracing::info!(topic = %ch.topic, reason = %done.reason, "reconciled after a replay gap");
                    self.sf_log(entry(done.action).reason(done.reason)).await;
                }
                Err(f) => {
                    let key = format!("sf:{}:gap:{}", plan.object, since.unwrap_or_default());
                    let payload = json!({ "object": plan.object, "change": "GAP_OVERFLOW", "commit_ms": since });
                    self.sf_enqueue(&key, &payload, &f.error).await?;
                    self.sf_log(
                        entry(Action::Failed)
                            .reason(format!("reconcile queued for retry: {}", f.error)),
                    )
                    .await;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replay_ids_are_hex() {
        assert_eq!(super::replay_text(&[0, 0, 1, 255]), "000001ff");
        assert_eq!(super::replay_text(&[]), "");
    }
}
