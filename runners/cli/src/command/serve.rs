//! `crmmap serve`.

use clap::Args;

use crate::exit::CrmmapExit;

/// Arguments of `crmmap serve`.
#[derive(Args)]
pub struct ServeArgs {}

/// Runs `crmmap serve`.
pub fn serve(_args: &ServeArgs) -> CrmmapExit {
    super::fail("`crmmap serve` is not available in this build")
}
