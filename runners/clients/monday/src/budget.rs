//! Pacing against monday's per-minute complexity budget.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::types::Complexity;

/// Tracks the complexity budget from the `complexity` object of each response and makes
/// requests wait until the budget has room for their estimated cost.
#[derive(Debug)]
pub struct BudgetTracker {
    limit: AtomicU64,
    state: Mutex<BudgetState>,
}

#[derive(Debug, Default)]
struct BudgetState {
    /// Budget known to be left (minus reservations), until `reset_at`.
    remaining: Option<u64>,
    /// When the server's window resets.
    reset_at: Option<Instant>,
}

/// Extra wait after the announced reset, so that rounding never lands us just before it.
const RESET_MARGIN: Duration = Duration::from_millis(50);

impl BudgetTracker {
    /// A tracker for a budget of `limit` points per minute.
    pub fn new(limit: u64) -> Self {
        Self {
            limit: AtomicU64::new(limit),
            state: Mutex::new(BudgetState::default()),
        }
    }

    /// The per-minute limit this tracker assumes.
    pub fn limit(&self) -> u64 {
        self.limit.load(Ordering::Relaxed)
    }

    /// Adopts the limit the server announces (`RateLimit-Policy`).
    pub fn set_limit(&self, limit: u64) {
        self.limit.store(limit, Ordering::Relaxed);
    }

    /// Waits until the budget has room for `estimate`, then reserves it. Returns how long it
    /// waited. An estimate above the whole limit only waits for a fresh window.
    pub async fn acquire(&self, estimate: u64) -> Duration {
        match self.acquire_within(estimate, Duration::MAX).await {
            Ok(waited) | Err(waited) => waited,
        }
    }

    /// [`Self::acquire`], unless that means waiting longer than `limit` in all: then it
    /// reserves nothing and returns at once with `Err` of the whole wait it would need.
    pub async fn acquire_within(
        &self,
        estimate: u64,
        limit: Duration,
    ) -> Result<Duration, Duration> {
        let started = Instant::now();
        loop {
            let wait_until = {
                let mut state = self.state.lock().await;
                let now = Instant::now();
                if state.reset_at.is_some_and(|at| at <= now) {
                    *state = BudgetState::default();
                }
                let limit = self.limit();
                let remaining = state.remaining.unwrap_or(limit);
                if remaining >= estimate || (state.remaining.is_none() && estimate > limit) {
                    state.remaining = Some(remaining.saturating_sub(estimate));
                    return Ok(started.elapsed());
                }
                state.reset_at.unwrap_or(now + Duration::from_secs(1))
            };
            let needed = started
                .elapsed()
                .saturating_add(wait_until.saturating_duration_since(Instant::now()));
            if needed > limit {
                return Err(needed);
            }
            tracing::debug!(
                estimate,
                "waiting for the monday complexity budget to reset"
            );
            tokio::time::sleep_until(wait_until + RESET_MARGIN).await;
        }
    }

    /// Records the server's view after a response.
    pub async fn observe(&self, complexity: &Complexity) {
        let mut state = self.state.lock().await;
        state.remaining = Some(complexity.after);
        state.reset_at = Some(later(Duration::from_secs(complexity.reset_in_x_seconds)));
    }

    /// Records that the server reported the budget exhausted.
    pub async fn exhausted(&self, retry_in: Duration) {
        let mut state = self.state.lock().await;
        state.remaining = Some(0);
        state.reset_at = Some(later(retry_in));
    }
}

/// Now plus `by`, with `by` capped at a window (answers are outside data; a window is never
/// longer than a minute, reference §2.1), so that no answer makes the arithmetic overflow.
fn later(by: Duration) -> Instant {
    const LONGEST: Duration = Duration::from_secs(3_600);
    Instant::now() + by.min(LONGEST)
}

/// The `complexityMinute` quota of a `RateLimit-Policy` header, e.g.
/// `"minuteRate";q=5000;w=60, "complexityMinute";q=5000000;w=60;qu="content-bytes"`.
pub fn complexity_quota(policy: &str) -> Option<u64> {
    policy
        .split(',')
        .find(|part| part.trim().starts_with("\"complexityMinute\""))?
        .split(';')
        .find_map(|param| param.trim().strip_prefix("q="))?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn complexity_quota_is_read_from_the_policy_header() {
        let policy = "\"minuteRate\";q=5000;w=60, \"concurrency\";q=250;qu=\"concurrent-requests\", \"complexityMinute\";q=5000000;w=60;qu=\"content-bytes\"";
        assert_eq!(super::complexity_quota(policy), Some(5_000_000));
        assert_eq!(super::complexity_quota("\"minuteRate\";q=5000;w=60"), None);
    }

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn acquire_waits_for_the_reset_when_the_budget_is_short() {
        let tracker = BudgetTracker::new(100);
        assert_eq!(tracker.acquire(60).await, Duration::ZERO);
        tracker
            .observe(&Complexity {
                before: 100,
                query: 60,
                after: 40,
                reset_in_x_seconds: 5,
            })
            .await;
        let waited = tracker.acquire(60).await;
        assert!(waited >= Duration::from_secs(5), "{waited:?}");
        // After the reset the full budget is available again, minus this reservation.
        assert_eq!(tracker.acquire(40).await, Duration::ZERO);
    }
}
