//! `GAP_OVERFLOW`: a transaction too large for change events (§1c) names no records, so the
//! object is reconciled by an incremental migration from the event's commit time: the
//! object's watermarks (records and deletions) are moved back to it when they are later,
//! and the migrator runs for that object (under its lease, like any migration).

use crmmap_engine::plan::Plan;
use crmmap_store::{Action, EventOutcome, EventStart, StoreError, Watermark, WatermarkKey};
use crmmap_sync::migrate::{MigrateOptions, NoProgress};
use time::OffsetDateTime;

use super::event::Envelope;
use super::{Failed, retry_payload};
use crate::{Done, Outcome, Webhook};

/// How long an overflow's migration waits for a running one before it is queued.
const LEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

impl Webhook {
    /// An overflow event of one object: claimed once (its identity, or its commit), then
    /// reconciled; a failure is queued with the commit time.
    pub(super) async fn overflow(
        &self,
        plan: &Plan,
        envelope: &Envelope,
    ) -> Result<Outcome, StoreError> {
        let ev = &envelope.event;
        let key = super::event_key(envelope, "overflow").unwrap_or_else(|| {
            format!(
                "sf:{}:overflow:{}",
                ev.entity,
                ev.commit_ms.unwrap_or_default()
            )
        });
        let store = &self.inner.ctx.store;
        match store.begin_event(&key, self.inner.ctx.now()).await? {
            EventStart::Started => {}
            EventStart::AlreadyApplied => return Ok(Outcome::Duplicate),
            EventStart::InProgress => {
                return Ok(Outcome::Queued("in progress elsewhere".into()));
            }
        }
        let entry = |action| {
            self.sf_entry(plan, ev, "", action, &key)
                .request("salesforce GAP_OVERFLOW")
        };
        match self.sf_reconcile(plan, ev.commit_ms).await {
            Ok(done) => {
                self.sf_log(entry(done.action).reason(done.reason.clone()))
                    .await;
                store
                    .finish_event(&key, EventOutcome::Applied, None, self.inner.ctx.now())
                    .await?;
                Ok(Outcome::Done(done))
            }
            Err(f) => {
                let payload = retry_payload(plan, ev, None);
                let now = self.inner.ctx.now();
                self.sf_enqueue(&key, &payload, &f.error).await?;
                self.sf_log(entry(Action::Failed).reason(format!("queued for retry: {}", f.error)))
                    .await;
                // The queue owns it now.
                store
                    .finish_event(&key, EventOutcome::Applied, Some("queued for retry"), now)
                    .await?;
                Ok(Outcome::Queued(f.error))
            }
        }
    }

    /// Moves the object's watermarks back to `commit_ms` (when later) and migrates it.
    pub(super) async fn sf_reconcile(
        &self,
        plan: &Plan,
        commit_ms: Option<i64>,
    ) -> Result<Done, Failed> {
        let ctx = &self.inner.ctx;
        let since = commit_ms.and_then(|ms| {
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
        });
        if let Some(since) = since {
            // The migrator's watermark keys: the object's name, and its deletions'.
            let object = plan.object.clone();
            for key in [
                WatermarkKey::Records(&object),
                WatermarkKey::Deletions(&object),
            ] {
                if let Some(w) = ctx.store.watermark(key).await?
                    && w.modstamp > since
                {
                    let back = Watermark::new(since, "");
                    ctx.store.set_watermark(key, &back, ctx.now()).await?;
                }
            }
        }
        let options = MigrateOptions {
            objects: vec![plan.object.clone()],
            lease_wait: LEASE_WAIT,
            runner: "a salesforce overflow event".to_owned(),
            ..MigrateOptions::default()
        };
        let report = crmmap_sync::migrate::run(ctx, &options, &mut NoProgress).await?;
        let t = report.total();
        Ok(Done::new(
            Action::Updated,
            Some(plan),
            None,
            format!(
                "overflow: reconciled {} from {}: read {}, created {}, updated {}, failed {}",
                plan.object,
                since.map_or_else(|| "its watermark".to_owned(), |s| s.to_string()),
                t.read,
                t.created,
                t.updated,
                t.failed
            ),
        ))
    }
}
