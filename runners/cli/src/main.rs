//! `crmmap`: check, format and explain mappings; run the sync.

mod command;
mod exit;

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
    /// Copy Salesforce records to monday (incremental, resumable).
    Migrate(command::migrate::MigrateArgs),
    /// Show the sync log.
    Log(command::log::LogArgs),
    /// Run the webhook runner locally: POST /webhooks/monday, GET /health.
    Serve(command::serve::ServeArgs),
    /// Retry the queued failures now.
    Retry(command::retry::RetryArgs),
    /// Forget processed events and log rows past their retention (`[store] keep_*_days`).
    Prune(command::prune::PruneArgs),
    /// Run local emulators of both APIs with sample data.
    Sandbox(command::sandbox::SandboxArgs),
    /// Emulators + migration + webhook round trip on SQLite, with a summary.
    Demo(command::demo::DemoArgs),
    /// Snapshot the live schema (board columns, sObject describes) for offline checks.
    #[command(subcommand)]
    Schema(command::schema::SchemaCommand),
    /// Run the mapping tests (`tests/*.toml` next to the mappings).
    Test(command::test::TestArgs),
    /// Write a first mapping for a board and an sObject from a schema snapshot.
    Init(command::init::InitArgs),
    /// The language server for editors, over stdio.
    Lsp(command::lsp::LspArgs),
}

fn main() -> CrmmapExit {
    // Mapping files come from people: bound pest's recursion.
    pest::set_call_limit(std::num::NonZeroUsize::new(10_000_000));
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => command::check::check(&args),
        Command::Fmt(args) => command::fmt::fmt(&args),
        Command::Explain(args) => command::explain::explain(&args),
        Command::Migrate(args) => command::migrate::migrate(&args),
        Command::Log(args) => command::log::log(&args),
        Command::Serve(args) => command::serve::serve(&args),
        Command::Retry(args) => command::retry::retry(&args),
        Command::Prune(args) => command::prune::prune(&args),
        Command::Sandbox(args) => command::sandbox::sandbox(&args),
        Command::Demo(args) => command::demo::demo(&args),
        Command::Schema(cmd) => command::schema::schema(&cmd),
        Command::Test(args) => command::test::test(&args),
        Command::Init(args) => command::init::init(&args),
        Command::Lsp(args) => command::lsp::lsp(&args),
    }
}
