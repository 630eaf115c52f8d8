//! `crmmap schema pull`.

use std::path::PathBuf;

use clap::Subcommand;
use crmmap_sync::Settings;

use crate::exit::CrmmapExit;

/// `crmmap schema` subcommands.
#[derive(Subcommand)]
pub enum SchemaCommand {
    /// Snapshot the columns of every mapped board and the describe of every mapped sObject
    /// into a directory meant to be committed next to the mappings.
    Pull {
        /// Configuration file (default `crmmap.toml`).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Where to write the snapshot (default `schema/`).
        #[arg(long, default_value = "schema")]
        out: PathBuf,
    },
}

/// Runs `crmmap schema …`.
pub fn schema(cmd: &SchemaCommand) -> CrmmapExit {
    match cmd {
        SchemaCommand::Pull { config, out } => pull(config.as_deref(), out),
    }
}

fn pull(config: Option<&std::path::Path>, out: &std::path::Path) -> CrmmapExit {
    let settings = match Settings::load(config) {
        Ok(s) => s,
        Err(e) => return super::fail(&e.to_string()),
    };
    let (salesforce, monday) = match crmmap_sync::context::clients(&settings) {
        Ok(c) => c,
        Err(e) => return super::fail(&e.to_string()),
    };
    let plans = match crmmap_sync::mappings::load(std::slice::from_ref(&settings.mappings)) {
        Ok(p) => p,
        Err(e) => return super::fail(&e.to_string()),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return super::fail(&format!("cannot start the async runtime: {e}")),
    };
    let snapshot = match runtime.block_on(crmmap_sync::schema::pull(&plans, &salesforce, &monday)) {
        Ok(s) => s,
        Err(e) => return super::fail(&e.to_string()),
    };
    match crmmap_sync::schema::write_dir(&snapshot, out) {
        Ok(files) => {
            for f in files {
                eprintln!("wrote {}", f.display());
            }
            eprintln!(
                "{} boards and {} sObjects; check with `crmmap check --schema {}`",
                snapshot.boards.len(),
                snapshot.sobjects.len(),
                out.display()
            );
            CrmmapExit::Clean
        }
        Err(e) => super::fail(&e.to_string()),
    }
}
