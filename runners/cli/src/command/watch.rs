//! `crmmap migrate --watch INTERVAL`: incremental migrations one after another, the polling
//! fallback where Salesforce's Change Data Capture is not available (its five selected entities
//! per org are shared with every other integration).
//!
//! Each run reads only what changed since the last one (the watermarks), so a quiet org costs one
//! query per object per run. A run that fails for an outage or an API limit is retried with the
//! one backoff, from `INTERVAL` doubling up to [`LONGEST_WAIT`]; a configuration error stops the
//! loop (every run would fail the same way); another migration holding the lease skips a turn.
//! Ctrl-C or SIGTERM stops after the current chunk, and the next start resumes from the checkpoint.

use std::time::{Duration, Instant};

use crmmap_backoff::Backoff;
use crmmap_sync::RunContext;
use crmmap_sync::migrate::{self, MigrateError, MigrateOptions, MigrateReport};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::migrate::TermProgress;
use crate::exit::CrmmapExit;

/// The longest wait between two runs after failures.
pub const LONGEST_WAIT: Duration = Duration::from_secs(30 * 60);

/// What one run means for the loop.
#[derive(Debug, PartialEq, Eq)]
enum Turn {
    /// The run ended (some records may have failed: they are queued for retry).
    Done,
    /// Another migration holds the lease: wait one interval.
    Skipped,
    /// An outage or an API limit: wait longer after each failure in a row.
    Failed,
    /// Every later run would fail the same way: stop with this exit.
    Stop(CrmmapExit),
}

/// Runs migrations `interval` apart until the process is asked to stop.
pub async fn watch(ctx: &RunContext, options: &MigrateOptions, interval: Duration) -> CrmmapExit {
    let stop = options.stop.clone();
    let (stopping_tx, mut stopping) = tokio::sync::watch::channel(false);
    let signals = tokio::spawn({
        let stop = stop.clone();
        async move {
            super::shutdown::requested().await;
            eprintln!(
                "\nstopping after the current chunk; the next start resumes from the checkpoint"
            );
            stop.stop();
            let _ = stopping_tx.send(true);
        }
    });
    let backoff = Backoff::new(interval, interval.max(LONGEST_WAIT), Backoff::EQUAL_JITTER);
    let mut options = options.clone();
    let mut failures: u32 = 0;
    let mut exit = CrmmapExit::Clean;
    eprintln!(
        "crmmap: migrating every {} (Ctrl-C or SIGTERM to stop)",
        human(interval)
    );
    for run in 1u64.. {
        let started = Instant::now();
        let mut progress = TermProgress::new(false);
        let result = migrate::run(ctx, &options, &mut progress).await;
        // `--full` is for the first run; the later ones follow the watermarks.
        options.full = false;
        let (turn, line) = turn_of(&result);
        let wait = match turn {
            Turn::Done | Turn::Skipped => {
                failures = 0;
                interval
            }
            Turn::Failed => {
                failures = failures.saturating_add(1);
                backoff.delay_now(failures).max(interval)
            }
            Turn::Stop(code) => {
                eprintln!("{} run {run}: {line}; stopping", stamp());
                exit = code;
                break;
            }
        };
        if stop.is_stopped() {
            eprintln!("{} run {run}: {line}", stamp());
            break;
        }
        eprintln!(
            "{} run {run}: {line} in {:.1}s; next in {}",
            stamp(),
            started.elapsed().as_secs_f64(),
            human(wait)
        );
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stopping.changed() => break,
        }
    }
    signals.abort();
    exit
}

/// How the loop reads a run's result, and the line it prints for it.
fn turn_of(result: &Result<MigrateReport, MigrateError>) -> (Turn, String) {
    match result {
        Ok(report) => {
            let t = report.total();
            let mut line = format!(
                "{} read, {} created, {} updated, {} unchanged, {} failed",
                t.read, t.created, t.updated, t.unchanged, t.failed
            );
            if t.deleted > 0 {
                line.push_str(&format!(", {} archived or deleted", t.deleted));
            }
            if t.failed > 0 {
                line.push_str(" (queued for retry; see `crmmap log --failed`)");
            }
            (Turn::Done, line)
        }
        Err(e @ MigrateError::Busy(_)) => (Turn::Skipped, format!("skipped: {e}")),
        Err(e) if e.is_config() => (Turn::Stop(CrmmapExit::Config), format!("error: {e}")),
        Err(e @ (MigrateError::UnknownObject(_) | MigrateError::ChunkSize(_))) => {
            (Turn::Stop(CrmmapExit::Failure), format!("error: {e}"))
        }
        Err(e) if e.is_limit() => (Turn::Failed, format!("API limit: {e}")),
        Err(e) => (Turn::Failed, format!("failed: {e}")),
    }
}

/// The time a line is printed, for logs without their own timestamps.
fn stamp() -> String {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// `90s`, `5m`, `1h 30m`: the way `--watch` and `--wait` are written.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, s % 3600 / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m {s}s"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_they_are_written() {
        assert_eq!(human(Duration::from_secs(45)), "45s");
        assert_eq!(human(Duration::from_secs(300)), "5m");
        assert_eq!(human(Duration::from_secs(330)), "5m 30s");
        assert_eq!(human(Duration::from_secs(3600)), "1h");
        assert_eq!(human(Duration::from_secs(5400)), "1h 30m");
    }

    #[test]
    fn a_configuration_error_stops_the_loop_and_an_outage_does_not() {
        let missing = MigrateError::BoardMissing {
            object: "Grant".into(),
            board: "42".into(),
            message: "not found".into(),
        };
        assert_eq!(turn_of(&Err(missing)).0, Turn::Stop(CrmmapExit::Config));
        let unknown = MigrateError::UnknownObject("Gift".into());
        assert_eq!(turn_of(&Err(unknown)).0, Turn::Stop(CrmmapExit::Failure));
        let outage = MigrateError::Monday(crmmap_monday::MondayError::Transport(
            "connection refused".into(),
        ));
        assert_eq!(turn_of(&Err(outage)).0, Turn::Failed);
    }
}
