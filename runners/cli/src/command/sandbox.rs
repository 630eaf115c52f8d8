//! `crmmap sandbox`.

use clap::Args;

use crate::exit::CrmmapExit;

/// Arguments of `crmmap sandbox`.
#[derive(Args)]
pub struct SandboxArgs {}

/// Runs `crmmap sandbox`.
pub fn sandbox(_args: &SandboxArgs) -> CrmmapExit {
    super::fail("`crmmap sandbox` is not available in this build")
}
