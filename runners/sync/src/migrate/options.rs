//! What a run is asked to do: the objects, dry run or full, chunk size, the stop signal.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crmmap_ids::ObjectName;

use super::DEFAULT_CHUNK;

/// A flag that asks a running migration to stop after the chunk in progress (Ctrl-C, a
/// Lambda nearing its time limit). The run stays resumable.
#[derive(Clone, Debug, Default)]
pub struct StopSignal(Arc<AtomicBool>);

impl StopSignal {
    /// A signal not yet raised.
    pub fn new() -> StopSignal {
        StopSignal::default()
    }

    /// Asks the run to stop.
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was asked for.
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What to migrate and how.
#[derive(Clone, Debug)]
pub struct MigrateOptions {
    /// Objects to migrate by mapping name; every object when empty. Always run parents first.
    pub objects: Vec<ObjectName>,
    /// Compute and report the plan; write nothing anywhere.
    pub dry_run: bool,
    /// Ignore the watermarks and read every selected record.
    pub full: bool,
    /// Records per lookup and write chunk (1..=500).
    pub chunk_size: usize,
    /// Stops the run between chunks.
    pub stop: StopSignal,
    /// How long to wait for another migration to finish before giving up with
    /// [`MigrateError::Busy`] (zero: do not wait).
    pub lease_wait: std::time::Duration,
    /// Who runs it, for the message a concurrent run gets (`crmmap migrate`, the schedule).
    pub runner: String,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        MigrateOptions {
            objects: Vec::new(),
            dry_run: false,
            full: false,
            chunk_size: DEFAULT_CHUNK,
            stop: StopSignal::new(),
            lease_wait: std::time::Duration::ZERO,
            runner: "crmmap migrate".to_owned(),
        }
    }
}
