//! monday's request limits besides complexity: the minute limit, the concurrency limit and the
//! daily call limit, with the emulator's own clock that tests move forward.
//!
//! Values per plan: `realtime-and-limits.md` §4 and `monday-api.md` §2.1 (the rate-limits
//! page of 2026-09-06). Answers: HTTP 429 with `Retry-After` (§1.4: "every error response
//! should carry `Retry-After`"; §2.1: minute limit "429, `Retry-After`"), the error codes of
//! §1.5 and §2.1, `extensions.retry_in_seconds` (§2.3: "every rate limit error returns a
//! `retry_in_seconds` field") and the `RateLimit`/`RateLimit-Policy` items of §2.4. What the
//! reference leaves open is listed in the README ("Answers the documentation does not
//! settle").

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

/// monday plans, for [`Limits::of_plan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Free (and trial).
    Free,
    /// Basic.
    Basic,
    /// Standard.
    Standard,
    /// Pro.
    Pro,
    /// Enterprise.
    Enterprise,
}

/// The request limits the emulator enforces; `None` is no limit. The default enforces none,
/// so tests that are not about limits never meet them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Requests per (emulated) minute: the minute limit.
    pub requests_per_minute: Option<u32>,
    /// Requests in flight at once: the concurrency limit.
    pub concurrency: Option<u32>,
    /// Calls per UTC day (reset at midnight UTC): the daily limit.
    pub daily_calls: Option<u32>,
}

impl Limits {
    /// No limit.
    pub const NONE: Self = Self {
        requests_per_minute: None,
        concurrency: None,
        daily_calls: None,
    };

    /// The documented limits of a plan (reference `monday-api.md` §2.1,
    /// `realtime-and-limits.md` §4): minute limit Enterprise 5,000, Pro 2,500, other 1,000;
    /// concurrency Enterprise 250, Pro 100, other 40; daily calls Free/Basic/Standard 1,000,
    /// Pro 10,000, Enterprise 25,000 (the developer docs' figures; the support article's 200
    /// for Free is not used).
    pub fn of_plan(plan: Plan) -> Self {
        let (minute, concurrency, daily) = match plan {
            Plan::Free | Plan::Basic | Plan::Standard => (1_000, 40, 1_000),
            Plan::Pro => (2_500, 100, 10_000),
            Plan::Enterprise => (5_000, 250, 25_000),
        };
        Self {
            requests_per_minute: Some(minute),
            concurrency: Some(concurrency),
            daily_calls: Some(daily),
        }
    }
}

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// The minute limit.
    Minute,
    /// The concurrency limit.
    Concurrency,
    /// The daily call limit.
    Daily,
}

/// A request refused by a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// The limit.
    pub kind: LimitKind,
    /// Whole seconds until the limit lets requests through again.
    pub retry_in_seconds: u64,
}

impl Refusal {
    /// `extensions.code`.
    ///
    /// `maxConcurrencyExceeded` and `DAILY_LIMIT_EXCEEDED` are the reference's codes (§1.5,
    /// §2.1). For the minute limit the reference gives only messages ("Minute limit rate
    /// exceeded", "Rate Limit Exceeded"); `RATE_LIMIT_EXCEEDED` is an ASSUMPTION (README).
    pub fn code(&self) -> &'static str {
        match self.kind {
            LimitKind::Minute => "RATE_LIMIT_EXCEEDED",
            LimitKind::Concurrency => "maxConcurrencyExceeded",
            LimitKind::Daily => "DAILY_LIMIT_EXCEEDED",
        }
    }

    /// The message: "Minute limit rate exceeded" (rate-limits page) and "Concurrency limit
    /// exceeded" (realtime §4); the daily message is an ASSUMPTION (README).
    pub fn message(&self) -> &'static str {
        match self.kind {
            LimitKind::Minute => "Minute limit rate exceeded",
            LimitKind::Concurrency => "Concurrency limit exceeded",
            LimitKind::Daily => "Daily limit exceeded",
        }
    }

    /// The body, in the shape of the documented 2025-07 complexity error (§2.3: code and
    /// `retry_in_seconds` in `extensions`); that the other limits share it is an ASSUMPTION.
    pub fn body(&self, request_id: &str) -> Value {
        json!({
            "errors": [{
                "message": self.message(),
                "extensions": { "code": self.code(), "retry_in_seconds": self.retry_in_seconds },
            }],
            "extensions": { "request_id": request_id },
        })
    }
}

/// Seconds in a day.
const DAY: i64 = 86_400;

/// What the limits have counted so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LimitUsage {
    /// Requests counted in the current minute window.
    pub minute_requests: u32,
    /// Requests in flight now (including requests held by
    /// [`EmulatorState::hold_requests`](crate::EmulatorState::hold_requests)).
    pub in_flight: u32,
    /// Calls counted today (UTC); a rate-limited request counts 0.1.
    pub daily_calls: f64,
}

/// The counting state of the limits.
#[derive(Debug, Clone, Default)]
pub struct LimitState {
    /// The limits in force.
    pub limits: Limits,
    minute_window_start: Option<Instant>,
    minute_count: u32,
    /// The UTC day (days since the epoch) `daily_tenths` counts.
    day: i64,
    /// Tenths of calls counted today.
    daily_tenths: u64,
    in_flight: u32,
}

fn ceil_secs(d: Duration) -> u64 {
    let secs = d.as_secs();
    if d.subsec_nanos() > 0 { secs + 1 } else { secs }
}

impl LimitState {
    /// A state enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    fn roll(&mut self, now: Instant, minute: Duration, unix_seconds: i64) {
        if self
            .minute_window_start
            .is_some_and(|start| now >= start + minute)
        {
            self.minute_window_start = None;
            self.minute_count = 0;
        }
        let day = unix_seconds.div_euclid(DAY);
        if day != self.day {
            self.day = day;
            self.daily_tenths = 0;
        }
    }

    /// Seconds until the minute window resets (a whole minute when none is open).
    pub fn minute_reset_in(&self, now: Instant, minute: Duration) -> u64 {
        match self.minute_window_start {
            Some(start) => ceil_secs((start + minute).saturating_duration_since(now)),
            None => ceil_secs(minute),
        }
        .max(1)
    }

    /// Admits a request that arrived as the `level`-th in flight, or refuses it. An admitted
    /// request counts one call today and one request this minute; a refused one counts a
    /// tenth of a call (reference §2.1: "rate-limited requests … count 0.1 call") and nothing
    /// this minute. Checked in the order daily, minute, concurrency (an ASSUMPTION).
    pub fn admit(
        &mut self,
        level: u32,
        now: Instant,
        minute: Duration,
        unix_seconds: i64,
    ) -> Result<(), Refusal> {
        self.roll(now, minute, unix_seconds);
        let refusal = if self
            .limits
            .daily_calls
            .is_some_and(|limit| self.daily_tenths + 10 > u64::from(limit) * 10)
        {
            Some(Refusal {
                kind: LimitKind::Daily,
                // Reset at midnight UTC (reference §2.1).
                retry_in_seconds: u64::try_from(DAY - unix_seconds.rem_euclid(DAY))
                    .unwrap_or(1)
                    .max(1),
            })
        } else if self
            .limits
            .requests_per_minute
            .is_some_and(|limit| self.minute_count >= limit)
        {
            Some(Refusal {
                kind: LimitKind::Minute,
                retry_in_seconds: self.minute_reset_in(now, minute),
            })
        } else if self.limits.concurrency.is_some_and(|limit| level > limit) {
            Some(Refusal {
                kind: LimitKind::Concurrency,
                retry_in_seconds: 1,
            })
        } else {
            None
        };
        if let Some(refusal) = refusal {
            self.daily_tenths += 1;
            return Err(refusal);
        }
        if self.minute_window_start.is_none() {
            self.minute_window_start = Some(now);
        }
        self.minute_count += 1;
        self.daily_tenths += 10;
        Ok(())
    }

    /// An admitted request counts a tenth of a call, not a whole one: it was answered 429 for
    /// the complexity budget, or it is a standalone `complexity` query (reference §2.1).
    pub fn count_as_tenth_of_a_call(&mut self) {
        self.daily_tenths = self.daily_tenths.saturating_sub(9);
    }

    /// Sets today's count of calls.
    pub fn set_daily_calls(&mut self, calls: u32, unix_seconds: i64) {
        self.day = unix_seconds.div_euclid(DAY);
        self.daily_tenths = u64::from(calls) * 10;
    }

    /// A request arrives; returns its level (how many are in flight, itself included).
    pub fn enter(&mut self) -> u32 {
        self.in_flight += 1;
        self.in_flight
    }

    /// A request is answered (or abandoned).
    pub fn leave(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// Requests in flight.
    pub fn in_flight(&self) -> u32 {
        self.in_flight
    }

    /// The usage now.
    pub fn usage(&mut self, now: Instant, minute: Duration, unix_seconds: i64) -> LimitUsage {
        self.roll(now, minute, unix_seconds);
        LimitUsage {
            minute_requests: self.minute_count,
            in_flight: self.in_flight,
            daily_calls: self.daily_tenths as f64 / 10.0,
        }
    }

    /// The `RateLimit-Policy` items for the limits in force (reference §2.4).
    pub fn policy_items(&self, minute: Duration) -> Vec<String> {
        let mut items = Vec::new();
        if let Some(q) = self.limits.requests_per_minute {
            items.push(format!(
                "\"minuteRate\";q={q};w={}",
                minute.as_secs().max(1)
            ));
        }
        if let Some(q) = self.limits.concurrency {
            items.push(format!("\"concurrency\";q={q};qu=\"concurrent-requests\""));
        }
        items
    }

    /// The `RateLimit` items for the limits in force (reference §2.4: `r` remaining; `t`
    /// seconds to reset, present for these two only when the limit is exceeded).
    pub fn rate_items(
        &mut self,
        now: Instant,
        minute: Duration,
        unix_seconds: i64,
        refused: Option<&Refusal>,
    ) -> Vec<String> {
        self.roll(now, minute, unix_seconds);
        let mut items = Vec::new();
        if let Some(q) = self.limits.requests_per_minute {
            let remaining = q.saturating_sub(self.minute_count);
            match refused {
                Some(r) if r.kind == LimitKind::Minute => {
                    items.push(format!("\"minuteRate\";r=0;t={}", r.retry_in_seconds))
                }
                _ => items.push(format!("\"minuteRate\";r={remaining}")),
            }
        }
        if let Some(q) = self.limits.concurrency {
            let remaining = q.saturating_sub(self.in_flight);
            match refused {
                Some(r) if r.kind == LimitKind::Concurrency => {
                    items.push(format!("\"concurrency\";r=0;t={}", r.retry_in_seconds))
                }
                _ => items.push(format!("\"concurrency\";r={remaining}")),
            }
        }
        items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn the_minute_limit_refuses_until_the_window_resets() {
        let mut state = LimitState::new(Limits {
            requests_per_minute: Some(2),
            ..Limits::NONE
        });
        let t0 = Instant::now();
        assert!(state.admit(1, t0, MINUTE, 0).is_ok());
        assert!(
            state
                .admit(1, t0 + Duration::from_secs(10), MINUTE, 10)
                .is_ok()
        );
        let refused = state
            .admit(1, t0 + Duration::from_secs(20), MINUTE, 20)
            .unwrap_err();
        assert_eq!(refused.kind, LimitKind::Minute);
        assert_eq!(refused.retry_in_seconds, 40);
        assert!(state.admit(1, t0 + MINUTE, MINUTE, 60).is_ok());
    }

    #[test]
    fn the_daily_limit_resets_at_midnight_utc_and_refusals_count_a_tenth() {
        let mut state = LimitState::new(Limits {
            daily_calls: Some(2),
            ..Limits::NONE
        });
        let t0 = Instant::now();
        let evening = 3 * DAY - 100;
        assert!(state.admit(1, t0, MINUTE, evening).is_ok());
        assert!(state.admit(1, t0, MINUTE, evening).is_ok());
        let refused = state.admit(1, t0, MINUTE, evening).unwrap_err();
        assert_eq!(
            (refused.kind, refused.retry_in_seconds),
            (LimitKind::Daily, 100)
        );
        assert_eq!(state.usage(t0, MINUTE, evening).daily_calls, 2.1);
        assert!(state.admit(1, t0, MINUTE, 3 * DAY).is_ok());
    }

    #[test]
    fn the_concurrency_limit_refuses_requests_above_it() {
        let mut state = LimitState::new(Limits {
            concurrency: Some(2),
            ..Limits::NONE
        });
        let t0 = Instant::now();
        assert!(state.admit(2, t0, MINUTE, 0).is_ok());
        assert_eq!(
            state.admit(3, t0, MINUTE, 0).unwrap_err().kind,
            LimitKind::Concurrency
        );
    }
}
