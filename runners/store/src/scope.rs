//! One webhook event on one monday item, as one unit of work.
//!
//! Applying a column change costs the webhook runner two API calls; what it must remember
//! around them is taken and written here in as few round trips and commits as the
//! guarantees allow:
//!
//! - **begin** ([`Store::begin_item_event`]) takes the item's lock and claims the event
//!   (deduplication) together. On PostgreSQL that is `BEGIN` and one statement that waits
//!   for the item's transaction-scoped advisory lock and then claims the event; the
//!   transaction stays open while the event is applied. On SQLite it is the in-process
//!   item lock and one insert.
//! - **finish** ([`EventScope::finish`]) writes the last-synced values, the event's
//!   outcome, its sync-log row and, when it failed, its retry, in one transaction with one
//!   commit. On PostgreSQL that commit also frees the lock, so the next event of the item
//!   sees everything this one wrote.
//!
//!
//! A queued event tried again by the retry drain goes through the same scope
//! ([`Store::begin_item_retry`]): its `finish` also removes the claimed retry item, in the
//! same commit, so the values, the log row, the event's outcome and the queue's completion
//! are written together or not at all (a lost claim rolls everything back). When the retry
//! fails, [`EventScope::leave`] writes no more than the event's outcome, and the drain
//! records the failure with [`Store::fail_retry`].
//!
//! A scope dropped without `finish` (a crash, a panic, a cancelled future): on PostgreSQL
//! its session is closed, the transaction rolls back and the event is unclaimed again (a
//! redelivery applies it); on SQLite the claim stays `in progress` until its lease runs
//! out, as with [`Store::begin_event`].

use std::fmt;

use crmmap_ids::{BoardId, ItemId};
use serde_json::{Value, json};
use sqlx::types::Json;
use sqlx::{Executor, SqlitePool};
use time::OffsetDateTime;

use crate::db::{Conn, DbTime, Dialect, Pool};
use crate::error::Result;
use crate::events::finish_on;
use crate::links::set_values_on;
use crate::lock::{CloseUnlessKept, ItemGuard, PG_LOCK_NAMESPACE, item_key};
use crate::log::{insert_log, scrubbed_texts};
use crate::retry::{ClaimedRetry, FailureClass, complete_on, enqueue_on};
use crate::scrub::scrub_secrets;
use crate::{EVENT_LEASE, EventOutcome, EventStart, LogEntry, SetValue, Store, StoreError};

/// What [`Store::begin_item_event`] found.
#[derive(Debug)]
pub enum ItemEvent {
    /// The caller holds the item and owns the event: apply it, then
    /// [`EventScope::finish`].
    Started(EventScope),
    /// The event was applied before: change nothing, acknowledge the delivery.
    AlreadyApplied,
    /// Another process on the same database claimed it and its lease has not run out.
    InProgress,
}

/// An event being applied under its item's lock (see the module documentation).
#[must_use = "an event scope that is dropped unfinished is rolled back"]
pub struct EventScope {
    key: String,
    board_id: BoardId,
    item_id: ItemId,
    /// Whether this scope claimed the event (deduplication): only then does it write the
    /// event's outcome.
    claimed: bool,
    /// The retry item (id, claim token) this scope completes, for a queued event.
    completes: Option<(i64, i64)>,
    inner: ScopeInner,
}

enum ScopeInner {
    /// The item's in-process lock; the claim is committed `in progress`.
    Sqlite { pool: SqlitePool, _lock: ItemGuard },
    /// An open transaction that holds the item's advisory lock and the uncommitted claim.
    /// Dropped unfinished, the connection is closed, which rolls it back.
    Postgres { conn: CloseUnlessKept },
}

impl fmt::Debug for EventScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventScope")
            .field("key", &self.key)
            .field("board_id", &self.board_id)
            .field("item_id", &self.item_id)
            .field("claimed", &self.claimed)
            .field("completes", &self.completes.map(|(id, _)| id))
            .finish_non_exhaustive()
    }
}

/// How an event ended and what it leaves behind, written by [`EventScope::finish`].
#[derive(Debug, Clone, Copy)]
pub struct Completion<'a> {
    /// Recorded for deduplication.
    pub outcome: EventOutcome,
    /// A short, secret-free note on the event (scrubbed defensively).
    pub detail: Option<&'a str>,
    /// Last-synced values of the item. Dropped when the item is no longer linked (there is
    /// nothing to remember them against).
    pub values: &'a [SetValue],
    /// The decision for the sync log.
    pub log: &'a LogEntry,
    /// Work for the retry queue, deduplicated by the event's key. In a scope of
    /// [`Store::begin_item_retry`] it is queued afresh after the claimed item is removed.
    pub retry: Option<RetryRequest<'a>>,
    /// The time written with the values and the outcome.
    pub now: OffsetDateTime,
}

impl<'a> Completion<'a> {
    /// An applied event's outcome: its note, the item's last-synced values and its log row,
    /// nothing queued.
    pub fn applied(
        detail: &'a str,
        values: &'a [SetValue],
        log: &'a LogEntry,
        now: OffsetDateTime,
    ) -> Self {
        Completion {
            outcome: EventOutcome::Applied,
            detail: Some(detail),
            values,
            log,
            retry: None,
            now,
        }
    }
}

/// A retry queued together with an event's outcome (see [`Store::enqueue_retry`]).
#[derive(Debug, Clone, Copy)]
pub struct RetryRequest<'a> {
    /// What kind of work (`webhook_event`).
    pub kind: &'a str,
    /// What the worker needs to try again.
    pub payload: &'a Value,
    /// Why it failed (scrubbed of secrets).
    pub error: &'a str,
    /// What kind of failure: a permanent one is queued as a dead letter at once.
    pub failure: FailureClass,
    /// When it is due.
    pub due: OffsetDateTime,
}

/// Waits for the item's transaction-scoped lock, then claims the event: inserted, or
/// taken over when it failed before or its owner's lease ran out. A row comes back only
/// when this caller owns the event. The lock is taken first (`INSERT … SELECT FROM
/// locked`), so the claim is decided after the previous holder committed.
const PG_LOCK_AND_CLAIM: &str = "\
    WITH locked AS (SELECT pg_advisory_xact_lock($1, hashtext($2))) \
    INSERT INTO processed_events (trigger_uuid, status, attempts, started_at) \
    SELECT $3, 'in_progress', 1, $4 FROM locked \
    ON CONFLICT (trigger_uuid) DO UPDATE \
    SET status = 'in_progress', attempts = processed_events.attempts + 1, \
        started_at = excluded.started_at, finished_at = NULL, detail = NULL \
    WHERE processed_events.status = 'failed' \
       OR (processed_events.status = 'in_progress' AND processed_events.started_at < $5) \
    RETURNING attempts";

impl Store {
    /// Takes the lock of a monday item and claims one of its events (see the module
    /// documentation). Events of one item are served in arrival order, across every
    /// process sharing a PostgreSQL database (as [`Store::lock_item`]). Waiting is
    /// unbounded; bound it with `tokio::time::timeout` (cancelling is safe).
    #[tracing::instrument(name = "store.begin_item_event", level = "debug", skip_all)]
    pub async fn begin_item_event(
        &self,
        key: &str,
        board_id: BoardId,
        item_id: ItemId,
        now: OffsetDateTime,
    ) -> Result<ItemEvent> {
        self.begin_scope(key, board_id, item_id, true, None, now)
            .await
    }

    /// [`Store::begin_item_event`] for a queued event the retry drain claimed and started:
    /// the scope's [`EventScope::finish`] also removes `retry` from the queue, in the same
    /// commit, and fails with [`StoreError::ClaimLost`] (writing nothing) when the claim is
    /// no longer this worker's. With `check_dedup` the event is claimed as a delivery is
    /// (it was queued before anything claimed it); without, the queue already owns it and
    /// only the item's lock is taken (the answer is then always `Started`).
    #[tracing::instrument(name = "store.begin_item_retry", level = "debug", skip_all)]
    pub async fn begin_item_retry(
        &self,
        retry: &ClaimedRetry,
        board_id: BoardId,
        item_id: ItemId,
        check_dedup: bool,
        now: OffsetDateTime,
    ) -> Result<ItemEvent> {
        let completes = Some((retry.item.id, retry.token));
        let key = &retry.item.dedup_key;
        self.begin_scope(key, board_id, item_id, check_dedup, completes, now)
            .await
    }

    async fn begin_scope(
        &self,
        key: &str,
        board_id: BoardId,
        item_id: ItemId,
        claim: bool,
        completes: Option<(i64, i64)>,
        now: OffsetDateTime,
    ) -> Result<ItemEvent> {
        let scope = |inner| EventScope {
            key: key.to_owned(),
            board_id,
            item_id,
            claimed: claim,
            completes,
            inner,
        };
        match self.pool() {
            Pool::Sqlite(pool) => {
                let lock = self.lock_item(board_id, item_id).await?;
                if !claim {
                    return Ok(ItemEvent::Started(scope(ScopeInner::Sqlite {
                        pool: pool.clone(),
                        _lock: lock,
                    })));
                }
                Ok(match self.begin_event(key, now).await? {
                    EventStart::Started => ItemEvent::Started(scope(ScopeInner::Sqlite {
                        pool: pool.clone(),
                        _lock: lock,
                    })),
                    EventStart::AlreadyApplied => ItemEvent::AlreadyApplied,
                    EventStart::InProgress => ItemEvent::InProgress,
                })
            }
            Pool::Postgres(pool) => {
                // Closed (rolled back, unlocked) if anything below fails or is cancelled.
                let mut conn = CloseUnlessKept(Some(self.lock_pool(pool).acquire().await?));
                let Some(c) = conn.0.as_mut() else {
                    unreachable!("just acquired")
                };
                (&mut **c).execute("BEGIN").await?;
                if !claim {
                    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                        .bind(PG_LOCK_NAMESPACE)
                        .bind(item_key(board_id, item_id))
                        .execute(&mut **c)
                        .await?;
                    return Ok(ItemEvent::Started(scope(ScopeInner::Postgres { conn })));
                }
                let claimed = sqlx::query(PG_LOCK_AND_CLAIM)
                    .bind(PG_LOCK_NAMESPACE)
                    .bind(item_key(board_id, item_id))
                    .bind(key)
                    .bind(DbTime::from(now))
                    .bind(DbTime::from(now - EVENT_LEASE))
                    .fetch_optional(&mut **c)
                    .await?;
                if claimed.is_some() {
                    return Ok(ItemEvent::Started(scope(ScopeInner::Postgres { conn })));
                }
                let status: Option<(String,)> =
                    sqlx::query_as("SELECT status FROM processed_events WHERE trigger_uuid = $1")
                        .bind(key)
                        .fetch_optional(&mut **c)
                        .await?;
                (&mut **c).execute("ROLLBACK").await?;
                conn.0.take();
                Ok(match status {
                    Some((s,)) if s == "applied" => ItemEvent::AlreadyApplied,
                    _ => ItemEvent::InProgress,
                })
            }
        }
    }
}

impl EventScope {
    /// Writes how the event ended and what it leaves behind, in one transaction, then
    /// frees the item. On error nothing was written (and the claim is released as when
    /// the scope is dropped); in a scope of [`Store::begin_item_retry`], that includes
    /// [`StoreError::ClaimLost`] when the retry item is no longer this worker's.
    #[tracing::instrument(name = "store.finish_item_event", level = "debug", skip_all)]
    pub async fn finish(mut self, done: Completion<'_>) -> Result<()> {
        let s = Written {
            key: &self.key,
            board_id: self.board_id,
            item_id: self.item_id,
            claimed: self.claimed,
            completes: self.completes,
        };
        match &mut self.inner {
            ScopeInner::Sqlite { pool, .. } => {
                let mut tx = pool.begin_write().await?;
                write_completion((&mut *tx).into(), &s, &done).await?;
                tx.commit().await?;
            }
            ScopeInner::Postgres { conn } => {
                let Some(c) = conn.0.as_mut() else {
                    unreachable!("held until finished")
                };
                write_completion((&mut **c).into(), &s, &done).await?;
                (&mut **c).execute("COMMIT").await?;
                conn.0.take();
            }
        }
        // Dropping the scope frees an SQLite item lock only now, after the commit.
        Ok(())
    }

    /// Ends the scope without applying the event: the retry queue keeps it (the caller
    /// records the failure, e.g. with [`Store::fail_retry`]). When this scope claimed the
    /// event, `outcome` and `detail` are recorded for deduplication, in one commit;
    /// otherwise nothing is written. Then the item is freed.
    #[tracing::instrument(name = "store.leave_item_event", level = "debug", skip_all)]
    pub async fn leave(
        mut self,
        outcome: EventOutcome,
        detail: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<()> {
        match &mut self.inner {
            ScopeInner::Sqlite { pool, .. } => {
                if self.claimed {
                    let mut c = pool.acquire().await?;
                    finish_on((&mut *c).into(), &self.key, outcome, detail, now).await?;
                }
            }
            ScopeInner::Postgres { conn } => {
                let Some(c) = conn.0.as_mut() else {
                    unreachable!("held until finished")
                };
                if self.claimed {
                    finish_on((&mut **c).into(), &self.key, outcome, detail, now).await?;
                    (&mut **c).execute("COMMIT").await?;
                } else {
                    (&mut **c).execute("ROLLBACK").await?;
                }
                conn.0.take();
            }
        }
        Ok(())
    }
}

/// What a scope writes against: its event, item, and the retry item it completes.
struct Written<'a> {
    key: &'a str,
    board_id: BoardId,
    item_id: ItemId,
    claimed: bool,
    completes: Option<(i64, i64)>,
}

async fn write_completion(mut c: Conn<'_>, s: &Written<'_>, done: &Completion<'_>) -> Result<()> {
    let (key, board_id, item_id) = (s.key, s.board_id, s.item_id);
    if let Some((id, token)) = s.completes
        && !complete_on(c.reborrow(), id, token).await?
    {
        return Err(StoreError::ClaimLost { id });
    }
    if let Some(r) = done.retry {
        enqueue_on(
            c.reborrow(),
            r.kind,
            key,
            r.payload,
            r.error,
            Some(r.failure),
            r.due,
            done.now,
        )
        .await?;
    }
    let mut c = match c {
        Conn::Postgres(pg) => return pg_complete(pg, s, done).await,
        sqlite => sqlite,
    };
    if !done.values.is_empty() {
        set_values_on(c.reborrow(), board_id, item_id, done.values, done.now).await?;
    }
    if s.claimed {
        finish_on(c.reborrow(), key, done.outcome, done.detail, done.now).await?;
    }
    insert_log(c, done.log).await?;
    Ok(())
}

/// PostgreSQL: the last-synced values, the event's outcome (when the scope claimed it,
/// `$19`) and its log row in one statement (one round trip). The same writes as
/// `set_values_on`, `finish_on` and `insert_log`; values of an item no longer linked are
/// dropped, a key given twice keeps its last value.
const PG_COMPLETE: &str = "\
    WITH v AS ( \
        INSERT INTO synced_values (board_id, item_id, key, value, source, synced_at) \
        SELECT DISTINCT ON (e.value->>'key') $1, $2, e.value->>'key', e.value->'value', \
               e.value->>'source', $3 \
        FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY AS e(value, n) \
        WHERE EXISTS (SELECT 1 FROM links WHERE board_id = $1 AND item_id = $2) \
        ORDER BY e.value->>'key', e.n DESC \
        ON CONFLICT (board_id, item_id, key) DO UPDATE \
        SET value = excluded.value, source = excluded.source, synced_at = excluded.synced_at \
    ), ev AS ( \
        UPDATE processed_events SET status = $5, detail = $6, finished_at = $3 \
        WHERE trigger_uuid = $7 AND $19 \
    ) \
    INSERT INTO sync_log (at, runner, object, board_id, item_id, record_id, trigger_uuid, \
                          action, reason, request_summary, response_summary) \
    VALUES ($8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)";

async fn pg_complete(
    c: &mut sqlx::PgConnection,
    s: &Written<'_>,
    done: &Completion<'_>,
) -> Result<()> {
    let (key, board_id, item_id) = (s.key, s.board_id, s.item_id);
    let values: Vec<Value> = done
        .values
        .iter()
        .map(|v| json!({ "key": v.key.encode(), "value": v.value, "source": v.source.as_str() }))
        .collect();
    let log = done.log;
    let [reason, request, response] = scrubbed_texts(log);
    sqlx::query(PG_COMPLETE)
        .bind(board_id.to_string())
        .bind(item_id.to_string())
        .bind(DbTime::from(done.now))
        .bind(Json(values))
        .bind(done.outcome.as_str())
        .bind(done.detail.map(scrub_secrets))
        .bind(key)
        .bind(DbTime::from(log.at))
        .bind(log.runner.as_str())
        .bind(&log.object)
        .bind(&log.board_id)
        .bind(&log.item_id)
        .bind(&log.record_id)
        .bind(&log.trigger_uuid)
        .bind(log.action.as_str())
        .bind(reason)
        .bind(request)
        .bind(response)
        .bind(s.claimed)
        .execute(c)
        .await?;
    Ok(())
}
