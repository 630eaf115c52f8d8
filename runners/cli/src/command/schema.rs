//! `crmmap schema`.

use clap::Subcommand;

use crate::exit::CrmmapExit;

/// `crmmap schema` subcommands.
#[derive(Subcommand)]
pub enum SchemaCommand {
    /// Write a snapshot of the live schema to a directory.
    Pull {},
}

/// Runs `crmmap schema …`.
pub fn schema(_cmd: &SchemaCommand) -> CrmmapExit {
    super::fail("`crmmap schema pull` is not available in this build")
}
