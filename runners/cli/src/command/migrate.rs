//! `crmmap migrate`.

use clap::Args;

use crate::exit::CrmmapExit;

/// Arguments of `crmmap migrate`.
#[derive(Args)]
pub struct MigrateArgs {}

/// Runs `crmmap migrate`.
pub fn migrate(_args: &MigrateArgs) -> CrmmapExit {
    super::fail("`crmmap migrate` is not available in this build")
}
