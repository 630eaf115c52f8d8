//! `crmmap log`.

use clap::Args;

use crate::exit::CrmmapExit;

/// Arguments of `crmmap log`.
#[derive(Args)]
pub struct LogArgs {}

/// Runs `crmmap log`.
pub fn log(_args: &LogArgs) -> CrmmapExit {
    super::fail("`crmmap log` is not available in this build")
}
