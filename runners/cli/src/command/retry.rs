//! `crmmap retry`.

use clap::Args;

use crate::exit::CrmmapExit;

/// Arguments of `crmmap retry`.
#[derive(Args)]
pub struct RetryArgs {}

/// Runs `crmmap retry`.
pub fn retry(_args: &RetryArgs) -> CrmmapExit {
    super::fail("`crmmap retry` is not available in this build")
}
