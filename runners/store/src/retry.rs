//! The retry queue: work that failed, tried again later with exponential backoff,
//! and dead-lettered after too many attempts.
//!
//! A worker [claims](Store::claim_due_retries) a small batch of due items for a lease,
//! then, item by item, [starts](Store::start_retry) an attempt (which counts it and renews
//! that item's lease), tries it, and [completes](Store::complete_retry) or
//! [fails](Store::fail_retry) it; items it does not reach go back with
//! [`Store::release_retry`], uncharged. A claim carries a token: a worker whose lease ran
//! out (and whose item another worker claimed) cannot start, complete or fail it any more.
//!
//! A failure is classified ([`FailureClass`]): an *outage* of an API costs the item no
//! attempt (the drain pauses behind a circuit breaker instead, see `breaker.rs`); a
//! *permanent* refusal dead-letters the item at once, because a person must act; a
//! *transient* one is retried with backoff until `max_attempts`. An attempt is counted
//! when it starts, so an item whose attempt kills its worker still reaches the dead
//! letters.

use std::time::Duration;

use crmmap_backoff::Backoff;
use rand::Rng;
use serde_json::Value;
use sqlx::types::Json;
use time::OffsetDateTime;

use crate::db::{Conn, DbTime, Dialect, with_conn, with_pool};
use crate::error::{Result, StoreError};
use crate::{Store, parse_enum};

/// What kind of failure ended an attempt: decides what the queue does with the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureClass {
    /// The API (or the network to it) is unavailable or refuses everyone for now: connection
    /// errors, timeouts, 5xx, `SERVER_UNAVAILABLE`, the org's or the account's request
    /// limits. The item is not at fault: no attempt is charged.
    Outage,
    /// The item itself is refused and will be refused again (a validation rule, a missing
    /// required field, a value that does not parse): dead-lettered at once, for a person.
    Permanent,
    /// Anything else: tried again with backoff.
    Transient,
}

impl FailureClass {
    /// The name stored in `retry_queue.failure`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::Outage => "outage",
            FailureClass::Permanent => "permanent",
            FailureClass::Transient => "transient",
        }
    }

    fn parse(s: &str) -> Option<FailureClass> {
        match s {
            "outage" => Some(FailureClass::Outage),
            "permanent" => Some(FailureClass::Permanent),
            "transient" => Some(FailureClass::Transient),
            _ => None,
        }
    }
}

impl std::fmt::Display for FailureClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When to try again and when to give up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts of the item itself after which a failing item is dead-lettered (time an API
    /// is unreachable does not count).
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
        Backoff::new(self.base_delay, self.max_delay, self.jitter).delay(attempts, rng)
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
    /// The class of the last failure, when it was classified.
    pub failure: Option<FailureClass>,
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
    /// The item (after [`Store::start_retry`], `attempts` counts this attempt).
    pub item: RetryItem,
    /// Whether [`Store::start_retry`] counted an attempt on this claim.
    pub started: bool,
    /// Proves the claim to [`Store::start_retry`], [`Store::complete_retry`],
    /// [`Store::fail_retry`] and [`Store::release_retry`].
    pub token: i64,
    /// When the claim lapses and another worker may claim the item.
    pub claimed_until: OffsetDateTime,
}

/// What [`Store::fail_retry`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// Will be tried again at this time.
    Rescheduled(OffsetDateTime),
    /// An outage: due again at once, its attempt given back; the drain's circuit breaker
    /// decides when.
    Paused,
    /// Refused for good, or reached `max_attempts`: now a dead letter.
    DeadLettered,
}

/// Why an attempt failed, for [`Store::fail_retry`].
#[derive(Debug, Clone, Copy)]
pub struct Failure<'a> {
    /// What the queue does with the item.
    pub class: FailureClass,
    /// The error (scrubbed of secrets before it is stored).
    pub error: &'a str,
}

#[derive(sqlx::FromRow)]
struct RetryRow {
    id: i64,
    kind: String,
    dedup_key: String,
    payload: Json<Value>,
    last_error: String,
    failure: Option<String>,
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
            failure: match r.failure {
                None => None,
                Some(f) => Some(parse_enum("retry_queue.failure", &f, FailureClass::parse)?),
            },
            payload: r.payload.0,
            last_error: r.last_error,
            next_attempt_at: r.next_attempt_at.0,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        })
    }
}

const RETRY_COLUMNS: &str = "id, kind, dedup_key, payload, last_error, failure, attempts, status, next_attempt_at, created_at, updated_at";

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
            enqueue_on((&mut *c).into(), kind, dedup_key, payload, error, None, next_attempt_at, now).await
        })
    }

    /// Claims up to `limit` due items (pending, `next_attempt_at <= now`, not
    /// claimed by a live lease) for `lease`, oldest due first. A claim is no attempt:
    /// [`Store::start_retry`] counts one when the item is really tried, and items the
    /// worker does not reach go back with [`Store::release_retry`] (or when the lease runs
    /// out) uncharged. Keep batches small: the lease must cover trying all of them.
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
                "UPDATE retry_queue SET claimed_until = $2, claim_token = $3, updated_at = $1 \
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
                    started: false,
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

    /// Starts an attempt of a claimed item: counts it and renews the item's lease to
    /// `now + lease`. Returns `false` (and changes nothing) when the claim is no longer
    /// this worker's: skip the item.
    pub async fn start_retry(
        &self,
        claim: &mut ClaimedRetry,
        now: OffsetDateTime,
        lease: Duration,
    ) -> Result<bool> {
        let until = now + to_time_duration(lease);
        let row: Option<(i64,)> = with_pool!(self.pool(), pool => {
            sqlx::query_as(
                "UPDATE retry_queue SET attempts = attempts + 1, claimed_until = $3, \
                 updated_at = $4 WHERE id = $1 AND claim_token = $2 AND status = 'pending' \
                 RETURNING attempts",
            )
            .bind(claim.item.id)
            .bind(claim.token)
            .bind(DbTime::from(until))
            .bind(DbTime::from(now))
            .fetch_optional(pool)
            .await?
        });
        let Some((attempts,)) = row else {
            return Ok(false);
        };
        claim.item.attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
        claim.started = true;
        claim.claimed_until = until;
        Ok(true)
    }

    /// Gives a claimed item back untried (the worker ran out of time, or paused behind an
    /// outage): due as before, its attempt (if started) given back. A lost claim is
    /// ignored: the item is someone else's now.
    pub async fn release_retry(&self, claim: &ClaimedRetry) -> Result<()> {
        with_pool!(self.pool(), pool => {
            sqlx::query(
                "UPDATE retry_queue SET claimed_until = NULL, claim_token = NULL, \
                 attempts = attempts - $3 WHERE id = $1 AND claim_token = $2",
            )
            .bind(claim.item.id)
            .bind(claim.token)
            .bind(i64::from(claim.started))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Removes a claimed item: the work succeeded (or is moot). Fails with
    /// [`StoreError::ClaimLost`] when the claim is no longer this worker's.
    pub async fn complete_retry(&self, claim: &ClaimedRetry) -> Result<()> {
        let done = with_pool!(self.pool(), pool => {
            let mut c = pool.acquire().await?;
            complete_on((&mut *c).into(), claim.item.id, claim.token).await?
        });
        if done {
            Ok(())
        } else {
            Err(StoreError::ClaimLost { id: claim.item.id })
        }
    }

    /// Records a failed attempt of a claimed item by its class, atomically, and releases
    /// the claim:
    /// - an outage gives the attempt back and leaves the item due ([`FailOutcome::Paused`]);
    /// - a permanent failure dead-letters it;
    /// - a transient one dead-letters it when it has had `policy.max_attempts` attempts,
    ///   otherwise reschedules it at `now + policy.delay(attempts, rng)`.
    ///
    /// Fails with [`StoreError::ClaimLost`] when the claim is no longer this worker's.
    pub async fn fail_retry(
        &self,
        claim: &ClaimedRetry,
        failure: Failure<'_>,
        now: OffsetDateTime,
        policy: &RetryPolicy,
        rng: &mut impl Rng,
    ) -> Result<FailOutcome> {
        let error = crate::scrub::scrub_secrets(failure.error);
        let attempts = claim.item.attempts;
        let outcome = match failure.class {
            FailureClass::Outage => FailOutcome::Paused,
            FailureClass::Permanent => FailOutcome::DeadLettered,
            FailureClass::Transient if attempts >= policy.max_attempts => FailOutcome::DeadLettered,
            FailureClass::Transient => {
                let at = DbTime::from(now + to_time_duration(policy.delay(attempts, rng)));
                FailOutcome::Rescheduled(at.0)
            }
        };
        let (status, due, give_back) = match outcome {
            FailOutcome::DeadLettered => ("dead", DbTime::from(now), 0),
            FailOutcome::Rescheduled(at) => ("pending", DbTime::from(at), 0),
            FailOutcome::Paused => ("pending", DbTime::from(now), i64::from(claim.started)),
        };
        let now = DbTime::from(now);
        let n = with_pool!(self.pool(), pool => {
            sqlx::query(
                "UPDATE retry_queue SET status = $3, next_attempt_at = $4, last_error = $5, \
                 failure = $7, attempts = attempts - $8, \
                 claimed_until = NULL, claim_token = NULL, updated_at = $6 \
                 WHERE id = $1 AND claim_token = $2",
            )
            .bind(claim.item.id)
            .bind(claim.token)
            .bind(status)
            .bind(due)
            .bind(&error)
            .bind(now)
            .bind(failure.class.as_str())
            .bind(give_back)
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
        let n = self
            .requeue_dead_where(
                &RequeueFilter {
                    id: Some(id),
                    ..RequeueFilter::default()
                },
                now,
            )
            .await?;
        Ok(n > 0)
    }

    /// Puts every dead letter that `filter` selects back in the queue, due at `now`, with
    /// its attempts reset. Returns how many.
    pub async fn requeue_dead_where(
        &self,
        filter: &RequeueFilter,
        now: OffsetDateTime,
    ) -> Result<u64> {
        let since = filter.since.map(DbTime::from);
        let reason = filter
            .reason
            .as_deref()
            .map(|r| format!("%{}%", like_escape(&r.to_lowercase())));
        let n = with_pool!(self.pool(), pool => {
            sqlx::query(
                "UPDATE retry_queue SET status = 'pending', attempts = 0, next_attempt_at = $1, \
                 updated_at = $1, alerted_at = NULL WHERE status = 'dead' \
                   AND ($2 IS NULL OR id = $2) \
                   AND ($3 IS NULL OR updated_at >= $3) \
                   AND ($4 IS NULL OR LOWER(last_error) LIKE $4 ESCAPE '\\')",
            )
            .bind(DbTime::from(now))
            .bind(filter.id)
            .bind(since)
            .bind(reason)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n)
    }
}

impl Store {
    /// The dead letters not reported in an alert yet, marked reported in the same statement
    /// (so that of two processes draining at once, one reports each), oldest first.
    pub async fn take_unalerted_dead(&self, now: OffsetDateTime) -> Result<Vec<RetryItem>> {
        let rows: Vec<RetryRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(&format!(
                "UPDATE retry_queue SET alerted_at = $1 \
                 WHERE status = 'dead' AND alerted_at IS NULL \
                 RETURNING {RETRY_COLUMNS}"
            ))
            .bind(DbTime::from(now))
            .fetch_all(pool)
            .await?
        });
        let mut items = rows
            .into_iter()
            .map(RetryItem::try_from)
            .collect::<Result<Vec<_>>>()?;
        items.sort_by_key(|i| (i.updated_at, i.id));
        Ok(items)
    }
}

/// Which dead letters [`Store::requeue_dead_where`] revives; every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequeueFilter {
    /// This one only.
    pub id: Option<i64>,
    /// Dead-lettered at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Whose last error contains this text (case-insensitive).
    pub reason: Option<String>,
}

/// Escapes `LIKE`'s wildcards (with `\\`) so that user text matches literally.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
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

/// Removes the retry item `id` if `token` still claims it (inside a caller's transaction
/// when there is one); `false` when the claim is lost.
pub(crate) async fn complete_on(c: Conn<'_>, id: i64, token: i64) -> Result<bool> {
    let n = with_conn!(c, c => {
        sqlx::query("DELETE FROM retry_queue WHERE id = $1 AND claim_token = $2")
            .bind(id)
            .bind(token)
            .execute(c)
            .await?
            .rows_affected()
    });
    Ok(n > 0)
}

/// [`Store::enqueue_retry`] on a given connection (inside a caller's transaction). A
/// `failure` of [`FailureClass::Permanent`] queues the work as a dead letter at once.
#[expect(
    clippy::too_many_arguments,
    reason = "one column each; called from two places"
)]
pub(crate) async fn enqueue_on(
    c: Conn<'_>,
    kind: &str,
    dedup_key: &str,
    payload: &Value,
    error: &str,
    failure: Option<FailureClass>,
    next_attempt_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<i64> {
    let error = crate::scrub::scrub_secrets(error);
    let status = match failure {
        Some(FailureClass::Permanent) => "dead",
        _ => "pending",
    };
    let (due, now) = (DbTime::from(next_attempt_at), DbTime::from(now));
    let (id,): (i64,) = with_conn!(c, c => {
        sqlx::query_as(
            "INSERT INTO retry_queue (kind, dedup_key, payload, last_error, failure, attempts, \
             status, next_attempt_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $7, 0, $8, $5, $6, $6) \
             ON CONFLICT (kind, dedup_key) DO UPDATE SET \
               payload = excluded.payload, last_error = excluded.last_error, \
               failure = excluded.failure, alerted_at = NULL, \
               attempts = CASE WHEN retry_queue.status = 'dead' THEN 0 ELSE retry_queue.attempts END, \
               next_attempt_at = CASE WHEN retry_queue.status = 'dead' \
                   OR excluded.next_attempt_at < retry_queue.next_attempt_at \
                   THEN excluded.next_attempt_at ELSE retry_queue.next_attempt_at END, \
               status = excluded.status, updated_at = excluded.updated_at \
             RETURNING id",
        )
        .bind(kind)
        .bind(dedup_key)
        .bind(Json(payload))
        .bind(&error)
        .bind(due)
        .bind(now)
        .bind(failure.map(FailureClass::as_str))
        .bind(status)
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
