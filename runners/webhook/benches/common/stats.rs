//! Percentiles of timed samples and their Markdown rows, for every webhook benchmark.

use std::time::Duration;

/// The `p` percentile (0..=1) of `samples` (sorted in place; not empty).
pub fn pct(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i.min(samples.len() - 1)]
}

/// A duration in milliseconds, three decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// A Markdown table row: `label`, then the samples' p50 and p99.
pub fn p50_p99(label: &str, samples: &mut [Duration]) -> String {
    format!(
        "| {label} | {} | {} |",
        ms(pct(samples, 0.5)),
        ms(pct(samples, 0.99))
    )
}
