//! Exit codes: 0 clean, 1 problems found, 2 usage or I/O error, 69 an API limit reached (the
//! run stopped with its checkpoint: run again after the reset), 75 busy (another process holds
//! the work: try again later), 78 configuration error (the mappings name a board or object
//! that does not exist: fix the configuration, nothing was unlinked).

use std::process::{ExitCode, Termination};

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrmmapExit {
    /// Nothing to report.
    Clean,
    /// The command ran and found problems (diagnostics, files that need formatting).
    Problems,
    /// Bad usage, unreadable files, or another failure to run.
    Failure,
    /// Another process holds the work and this one did nothing: another migration runs, or
    /// `crmmap serve` applies the events of the same SQLite store. Try again later (75 is
    /// `EX_TEMPFAIL` of sysexits.h, which schedulers read as "retry").
    Busy,
    /// An API limit stops the run: monday's daily call limit, or the Salesforce org's API
    /// allocation past crmmap's headroom. The checkpoint is saved; the next run after the
    /// reset resumes (69 is `EX_UNAVAILABLE` of sysexits.h).
    LimitReached,
    /// The configuration names something the APIs do not have (a missing board): the run
    /// stopped and changed nothing more (78 is `EX_CONFIG` of sysexits.h).
    Config,
}

impl Termination for CrmmapExit {
    fn report(self) -> ExitCode {
        ExitCode::from(match self {
            CrmmapExit::Clean => 0,
            CrmmapExit::Problems => 1,
            CrmmapExit::Failure => 2,
            CrmmapExit::Busy => 75,
            CrmmapExit::LimitReached => 69,
            CrmmapExit::Config => 78,
        })
    }
}
