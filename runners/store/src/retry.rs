//! The retry queue: work that failed, tried again later with exponential backoff,
//! and dead-lettered after too many attempts.
//!
//! A worker [claims](Store::claim_due_retries) due items for a lease, tries them,
//! then [completes](Store::complete_retry) or [fails](Store::fail_retry) each. A
//! claim carries a token: a worker whose lease ran out (and whose item another
//! worker claimed) cannot complete or fail it any more. Each claim counts as an
//! attempt, so an item that crashes its worker still reaches the dead letters.

use std::time::Duration;

use rand::Rng;
use serde_json::Value;
use sqlx::types::Json;
use time::OffsetDateTime;

use crate::db::{Conn, DbTime, Dialect, with_conn, with_pool};
use crate::error::{Result, StoreError};
use crate::{Store, parse_enum};

/// When to try again and when to give up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts (claims) after which a failing item is dead-lettered.
    pub max_attempts: u32,
    /// The delay after the first failed attempt; it doubles with each further one.
    pub base_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
    /// Up to this fraction (0.0–1.0) of the delay is taken off at random, so that
    /// items that failed together do not all come back together.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    /// 8 attempts; 30 s, 1 min, 2 min, ... up to 1 h; 20 % jitter.
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(3600),
            jitter: 0.2,
        }
    }
}

impl RetryPolicy {
    /// The delay before the next attempt after `attempts` failed attempts (≥ 1):
    /// `min(max_delay, base_delay × 2^(attempts−1))`, less a random part of up to
    /// `jitter` of it drawn from `rng`. Deterministic for a seeded `rng` or zero jitter.
    pub fn delay(&self, attempts: u32, rng: &mut impl Rng) -> Duration {
        let exp = attempts.saturating_sub(1).min(30);
        let full = self
            .base_delay
            .checked_mul(1u32 << exp)
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        let jitter = self.jitter.clamp(0.0, 1.0);
        if jitter == 0.0 {
            return full;
        }
        let cut = full.mul_f64(jitter * rng.gen_range(0.0..1.0));
        full.saturating_sub(cut)
    }
}

/// Whether an item is still retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryStatus {
    /// Waiting for its next attempt (or being attempted).
    Pending,
    /// Gave up: a dead letter.
    Dead,
}

/// An item of the retry queue.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryItem {
    /// Row id.
    pub id: i64,
    /// What kind of work (`webhook_event`, `migrate_record`, ...).
    pub kind: String,
    /// Identifies the work within its kind; enqueueing the same key again updates
    /// the item instead of adding one.
    pub dedup_key: String,
    /// What the worker needs to try again.
    pub payload: Value,
    /// The last error (scrubbed of secrets).
    pub last_error: String,
    /// Attempts made from the queue so far.
    pub attempts: u32,
    /// Pending or dead.
    pub status: RetryStatus,
    /// When it is due.
    pub next_attempt_at: OffsetDateTime,
    /// When it was first queued.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

/// An item claimed by this worker, until `claimed_until`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedRetry {
    /// The item (attempts already counts this attempt).
    pub item: RetryItem,
    /// Proves the claim to [`Store::complete_retry`] and [`Store::fail_retry`].
    pub token: i64,
    /// When the claim lapses and another worker may claim the item.
    pub claimed_until: OffsetDateTime,
}

/// What [`Store::fail_retry`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// Will be tried again at this time.
    Rescheduled(OffsetDateTime),
    /// Reached `max_attempts`: now a dead letter.
    DeadLettered,
}

#[derive(sqlx::FromRow)]
struct RetryRow {
    id: i64,
    kind: String,
    dedup_key: String,
    payload: Json<Value>,
    last_error: String,
    attempts: i64,
    status: String,
    next_attempt_at: DbTime,
    created_at: DbTime,
    updated_at: DbTime,
}

impl TryFrom<RetryRow> for RetryItem {
    type Error = StoreError;
    fn try_from(r: RetryRow) -> Result<RetryItem> {
        Ok(RetryItem {
            status: parse_enum("retry_queue.status", &r.status, |s| match s {
                "pending" => Some(RetryStatus::Pending),
                "dead" => Some(RetryStatus::Dead),
                _ => None,
            })?,
            attempts: u32::try_from(r.attempts).map_err(|_| StoreError::Corrupt {
                column: "retry_queue.attempts",
                value: r.attempts.to_string(),
            })?,
            id: r.id,
            kind: r.kind,
            dedup_key: r.dedup_key,
            payload: r.payload.0,
            last_error: r.last_error,
            next_attempt_at: r.next_attempt_at.0,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        })
    }
}

const RETRY_COLUMNS: &str = "id, kind, dedup_key, payload, last_error, attempts, status, next_attempt_at, created_at, updated_at";

fn to_time_duration(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
}

impl Store {
    /// Queues work to try again at `next_attempt_at`; returns the item id.
    ///
    /// Deduplicated by `(kind, dedup_key)` in one atomic statement: when the item
    /// is already queued, its payload and error are replaced and it becomes due at
    /// the earlier of the two times, keeping its attempts. A dead item queued again
    /// is revived with its attempts reset (new failure, new chances). `error` is
    /// scrubbed of token-shaped text.
    #[tracing::instrument(name = "store.enqueue_retry", level = "debug", skip_all)]
    pub async fn enqueue_retry(
        &self,
        kind: &str,
        dedup_key: &str,
        payload: &Value,
        error: &str,
        next_attempt_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<i64> {
        with_pool!(self.pool(), pool => {
            let mut c = pool.acquire().await?;
            enqueue_on((&mut *c).into(), kind, dedup_key, payload, error, next_attempt_at, now).await
        })
    }

    /// Claims up to `limit` due items (pending, `next_attempt_at <= now`, not
    /// claimed by a live lease) for `lease`, oldest due first, and counts an attempt
    /// on each.
    ///
    /// Concurrent claimers never get the same item: on PostgreSQL the candidates
    /// are locked with `FOR UPDATE SKIP LOCKED`, on SQLite the claiming `UPDATE` is
    /// one write and writes are serialized. An item whose lease expired (its worker
    /// died) is claimable again.
    pub async fn claim_due_retries(
        &self,
        now: OffsetDateTime,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<ClaimedRetry>> {
        let until = DbTime::from(now + to_time_duration(lease));
        let now = DbTime::from(now);
        let token: i64 = rand::thread_rng().r#gen();
        let limit = i64::from(limit);
        let rows: Vec<RetryRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(&format!(
                "UPDATE retry_queue SET claimed_until = $2, claim_token = $3, \
                 attempts = attempts + 1, updated_at = $1 \
                 WHERE id IN (SELECT id FROM retry_queue \
                   WHERE status = 'pending' AND next_attempt_at <= $1 \
                     AND (claimed_until IS NULL OR claimed_until <= $1) \
                   ORDER BY next_attempt_at, id LIMIT $4{}) \
                 RETURNING {RETRY_COLUMNS}",
                pool_skip_locked(pool),
            ))
            .bind(now)
            .bind(until)
            .bind(token)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        let mut claimed = rows
            .into_iter()
            .map(|r| {
                Ok(ClaimedRetry {
                    item: r.try_into()?,
                    token,
                    claimed_until: until.0,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        claimed.sort_by(|a, b| {
            (a.item.next_attempt_at, a.item.id).cmp(&(b.item.next_attempt_at, b.item.id))
        });
        Ok(claimed)
    }

    /// Removes a claimed item: the work succeeded (or is moot). Fails with
    /// [`StoreError::ClaimLost`] when the claim is no longer this worker's.
    pub async fn complete_retry(&self, claim: &ClaimedRetry) -> Result<()> {
        let n = with_pool!(self.pool(), pool => {
            sqlx::query("DELETE FROM retry_queue WHERE id = $1 AND claim_token = $2")
                .bind(claim.item.id)
                .bind(claim.token)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if n > 0 {
            Ok(())
        } else {
            Err(StoreError::ClaimLost { id: claim.item.id })
        }
    }

    /// Records a failed attempt of a claimed item, atomically: dead-letters it when it
    /// has had `policy.max_attempts` attempts, otherwise reschedules it at
    /// `now + policy.delay(attempts, rng)` and releases the claim. Fails with
    /// [`StoreError::ClaimLost`] when the claim is no longer this worker's.
    pub async fn fail_retry(
        &self,
        claim: &ClaimedRetry,
        error: &str,
        now: OffsetDateTime,
        policy: &RetryPolicy,
        rng: &mut impl Rng,
    ) -> Result<FailOutcome> {
        let error = crate::scrub::scrub_secrets(error);
        let attempts = claim.item.attempts;
        let outcome = if attempts >= policy.max_attempts {
            FailOutcome::DeadLettered
        } else {
            let at = DbTime::from(now + to_time_duration(policy.delay(attempts, rng)));
            FailOutcome::Rescheduled(at.0)
        };
        let (status, due) = match outcome {
            FailOutcome::DeadLettered => ("dead", DbTime::from(now)),
            FailOutcome::Rescheduled(at) => ("pending", DbTime::from(at)),
        };
        let now = DbTime::from(now);
        let n = with_pool!(self.pool(), pool => {
            sqlx::query(
                "UPDATE retry_queue SET status = $3, next_attempt_at = $4, last_error = $5, \
                 claimed_until = NULL, claim_token = NULL, updated_at = $6 \
                 WHERE id = $1 AND claim_token = $2",
            )
            .bind(claim.item.id)
            .bind(claim.token)
            .bind(status)
            .bind(due)
            .bind(&error)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if n > 0 {
            Ok(outcome)
        } else {
            Err(StoreError::ClaimLost { id: claim.item.id })
        }
    }

    /// Dead letters, most recently failed first.
    pub async fn dead_letters(&self, limit: u32) -> Result<Vec<RetryItem>> {
        let rows: Vec<RetryRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(&format!(
                "SELECT {RETRY_COLUMNS} FROM retry_queue WHERE status = 'dead' \
                 ORDER BY updated_at DESC, id DESC LIMIT $1"
            ))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(RetryItem::try_from).collect()
    }

    /// One queue item by id.
    pub async fn retry_item(&self, id: i64) -> Result<Option<RetryItem>> {
        let row: Option<RetryRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(&format!("SELECT {RETRY_COLUMNS} FROM retry_queue WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(RetryItem::try_from).transpose()
    }

    /// Puts a dead letter back in the queue, due at `now`, with its attempts reset.
    /// Returns whether a dead letter with that id existed.
    pub async fn requeue_dead(&self, id: i64, now: OffsetDateTime) -> Result<bool> {
        let now = DbTime::from(now);
        let n = with_pool!(self.pool(), pool => {
            sqlx::query(
                "UPDATE retry_queue SET status = 'pending', attempts = 0, next_attempt_at = $2, \
                 updated_at = $2 WHERE id = $1 AND status = 'dead'",
            )
            .bind(id)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n > 0)
    }
}

/// How many items the retry queue holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetryCounts {
    /// Pending items due at or before the time asked about.
    pub due: u64,
    /// Pending items due later.
    pub waiting: u64,
    /// Dead letters.
    pub dead: u64,
}

impl Store {
    /// Counts the queue's items, for `crmmap` status output and alerts.
    pub async fn retry_counts(&self, now: OffsetDateTime) -> Result<RetryCounts> {
        let now = DbTime::from(now);
        let (due, waiting, dead): (i64, i64, i64) = with_pool!(self.pool(), pool => {
            sqlx::query_as(
                "SELECT \
                   COALESCE(SUM(CASE WHEN status = 'pending' AND next_attempt_at <= $1 THEN 1 ELSE 0 END), 0), \
                   COALESCE(SUM(CASE WHEN status = 'pending' AND next_attempt_at > $1 THEN 1 ELSE 0 END), 0), \
                   COALESCE(SUM(CASE WHEN status = 'dead' THEN 1 ELSE 0 END), 0) \
                 FROM retry_queue",
            )
            .bind(now)
            .fetch_one(pool)
            .await?
        });
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(RetryCounts {
            due: count(due),
            waiting: count(waiting),
            dead: count(dead),
        })
    }
}

/// The `SKIP LOCKED` clause of a pool's backend.
fn pool_skip_locked<P: Dialect>(_pool: &P) -> &'static str {
    P::SKIP_LOCKED
}

/// [`Store::enqueue_retry`] on a given connection (inside a caller's transaction).
pub(crate) async fn enqueue_on(
    c: Conn<'_>,
    kind: &str,
    dedup_key: &str,
    payload: &Value,
    error: &str,
    next_attempt_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<i64> {
    let error = crate::scrub::scrub_secrets(error);
    let (due, now) = (DbTime::from(next_attempt_at), DbTime::from(now));
    let (id,): (i64,) = with_conn!(c, c => {
        sqlx::query_as(
            "INSERT INTO retry_queue (kind, dedup_key, payload, last_error, attempts, status, \
             next_attempt_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 0, 'pending', $5, $6, $6) \
             ON CONFLICT (kind, dedup_key) DO UPDATE SET \
               payload = excluded.payload, last_error = excluded.last_error, \
               attempts = CASE WHEN retry_queue.status = 'dead' THEN 0 ELSE retry_queue.attempts END, \
               next_attempt_at = CASE WHEN retry_queue.status = 'dead' \
                   OR excluded.next_attempt_at < retry_queue.next_attempt_at \
                   THEN excluded.next_attempt_at ELSE retry_queue.next_attempt_at END, \
               status = 'pending', updated_at = excluded.updated_at \
             RETURNING id",
        )
        .bind(kind)
        .bind(dedup_key)
        .bind(Json(payload))
        .bind(&error)
        .bind(due)
        .bind(now)
        .fetch_one(c)
        .await?
    });
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn delay_doubles_up_to_the_cap_without_jitter() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_secs(10),
            max_delay: Duration::from_secs(60),
            jitter: 0.0,
        };
        let mut rng = StdRng::seed_from_u64(1);
        let d: Vec<u64> = (1..=5).map(|a| p.delay(a, &mut rng).as_secs()).collect();
        assert_eq!(d, [10, 20, 40, 60, 60]);
        assert_eq!(p.delay(u32::MAX, &mut rng), Duration::from_secs(60));
    }

    #[test]
    fn jitter_stays_within_its_fraction_and_is_seeded() {
        let p = RetryPolicy {
            jitter: 0.5,
            ..RetryPolicy::default()
        };
        let mut a = StdRng::seed_from_u64(7);
        let mut b = StdRng::seed_from_u64(7);
        let mut seen = std::collections::BTreeSet::new();
        for attempts in 1..=6 {
            let full = p.base_delay * (1 << (attempts - 1));
            let d = p.delay(attempts, &mut a);
            assert!(d <= full && d >= full / 2, "{d:?} vs {full:?}");
            assert_eq!(d, p.delay(attempts, &mut b));
            seen.insert(d.as_millis() * 1000 / full.as_millis());
        }
        assert!(seen.len() > 1, "jitter never varied: {seen:?}");
    }
}
