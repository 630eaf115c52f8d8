//! One module per subcommand.

pub mod check;
pub mod demo;
pub mod explain;
pub mod fmt;
pub mod init;
pub mod log;
pub mod migrate;
pub mod prune;
pub mod retry;
pub mod sandbox;
pub mod schema;
pub mod serve;
pub mod shutdown;
pub mod test;
pub mod test_report;
pub mod watch;

use std::path::PathBuf;

use crmmap_dsl::SourceMap;

/// The directory read when no path is given.
pub const DEFAULT_MAPPINGS: &str = "mappings";

/// Prints a usage or I/O error the same way for every command.
pub fn fail(message: &str) -> crate::exit::CrmmapExit {
    eprintln!("error: {message}");
    crate::exit::CrmmapExit::Failure
}

/// Reads the mapping files under `paths` (default `mappings`).
pub fn read_mappings(paths: &[PathBuf]) -> Result<SourceMap, String> {
    let defaults = [PathBuf::from(DEFAULT_MAPPINGS)];
    let paths = if paths.is_empty() {
        &defaults[..]
    } else {
        paths
    };
    crmmap_sync::mappings::read(paths).map_err(|e| e.to_string())
}
