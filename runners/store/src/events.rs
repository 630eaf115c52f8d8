//! Processed webhook events: a delivery is applied at most once.

use time::OffsetDateTime;

use crate::db::{Conn, DbTime, Dialect, with_conn, with_pool};
use crate::error::Result;
use crate::{Store, StoreError};

/// How long an event may stay `in progress` before another instance may take it
/// over (the first one is presumed dead). Longer than the longest Lambda run (15
/// minutes), so a live instance is never overtaken.
pub const EVENT_LEASE: time::Duration = time::Duration::minutes(16);

/// The key under which a monday delivery is deduplicated: its `triggerUuid`.
///
/// monday delivers at least once and marks a redelivery of the same event with
/// `isRetry: true`; the key to deduplicate on is `triggerUuid` (reference `monday-api.md`
/// §5.4). `originalTriggerUuid` is documented nowhere: every captured payload has `null`
/// (§5.5), and its name suggests the trigger upstream of an automation chain, which several
/// distinct events may share. Keyed on it, two different changes could be dropped as one,
/// so it is not part of the key (the webhook runner keeps it in the sync log). This is the
/// one place that makes the choice.
pub fn event_dedup_key(trigger_uuid: &str) -> &str {
    trigger_uuid
}

/// What [`Store::begin_event`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStart {
    /// This caller owns the event now and must apply it, then call
    /// [`Store::finish_event`].
    Started,
    /// The event was applied before: change nothing, acknowledge the delivery.
    AlreadyApplied,
    /// Another instance is applying it right now: change nothing; the delivery may
    /// be acknowledged or left to monday's retry.
    InProgress,
}

/// How applying an event ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutcome {
    /// Applied (or deliberately skipped): a redelivery changes nothing.
    Applied,
    /// Failed: a redelivery may start it again.
    Failed,
}

impl EventOutcome {
    /// The status stored in the database.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EventOutcome::Applied => "applied",
            EventOutcome::Failed => "failed",
        }
    }
}

impl Store {
    /// Claims a delivery for applying, atomically.
    ///
    /// The first caller for a key gets [`EventStart::Started`] (a unique-key insert
    /// decides, so exactly one of any number of concurrent callers, on any number of
    /// instances sharing the database, wins). A later caller gets
    /// [`EventStart::AlreadyApplied`] when it was applied, and
    /// [`EventStart::InProgress`] while another owner holds it. An event that
    /// [`EventOutcome::Failed`], or whose owner has held it longer than
    /// [`EVENT_LEASE`] before `now`, is taken over: that caller gets `Started`.
    ///
    /// Pass the key from [`event_dedup_key`].
    #[tracing::instrument(name = "store.begin_event", level = "debug", skip_all)]
    pub async fn begin_event(&self, key: &str, now: OffsetDateTime) -> Result<EventStart> {
        let stale_before = DbTime::from(now - EVENT_LEASE);
        let now = DbTime::from(now);
        // Each statement is atomic on its own; the loop covers a state change between them.
        for _ in 0..3 {
            let inserted = with_pool!(self.pool(), pool => {
                sqlx::query(
                    "INSERT INTO processed_events (trigger_uuid, status, attempts, started_at) \
                     VALUES ($1, 'in_progress', 1, $2) ON CONFLICT (trigger_uuid) DO NOTHING",
                )
                .bind(key)
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
            });
            if inserted == 1 {
                return Ok(EventStart::Started);
            }
            let taken_over = with_pool!(self.pool(), pool => {
                sqlx::query(
                    "UPDATE processed_events \
                     SET status = 'in_progress', attempts = attempts + 1, started_at = $2, \
                         finished_at = NULL, detail = NULL \
                     WHERE trigger_uuid = $1 \
                       AND (status = 'failed' OR (status = 'in_progress' AND started_at < $3))",
                )
                .bind(key)
                .bind(now)
                .bind(stale_before)
                .execute(pool)
                .await?
                .rows_affected()
            });
            if taken_over == 1 {
                return Ok(EventStart::Started);
            }
            let status: Option<(String,)> = with_pool!(self.pool(), pool => {
                sqlx::query_as("SELECT status FROM processed_events WHERE trigger_uuid = $1")
                    .bind(key)
                    .fetch_optional(pool)
                    .await?
            });
            match status.as_ref().map(|s| s.0.as_str()) {
                Some("applied") => return Ok(EventStart::AlreadyApplied),
                Some("in_progress") => return Ok(EventStart::InProgress),
                Some("failed") | None => continue,
                Some(other) => {
                    return Err(StoreError::Corrupt {
                        column: "processed_events.status",
                        value: other.to_owned(),
                    });
                }
            }
        }
        // Three lost races in a row: someone else is working on it.
        Ok(EventStart::InProgress)
    }

    /// Records how applying an event ended. Idempotent. `detail` is a short,
    /// secret-free note (it is scrubbed defensively).
    #[tracing::instrument(name = "store.finish_event", level = "debug", skip_all)]
    pub async fn finish_event(
        &self,
        key: &str,
        outcome: EventOutcome,
        detail: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<()> {
        with_pool!(self.pool(), pool => {
            let mut c = pool.acquire().await?;
            finish_on((&mut *c).into(), key, outcome, detail, now).await
        })
    }

    /// Records an event that is skipped for what it is (nothing to apply) together with its
    /// log row, in one transaction: `true` when the event was new, `false` (and nothing
    /// written) when it was seen before, whatever its state.
    pub async fn record_skipped_event(
        &self,
        key: &str,
        log: &crate::LogEntry,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let detail = log.reason.as_deref().map(crate::scrub::scrub_secrets);
        let now = DbTime::from(now);
        with_pool!(self.pool(), pool => {
            let mut tx = pool.begin_write().await?;
            let new = sqlx::query(
                "INSERT INTO processed_events \
                 (trigger_uuid, status, attempts, started_at, finished_at, detail) \
                 VALUES ($1, 'applied', 1, $2, $2, $3) ON CONFLICT (trigger_uuid) DO NOTHING",
            )
            .bind(key)
            .bind(now)
            .bind(detail)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if new {
                crate::log::insert_log((&mut *tx).into(), log).await?;
                tx.commit().await?;
            }
            Ok(new)
        })
    }

    /// Forgets finished events that started before `before` (retention). Events in
    /// progress are kept. Choose `before` well past monday's redelivery window
    /// (30 minutes), or a late redelivery would be applied again. Returns how many.
    pub async fn prune_events(&self, before: OffsetDateTime) -> Result<u64> {
        let before = DbTime::from(before);
        let n = with_pool!(self.pool(), pool => {
            sqlx::query(
                "DELETE FROM processed_events WHERE status <> 'in_progress' AND started_at < $1",
            )
            .bind(before)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n)
    }
}

/// [`Store::finish_event`] on a given connection (inside a caller's transaction).
pub(crate) async fn finish_on(
    c: Conn<'_>,
    key: &str,
    outcome: EventOutcome,
    detail: Option<&str>,
    now: OffsetDateTime,
) -> Result<()> {
    let status = outcome.as_str();
    let detail = detail.map(crate::scrub::scrub_secrets);
    let now = DbTime::from(now);
    with_conn!(c, c => {
        sqlx::query(
            "UPDATE processed_events SET status = $2, detail = $3, finished_at = $4 \
             WHERE trigger_uuid = $1",
        )
        .bind(key)
        .bind(status)
        .bind(detail)
        .bind(now)
        .execute(c)
        .await?;
    });
    Ok(())
}
