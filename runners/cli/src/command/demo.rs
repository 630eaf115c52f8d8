//! `crmmap demo`.

use clap::Args;

use crate::exit::CrmmapExit;

/// Arguments of `crmmap demo`.
#[derive(Args)]
pub struct DemoArgs {}

/// Runs `crmmap demo`.
pub fn demo(_args: &DemoArgs) -> CrmmapExit {
    super::fail("`crmmap demo` is not available in this build")
}
