//! `crmmap`: check, format and explain mappings; run the sync.

mod command;
mod exit;
mod sources;

use clap::{Parser, Subcommand};

use crate::exit::CrmmapExit;

/// Keeps Salesforce and monday.com in sync, driven by mapping files.
#[derive(Parser)]
#[command(name = "crmmap", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and check mapping files; report every problem.
    Check(command::check::CheckArgs),
    /// Format mapping files in the one canonical layout.
    Fmt(command::fmt::FmtArgs),
    /// Print the compiled plans.
    Explain(command::explain::ExplainArgs),
}

fn main() -> CrmmapExit {
    // Mapping files come from people: bound pest's recursion.
    pest::set_call_limit(std::num::NonZeroUsize::new(10_000_000));
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => command::check::check(&args),
        Command::Fmt(args) => command::fmt::fmt(&args),
        Command::Explain(args) => command::explain::explain(&args),
    }
}
