//! Exit codes: 0 clean, 1 problems found, 2 usage or I/O error, 75 busy (another process
//! holds the work: try again later).

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
}

impl Termination for CrmmapExit {
    fn report(self) -> ExitCode {
        ExitCode::from(match self {
            CrmmapExit::Clean => 0,
            CrmmapExit::Problems => 1,
            CrmmapExit::Failure => 2,
            CrmmapExit::Busy => 75,
        })
    }
}
