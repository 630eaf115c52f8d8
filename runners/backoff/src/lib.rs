//! The one exponential backoff of crmmap, used by every retry: the Salesforce client (its
//! calls and its token requests), the monday client, and the store's retry queue.
//!
//! The delay before retry `n` (1-based) is `min(max, base × 2ⁿ⁻¹)` (the *bound*), less a
//! random part of up to `jitter` of it, so that calls that failed together do not all come
//! back together. The random number comes from the caller's RNG: a seeded one makes the
//! delays deterministic (the store's tests rely on it); [`Backoff::delay_now`] draws from the
//! thread's RNG.
//!
//! ```
//! use std::time::Duration;
//! use crmmap_backoff::Backoff;
//!
//! let backoff = Backoff::new(Duration::from_secs(30), Duration::from_secs(3600), 0.0);
//! assert_eq!(backoff.bound(1), Duration::from_secs(30));
//! assert_eq!(backoff.bound(3), Duration::from_secs(120));
//! assert_eq!(backoff.bound(20), Duration::from_secs(3600));
//! assert_eq!(backoff.delay_now(3), Duration::from_secs(120));
//! ```

use std::time::Duration;

use rand::Rng;

/// Exponential backoff with a cap and subtractive jitter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The bound of the first retry; it doubles with each further one.
    pub base: Duration,
    /// The largest bound.
    pub max: Duration,
    /// Up to this fraction (0.0–1.0) of the bound is taken off at random: 1.0 is "full
    /// jitter" (uniform up to the bound), 0.5 "equal jitter", 0.0 none.
    pub jitter: f64,
}

impl Backoff {
    /// Full jitter: the delay is uniform up to the bound.
    pub const FULL_JITTER: f64 = 1.0;
    /// Equal jitter: the delay is between half the bound and the bound.
    pub const EQUAL_JITTER: f64 = 0.5;

    /// A backoff from `base` doubling up to `max`, with `jitter`.
    pub fn new(base: Duration, max: Duration, jitter: f64) -> Self {
        Self { base, max, jitter }
    }

    /// The bound before retry `retry` (1-based; 0 counts as 1): `min(max, base × 2^(retry−1))`.
    pub fn bound(&self, retry: u32) -> Duration {
        let factor = 1u32 << retry.saturating_sub(1).min(30);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// The delay before retry `retry`: the bound less a random part of up to `jitter` of it,
    /// drawn from `rng` (nothing is drawn when `jitter` is 0).
    pub fn delay(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        let bound = self.bound(retry);
        let jitter = self.jitter.clamp(0.0, 1.0);
        if jitter == 0.0 {
            return bound;
        }
        let cut = bound.mul_f64(jitter * rng.gen_range(0.0..1.0));
        bound.saturating_sub(cut)
    }

    /// [`Self::delay`] with the thread's RNG.
    pub fn delay_now(&self, retry: u32) -> Duration {
        self.delay(retry, &mut rand::thread_rng())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn the_bound_doubles_up_to_the_cap() {
        let b = Backoff::new(Duration::from_millis(250), Duration::from_secs(10), 0.0);
        let bounds: Vec<_> = (1..=8).map(|n| b.bound(n).as_millis()).collect();
        assert_eq!(bounds, [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
        assert_eq!(b.bound(0), b.bound(1));
        assert_eq!(b.bound(u32::MAX), Duration::from_secs(10));
        let huge = Backoff::new(Duration::MAX, Duration::MAX, 0.0);
        assert_eq!(huge.bound(40), Duration::MAX);
    }

    #[test]
    fn a_seeded_rng_gives_the_same_delays() {
        let b = Backoff::new(Duration::from_secs(30), Duration::from_secs(3600), 0.2);
        let run = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (1..8).map(|n| b.delay(n, &mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
    }

    proptest! {
        #[test]
        fn the_delay_stays_within_the_jitter(
            base_ms in 0u64..100_000,
            max_ms in 0u64..10_000_000,
            jitter in 0.0f64..=1.0,
            retry in 0u32..64,
            seed in any::<u64>(),
        ) {
            let b = Backoff::new(Duration::from_millis(base_ms), Duration::from_millis(max_ms), jitter);
            let bound = b.bound(retry);
            prop_assert!(bound <= b.max);
            let delay = b.delay(retry, &mut StdRng::seed_from_u64(seed));
            prop_assert!(delay <= bound);
            prop_assert!(delay >= bound.mul_f64(1.0 - jitter).saturating_sub(Duration::from_nanos(1)));
        }
    }
}
