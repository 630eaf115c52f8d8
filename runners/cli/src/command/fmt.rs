//! `crmmap fmt`.

use std::path::PathBuf;

use clap::Args;

use crate::exit::CrmmapExit;

/// Arguments of `crmmap fmt`.
#[derive(Args)]
pub struct FmtArgs {
    /// Mapping files or directories (default: `mappings`).
    pub paths: Vec<PathBuf>,
    /// Write nothing; print a diff and exit 1 when a file is not formatted.
    #[arg(long)]
    pub check: bool,
}

/// Runs `crmmap fmt`.
pub fn fmt(_args: &FmtArgs) -> CrmmapExit {
    super::fail("not yet")
}
