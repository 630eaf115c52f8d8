//! `crmmap explain`.

use std::path::PathBuf;

use clap::Args;
use crmmap_dsl::diag;

use crate::exit::CrmmapExit;

/// Arguments of `crmmap explain`.
#[derive(Args)]
pub struct ExplainArgs {
    /// Mapping files or directories (default: `mappings`).
    pub paths: Vec<PathBuf>,
}

/// Runs `crmmap explain`: check, compile, print the plans.
pub fn explain(args: &ExplainArgs) -> CrmmapExit {
    let map = match super::read_mappings(&args.paths) {
        Ok(map) => map,
        Err(e) => return super::fail(&e),
    };
    let checked = crmmap_dsl::check_sources(&map);
    let Some(model) = checked.model else {
        eprint!(
            "{}",
            diag::render_human(&checked.diagnostics, &map, 100, false)
        );
        eprintln!("the mappings have errors; run `crmmap check` for details");
        return CrmmapExit::Problems;
    };
    print!("{}", crmmap_engine::compile(&model));
    CrmmapExit::Clean
}
