//! Circuit breakers of the retry queue: one per API that is down.
//!
//! When an attempt fails because an API is unavailable (an outage, see
//! [`crate::FailureClass::Outage`]), the drain opens that API's breaker and stops: retrying the
//! rest of the queue against a dead API would only spend attempts and API calls. While a
//! breaker is open, drains do nothing until its `next_probe_at`; then one item is tried as a
//! probe. If the API answers (whatever the item's own fate), the breaker closes and the queue
//! resumes; if not, the next probe is scheduled further out.
//!
//! The state lives in the store, so every process sharing it (several Lambda instances,
//! `crmmap serve` and `crmmap retry`) pauses together, and a transition (opened, recovered)
//! happens in exactly one of them: the one whose statement made it, which alone alerts.

use time::OffsetDateTime;

use crate::Store;
use crate::db::{DbTime, with_pool};
use crate::error::Result;

/// An open breaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenBreaker {
    /// The API that is down (`salesforce`, `monday`).
    pub api: String,
    /// The failure that opened it (or the latest failed probe's), scrubbed of secrets.
    pub reason: String,
    /// When it opened.
    pub opened_at: OffsetDateTime,
    /// When the next probe is due.
    pub next_probe_at: OffsetDateTime,
    /// Failed probes since it opened.
    pub probes: u32,
}

/// What [`Store::open_breaker`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerChange {
    /// The breaker was closed and this call opened it: alert.
    Opened,
    /// It was open already (a failed probe, or another process got there first).
    StillOpen {
        /// Failed probes since it opened, this one included.
        probes: u32,
    },
}

#[derive(sqlx::FromRow)]
struct BreakerRow {
    api: String,
    reason: String,
    opened_at: DbTime,
    next_probe_at: DbTime,
    probes: i64,
}

impl From<BreakerRow> for OpenBreaker {
    fn from(r: BreakerRow) -> OpenBreaker {
        OpenBreaker {
            api: r.api,
            reason: r.reason,
            opened_at: r.opened_at.0,
            next_probe_at: r.next_probe_at.0,
            probes: u32::try_from(r.probes).unwrap_or(u32::MAX),
        }
    }
}

impl Store {
    /// Opens `api`'s breaker (or, when it is open, counts a failed probe), with the next
    /// probe due at `next_probe_at`.
    pub async fn open_breaker(
        &self,
        api: &str,
        reason: &str,
        now: OffsetDateTime,
        next_probe_at: OffsetDateTime,
    ) -> Result<BreakerChange> {
        let reason = crate::scrub::scrub_secrets(reason);
        let (probes,): (i64,) = with_pool!(self.pool(), pool => {
            sqlx::query_as(
                "INSERT INTO circuit_breakers (api, reason, opened_at, next_probe_at, probes) \
                 VALUES ($1, $2, $3, $4, 0) \
                 ON CONFLICT (api) DO UPDATE SET reason = excluded.reason, \
                   next_probe_at = excluded.next_probe_at, \
                   probes = circuit_breakers.probes + 1 \
                 RETURNING probes",
            )
            .bind(api)
            .bind(&reason)
            .bind(DbTime::from(now))
            .bind(DbTime::from(next_probe_at))
            .fetch_one(pool)
            .await?
        });
        Ok(match u32::try_from(probes).unwrap_or(u32::MAX) {
            0 => BreakerChange::Opened,
            probes => BreakerChange::StillOpen { probes },
        })
    }

    /// The open breakers.
    pub async fn open_breakers(&self) -> Result<Vec<OpenBreaker>> {
        let rows: Vec<BreakerRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(
                "SELECT api, reason, opened_at, next_probe_at, probes FROM circuit_breakers \
                 ORDER BY api",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(OpenBreaker::from).collect())
    }

    /// Closes `api`'s breaker: the API answered again. Returns the breaker when this call
    /// closed it (then alert that it recovered), `None` when it was not open.
    pub async fn close_breaker(&self, api: &str) -> Result<Option<OpenBreaker>> {
        let row: Option<BreakerRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(
                "DELETE FROM circuit_breakers WHERE api = $1 \
                 RETURNING api, reason, opened_at, next_probe_at, probes",
            )
            .bind(api)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(OpenBreaker::from))
    }
}
