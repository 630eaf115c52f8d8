//! `crmmap explain`.

use std::path::PathBuf;

use clap::Args;

use crate::exit::CrmmapExit;

/// Arguments of `crmmap explain`.
#[derive(Args)]
pub struct ExplainArgs {
    /// Mapping files or directories (default: `mappings`).
    pub paths: Vec<PathBuf>,
}

/// Runs `crmmap explain`.
pub fn explain(_args: &ExplainArgs) -> CrmmapExit {
    super::fail("not yet")
}
