//! One module per subcommand.

pub mod check;
pub mod demo;
pub mod explain;
pub mod fmt;
pub mod init;
pub mod log;
pub mod lsp;
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

use std::path::{Path, PathBuf};

use crmmap_dsl::SourceMap;
use crmmap_dsl::schema::SchemaSnapshot;

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

/// The schema snapshot of `check` and `fmt`: the `--schema` directory when given; else, with
/// `from_config` (`check`, not `fmt`, which would write types in), the `[check] schema` of
/// `./crmmap.toml` when that file exists and names one; else none.
pub fn read_schema(
    flag: Option<&Path>,
    from_config: bool,
) -> Result<Option<SchemaSnapshot>, String> {
    let dir = match flag {
        Some(dir) => dir.to_owned(),
        None if !from_config => return Ok(None),
        None => {
            let config = Path::new(crmmap_sync::config::DEFAULT_CONFIG);
            if !config.exists() {
                return Ok(None);
            }
            let settings = crmmap_sync::Settings::load(Some(config)).map_err(|e| e.to_string())?;
            match settings.check_schema {
                Some(dir) => dir,
                None => return Ok(None),
            }
        }
    };
    crmmap_sync::schema::read_dir(&dir)
        .map(Some)
        .map_err(|e| e.to_string())
}
