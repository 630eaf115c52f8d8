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
        /// Also snapshot this board, which no mapping uses yet (for `crmmap init`); repeatable.
        #[arg(long = "board", value_name = "ID")]
        boards: Vec<u64>,
        /// Also snapshot this sObject, which no mapping uses yet (for `crmmap init`); repeatable.
        #[arg(long = "salesforce", value_name = "SOBJECT")]
        sobjects: Vec<String>,
    },
}

/// Runs `crmmap schema …`.
pub fn schema(cmd: &SchemaCommand) -> CrmmapExit {
    match cmd {
        SchemaCommand::Pull {
            config,
            out,
            boards,
            sobjects,
        } => pull(config.as_deref(), out, boards, sobjects),
    }
}

fn pull(
    config: Option<&std::path::Path>,
    out: &std::path::Path,
    boards: &[u64],
    sobjects: &[String],
) -> CrmmapExit {
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
        // A first board for `crmmap init` needs no mappings yet.
        Err(e) if !boards.is_empty() || !sobjects.is_empty() => {
            eprintln!("note: only the boards and sObjects named are pulled: {e}");
            crmmap_engine::PlanSet {
                plans: Vec::new(),
                order: Vec::new(),
            }
        }
        Err(e) => return super::fail(&e.to_string()),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return super::fail(&format!("cannot start the async runtime: {e}")),
    };
    let snapshot = match runtime.block_on(crmmap_sync::schema::pull_with(
        &plans,
        boards,
        sobjects,
        &salesforce,
        &monday,
    )) {
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
