//! The org's event delivery allocation: delivered events over the last 24 hours, shared by
//! every subscriber and relay (realtime-and-limits.md §1d). Deliveries over it are refused;
//! events keep accumulating in the change log meanwhile.

use std::collections::VecDeque;

/// 24 hours in milliseconds: the allocation's rolling window (§1d).
const WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// A delivery refused because the allocation is used up (§1d: Pub/Sub answers
/// `sfdc.platform.eventbus.grpc.subscription.limit.exceeded`, CometD
/// `403::Organization total events daily limit exceeded`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("You have exceeded the event delivery limit for your org ({used} of {max} in 24 hours)")]
pub struct Exceeded {
    /// Events delivered in the last 24 hours.
    pub used: u64,
    /// The allocation.
    pub max: u64,
    /// How many the refused delivery asked for.
    pub requested: u64,
}

/// Deliveries counted in a rolling 24-hour window of the change log's clock.
#[derive(Clone, Debug)]
pub struct DeliveryAllocation {
    max: u64,
    /// (epoch ms, events) of each counted delivery in the window, oldest first.
    counted: VecDeque<(i64, u64)>,
}

impl DeliveryAllocation {
    /// The Developer Edition's allocation (§1d), as the emulator's API allocation is a
    /// Developer Edition's.
    pub const DEVELOPER_EDITION: u64 = 10_000;

    pub fn new(max: u64) -> Self {
        DeliveryAllocation {
            max,
            counted: VecDeque::new(),
        }
    }

    fn expire(&mut self, now_ms: i64) {
        while self
            .counted
            .front()
            .is_some_and(|(at, _)| *at <= now_ms - WINDOW_MS)
        {
            self.counted.pop_front();
        }
    }

    /// Events delivered in the 24 hours before `now_ms`.
    pub fn used(&mut self, now_ms: i64) -> u64 {
        self.expire(now_ms);
        self.counted.iter().map(|(_, n)| n).sum()
    }

    pub fn max(&self) -> u64 {
        self.max
    }

    pub fn set_max(&mut self, max: u64) {
        self.max = max;
    }

    /// Forgets every counted delivery.
    pub fn reset(&mut self) {
        self.counted.clear();
    }

    /// Counts `n` delivered events at `now_ms`, or refuses them all when they would pass the
    /// allocation.
    pub fn count(&mut self, n: u64, now_ms: i64) -> Result<(), Exceeded> {
        let used = self.used(now_ms);
        if used.saturating_add(n) > self.max {
            return Err(Exceeded {
                used,
                max: self.max,
                requested: n,
            });
        }
        if n > 0 {
            self.counted.push_back((now_ms, n));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_over_the_allocation_are_refused_until_the_window_moves() {
        let mut a = DeliveryAllocation::new(3);
        assert_eq!(a.count(2, 1_000), Ok(()));
        assert_eq!(
            a.count(2, 2_000),
            Err(Exceeded {
                used: 2,
                max: 3,
                requested: 2
            })
        );
        assert_eq!(a.count(1, 2_000), Ok(()));
        assert!(a.count(1, 3_000).is_err());
        // The first delivery leaves the window 24 h after it.
        assert_eq!(a.count(2, 1_000 + WINDOW_MS), Ok(()));
        assert_eq!(a.used(1_000 + WINDOW_MS), 3);
        a.set_max(10);
        assert_eq!(a.count(7, 1_000 + WINDOW_MS), Ok(()));
    }
}
