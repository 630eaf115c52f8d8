//! Exit codes: 0 clean, 1 problems found, 2 usage or I/O error.

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
}

impl Termination for CrmmapExit {
    fn report(self) -> ExitCode {
        ExitCode::from(match self {
            CrmmapExit::Clean => 0,
            CrmmapExit::Problems => 1,
            CrmmapExit::Failure => 2,
        })
    }
}
